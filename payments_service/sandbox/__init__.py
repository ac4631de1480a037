"""A local stand-in for Razorpay: API v1 orders/payments/refunds, webhooks and Checkout.

It runs as its own app and process; the payments service reaches it only through the
Razorpay SDK's ``base_url``, and nothing here imports the service.

* Razorpay API (HTTP Basic ``key_id:key_secret``): ``/v1/orders``, ``/v1/payments``,
  ``/v1/refunds``, ``/v1/payment_links`` and their sub-resources, answering Razorpay's
  shapes and errors.
* Payment links: each link's ``short_url`` is the hosted page ``/i/<code>`` on this sandbox
  (``public_url`` when set, else the address the create call came to): opening it makes the
  link's order; plain HTML forms pay the amount due (or an instalment) or fail, then redirect
  (303) to ``callback_url`` with the signed ``razorpay_payment_link_*`` query. Links expire
  by the sandbox clock (real time plus ``POST /_sandbox/clock`` advances).
* Checkout: ``/v1/checkout.js`` defines ``window.Razorpay``; it opens ``/checkout/pay``, a
  test-payment page with "Pay (success)" and "Fail payment" buttons.
* Control API (no auth): ``POST /_sandbox/orders/<id>/pay`` (refused, as Razorpay does, on
  a paid order or one with an authorized payment; ``amount`` or ``currency`` in the body
  pay something other than the order, as a tampered Checkout could), ``POST
  /_sandbox/payments/<id>/authorize`` (late authorisation of a failed payment, even on an
  order paid since), ``POST /_sandbox/refunds/<id>/settle``, ``GET|PATCH /_sandbox/config``,
  ``GET /_sandbox/ledger``, ``GET /_sandbox/webhooks``, ``GET /_sandbox/events``, ``POST
  /_sandbox/events/<id>/redeliver``, ``POST /_sandbox/reset``; for payment links ``POST
  /_sandbox/payment_links/<id>/open`` and ``POST /_sandbox/payment_links/<id>/pay`` (the
  hosted page without a browser: ``outcome``, ``amount`` in paise, ``method``...; answers
  the callback query and ``redirect_url``), ``GET /_sandbox/clock`` and ``POST
  /_sandbox/clock`` with ``{"advance_seconds": N}`` (moves the clock on and expires the
  links it passes, ``payment_link.expired`` for each).
* Webhooks: signed with ``webhook_secret`` and POSTed to ``webhook_urls``, from a background
  thread (``async``), before the triggering call returns (``sync``), or not at all (``off``).
* Chaos knobs (off by default; see ``SandboxConfig``): duplicate, shuffled, delayed and
  dropped webhooks, and ``/v1`` calls that fail or hang, drawn from a seedable generator.

Run it with ``python -m payments_service.sandbox`` or, in-process, ``start_background()``.
"""

from __future__ import annotations

from .app import create_app
from .config import SandboxConfig
from .server import BackgroundSandbox, start_background

__all__ = ["BackgroundSandbox", "SandboxConfig", "create_app", "start_background"]
