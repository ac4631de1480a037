"""The sandbox's state file: what a sandbox knew before a stop (SIGTERM or SIGKILL) it knows
after the next start, through the official SDK as the service asks it; a file it cannot use
stops the start with one line, and the file is left as it was."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import razorpay
import requests

from payments_service.sandbox import SandboxConfig, start_background
from payments_service.sandbox.__main__ import parse_arguments

KEY = ("rzp_test_SandboxKey0001", "sandbox_key_secret")
START_SECONDS = 30
Json = dict[str, Any]
SUCCESS = {"outcome": "success"}


@dataclass
class SandboxProcess:
    """``python -m payments_service.sandbox --state-file ...`` on a free port, its log in a file."""

    process: subprocess.Popen[bytes]
    log: Path
    url: str = ""

    def sdk(self) -> Any:
        return razorpay.Client(auth=KEY, base_url=self.url)

    def pay(self, order_id: str) -> Json:
        """Act as the buyer on Checkout: a successful card payment."""
        return call("POST", f"{self.url}/_sandbox/orders/{order_id}/pay", json=SUCCESS)

    def stop(self, how: signal.Signals) -> int:
        self.process.send_signal(how)
        return self.process.wait(timeout=START_SECONDS)


@dataclass
class Launcher:
    """Starts sandbox processes with the given arguments, each logging to a file of its own."""

    directory: Path
    started: list[SandboxProcess] = field(default_factory=list)

    def run(self, *arguments: str) -> SandboxProcess:
        log = self.directory / f"sandbox-{len(self.started)}.log"
        command = [sys.executable, "-m", "payments_service.sandbox", "--port", "0", *arguments]
        with log.open("wb") as output:
            process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
        self.started.append(SandboxProcess(process, log))
        return self.started[-1]

    def listening(self, *arguments: str) -> SandboxProcess:
        """A sandbox started and listening, its URL read from its log."""
        sandbox = self.run(*arguments)
        deadline = time.monotonic() + START_SECONDS
        while "Razorpay sandbox on http://" not in sandbox.log.read_text():
            assert sandbox.process.poll() is None, sandbox.log.read_text()
            assert time.monotonic() < deadline, "the sandbox did not start"
            time.sleep(0.05)
        sandbox.url = sandbox.log.read_text().split("Razorpay sandbox on ", 1)[1].split()[0]
        return sandbox


@pytest.fixture
def sandboxes(tmp_path: Path) -> Iterator[Launcher]:
    """A launcher; kills whatever it started that still runs."""
    launcher = Launcher(tmp_path)
    yield launcher
    for sandbox in launcher.started:
        if sandbox.process.poll() is None:
            sandbox.process.kill()
            sandbox.process.wait()


def test_a_payment_made_before_a_sigterm_restart_is_fetched_listed_and_refunded_after_it(
    sandboxes: Launcher, tmp_path: Path
) -> None:
    state_file = tmp_path / "sandbox-state.json"
    before = sandboxes.listening("--state-file", str(state_file))
    sdk = before.sdk()
    order = sdk.order.create({"amount": 49900, "currency": "INR", "receipt": "before"})
    payment_id = before.pay(order["id"])["razorpay_payment_id"]
    key = {"X-Refund-Idempotency": "refund-before-restart"}
    first_refund = sdk.payment.refund(payment_id, {"amount": 100}, headers=key)
    payment_then, order_then = sdk.payment.fetch(payment_id), sdk.order.fetch(order["id"])
    assert before.stop(signal.SIGTERM) == 0

    after = sandboxes.listening("--state-file", str(state_file))
    sdk = after.sdk()

    assert sdk.payment.fetch(payment_id) == payment_then
    assert sdk.order.fetch(order["id"]) == order_then
    assert [p["id"] for p in sdk.order.payments(order["id"])["items"]] == [payment_id]
    assert payment_id in [p["id"] for p in sdk.payment.all({"count": 100})["items"]]
    assert sdk.payment.refund(payment_id, {"amount": 100}, headers=key) == first_refund
    rest = sdk.payment.refund(payment_id, {})
    assert rest["amount"] == 49800 and rest["status"] == "processed"
    assert sdk.payment.fetch(payment_id)["status"] == "refunded"
    refunds = sdk.payment.fetch_multiple_refund(payment_id)["items"]
    assert {refund["id"] for refund in refunds} == {first_refund["id"], rest["id"]}
    new_order = sdk.order.create({"amount": 49900, "currency": "INR"})
    new_payment_id = after.pay(new_order["id"])["razorpay_payment_id"]
    assert new_order["id"] != order["id"] and new_payment_id != payment_id
    assert rest["id"] != first_refund["id"]
    assert sdk.order.all({"receipt": "before"})["count"] == 1


def test_what_was_answered_before_a_sigkill_is_known_after_the_restart(
    sandboxes: Launcher, tmp_path: Path
) -> None:
    state_file = tmp_path / "sandbox-state.json"
    before = sandboxes.listening("--state-file", str(state_file))
    order = before.sdk().order.create({"amount": 29900, "currency": "INR"})
    payment_id = before.pay(order["id"])["razorpay_payment_id"]
    assert before.stop(signal.SIGKILL) == -signal.SIGKILL  # no chance to save anything

    after = sandboxes.listening("--state-file", str(state_file))

    payment = after.sdk().payment.fetch(payment_id)
    assert (payment["status"], payment["order_id"]) == ("captured", order["id"])
    assert after.sdk().order.fetch(order["id"])["status"] == "paid"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b'{"format": "payments_service.sandbox state", "orders": [', "not JSON: Expecting"),
        (b"\x80\x81 binary", "not UTF-8 text"),
        (b'{"orders": []}', "not a sandbox state file"),
        (
            b'{"format": "payments_service.sandbox state", "version": 99}',
            "format version 99, this sandbox reads 1",
        ),
        (
            b'{"format": "payments_service.sandbox state", "version": 1, "merchant_balance": 0,'
            b' "orders": [], "payments": [], "refunds": [{"id": "rfnd_1"}], "refund_keys": {}}',
            "a refund without exactly the fields",
        ),
    ],
)
def test_a_state_file_that_is_not_one_stops_the_start_with_one_line_and_is_kept(
    sandboxes: Launcher, tmp_path: Path, content: bytes, reason: str
) -> None:
    state_file = tmp_path / "sandbox-state.json"
    state_file.write_bytes(content)

    sandbox = sandboxes.run("--state-file", str(state_file))

    assert sandbox.process.wait(timeout=START_SECONDS) == 2
    lines = sandbox.log.read_text().splitlines()
    assert len(lines) == 1, lines
    assert f"cannot start: the state file {state_file} is unreadable ({reason}" in lines[0]
    assert lines[0].endswith("move it away to start with no orders or payments")
    assert state_file.read_bytes() == content


def test_a_state_file_that_cannot_be_read_stops_the_start_with_one_line(
    sandboxes: Launcher, tmp_path: Path
) -> None:
    sandbox = sandboxes.run("--state-file", str(tmp_path))  # a directory

    assert sandbox.process.wait(timeout=START_SECONDS) == 2
    lines = sandbox.log.read_text().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].endswith(f"cannot start: cannot read the state file {tmp_path}: Is a directory")


def test_a_state_file_in_a_missing_directory_stops_the_start_not_the_first_payment(
    sandboxes: Launcher, tmp_path: Path
) -> None:
    state_file = tmp_path / "gone" / "sandbox-state.json"

    sandbox = sandboxes.run("--state-file", str(state_file))

    assert sandbox.process.wait(timeout=START_SECONDS) == 2
    assert (
        sandbox.log.read_text()
        .strip()
        .endswith(
            f"cannot start: cannot write the state file {state_file}: No such file or directory"
        )
    )


def call(method: str, url: str, **options: Any) -> Json:
    """One plain HTTP call (the control API, or the API with KEY) answered with JSON."""
    answer = requests.request(method, url, timeout=10, **options)
    assert answer.ok, answer.text
    body: Json = answer.json()
    return body


def test_pending_refunds_the_balance_and_resets_are_kept_by_the_state_file(
    tmp_path: Path,
) -> None:
    state_file = tmp_path / "sandbox-state.json"
    config = {"refund_outcome": "pending", "merchant_balance": 100000}
    with start_background(SandboxConfig(**config), state_file=state_file) as before:
        sdk = razorpay.Client(auth=KEY, base_url=before.url)
        order = sdk.order.create({"amount": 30000, "currency": "INR"})
        paid = call("POST", f"{before.url}/_sandbox/orders/{order['id']}/pay", json=SUCCESS)
        refund = sdk.payment.refund(paid["razorpay_payment_id"], {"amount": 10000})
    assert refund["status"] == "pending"

    with start_background(state_file=state_file) as after:
        settle = f"{after.url}/_sandbox/refunds/{refund['id']}/settle"
        assert call("POST", settle, json={"status": "processed"})["status"] == "processed"
        assert call("GET", f"{after.url}/_sandbox/config")["merchant_balance"] == 90000
        assert call("POST", f"{after.url}/_sandbox/reset") == {"reset": True}

    with start_background(state_file=state_file) as reset:
        assert call("GET", f"{reset.url}/v1/orders", auth=KEY)["count"] == 0
        assert call("GET", f"{reset.url}/_sandbox/config")["merchant_balance"] == 90000


def test_the_state_file_comes_from_the_flag_or_sandbox_state_file() -> None:
    from_variable = parse_arguments([], {"SANDBOX_STATE_FILE": "/data/sandbox.json"})
    from_flag = parse_arguments(
        ["--state-file", "here.json"], {"SANDBOX_STATE_FILE": "/data/sandbox.json"}
    )

    assert from_variable.state_file == Path("/data/sandbox.json")
    assert from_flag.state_file == Path("here.json")
    assert parse_arguments([], {}).state_file is None
