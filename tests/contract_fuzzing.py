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
from urllib.parse import unquote

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
    if keys_of_their_bodies:
        schema.hook("map_case")(with_idempotency_key_of_its_body)
