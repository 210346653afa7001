"""The REST mechanics every venue adapter shares (aiohttp).

- every call has a timeout;
- only idempotent calls are retried (reads, cancels by client id), with exponential backoff,
  on timeouts, connection errors, 5xx, 429/418 (honouring ``Retry-After``) and malformed
  answers; a non-idempotent call (placing an order) is never retried here: the engine asks
  the venue for the order by its client id instead, so nothing is sent twice;
- 4xx answers are mapped by the adapter's ``error_map`` into the one error hierarchy, and no
  message ever contains a credential.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from typing import Any

import msgspec

from .errors import ClockRejected, NetworkError, RateLimitExceeded, SequenceError, VenueError

ErrorMap = Callable[[int, Any], SequenceError | None]
LOOPBACK = ("127.0.0.1", "localhost", "::1")


class RateLimiter:
    """The venue's published request budget, kept client-side: ``capacity`` weight per
    ``period_s`` (a token bucket refilled evenly). ``used`` is what the venue says was spent
    (Binance ``X-MBX-USED-WEIGHT-1M``, Bybit ``X-Bapi-Limit-Status``): the bucket follows it."""

    def __init__(self, capacity: float, period_s: float = 1.0):
        import time

        self.capacity, self.period_s = float(capacity), period_s
        self.tokens = float(capacity)
        self._clock = time.monotonic
        self._at = self._clock()
        self.waited_s = 0.0

    def _refill(self) -> None:
        now = self._clock()
        self.tokens = min(self.capacity, self.tokens + (now - self._at) * self.capacity / self.period_s)
        self._at = now

    async def acquire(self, weight: float = 1.0) -> None:
        while True:
            self._refill()
            if self.tokens >= weight:
                self.tokens -= weight
                return
            wait = (weight - self.tokens) * self.period_s / self.capacity
            self.waited_s += wait
            await asyncio.sleep(wait)

    def used(self, used: float, limit: float | None = None) -> None:
        self._refill()
        self.tokens = min(self.tokens, max(0.0, (limit or self.capacity) - used))

    def pause(self, seconds: float) -> None:
        """The venue said stop (429/418 Retry-After): spend the budget for that long."""
        self._refill()
        self.tokens = -seconds * self.capacity / self.period_s


class VenueClock:
    """The venue's clock as an offset from ours, learnt from its time endpoint. ``signed(send)``
    calls ``send(now_ms)`` and, if the venue says ClockRejected, learns its time and sends
    once more with a new timestamp (a signed request is rebuilt, never replayed)."""

    def __init__(self, server_ms):
        self._server_ms = server_ms          # coroutine function: the venue's time in ms
        self.offset_ms = 0

    def now_ms(self) -> int:
        import time

        return time.time_ns() // 1_000_000 + self.offset_ms

    async def sync(self) -> None:
        import time

        before = time.time_ns() // 1_000_000
        server = await self._server_ms()
        self.offset_ms = server - (before + time.time_ns() // 1_000_000) // 2

    async def signed(self, send):
        try:
            return await send(self.now_ms())
        except ClockRejected:
            await self.sync()
            return await send(self.now_ms())


def _guard(url: str, venue: str) -> None:
    """With SEQUENCE_LOOPBACK_ONLY set (the test suite sets it), never leave the machine."""
    import os
    from urllib.parse import urlsplit

    if os.environ.get("SEQUENCE_LOOPBACK_ONLY") and urlsplit(url).hostname not in LOOPBACK:
        raise NetworkError(f"{venue}: refusing {urlsplit(url).hostname} (SEQUENCE_LOOPBACK_ONLY is set; "
                           f"point [venues.{venue}] base_url at 127.0.0.1)")


class RestClient:
    def __init__(self, base_url: str, venue: str, error_map: ErrorMap | None = None, timeout_s: float = 10.0,
                 max_retries: int = 3, backoff_s: float = 0.2, limiter: RateLimiter | None = None,
                 usage: Callable[[Any, RateLimiter], None] | None = None, refusals_in_5xx: bool = False):
        """``limiter``: the venue's budget; ``usage(headers, limiter)`` reads its rate-limit headers.
        ``refusals_in_5xx``: the venue answers some refusals with HTTP 500 (Crypto.com): a 5xx
        body goes to the error map too, and only what it maps to NetworkError stays a fault."""
        self.limiter, self.usage, self.refusals_in_5xx = limiter, usage, refusals_in_5xx
        self.base_url = base_url.rstrip("/")
        self.venue = venue
        self.error_map = error_map
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self._session = None

    async def session(self):
        import aiohttp

        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout_s))
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def request(self, method: str, path: str, *, query: str = "", body: bytes | None = None,
                      headers: dict | None = None, idempotent: bool, weight: float = 1.0,
                      limiter: RateLimiter | None = None, unwrap: Callable[[Any], Any] | None = None) -> Any:
        """``limiter`` overrides the client's for this call (venues that budget per endpoint).
        ``unwrap`` turns a 2xx answer into its result or raises the venue's error (venues that
        refuse inside a 200); a RateLimitExceeded it raises is retried like a 429."""
        limiter = limiter or self.limiter
        import aiohttp
        import yarl

        url = f"{self.base_url}{path}" + (f"?{query}" if query else "")
        _guard(url, self.venue)
        # sent exactly as built, which is what the adapter signed: yarl would otherwise
        # re-encode the query (%3A -> ':', %2C -> ',', %2F -> '/')
        target = yarl.URL(url, encoded=True)
        attempts = self.max_retries + 1 if idempotent else 1
        for attempt in range(attempts):
            wait = self.backoff_s * (2 ** attempt)
            if limiter:
                await limiter.acquire(weight)
            try:
                http = await self.session()
                async with http.request(method, target, data=body, headers=headers) as resp:
                    raw = await resp.read()
                    status, retry_after = resp.status, resp.headers.get("Retry-After")
                    if self.usage and limiter:
                        self.usage(resp.headers, limiter)
            except (asyncio.TimeoutError, TimeoutError):
                error: SequenceError = NetworkError(f"{self.venue} did not answer {method} {path} within {self.timeout_s:g}s")
            except aiohttp.ClientError as exc:
                error = NetworkError(f"{self.venue}: {method} {path} failed ({type(exc).__name__})")
            else:
                try:
                    data = msgspec.json.decode(raw) if raw else None
                except msgspec.DecodeError:
                    data, error = None, NetworkError(f"{self.venue} sent a malformed answer to {method} {path} (HTTP {status})")
                else:
                    error = None
                if status in (418, 429):
                    delay = float(retry_after) if retry_after else wait
                    error = RateLimitExceeded(f"{self.venue} rate-limited {method} {path} (HTTP {status}); retry after {delay:g}s", delay)
                    wait = delay
                    if limiter:
                        limiter.pause(delay)
                        wait = 0.0         # acquire() waits out the pause
                elif status >= 500:
                    mapped = self.error_map(status, data) if self.refusals_in_5xx and self.error_map and data else None
                    if mapped is not None and not isinstance(mapped, NetworkError):
                        raise mapped
                    error = mapped or NetworkError(f"{self.venue} answered HTTP {status} to {method} {path}")
                elif status >= 400:
                    mapped = self.error_map(status, data) if self.error_map else None
                    raise mapped or VenueError(f"{self.venue} refused {method} {path}: HTTP {status}")
                elif error is None:
                    if unwrap is None:
                        return data
                    try:
                        return unwrap(data)
                    except RateLimitExceeded as limited:
                        error, wait = limited, limited.retry_after or wait
                        if limiter:
                            limiter.pause(wait)
                            wait = 0.0
            if attempt + 1 < attempts:
                await asyncio.sleep(wait)
        raise error


class VenueClient:
    """The shape every adapter's REST client shares: a RestClient with the venue's error map,
    a RateLimiter per endpoint from the published budgets (``limits``: path -> requests per
    ``period_s``), the venue's clock, and ``public()`` reads. Subclasses add ``signed()``
    (their signature) and the endpoints. ``repr`` never shows a credential. A budget with its
    own period is ``(requests, seconds)`` instead of a count."""

    venue: str = ""
    limits_per_period: dict[str, int | tuple[int, float]] = {}
    period_s: float = 1.0
    refusals_in_5xx: bool = False

    def __init__(self, base_url: str, error_map: ErrorMap, timeout_s: float = 10.0, unwrap=None, usage=None,
                 limiter: RateLimiter | None = None):
        """``limiter``: one budget for every call (Binance's request weight) besides any per endpoint."""
        self.rest = RestClient(base_url, self.venue, error_map, timeout_s=timeout_s, usage=usage, limiter=limiter,
                               refusals_in_5xx=self.refusals_in_5xx)
        self.limits = {path: RateLimiter(*n) if isinstance(n, tuple) else RateLimiter(n, self.period_s)
                       for path, n in self.limits_per_period.items()}
        self.clock = VenueClock(self.server_time_ms)
        self._unwrap = unwrap
        self._rpc_ids = itertools.count(1)          # json_rpc request ids

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.rest.base_url})"

    async def close(self) -> None:
        await self.rest.close()

    async def server_time_ms(self) -> int:
        raise NotImplementedError

    async def public(self, path: str, params: dict | None = None, weight: float = 1.0) -> Any:
        from urllib.parse import urlencode

        return await self.rest.request("GET", path, query=urlencode(params or {}), idempotent=True, weight=weight,
                                       limiter=self.limits.get(path), unwrap=self._unwrap)

    async def json_rpc(self, method: str, params: list, idempotent: bool = True, limiter: RateLimiter | None = None) -> Any:
        """One JSON-RPC 2.0 call POSTed to the base URL (Ethereum and Solana nodes); the
        subclass's ``unwrap`` reads ``result`` or maps ``error``."""
        body = msgspec.json.encode({"jsonrpc": "2.0", "id": next(self._rpc_ids), "method": method, "params": params})
        return await self.rest.request("POST", "", body=body, headers={"Content-Type": "application/json"},
                                       idempotent=idempotent, limiter=limiter, unwrap=self._unwrap)

    async def send(self, method: str, path: str, query: str, body: str, headers: dict, idempotent: bool,
                   weight: float = 1.0) -> Any:
        """One signed request as built by the subclass (the clock retry is ``clock.signed``)."""
        return await self.rest.request(method, path, query=query, body=body.encode() if body else None, headers=headers,
                                       idempotent=idempotent, weight=weight, limiter=self.limits.get(path),
                                       unwrap=self._unwrap)
