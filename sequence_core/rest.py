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
from collections.abc import Callable
from typing import Any

import msgspec

from .errors import NetworkError, RateLimitExceeded, SequenceError, VenueError

ErrorMap = Callable[[int, Any], SequenceError | None]
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _guard(url: str, venue: str) -> None:
    """With SEQUENCE_LOOPBACK_ONLY set (the test suite sets it), never leave the machine."""
    import os
    from urllib.parse import urlsplit

    if os.environ.get("SEQUENCE_LOOPBACK_ONLY") and urlsplit(url).hostname not in LOOPBACK:
        raise NetworkError(f"{venue}: refusing {urlsplit(url).hostname} (SEQUENCE_LOOPBACK_ONLY is set; "
                           f"point [venues.{venue}] base_url at 127.0.0.1)")


class RestClient:
    def __init__(self, base_url: str, venue: str, error_map: ErrorMap | None = None, timeout_s: float = 10.0,
                 max_retries: int = 3, backoff_s: float = 0.2):
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
                      headers: dict | None = None, idempotent: bool) -> Any:
        import aiohttp

        url = f"{self.base_url}{path}" + (f"?{query}" if query else "")
        _guard(url, self.venue)
        attempts = self.max_retries + 1 if idempotent else 1
        for attempt in range(attempts):
            wait = self.backoff_s * (2 ** attempt)
            try:
                http = await self.session()
                async with http.request(method, url, data=body, headers=headers) as resp:
                    raw = await resp.read()
                    status, retry_after = resp.status, resp.headers.get("Retry-After")
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
                elif status >= 500:
                    error = NetworkError(f"{self.venue} answered HTTP {status} to {method} {path}")
                elif status >= 400:
                    mapped = self.error_map(status, data) if self.error_map else None
                    raise mapped or VenueError(f"{self.venue} refused {method} {path}: HTTP {status}")
                elif error is None:
                    return data
            if attempt + 1 < attempts:
                await asyncio.sleep(wait)
        raise error
