"""`make run` refuses to start beside another one instead of sharing its ports."""

from __future__ import annotations

import socket

import pytest

from payments_service.devstack import ensure_ports_free


def test_a_port_another_process_listens_on_stops_the_start_and_is_named() -> None:
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)  # as gunicorn's workers
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]

        with pytest.raises(SystemExit, match=f"port {port} on 127.0.0.1 is in use"):
            ensure_ports_free([port])


def test_free_ports_let_the_start_go_on() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    ensure_ports_free([port])
