"""Every comparison of a signature or secret runs in constant time (hmac.compare_digest,
crypto.timingSafeEqual in the Node.js kit), checked two ways: the source holds no == or !=
on anything named like a secret, and each check, driven through its real edge, is seen
calling compare_digest with exactly the values it compares."""

from __future__ import annotations

import ast
import hashlib
import hmac
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import razorpay
import requests
from razorpay.errors import BadRequestError

from payments_service.signatures import callback_signature_header, checkout_signature
from tests.actions import Checkout, RazorpayWebhooks, SiteCredentials
from tests.test_demo_store import _store

ROOT = Path(__file__).resolve().parent.parent
SECRETISH = re.compile(r"signature|secret|digest|expected|hmac|password", re.IGNORECASE)
EQUALITY = (ast.Eq, ast.NotEq)
WEBHOOK_SECRET = "sandbox_webhook_secret"


def _heads(node: ast.expr) -> list[str]:
    """The names a compared value goes by: ``x``, ``obj.attr``, ``d["key"]``, a call's
    function and, along a method chain, its receivers (``expected.hexdigest()``)."""
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, ast.Attribute):
        return [node.attr]
    if isinstance(node, ast.Subscript):
        key = node.slice
        named = isinstance(key, ast.Constant) and isinstance(key.value, str)
        return _heads(node.value) + ([str(key.value)] if named else [])
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Attribute):
            return [node.func.attr, *_heads(node.func.value)]
        return _heads(node.func)
    if isinstance(node, ast.JoinedStr):
        parts = [v.value for v in node.values if isinstance(v, ast.FormattedValue)]
        return [name for part in parts for name in _heads(part)]
    return []


