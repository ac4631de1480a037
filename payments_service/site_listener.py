"""The one thread per process that hears site changes (sql/0016) and clears the AuthCache.

It owns a dedicated connection (never one of the pool's: a pooled connection goes back to
other requests, and LISTEN is session state). The cache is trusted only while that
connection listens and has echoed a probe notification back; when the connection is lost,
the cache is emptied and distrusted until a new one listens, retried with backoff.
"""

from __future__ import annotations

import logging
import select
import threading
import time
import weakref
from collections.abc import Callable

import psycopg2
import psycopg2.extensions

from .auth_cache import AuthCache
from .db.sites import CHANGES_CHANNEL, listen_for_changes

log = logging.getLogger(__name__)

# Shown in pg_stat_activity (and how a test finds the session to terminate).
APPLICATION_NAME = "payments_service site-change listener"
# How long a select waits before the thread checks whether it should stop.
WAKE_SECONDS = 0.5
# How long the probe notification may take to come back before the connection is not
# trusted (a transaction-mode pooler never echoes it).
PROBE_SECONDS = 2.0
FIRST_RETRY_SECONDS = 0.1
LAST_RETRY_SECONDS = 30.0
# A half-open TCP connection (the server unreachable without a reset) is noticed after
# about idle + interval x count seconds of silence: the window in which a change could go
# unheard.
_KEEPALIVE = {
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 1,
    "keepalives_count": 3,
    "connect_timeout": 5,
}


class SiteChangeListener:
    """A daemon thread LISTENing for site changes on ``dsn``; ``stop`` ends it (and it ends
    by itself once ``is_finished`` says so or the cache is garbage-collected)."""

    def __init__(self, cache: AuthCache, dsn: str, is_finished: Callable[[], bool]) -> None:
        self._cache = weakref.ref(cache)
        self._dsn = dsn
        self._is_finished = is_finished
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="site-change-listener", daemon=True)

    def start(self) -> SiteChangeListener:
        """Start the thread; returns self."""
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the thread to end and wait for it (it closes its connection)."""
        self._stopped.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _ending(self) -> bool:
        return self._stopped.is_set() or self._cache() is None or self._is_finished()

    def _run(self) -> None:
        delay = FIRST_RETRY_SECONDS
        failures = 0
        while not self._ending():
            conn: psycopg2.extensions.connection | None = None
            try:
                conn = _listening_connection(self._dsn)
                self._tell(conn.fileno())
                if failures:
                    log.info("site-change listener: listening again; the auth cache is on")
                delay, failures = FIRST_RETRY_SECONDS, 0
                self._follow(conn)
            except NotHeard as exc:  # the database is up but cannot tell us: misconfigured
                failures += 1
                log.warning("site-change listener: %s; the auth cache stays off", exc)
            except (psycopg2.Error, OSError) as exc:
                # The database (or the way to it) is away: every request logs that already,
                # so this says once, at INFO, what it means for authentication.
                failures += 1
                log.log(
                    logging.INFO if failures == 1 else logging.DEBUG,
                    "site-change listener: %s; authentication reads the database until it "
                    "listens again (retry in %.1f s)",
                    _first_line(exc),
                    delay,
                )
            except Exception:  # a bug here must not end the thread: the cache would stay off
                failures += 1
                log.exception("site-change listener failed (retry in %.1f s)", delay)
            finally:
                self._tell(None)
                if conn is not None:
                    conn.close()
            self._stopped.wait(delay)
            delay = min(delay * 2, LAST_RETRY_SECONDS)

    def _follow(self, conn: psycopg2.extensions.connection) -> None:
        """Clear the cache on every notification until the connection fails or we stop."""
        while not self._ending():
            readable, _, _ = select.select([conn], [], [], WAKE_SECONDS)
            if not readable:
                continue
            self._invalidate()  # before reading: whatever arrived, nothing cached holds
            conn.poll()  # raises once the server has ended the session
            del conn.notifies[:]
            self._invalidate()

    def _tell(self, fd: int | None) -> None:
        cache = self._cache()
        if cache is not None:
            cache.listening(fd)

    def _invalidate(self) -> None:
        cache = self._cache()
        if cache is not None:
            cache.invalidate()


class NotHeard(Exception):
    """The connection LISTENs, but its own probe notification never came back."""


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def _listening_connection(dsn: str) -> psycopg2.extensions.connection:
    """A new connection that LISTENs and has heard its own probe. Raises psycopg2.Error or
    OSError, or NotHeard when the probe does not come back."""
    conn = psycopg2.connect(dsn, application_name=APPLICATION_NAME, **_KEEPALIVE)
    try:
        conn.autocommit = True
        listen_for_changes(conn)
        deadline = time.monotonic() + PROBE_SECONDS
        while not any(n.channel == CHANGES_CHANNEL for n in conn.notifies):
            left = deadline - time.monotonic()
            if left <= 0:
                raise NotHeard(
                    "LISTEN does not deliver notifications on this connection (a "
                    "transaction-mode pooler?); point MIGRATION_DATABASE_URL at the database"
                )
            select.select([conn], [], [], left)
            conn.poll()
        del conn.notifies[:]
    except BaseException:
        conn.close()
        raise
    return conn
