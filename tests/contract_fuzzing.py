"""What test_schemathesis.py runs besides Schemathesis itself: the checks, and the hooks
that make generated requests name real records without changing what the document says
of them.

Each hook keeps a case exactly as valid or invalid by openapi.yaml as it was generated, so
Schemathesis's verdict ("valid: must be accepted", "invalid: must be refused") stays true
of the request that is sent.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote, urlsplit

from hypothesis import strategies as st
from schemathesis import Case, HookContext
from schemathesis.checks import (
    allow_header_conformance,
    content_type_conformance,
    ensure_resource_availability,
    ignored_auth,
    missing_required_header,
    negative_data_rejection,
    not_a_server_error,
    object_level_authorization,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
    use_after_free,
)
from schemathesis.schemas import APIOperation, BaseSchema

# Every check Schemathesis has (test_every_check_schemathesis_has_is_applied keeps it so):
# besides every answer conforming, requests valid by the document must be accepted and
# invalid ones refused, and credentials must be enforced. use_after_free and
# ensure_resource_availability judge a call by the calls before it, so they find nothing in
# a one-call case; the stateful run gives them sequences (this API deletes nothing, so
# use_after_free has nothing to catch). object_level_authorization replays one identity's
# reads as its peers, which Schemathesis 4.32.5 takes only from a Web Fuzzing Commons
# document; these runs authenticate per scheme, one identity each, so it has no peer to
# try: every operation is tried with another site's token in test_site_privilege.py.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    missing_required_header,
    unsupported_method,
    allow_header_conformance,
    use_after_free,
    ensure_resource_availability,
    ignored_auth,
    object_level_authorization,
]
IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY = re.compile(r"[!-~]{1,255}")  # openapi.yaml's IdempotencyKey pattern
# ReconcileRequest's window, in openapi.yaml's words.
MAX_SPAN = timedelta(days=400)
RAZORPAY_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
RAZORPAY_LATEST = datetime(2121, 1, 1, tzinfo=UTC)
# The fuzzed site's origin (conftest's new_site), where payment links may send buyers back,
# and how far past an hour from now a fuzzed link's expiry is put (within 180 days).
LINK_ORIGIN = "http://new.localhost:8022"
LINK_EXPIRY_SPAN = timedelta(days=170)
# How far past an hour from now a fuzzed subscription's start is put.
SUBSCRIPTION_START_SPAN = timedelta(days=300)
# Values that name real records, by parameter or body field name, for the test being run
# (filled by its fixture): paths, filters and bodies then reach records that exist.
KNOWN_VALUES: dict[str, list[str]] = {}


def conforms(operation: APIOperation, location: str, values: dict[str, Any]) -> bool:
    """Whether the body, query or path parameters are valid by the document's schemas (path
    parameters as the service reads them: Schemathesis holds them percent-encoded)."""
    if location == "body":
        return any(alternative.is_valid(values) for alternative in operation.body)
    if location == "path":
        read = {k: unquote(v) if isinstance(v, str) else v for k, v in values.items()}
        return all(p.is_valid(read[p.name]) for p in operation.path_parameters if p.name in read)
    return all(p.is_valid(values[p.name]) for p in operation.query if p.name in values)


def known_variants(operation: APIOperation, location: str, generated: Any) -> list[Any]:
    """The generated values with one of them naming a record, each as valid as generated.

    A case that negative generation made invalid in the very field a record would fill is
    left out: a record's name there would make it valid, and the service would rightly
    accept what the check then expects refused.
    """
    if not isinstance(generated, dict):
        return []
    valid = conforms(operation, location, generated)
    candidates = (
        {**generated, name: value} for name in generated for value in KNOWN_VALUES.get(name, [])
    )
    return [c for c in candidates if conforms(operation, location, c) == valid]


def with_known_values(context: HookContext, location: str, generated: Any) -> Any:
    """The generated values, or as often as not one of their known_variants."""
    variants = known_variants(context.operation, location, generated) if context.operation else []
    if not variants:
        return st.just(generated)
    return st.one_of(st.just(generated), st.sampled_from(variants))


def flatmap_path_parameters(context: HookContext, path_parameters: Any) -> Any:
    return with_known_values(context, "path", path_parameters)


def flatmap_query(context: HookContext, query: Any) -> Any:
    return with_known_values(context, "query", query)


def flatmap_body(context: HookContext, body: Any) -> Any:
    return with_known_values(context, "body", body)


def sent_as_judged(context: HookContext, case: Case) -> bool:
    """False for a valid case whose path Schemathesis would send as another, invalid value.

    Schemathesis 4.32.5 quotes a path parameter by unquoting it first, so `%XX` in a
    generated value is read as an escape: a valid email `a%b5@x.io` (`%` may be in its
    local part) was sent with U+FFFD in place of `%b5`, which the document does not allow,
    and its refusal was reported as a valid request refused.
    """
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or not case.path_parameters:
        return True
    return conforms(case.operation, "path", case.path_parameters)


def documented_window(context: HookContext, body: Any) -> Any:
    """A reconcile body valid by its schema, as one whose window is valid too.

    JSON Schema cannot relate two fields or bound a date-time, so ReconcileRequest says in
    words what else a window must be (test_reconcile.py proves each is a 422): `to` not
    before `from`, at most 400 days after it, both within 2000-01-01..2121-01-01. A body
    valid by the schema is moved into such a window (`from` kept when it can be, `to` within
    400 days of it), so those requests reach reconciliation; invalid bodies stay as they are.
    """
    if not isinstance(body, dict) or context.operation is None:
        return body
    if not conforms(context.operation, "body", body):
        return body
    try:
        start, end = (datetime.fromisoformat(body[bound]) for bound in ("from", "to"))
        start = min(max(start, RAZORPAY_EARLIEST), RAZORPAY_LATEST - MAX_SPAN)
        end = start + abs(end - start) % MAX_SPAN
    except (ValueError, OverflowError):  # a time Python cannot hold (year 1 at +05:00)
        return body
    return {"from": start.isoformat(), "to": end.isoformat()}


def documented_link(context: HookContext, body: Any) -> Any:
    """A payment link body valid by its schema, as one the service can accept too.

    CreatePaymentLinkRequest says in words what its schema cannot: `return_url` on one of
    the site's origins (the fuzzed site's is LINK_ORIGIN), `expire_by` 16 minutes to 180
    days ahead (test_create_links.py proves each is a 422). A valid body gets the site's
    origin (its generated path kept) and an expiry moved into that window; invalid bodies
    stay as they are.
    """
    if not isinstance(body, dict) or context.operation is None:
        return body
    if not conforms(context.operation, "body", body):
        return body
    moved = dict(body)
    path = urlsplit(str(body.get("return_url", ""))).path
    moved["return_url"] = LINK_ORIGIN + (path if path.startswith("/") else "/")
    if moved.get("expire_by") is not None:
        try:
            generated = datetime.fromisoformat(moved["expire_by"])
            offset = abs(generated.timestamp()) % LINK_EXPIRY_SPAN.total_seconds()
        except (ValueError, OverflowError):
            return body
        when = datetime.now(UTC) + timedelta(hours=1, seconds=offset)
        moved["expire_by"] = when.isoformat()
    return moved if conforms(context.operation, "body", moved) else body


def keeps_link_rules(context: HookContext, case: Case) -> bool:
    """False for a valid payment link case whose body breaks what the document says in
    words (documented_link): such a case is a documented 422, not one to judge as valid.
    Cases the coverage phase builds from the document pass no map_body hook, so this is
    what keeps them honest."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or not isinstance(case.body, dict):
        return True
    body = case.body
    if not str(body.get("return_url", "")).startswith(LINK_ORIGIN + "/"):
        return False
    if body.get("expire_by") is None:
        return True
    try:
        ahead = datetime.fromisoformat(body["expire_by"]) - datetime.now(UTC)
    except (ValueError, TypeError, OverflowError):
        return True
    return timedelta(minutes=17) < ahead < timedelta(days=179)


