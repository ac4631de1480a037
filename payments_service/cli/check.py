"""`flask --app payments_service check [--live]`: the go-live checklist, one line a check."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from ..go_live import has_failures, run_checklist
from ..services import EXTENSION_KEY, Services
from .errors import ServiceCommand


@click.command("check", cls=ServiceCommand)
@with_appcontext
@click.option("--live", is_flag=True, help="Check everything taking real money needs.")
def check_command(live: bool) -> None:
    """Check the configuration (PASS/FAIL per line, with the fix); exit 1 on any FAIL."""
    services: Services = current_app.extensions[EXTENSION_KEY]
    findings = run_checklist(services, live=live)
    for finding in findings:
        click.echo(finding.line())
    if has_failures(findings):
        raise click.exceptions.Exit(1)
