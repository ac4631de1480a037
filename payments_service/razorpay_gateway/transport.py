"""The HTTP session the official SDK sends its calls through: one urllib3 pool, no `requests`
per call.

Profiled under load (docs/performance.md, issue 17), a Razorpay call cost 0.6-0.8 ms of API
CPU, most of it `requests`' per-call machinery (preparing the request, merging settings,
cookies, hooks, building the response), not the network; and `requests`' pool kept 10
connections per host while a worker has 16 threads, so connections were discarded under
load. The SDK only calls ``session.get/post/patch/put/delete(url, auth=, verify=,
headers=, params= or data=, timeout=, hooks=)`` and reads ``status_code`` and ``json()``,
so this session does exactly that over one keep-alive pool (``pool_size`` connections, one
per thread), and keeps what callers rely on from `requests`:

- the same exceptions for the same failures (ConnectionError, ConnectTimeout, ReadTimeout,
  ProxyError, SSLError: the mapping of requests.adapters.HTTPAdapter.send), so the
  gateway's error translation and retries do not change;
- no retries and no redirects (Razorpay's API redirects nowhere), the same default headers,
  Basic auth as `requests` encodes it, the SDK's CA bundle for https, and the proxy the
  environment names at start (requests' own proxy managers, so proxy auth and SOCKS too);
- ``hooks={"response": callable}`` called with the response, as `requests` does.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests
import requests.utils
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.exceptions import (
    ClosedPoolError,
    ConnectTimeoutError,
    DecodeError,
    MaxRetryError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    ResponseError,
)
from urllib3.exceptions import InvalidHeader as _InvalidHeader
from urllib3.exceptions import ProxyError as _ProxyError
from urllib3.exceptions import SSLError as _SSLError

# requests' default: no retry of any kind; a read error is raised as it happened.
_NO_RETRIES = urllib3.Retry(0, read=False)


class PooledResponse:
    """What the SDK (and a response hook) reads from an answer, fully read."""

    __slots__ = ("content", "headers", "reason", "status_code", "url")

    def __init__(self, raw: urllib3.BaseHTTPResponse, url: str) -> None:
        self.status_code: int = raw.status
        self.reason: str | None = raw.reason
        self.headers: Mapping[str, str] = raw.headers
        self.content: bytes = raw.data
        self.url = url

    def json(self) -> Any:
        """The body as JSON (a ValueError if it is not, as `requests` raises)."""
        return json.loads(self.content)

    @property
    def text(self) -> str:
        """The body as text, in the charset the answer names (UTF-8 if none)."""
        charset = requests.utils.get_encoding_from_headers(dict(self.headers)) or "utf-8"
        return self.content.decode(charset, errors="replace")


class PooledSession:
    """A `requests.Session` look-alike, for the SDK's calls to one base URL only."""

    def __init__(self, base_url: str, *, pool_size: int, ca_certs: str) -> None:
        parts = urlsplit(base_url)
        self._origin = f"{parts.scheme}://{parts.netloc}"
        proxy = requests.utils.select_proxy(base_url, requests.utils.get_environ_proxies(base_url))
        if proxy and "://" not in proxy:  # as requests reads "proxy.local:3128": over http
            proxy = f"http://{proxy}"
        # requests' adapter builds the pool managers, so proxies (auth, SOCKS) and TLS are
        # set up exactly as a requests.Session would; only the per-call path is ours.
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=pool_size)
        tls: dict[str, Any] = {}
        if parts.scheme == "https":
            tls = {"cert_reqs": "CERT_REQUIRED", "ca_certs": ca_certs}
        manager = adapter.proxy_manager_for(proxy) if proxy else adapter.poolmanager
        self._pool = manager.connection_from_url(self._origin, pool_kwargs=tls)
        self._ca_certs = ca_certs
        # Through a plain-HTTP proxy an http:// request names its whole URL, as in requests.
        self._absolute = bool(proxy) and parts.scheme == "http" and not _is_socks(proxy)
        self._headers = dict(requests.utils.default_headers())
        self._header_names = {name.lower(): name for name in self._headers}
        self._authorization: tuple[tuple[str, str], str] | None = None
        self._timeouts: dict[Any, urllib3.Timeout] = {}

    def get(self, url: str, **options: Any) -> PooledResponse:
        return self.request("GET", url, **options)

    def post(self, url: str, **options: Any) -> PooledResponse:
        return self.request("POST", url, **options)

    def patch(self, url: str, **options: Any) -> PooledResponse:
        return self.request("PATCH", url, **options)

    def put(self, url: str, **options: Any) -> PooledResponse:
        return self.request("PUT", url, **options)

    def delete(self, url: str, **options: Any) -> PooledResponse:
        return self.request("DELETE", url, **options)

    def request(
        self,
        method: str,
        url: str,
        *,
        auth: tuple[str, str] | None = None,
        verify: str | bool = True,
        headers: Mapping[str, str | None] | None = None,
        params: Mapping[str, Any] | None = None,
        data: str | bytes | None = None,
        timeout: float | tuple[float, float] | None = None,
        hooks: Mapping[str, Any] | None = None,
    ) -> PooledResponse:
        """Send one request and read its whole answer; `requests`' exceptions on failure."""
        # Misuse, not a failure of Razorpay: RuntimeError, which the gateway does not
        # translate (a ValueError would pass for an unreadable answer).
        if verify != self._ca_certs:  # the SDK always passes its own bundle
            raise RuntimeError("this session verifies TLS with the SDK's CA bundle only")
        if not url.startswith(self._origin + "/"):
            raise RuntimeError("this session sends to its gateway's base URL only")
        url = requests.utils.requote_uri(url)
        query = _query(params)
        if query:
            url = f"{url}&{query}" if "?" in url else f"{url}?{query}"
        sent = self._merged(headers)
        if auth is not None:
            sent["Authorization"] = self._basic(auth)
        body = data.encode() if isinstance(data, str) else data
        target = url if self._absolute else url[len(self._origin) :]
        raw = _sent(
            lambda: self._pool.urlopen(
                method,
                target,
                body=body,
                headers=sent,
                retries=_NO_RETRIES,
                redirect=False,
                assert_same_host=False,
                timeout=self._timeout(timeout),
                preload_content=True,
                decode_content=True,
            )
        )
        response = PooledResponse(raw, url)
        for hook in _response_hooks(hooks):
            response = hook(response) or response
        return response

    def _merged(self, headers: Mapping[str, str | None] | None) -> dict[str, str]:
        """The default headers overridden by ``headers`` whatever their case, a None value
        removing one, as `requests` merges a call's headers into its session's."""
        merged = dict(self._headers)
        for name, value in (headers or {}).items():
            default = self._header_names.get(name.lower())
            if default is not None:
                del merged[default]
            if value is not None:
                merged[name] = value
        return merged

    def _basic(self, auth: tuple[str, str]) -> str:
        """The Authorization header of Basic auth, encoded as `requests` does (latin-1),
        computed once per credentials rather than on every call."""
        cached = self._authorization  # one read: threads may replace it meanwhile
        if cached is not None and cached[0] == auth:
            return cached[1]
        user, password = (part.encode("latin1") for part in auth)
        header = "Basic " + base64.b64encode(user + b":" + password).decode()
        self._authorization = ((auth[0], auth[1]), header)
        return header

    def _timeout(self, timeout: float | tuple[float, float] | None) -> urllib3.Timeout:
        found = self._timeouts.get(timeout)
        if found is None:
            connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
            found = self._timeouts[timeout] = urllib3.Timeout(connect=connect, read=read)
        return found


