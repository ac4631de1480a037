"""What authentication reads per request, kept per process: the active sites (their JWT
secrets) and the tokens already verified (raw Authorization header -> claims).

A site sends the same token for up to an hour; decoding and HMAC-checking it again, and
reading its site's secret from PostgreSQL, cost every authenticated request ~0.4 ms of CPU
and a round trip (docs/performance.md). The cache never changes an answer:

- it is trusted only while this process's listener (site_listener.py) holds a LISTEN on the
  site-change channel (sql/0016's trigger) and has proved that notifications reach it;
  before that, and from the moment the listener's connection is lost until it is back, the
  cache is empty and every request goes to the database;
- any byte arriving on the listener's socket (a change, or the server ending the session)
  stops hits at once, before the listener thread has even run;
- a change made through sites.py in this process clears it right after the commit
  (``forget_sites``), other processes' changes through the notification;
- a value read from the database is kept only if no change was heard since the read began
  (a generation counter), so a read racing a rotation cannot put back the old secret;
- a verified token is re-checked against the clock on every hit (the caller applies
  check_token_lifetime), so a cached token is never served past its ``exp``.

One cache per app, i.e. per database and mode; both maps are bounded (least recently used
entries go first).
"""

from __future__ import annotations

import os
import select
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Final

from .db.sites import Site

# Where create_app keeps an app's cache (absent: AUTH_CACHE=false).
EXTENSION_KEY = "payments_service.auth_cache"
MAX_TOKENS = 4096
MAX_SITES = 1024
# What ``site`` answers for an id it has no answer for (None means: no active site).
UNKNOWN: Final = object()

_registry: weakref.WeakSet[AuthCache] = weakref.WeakSet()
_registry_lock = threading.Lock()


class AuthCache:
    """Sites and verified tokens of one database, trusted only while its listener listens."""

    def __init__(
        self,
        dsn: str,
        start_listener: Callable[[AuthCache], Any],
        *,
        max_tokens: int = MAX_TOKENS,
        max_sites: int = MAX_SITES,
    ) -> None:
        self.dsn = dsn  # the database whose sites these are (forget_sites matches on it)
        self._start_listener = start_listener
        self._max_tokens = max_tokens
        self._max_sites = max_sites
        self._lock = threading.Lock()
        self._generation = 0
        self._fd: int | None = None  # the listener's socket while it is trusted
        self._tokens: OrderedDict[str, tuple[dict[str, Any], float]] = OrderedDict()
        self._sites: OrderedDict[str, Site | None] = OrderedDict()
        self._listener: Any = None
        self._listener_pid: int | None = None
        with _registry_lock:
            _registry.add(self)

    # -- reads, on the request path ---------------------------------------------------------

    def generation(self) -> int | None:
        """The generation to pass to ``keep_*`` for what is read from the database from now
        on, or None when nothing read now may be kept (the listener is not listening)."""
        self._ensure_listener()
        with self._lock:
            return self._generation if self._fd is not None else None

    def token(self, header: str, now: float) -> dict[str, Any] | None:
        """The claims of this Authorization header's token if it was verified, else None."""
        if not self._quiet():
            return None
        with self._lock:
            entry = self._tokens.get(header)
            if entry is None or self._fd is None:
                return None
            if now < entry[1]:  # the clock stepped back: iat may lie ahead again
                del self._tokens[header]
                return None
            self._tokens.move_to_end(header)
            return entry[0]

    def site(self, site_id: str) -> Site | object | None:
        """The active site with this id, None if there is none, or ``UNKNOWN`` (not cached)."""
        if not self._quiet():
            return UNKNOWN
        with self._lock:
            site = self._sites.get(site_id, UNKNOWN)
            if site is UNKNOWN or self._fd is None:
                return UNKNOWN
            self._sites.move_to_end(site_id)
            return site

    # -- fills ------------------------------------------------------------------------------

    def keep_token(
        self, header: str, claims: dict[str, Any], verified_at: float, generation: int | None
    ) -> None:
        """Remember a token verified at ``verified_at`` with keys read in ``generation``."""
        with self._lock:
            if generation is None or generation != self._generation or self._fd is None:
                return
            self._tokens[header] = (claims, verified_at)
            self._tokens.move_to_end(header)
            while len(self._tokens) > self._max_tokens:
                self._tokens.popitem(last=False)

    def forget_token(self, header: str) -> None:
        """Drop one token (it failed its lifetime check: the full path answers for it)."""
        with self._lock:
            self._tokens.pop(header, None)

    def keep_site(self, site_id: str, site: Site | None, generation: int | None) -> None:
        """Remember the active site with this id (None: none) as read in ``generation``."""
        with self._lock:
            if generation is None or generation != self._generation or self._fd is None:
                return
            self._sites[site_id] = site
            self._sites.move_to_end(site_id)
            while len(self._sites) > self._max_sites:
                self._sites.popitem(last=False)

    # -- invalidation, from the listener and from sites.py ---------------------------------

    def invalidate(self) -> None:
        """Forget everything, and refuse to keep what reads begun before this call return."""
        with self._lock:
            self._generation += 1
            self._tokens.clear()
            self._sites.clear()

    def listening(self, fd: int | None) -> None:
        """The listener holds a LISTEN on socket ``fd`` (None: it lost it, or stopped).
        Either way what is cached may be stale: start empty."""
        with self._lock:
            self._generation += 1
            self._fd = fd
            self._tokens.clear()
            self._sites.clear()

    def close(self) -> None:
        """Stop the listener (if this process started one) and stop trusting the cache."""
        listener, self._listener = self._listener, None
        if listener is not None and self._listener_pid == os.getpid():
            listener.stop()
        self.listening(None)

    @property
    def is_trusted(self) -> bool:
        """Whether hits are served now (the listener listens)."""
        return self._fd is not None and self._quiet()

    # -- internals --------------------------------------------------------------------------

    def _ensure_listener(self) -> None:
        """Start this process's listener on first use (never at import or app creation; a
        forked worker starts its own: threads do not survive a fork)."""
        pid = os.getpid()
        if self._listener_pid == pid:
            return
        with self._lock:
            if self._listener_pid == pid:
                return
            self._fd = None
            self._generation += 1
            self._tokens.clear()
            self._sites.clear()
            self._listener = self._start_listener(self)
            self._listener_pid = pid

    def _quiet(self) -> bool:
        """True when nothing waits unread on the listener's socket. Whatever does (a change,
        the server ending the session) makes the cache unusable until the listener thread
        has dealt with it; a closed or reused descriptor reads as not quiet or is caught by
        the ``_fd`` check made under the lock afterwards."""
        fd = self._fd
        if fd is None:
            return False
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        return not poller.poll(0)


def forget_sites(dsn: str) -> None:
    """A change to the sites of database ``dsn`` committed in this process: every cache of
    it here forgets at once (the notification reaches the other processes)."""
    with _registry_lock:
        caches = [cache for cache in _registry if cache.dsn == dsn]
    for cache in caches:
        cache.invalidate()
