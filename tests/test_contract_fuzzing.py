"""The fuzzing set-up of test_schemathesis.py itself: every check Schemathesis has is
applied, and the hooks of contract_fuzzing.py never make a case valid or invalid by the
document that was generated the other way."""

from __future__ import annotations

from datetime import datetime

from schemathesis import HookContext
from schemathesis.checks import CHECKS as REGISTERED_CHECKS
from schemathesis.checks import load_all_checks

from tests.contract_fuzzing import CHECKS, KNOWN_VALUES, documented_window, known_variants
from tests.test_schemathesis import schema


def test_every_check_schemathesis_has_is_applied() -> None:
    load_all_checks()
    registered = {check.__name__ for check in REGISTERED_CHECKS.get_all()}

    assert registered == {check.__name__ for check in CHECKS}


def test_a_record_never_makes_a_case_the_document_refuses_acceptable() -> None:
    grant = schema["/v1/enrollments"]["POST"]
    KNOWN_VALUES["sku"] = ["go-1"]
    try:
        mutated = {"customer_email": "a@b.co", "sku": "6a*", "reason": "gift"}
        valid = {"customer_email": "a@b.co", "sku": "6a", "reason": "gift"}

        assert known_variants(grant, "body", mutated) == []
        assert known_variants(grant, "body", valid) == [{**valid, "sku": "go-1"}]
    finally:
        KNOWN_VALUES.clear()


def test_a_valid_reconcile_body_gets_a_window_the_document_allows() -> None:
    context = HookContext(operation=schema["/v1/reconcile"]["POST"])
    backwards = {"from": "2026-01-02T00:00:00+05:30", "to": "1990-01-01T00:00:00Z"}
    invalid = {"from": "2026-01-02T00:00:00+05:30", "to": 5}

    window = documented_window(context, backwards)

    start, end = (datetime.fromisoformat(window[bound]) for bound in ("from", "to"))
    assert window["from"] == backwards["from"] and start <= end
    assert (end - start).days < 400
    assert documented_window(context, invalid) is invalid