def _is_socks(proxy: str | None) -> bool:
    return bool(proxy) and urlsplit(str(proxy)).scheme.lower().startswith("socks")


def _query(params: Mapping[str, Any] | None) -> str:
    """The query string `requests` makes of ``params`` (None values left out)."""
    if not params:
        return ""
    pairs = []
    for key, values in params.items():
        for value in values if isinstance(values, list | tuple) else [values]:
            if value is not None:
                pairs.append((key, value))
    return urlencode(pairs, doseq=True)


def _response_hooks(hooks: Mapping[str, Any] | None) -> list[Callable[..., Any]]:
    found = (hooks or {}).get("response") or []
    return [found] if callable(found) else list(found)


def _sent(send: Callable[[], urllib3.BaseHTTPResponse]) -> urllib3.BaseHTTPResponse:
    """``send()``, with urllib3's failures raised as requests.adapters.HTTPAdapter.send
    raises them (and a body that fails to decode as requests' ContentDecodingError)."""
    try:
        return send()
    except (ProtocolError, OSError) as exc:
        raise requests.ConnectionError(exc) from exc
    except MaxRetryError as exc:
        reason = exc.reason
        if isinstance(reason, ConnectTimeoutError) and not isinstance(reason, NewConnectionError):
            raise requests.ConnectTimeout(exc) from exc
        if isinstance(reason, ResponseError):
            raise requests.exceptions.RetryError(exc) from exc
        if isinstance(reason, _ProxyError):
            raise requests.exceptions.ProxyError(exc) from exc
        if isinstance(reason, _SSLError):
            raise requests.exceptions.SSLError(exc) from exc
        raise requests.ConnectionError(exc) from exc
    except ClosedPoolError as exc:
        raise requests.ConnectionError(exc) from exc
    except _ProxyError as exc:
        raise requests.exceptions.ProxyError(exc) from exc
    except _SSLError as exc:
        raise requests.exceptions.SSLError(exc) from exc
    except ReadTimeoutError as exc:
        raise requests.ReadTimeout(exc) from exc
    except _InvalidHeader as exc:
        raise requests.exceptions.InvalidHeader(exc) from exc
    except DecodeError as exc:
        raise requests.exceptions.ContentDecodingError(exc) from exc