def python_equalities_on_secrets(source: str, filename: str = "<source>") -> list[str]:
    """Each == or != with an operand named like a secret, as file:line."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Compare) and any(isinstance(op, EQUALITY) for op in node.ops):
            names = [name for side in (node.left, *node.comparators) for name in _heads(side)]
            if any(SECRETISH.search(name) for name in names):
                found.append(f"{filename}:{node.lineno}: {ast.unparse(node)}")
    return found


def _js_code_only(source: str) -> str:
    """JavaScript with string contents and comments blanked (line breaks kept)."""
    out, i, quote = [], 0, ""
    while i < len(source):
        char, pair = source[i], source[i : i + 2]
        if quote:
            if char == "\\":
                i += 2
                continue
            if char == quote:
                quote = ""
                out.append(char)
        elif pair in ("//", "/*"):
            end = source.find("\n" if pair == "//" else "*/", i + 2)
            end = len(source) if end < 0 else end + (0 if pair == "//" else 2)
            out.append("\n" * source.count("\n", i, end))
            i = end
            continue
        else:
            quote = char if char in "'\"`" else ""
            out.append(char)
        i += 1
    return "".join(out)


def js_equalities_on_secrets(source: str, filename: str = "<source>") -> list[str]:
    """Each ===, !==, == or != with an operand named like a secret (lengths aside)."""
    code = _js_code_only(source)
    found = []
    for match in re.finditer(r"[!=]==?", code):
        left = re.search(r"(typeof\s+)?([\w$.]+)\s*$", code[: match.start()])
        right = re.match(r"\s*(typeof\s+)?([\w$.]+)", code[match.end() :])
        for side in (left, right):
            if side is None or side.group(1) or side.group(2).endswith(".length"):
                continue
            if SECRETISH.search(side.group(2).rsplit(".", 1)[-1]):
                line = code.count("\n", 0, match.start()) + 1
                found.append(f"{filename}:{line}: {side.group(2)} {match.group()}")
    return found


def test_the_checks_find_equality_on_secrets_and_nothing_else() -> None:
    flagged = [
        "ok = expected == signature",
        "ok = hmac.new(k, m, hashlib.sha256).hexdigest() != given",
        "ok = any(given == expected for given in signatures)",
        "ok = headers['X-Razorpay-Signature'] == sent",
        "ok = config.key_secret.encode() == password",
    ]
    for line in flagged:
        assert python_equalities_on_secrets(line), line
    for line in ("ok = len(expected) == 64", "ok = bool(key_id) != bool(key_secret)"):
        assert not python_equalities_on_secrets(line), line
    js_flagged = ["if (expectedHex === givenHex) {}", "return body.razorpay_signature == sig;"]
    for line in js_flagged:
        assert js_equalities_on_secrets(line), line
    js_clean = [
        "return expected.length === given.length && crypto.timingSafeEqual(expected, given);",
        "if (typeof secret !== 'string') throw new Error('no secret');",
        "const a = 'signature === x'; // secret == other",
    ]
    for line in js_clean:
        assert not js_equalities_on_secrets(line), line


def test_no_secret_is_compared_with_equality_in_the_service_sandbox_or_demo() -> None:
    found = [
        hit
        for path in sorted((ROOT / "payments_service").rglob("*.py"))
        for hit in python_equalities_on_secrets(path.read_text(), str(path.relative_to(ROOT)))
    ]
    assert found == [], "compare these with hmac.compare_digest:\n" + "\n".join(found)


def test_no_secret_is_compared_with_equality_in_the_node_package_and_examples() -> None:
    sources = [
        *sorted((ROOT / "clients" / "node" / "lib").glob("*.js")),
        *sorted((ROOT / "examples" / "node-site" / "src").glob("*.js")),
        ROOT / "examples" / "express4-port" / "server.js",
    ]
    assert len(sources) > 8
    found = [
        hit
        for path in sources
        for hit in js_equalities_on_secrets(path.read_text(), str(path.relative_to(ROOT)))
    ]
    assert found == [], "compare these with crypto.timingSafeEqual:\n" + "\n".join(found)


@pytest.fixture
def compared(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[bytes, bytes]]]:
    """Every pair hmac.compare_digest is asked about (as bytes), in this process."""
    real = hmac.compare_digest
    calls: list[tuple[bytes, bytes]] = []

    def as_bytes(value: Any) -> bytes:
        return value.encode() if isinstance(value, str) else bytes(value)

    def spy(a: Any, b: Any) -> bool:
        calls.append((as_bytes(a), as_bytes(b)))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    yield calls


def _pair(one: str, other: str) -> set[tuple[bytes, bytes]]:
    return {(one.encode(), other.encode()), (other.encode(), one.encode())}


def test_verify_compares_the_checkout_signature_with_compare_digest(
    checkout: Checkout,
    new_site: SiteCredentials,
    sandbox: Any,
    compared: list[tuple[bytes, bytes]],
) -> None:
    result = checkout.pay(checkout.create_order(new_site))
    ids = (result["razorpay_order_id"], result["razorpay_payment_id"])
    expected = checkout_signature(sandbox.config.key_secret, *ids)
    forged = checkout_signature("not-the-key-secret", *ids)

    assert checkout.verify({**result, "razorpay_signature": forged}).status_code == 403
    assert _pair(expected, forged) & set(compared)
    assert checkout.verify(result).status_code == 200
    assert _pair(expected, result["razorpay_signature"]) & set(compared)


def test_webhooks_compare_their_signature_with_compare_digest(
    checkout: Checkout,
    webhooks: RazorpayWebhooks,
    new_site: SiteCredentials,
    compared: list[tuple[bytes, bytes]],
) -> None:
    order = checkout.create_order(new_site)
    checkout.pay(order)
    event = webhooks.event(order["razorpay_order_id"], "payment.captured")
    body = event["body"].encode()
    expected = hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
    forged = hmac.new(b"not-the-webhook-secret", body, hashlib.sha256).hexdigest()

    assert webhooks.post(body, forged, event["id"]).status_code == 403
    assert _pair(expected, forged) & set(compared)
    assert webhooks.deliver(event).status_code == 200
    assert _pair(expected, event["signature"]) & set(compared)


def test_the_demo_site_compares_callback_signatures_with_compare_digest(
    live_api: str, new_site: SiteCredentials, compared: list[tuple[bytes, bytes]]
) -> None:
    client = _store(new_site, live_api).test_client()
    raw = json.dumps({"id": "evt_ct1", "type": "enrollment.granted", "data": {}}).encode()
    now = int(time.time())
    header = callback_signature_header(["not-the-callback-secret"], now, raw)
    forged = header.split("v1=", 1)[1]
    signed = f"{now}.".encode() + raw
    expected = hmac.new(new_site.callback_secret.encode(), signed, hashlib.sha256).hexdigest()

    answer = client.post("/payments/callback", data=raw, headers={"X-Payments-Signature": header})

    assert answer.status_code == 400
    assert _pair(expected, forged) & set(compared)


def test_the_sandbox_compares_the_key_secret_with_compare_digest(
    sandbox: Any, compared: list[tuple[bytes, bytes]]
) -> None:
    with requests.Session() as session:
        wrong = razorpay.Client(
            session=session,
            auth=(sandbox.config.key_id, "not-the-key-secret"),
            base_url=sandbox.url,
        )
        with pytest.raises(BadRequestError):
            wrong.order.fetch("order_AAAAAAAAAAAAAA")
    assert _pair("not-the-key-secret", sandbox.config.key_secret) & set(compared)
