"""The go-live checklist that `flask --app payments_service check [--live]` prints.

Without ``--live`` it checks that the service as configured can run: the database answers
and is migrated, a worker is running and the outbox moves; it says which mode that is.
With ``--live`` it checks everything taking real money needs: live keys, a real webhook
secret and a webhook arriving, Razorpay rather than the sandbox, https sites, a strong
admin secret, TLS to the database. Database checks that cannot run (the database is
unreachable, or not migrated) are listed as SKIP.
"""

from __future__ import annotations

from dataclasses import replace

from ..services import Services
from . import configuration, database
from .findings import Check, Context, Finding

CHECKS = (
    Check("mode", configuration.mode, only="not live"),
    Check("Razorpay key id is well formed", configuration.key_id_shape, only="not live"),
    Check("Razorpay key id is a live key", configuration.live_key_id, only="live"),
    Check("Razorpay key secret is set", configuration.key_secret, only="live"),
    Check("Razorpay webhook secret is set", configuration.webhook_secret, only="live"),
    Check("Razorpay API is Razorpay, not the sandbox", configuration.razorpay_api, only="live"),
    Check("admin JWT secret is strong", configuration.admin_secret, only="live"),
    Check("database reachable", database.reachable, proves="database"),
    Check("database connection uses TLS", database.tls, needs="database", only="live"),
    Check("migrations applied", database.migrations, needs="database", proves="schema"),
    Check("worker alive", database.worker_alive, needs="schema"),
    Check("notification outbox moving", database.outbox_moving, needs="schema"),
    Check(
        "Razorpay webhook received in the last 7 days",
        database.webhook_recent,
        needs="schema",
        only="live",
    ),
    Check("active sites use https", database.sites_https, needs="schema", only="live"),
)
UNMET = {"database": "the database is unreachable", "schema": "migrations are pending"}
NOT_LIVE = Finding(
    "INFO",
    "not run; `flask --app payments_service check --live` checks what taking real money needs",
    name="live checks",
)


def run_checklist(services: Services, *, live: bool) -> list[Finding]:
    """Run every check that applies, in order; each finding names its check."""
    ctx = Context(services.settings, services.db, services.clock())
    findings: list[Finding] = []
    unmet: dict[str | None, str] = {}  # what a check needs -> why it is not there
    for check in CHECKS:
        if check.only == ("not live" if live else "live"):
            continue
        if check.needs in unmet:
            reason = f"not checked: {unmet[check.needs]}"
            findings.append(Finding("SKIP", reason, name=check.name))
            continue
        found = check.run(ctx)
        results = found if isinstance(found, list) else [found]
        findings += [replace(result, name=check.name) for result in results]
        if check.proves is not None and has_failures(results):
            reason = UNMET[check.proves]
            unmet.setdefault("schema", reason)  # no schema without a database
            if check.proves == "database":
                unmet["database"] = reason
    if not live:
        findings.append(NOT_LIVE)
    return findings


def has_failures(findings: list[Finding]) -> bool:
    """Whether any check failed (the command then exits non-zero)."""
    return any(finding.status == "FAIL" for finding in findings)


__all__ = ["CHECKS", "Finding", "has_failures", "run_checklist"]
