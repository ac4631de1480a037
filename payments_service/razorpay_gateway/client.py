"""RazorpayGateway: every call the service makes to Razorpay, each through the official SDK
(calls.py says how a call is made: timeout, retries, errors, metrics)."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Any

from ..errors import GatewayBusy, GatewayError, GatewayUnavailable
from .calls import PAGE_SIZE, Entity, GatewayCalls

__all__ = ["PAGE_SIZE", "Entity", "RazorpayGateway"]


class RazorpayGateway(GatewayCalls):
    """Orders, payments and captures at Razorpay (or at the sandbox, by base URL)."""

    def create_order(
        self, *, amount: int, currency: str, receipt: str, notes: dict[str, str]
    ) -> Entity:
        """Create a Razorpay order. Not retried: a retry could create a second order."""
        body = {"amount": amount, "currency": currency, "receipt": receipt, "notes": notes}
        return self._call("order.create", lambda: self._client.order.create(body, **self._opts))

    def find_orders_by_receipt(self, receipt: str) -> list[Entity]:
        """The orders created with this receipt (Razorpay's list filter), newest first."""
        found = self._read(
            "order.all",
            partial(self._client.order.all, {"receipt": receipt, "count": PAGE_SIZE}, **self._opts),
        )
        return list(found.get("items", []))

    def fetch_order(self, razorpay_order_id: str) -> Entity:
        """Fetch one order."""
        return self._read(
            "order.fetch", lambda: self._client.order.fetch(razorpay_order_id, **self._opts)
        )

    def fetch_payment(self, payment_id: str) -> Entity:
        """Fetch one payment."""
        return self._read(
            "payment.fetch", lambda: self._client.payment.fetch(payment_id, **self._opts)
        )

    def capture_payment(self, payment_id: str, amount: int, currency: str) -> Entity:
        """Capture an authorized payment for its full amount."""
        return self._call(
            "payment.capture",
            lambda: self._client.payment.capture(
                payment_id, amount, {"currency": currency}, **self._opts
            ),
        )

    def create_payment_link(self, body: Entity) -> Entity:
        """Create a payment link. Not retried: Razorpay refuses a second link with the same
        reference_id, so the caller looks a lost answer up instead
        (find_payment_links_by_reference)."""
        return self._call(
            "payment_link.create", lambda: self._client.payment_link.create(body, **self._opts)
        )

    def fetch_payment_link(self, razorpay_link_id: str) -> Entity:
        """Fetch one payment link (with its captured payments and, once opened, order id)."""
        return self._read(
            "payment_link.fetch",
            lambda: self._client.payment_link.fetch(razorpay_link_id, **self._opts),
        )

    def find_payment_links_by_reference(self, reference_id: str) -> list[Entity]:
        """The links made with this reference_id (at most one). Razorpay answers
        ``{"payment_links": [...]}``, not the usual collection."""
        found = self._read(
            "payment_link.all",
            partial(self._client.payment_link.all, {"reference_id": reference_id}, **self._opts),
        )
        return list(found.get("payment_links") or [])

    def cancel_payment_link(self, razorpay_link_id: str) -> Entity:
        """Cancel an unpaid link; Razorpay refuses (GatewayError) once paid or expired."""
        return self._call(
            "payment_link.cancel",
            lambda: self._client.payment_link.cancel(razorpay_link_id, **self._opts),
        )

    def create_plan(self, body: Entity) -> Entity:
        """Create a plan. Not retried: a lost answer leaves at most an unused plan."""
        return self._call("plan.create", lambda: self._client.plan.create(body, **self._opts))

    def create_subscription(self, body: Entity) -> Entity:
        """Create a subscription. Not retried: the caller finds a lost one by the reference
        in its notes (find_subscriptions_of_plan)."""
        return self._call(
            "subscription.create", lambda: self._client.subscription.create(body, **self._opts)
        )

    def fetch_subscription(self, razorpay_subscription_id: str) -> Entity:
        """Fetch one subscription."""
        return self._read(
            "subscription.fetch",
            lambda: self._client.subscription.fetch(razorpay_subscription_id, **self._opts),
        )

    def find_subscriptions_of_plan(self, plan_id: str) -> list[Entity]:
        """The latest subscriptions of a plan (Razorpay's page of up to 100)."""
        found = self._read(
            "subscription.all",
            partial(
                self._client.subscription.all,
                {"plan_id": plan_id, "count": PAGE_SIZE},
                **self._opts,
            ),
        )
        return list(found.get("items", []))

    def cancel_subscription(self, razorpay_subscription_id: str, at_cycle_end: bool) -> Entity:
        """Cancel now, or at the end of the current cycle."""
        body = {"cancel_at_cycle_end": at_cycle_end}
        return self._call(
            "subscription.cancel",
            lambda: self._client.subscription.cancel(razorpay_subscription_id, body, **self._opts),
        )

    def pause_subscription(self, razorpay_subscription_id: str) -> Entity:
        """Pause an active subscription now."""
        return self._call(
            "subscription.pause",
            lambda: self._client.subscription.pause(
                razorpay_subscription_id, {"pause_at": "now"}, **self._opts
            ),
        )

    def resume_subscription(self, razorpay_subscription_id: str) -> Entity:
        """Resume a paused subscription now."""
        return self._call(
            "subscription.resume",
            lambda: self._client.subscription.resume(
                razorpay_subscription_id, {"resume_at": "now"}, **self._opts
            ),
        )

    def subscription_invoices(self, razorpay_subscription_id: str) -> list[Entity]:
        """The invoices of a subscription (Razorpay's page of up to 100), newest first."""
        found = self._read(
            "invoice.all",
            partial(
                self._client.invoice.all,
                {"subscription_id": razorpay_subscription_id, "count": PAGE_SIZE},
                **self._opts,
            ),
        )
        return list(found.get("items", []))

    def fetch_invoice(self, invoice_id: str) -> Entity:
        """Fetch one invoice (a subscription charge's: its subscription_id and order_id)."""
        return self._read(
            "invoice.fetch", lambda: self._client.invoice.fetch(invoice_id, **self._opts)
        )

    def create_refund(
        self,
        payment_id: str,
        *,
        amount: int,
        speed: str,
        notes: dict[str, str],
        idempotency_key: str,
    ) -> Entity:
        """Refund (part of) a captured payment. Razorpay dedupes on X-Refund-Idempotency,
        so the caller may repeat a call whose outcome it never learnt with the same key;
        while the first is still being processed, Razorpay answers 409: GatewayBusy."""
        body = {"amount": amount, "speed": speed, "notes": notes}
        statuses: list[int] = []  # the SDK keeps only an error's description, not its status

        def note_status(response: Any, *_: Any, **__: Any) -> None:
            statuses.append(response.status_code)

        options = {"headers": {"X-Refund-Idempotency": idempotency_key}, **self._opts}
        refund = partial(self._client.payment.refund, payment_id, body, **options)
        try:
            return self._call("payment.refund", partial(refund, hooks={"response": note_status}))
        except GatewayUnavailable:
            raise
        except GatewayError as exc:
            if statuses == [409]:
                raise GatewayBusy("Razorpay is still making a refund with this key") from exc
            raise

    def payment_refunds(self, payment_id: str) -> list[Entity]:
        """Every refund of one payment (Razorpay's page of up to 100)."""
        found = self._read(
            "payment.refunds",
            partial(
                self._client.payment.fetch_multiple_refund,
                payment_id,
                {"count": PAGE_SIZE},
                **self._opts,
            ),
        )
        return list(found.get("items", []))

    def order_payments(self, razorpay_order_id: str) -> list[Entity]:
        """Every payment attempt on one order."""
        found = self._read(
            "order.payments",
            lambda: self._client.order.payments(razorpay_order_id, **self._opts),
        )
        return list(found.get("items", []))

    def iter_payment_pages(self, start: int, end: int) -> Iterator[list[Entity]]:
        """The payments created in [start, end] (unix seconds), a page of up to 100 at a
        time, newest first."""
        return self._pages("payment.all", self._client.payment.all, start, end)

    def iter_refunds(self, start: int, end: int) -> Iterator[Entity]:
        """Every refund created in [start, end] (unix seconds), paged 100 at a time."""
        for page in self._pages("refund.all", self._client.refund.all, start, end):
            yield from page