def documented_subscription(context: HookContext, body: Any) -> Any:
    """A subscription body valid by its schema, as one the service can accept too.

    CreateSubscriptionRequest says in words what its schema cannot: `start_at` in the
    future (test_subscription_faults.py and the service's own check make it a 422). A valid
    body's `start_at` is moved an hour to 300 days ahead; invalid bodies stay as they are.
    """
    if not isinstance(body, dict) or context.operation is None:
        return body
    if not conforms(context.operation, "body", body) or body.get("start_at") is None:
        return body
    try:
        generated = datetime.fromisoformat(body["start_at"])
        offset = abs(generated.timestamp()) % SUBSCRIPTION_START_SPAN.total_seconds()
    except (ValueError, OverflowError):
        return body
    moved = {
        **body,
        "start_at": (datetime.now(UTC) + timedelta(hours=1, seconds=offset)).isoformat(),
    }
    return moved if conforms(context.operation, "body", moved) else body


def keeps_subscription_rules(context: HookContext, case: Case) -> bool:
    """False for a valid subscription case whose `start_at` is not ahead (a documented 422,
    not one to judge as valid): the coverage phase passes no map_body hook."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or not isinstance(case.body, dict):
        return True
    if case.body.get("start_at") is None:
        return True
    try:
        ahead = datetime.fromisoformat(case.body["start_at"]) - datetime.now(UTC)
    except (ValueError, TypeError, OverflowError):
        return True
    return timedelta(minutes=2) < ahead < timedelta(days=366)


def idempotency_key_of_its_body(case: Case) -> str | None:
    """The case's Idempotency-Key made its body's own; None if it has none the document allows.

    A key reused with another body is a documented 422 (`idempotency_key_reused`, as the
    IETF Idempotency-Key draft asks; test_create_order.py and test_refunds.py prove it), an
    answer that depends on what was sent before, which a generated case cannot know. So the
    key sent is the generated one and the body's digest: a replay of a case reuses its key,
    and two different bodies never share one.
    """
    key = (case.headers or {}).get(IDEMPOTENCY_HEADER)
    if not isinstance(key, str) or not IDEMPOTENCY_KEY.fullmatch(key):
        return None
    digest = hashlib.sha256(json.dumps(case.body, default=repr).encode()).hexdigest()
    return f"{key[:238]}.{digest[:16]}"


def with_idempotency_key_of_its_body(context: HookContext, case: Case) -> Case:
    """The case, its Idempotency-Key made its body's own (see idempotency_key_of_its_body)."""
    key = idempotency_key_of_its_body(case)
    if key is not None:
        case.headers = {**(case.headers or {}), IDEMPOTENCY_HEADER: key}
    return case


def register_hooks(schema: BaseSchema, *, keys_of_their_bodies: bool = False) -> None:
    """Put the hooks above on ``schema``; with ``keys_of_their_bodies``, also the one making
    each generated case's Idempotency-Key its body's own (a run that sends the cases as they
    are; the examples a document names are no generated cases, and pass no hook)."""
    for hook in (flatmap_path_parameters, flatmap_query, flatmap_body):
        schema.hook(hook)
    schema.hook("filter_case")(sent_as_judged)
    schema.hook("map_body").apply_to(method="POST", path="/v1/reconcile")(documented_window)
    schema.hook("map_body").apply_to(method="POST", path="/v1/payment-links")(documented_link)
    schema.hook("filter_case").apply_to(method="POST", path="/v1/payment-links")(keeps_link_rules)
    schema.hook("map_body").apply_to(method="POST", path="/v1/subscriptions")(
        documented_subscription
    )
    schema.hook("filter_case").apply_to(method="POST", path="/v1/subscriptions")(
        keeps_subscription_rules
    )
    if keys_of_their_bodies:
        schema.hook("map_case")(with_idempotency_key_of_its_body)
