"""Debian's nginx running the shipped docker/nginx.conf in front of a server of the test's.

The file is used as shipped except for what only makes sense inside the compose network:
the upstream (`api:8000`) becomes the test's server, the listen port a free loopback port,
and the access log and nginx's temporary files go to the test's own directory. nginx runs
in the foreground (`daemon off`), as the test's child, with its pid file and error log in
that directory too, and is stopped, with its workers, when the test ends. As root it runs
its workers as root: they write request bodies into that directory, which pytest makes
private to its owner.

Also here: a client that can send from any loopback address (127.0.0.2 is a client the
gateway does not trust as a proxy) or send bytes http.client would refuse to write, and an
upstream that echoes the X-Forwarded-For the gateway passed on; and the checks of an
answer against openapi.yaml and the problem+json format.
"""

from __future__ import annotations

import http.client
import json
import os
import pwd
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any

from werkzeug.datastructures import Headers
from werkzeug.serving import make_server
from werkzeug.test import EnvironBuilder, TestResponse
from werkzeug.wrappers import Request, Response

from tests.contract.openapi import assert_conforms

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "docker" / "nginx.conf"
NGINX = shutil.which("nginx", path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")
TEMP_PATHS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


@dataclass(frozen=True)
class Gateway:
    port: int
    workdir: Path
    pid: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def access_log(self, lines: int) -> list[dict[str, Any]]:
        """The access log's JSON lines (the shipped `payments` format), oldest first, once
        it has ``lines`` of them (nginx writes a line after it has sent the answer)."""
        path = self.workdir / "access.log"
        wait_until(lambda: len(path.read_text().splitlines()) >= lines)
        return [json.loads(line) for line in path.read_text().splitlines()]


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Message
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def render(upstream_port: int, port: int, workdir: Path) -> str:
    """docker/nginx.conf with the upstream, the listen port and the file paths replaced."""
    text = SHIPPED.read_text()
    temp_paths = "".join(f"    {kind}_temp_path {workdir / kind};\n" for kind in TEMP_PATHS)
    replacements = {
        "server api:8000;": f"server 127.0.0.1:{upstream_port};",
        "listen 8080;": f"listen 127.0.0.1:{port};",
        "access_log /var/log/nginx/access.log payments;": (
            f"access_log {workdir / 'access.log'} payments;"
        ),
        "\nhttp {\n": f"\nhttp {{\n{temp_paths}",
    }
    for shipped, used in replacements.items():
        assert text.count(shipped) == 1, f"docker/nginx.conf no longer has {shipped!r} once"
        text = text.replace(shipped, used)
    return text


@contextmanager
def running_gateway(upstream_port: int, workdir: Path) -> Iterator[Gateway]:
    """nginx with the shipped configuration in front of 127.0.0.1:``upstream_port``."""
    assert NGINX is not None, "nginx is not installed"
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    conf = workdir / "nginx.conf"
    conf.write_text(render(upstream_port, port, workdir))
    directives = f"daemon off; pid {workdir / 'nginx.pid'};"
    if os.geteuid() == 0:
        directives += f" user {pwd.getpwuid(0).pw_name};"
    command = [NGINX, "-p", str(workdir), "-c", str(conf), "-e", str(workdir / "error.log")]
    with open(workdir / "nginx.out", "wb") as out:
        process = subprocess.Popen(
            [*command, "-g", directives], stdout=out, stderr=subprocess.STDOUT
        )
    try:
        _wait_until_listening(port, process, workdir)
        yield Gateway(port, workdir, process.pid)
    finally:
        _stop(process)


def workers_of(pid: int) -> set[int]:
    """The processes whose parent is ``pid`` (nginx's workers, for its master)."""
    children = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended while we looked
        if int(fields[1]) == pid:
            children.add(int(stat.parent.name))
    return children


def is_running(pid: int) -> bool:
    """Whether ``pid`` is a live process (not ended, not a zombie waiting to be reaped)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait_until_listening(port: int, process: subprocess.Popen[bytes], workdir: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"nginx exited:\n{(workdir / 'error.log').read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("nginx did not start listening")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop nginx the fast way (its master ends the workers and waits for them); should
    the master hang, kill it and the workers it had."""
    workers = workers_of(process.pid)
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)
        for pid in workers:
            if is_running(pid):
                os.kill(pid, 9)


def wait_until(condition: Callable[[], bool], seconds: float = 10) -> None:
    """Wait for something a server does just after it has answered (bounded)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.02)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def send(
    gateway: Gateway,
    method: str,
    path: str,
    headers: dict[str, str] | None = None,
    body: bytes | Iterable[bytes] | None = None,
    source: str = "127.0.0.1",
) -> Answer:
    """One request from loopback address ``source``; a body given as an iterable of
    chunks is sent chunked, without a Content-Length."""
    connection = http.client.HTTPConnection(
        "127.0.0.1", gateway.port, timeout=30, source_address=(source, 0)
    )
    try:
        chunked = body is not None and not isinstance(body, bytes)
        connection.request(method, path, body, headers or {}, encode_chunked=chunked)
        response = connection.getresponse()
        return Answer(response.status, response.headers, response.read())
    finally:
        connection.close()


def send_raw(gateway: Gateway, request: bytes) -> Answer:
    """Send these exact bytes (which http.client would refuse to write); the answer."""
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as connection:
        connection.sendall(request)
        response = http.client.HTTPResponse(connection)
        response.begin()
        return Answer(response.status, response.headers, response.read())


def request_ids(answer: Answer) -> list[str]:
    return answer.headers.get_all("X-Request-Id") or []


@contextmanager
def serving_forwarded_for() -> Iterator[int]:
    """A server on a free loopback port (yielded) that answers every request with 200 and
    the X-Forwarded-For headers it received, as JSON: what a gateway passed on."""

    def echo(environ: Any, start_response: Any) -> Any:
        request = Request(environ)
        request.get_data()
        seen = {"X-Forwarded-For": request.headers.getlist("X-Forwarded-For")}
        return Response(json.dumps(seen), mimetype="application/json")(environ, start_response)

    server = make_server("127.0.0.1", 0, echo, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.port
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def assert_documented(answer: Answer, method: str, path: str, status: int) -> None:
    """The answer is what openapi.yaml documents for ``status`` of ``method path``."""
    request = EnvironBuilder(method=method, path=path).get_request()
    headers = Headers(list(answer.headers.items()))
    assert_conforms(TestResponse([answer.body], str(answer.status), headers, request), path, status)


def assert_problem(answer: Answer, status: int, code: str) -> None:
    """A problem+json answer with one X-Request-Id, the same as the body's."""
    assert answer.status == status, answer.body
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert answer.json()["code"] == code
    assert request_ids(answer) == [answer.json()["request_id"]]
