"""A payment link's life after creation: it expires by the sandbox clock, the state file
keeps it, and its callback signature matches the known-answer vectors."""

from __future__ import annotations

from pathlib import Path

import razorpay
import requests

from payments_service.sandbox import BackgroundSandbox, SandboxConfig, start_background
from payments_service.sandbox.entities import Payment
from payments_service.sandbox.link_flow import callback_params
from payments_service.sandbox.links import PaymentLink
from payments_service.sandbox.payments import Attempt
from tests.sandbox.helpers import (
    KEY_ID,
    KEY_SECRET,
    WebhookReceiver,
    assert_error,
)
from tests.sandbox.link_helpers import (
    ONE_DAY,
    advance_clock,
    assert_link_event,
    clock_now,
    link_request,
    link_sample,
    pay_link,
    submit,
)

CALLBACK = "http://127.0.0.1:5000/payments/link-callback"


def test_a_link_expires_when_the_sandbox_clock_passes_expire_by(
    sdk: razorpay.Client,
    http: requests.Session,
    fresh_sandbox: BackgroundSandbox,
    receiver: WebhookReceiver,
) -> None:
    expire_by = clock_now(http, fresh_sandbox) + 20 * 60
    link = sdk.payment_link.create(link_request(http, fresh_sandbox, expire_by=expire_by))
    partial = sdk.payment_link.create(link_request(http, fresh_sandbox, reference_id="P-1"))
    pay_link(http, fresh_sandbox, partial["id"], amount=20000)

    advance_clock(http, fresh_sandbox, 19 * 60)
    assert sdk.payment_link.fetch(link["id"])["status"] == "created"
    advance_clock(http, fresh_sandbox, 2 * 60)

    expired = sdk.payment_link.fetch(link["id"])
    assert expired["status"] == "expired" and expired["expired_at"] >= expire_by
    assert receiver.events()[-1] == "payment_link.expired"
    assert_link_event(receiver.received[-1], "docs-webhooks/payment_link.expired.standard.json")
    assert "This payment link is expired" in http.get(link["short_url"]).text
    assert submit(http, link).status_code == 400
    assert pay_link(http, fresh_sandbox, link["id"]).status_code == 400
    assert_error(lambda: sdk.payment_link.cancel(link["id"]), "cannot cancel or expire an expired")
    assert_error(lambda: sdk.payment_link.edit(link["id"], {"notes": {}}), "update can only be")
    assert sdk.payment_link.fetch(partial["id"])["status"] == "partially_paid"
    advance_clock(http, fresh_sandbox, ONE_DAY)  # a partially paid link expires too
    assert sdk.payment_link.fetch(partial["id"])["status"] == "expired"
    assert receiver.events().count("payment_link.expired") == 2


def test_a_link_without_expire_by_expires_six_months_after_its_creation(
    sdk: razorpay.Client, http: requests.Session, fresh_sandbox: BackgroundSandbox
) -> None:
    link = sdk.payment_link.create({"amount": 100})

    advance_clock(http, fresh_sandbox, 183 * ONE_DAY)
    assert sdk.payment_link.fetch(link["id"])["status"] == "created"
    advance_clock(http, fresh_sandbox, 2 * ONE_DAY)
    assert sdk.payment_link.fetch(link["id"])["status"] == "expired"


def test_the_state_file_keeps_links_their_payments_and_the_clock_across_a_restart(
    tmp_path: Path, http: requests.Session
) -> None:
    state_file = tmp_path / "sandbox-state.json"
    config = SandboxConfig(webhook_delivery="off")
    before = start_background(config, state_file=state_file)
    sdk = razorpay.Client(auth=(KEY_ID, KEY_SECRET), base_url=before.url)
    link = sdk.payment_link.create(link_request(http, before, CALLBACK))
    pay_link(http, before, link["id"], amount=20000)
    clock = advance_clock(http, before, 3600)
    then = sdk.payment_link.fetch(link["id"])
    before.stop()

    after = start_background(config, state_file=state_file)
    try:
        sdk = razorpay.Client(auth=(KEY_ID, KEY_SECRET), base_url=after.url)
        assert sdk.payment_link.fetch(link["id"]) == then
        assert http.get(f"{after.url}/_sandbox/clock").json()["offset_seconds"] == 3600
        assert clock_now(http, after) >= clock["now"]
        assert pay_link(http, after, link["id"]).json()["razorpay_payment_link_status"] == "paid"
        assert_error(
            lambda: sdk.payment_link.create(link_request(http, after)),
            "payment link creation with reference ID already attempted",
        )
    finally:
        after.stop()


def test_the_callback_signature_matches_the_known_answer_vectors() -> None:
    vectors = link_sample("composed/lifecycle.signatures.sample.json")["callback_signatures"]
    for vector in vectors:
        link_id, reference, status, payment_id = vector["message"].split("|")
        link = PaymentLink(
            id=link_id,
            short_code="SbxPlnk1",
            short_url="",
            amount=50000,
            currency="INR",
            accept_partial=True,
            first_min_partial_amount=0,
            description="",
            reference_id=reference,
            customer=None,
            notify={},
            reminder_enable=False,
            notes={},
            callback_url=CALLBACK,
            callback_method="get",
            upi_link=False,
            merchant_name="",
            created_at=0,
            status=status,
        )
        payment = _payment(payment_id)
        assert (
            callback_params(link, payment, KEY_SECRET)["razorpay_signature"] == vector["signature"]
        )


def _payment(payment_id: str) -> Payment:
    """A payment record with just the id the signature covers."""
    attempt = Attempt(succeeds=True)
    return Payment(
        id=payment_id,
        order_id="order_x",
        amount=100,
        currency="INR",
        method="card",
        email=attempt.email,
        contact=attempt.contact,
        description=None,
        notes={},
    )
