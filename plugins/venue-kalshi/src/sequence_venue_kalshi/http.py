"""Kalshi Trade API v2 REST client (https://docs.kalshi.com/api-reference).

Hosts (https://docs.kalshi.com/getting_started/api_environments): production
``https://external-api.kalshi.com/trade-api/v2`` (recommended; ``api.elections.kalshi.com``
also supported), demo ``https://external-api.demo.kalshi.co/trade-api/v2``. Paths below
are relative to ``/trade-api/v2``, which the signature includes.

Endpoints: public ``GET /exchange/status``, ``/markets``, ``/markets/{ticker}``,
``/markets/{ticker}/orderbook`` (``orderbook_fp``: ``yes_dollars``/``no_dollars`` bids,
best last), ``/events/{event_ticker}`` (``event.series_ticker``, fee overrides) and
``/series/{series_ticker}`` (``series.fee_type``/``fee_multiplier``; see fees.py). Signed
reads ``GET /portfolio/balance`` (``balance_dollars``), ``/portfolio/positions``
(``position_fp``: positive YES, negative NO), ``/portfolio/fills`` (``fee_cost``),
``/portfolio/settlements``, ``/portfolio/orders`` (``ticker`` and ``status`` optional: without
a ticker, every market's) and ``/portfolio/orders/{order_id}``.
Writes use the V2 event-order family, the legacy ``/portfolio/orders`` writes being
deprecated from 2026-05-06
(https://docs.kalshi.com/api-reference/orders/create-order-v2): ``POST
/portfolio/events/orders``, ``DELETE /portfolio/events/orders/{id}``, ``POST
.../{id}/amend`` and ``POST .../{id}/decrease``.

Errors: ``{"code", "message", "details", "service"}`` (older answers nest it under
``"error"``); 401 for credentials. Kalshi documents no code for a stale timestamp nor a
server-time endpoint: a 401 whose message names the timestamp is treated as a clock
problem, and the clock is learnt from the ``Date`` header of ``GET /exchange/status``.

Rate limits (https://docs.kalshi.com/getting_started/rate_limits): token buckets, Read and
Write apart; most requests cost 10 tokens, cancels and single-order reads 2. Basic tier:
Read 200 tokens/s (bucket of two seconds), Write 100 tokens/s (bucket of one second), i.e.
20 reads and 10 orders a second. A 429 answers ``{"error": "too many requests"}`` with no
Retry-After: reads back off exponentially, a place is never resent.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import msgspec

from sequence_core.errors import AuthenticationError, ClockRejected, ErrorCodes, SequenceError
from sequence_core.rest import RateLimiter, VenueClient

from .signing import API_PREFIX, headers, load_key

DEFAULT_BASE_URL = "https://external-api.kalshi.com/trade-api/v2"
#: per-second token budgets (read, write) and bucket depth in seconds (read, write)
TIERS = {"basic": (200, 100, 2.0, 1.0), "advanced": (300, 300, 2.0, 2.0), "expert": (600, 600, 1.0, 2.0),
         "premier": (1000, 1000, 1.0, 2.0)}
DEFAULT_COST, CHEAP_COST = 10, 2        # tokens: most calls; cancels and single-order reads

CODES = ErrorCodes(
    "kalshi",
    auth={"authentication_error", "unauthorized", "invalid_signature", "missing_parameters", "forbidden"},
    not_found={"not_found", "order_not_found"},
    funds={"insufficient_balance", "insufficient_funds"},
    invalid={"invalid_order", "invalid_parameters", "bad_request", "market_closed", "market_not_active",
             "post_only_cross", "order_already_exists", "invalid_price", "invalid_count",
             "deprecated_v1_order_endpoint"},
    rate={"too_many_requests"},
    auth_what="the API key id or the request signature",
)


def error_from(status: int, body: Any) -> SequenceError:
    err = body.get("error", body) if isinstance(body, dict) else {}
    err = {"message": err} if isinstance(err, str) else (err if isinstance(err, dict) else {})
    code, msg = str(err.get("code") or status), str(err.get("message") or "")
    if err.get("details"):
        msg = f"{msg}: {err['details']}" if msg else str(err["details"])
    if status == 401 and "timestamp" in msg.lower():
        return ClockRejected(f"kalshi refused the request timestamp: {msg} ({code})")
    return CODES.error(code, msg, auth=status in (401, 403))


def split_base(base_url: str) -> tuple[str, str]:
    """(origin, API prefix): the docs write hosts with ``/trade-api/v2``; a bare origin gets it."""
    parts = urlsplit(base_url.rstrip("/"))
    return f"{parts.scheme}://{parts.netloc}", parts.path or API_PREFIX


class KalshiClient(VenueClient):
    venue = "kalshi"

    def __init__(self, key_id: str = "", private_key_pem: str = "", base_url: str = DEFAULT_BASE_URL,
                 timeout_s: float = 10.0, tier: str = "basic"):
        origin, self.prefix = split_base(base_url)
        self._key_id = key_id
        self._key = load_key(private_key_pem) if private_key_pem else None
        read, write, read_s, write_s = TIERS.get(tier, TIERS["basic"])
        self.read_bucket = RateLimiter(read * read_s, read_s)
        self.write_bucket = RateLimiter(write * write_s, write_s)
        self.server_date_ms: int | None = None
        super().__init__(origin, error_from, timeout_s, usage=self._learn_date)

    def __repr__(self) -> str:
        return f"KalshiClient({self.rest.base_url}{self.prefix})"

    def _learn_date(self, resp_headers, limiter) -> None:
        """Kalshi has no time endpoint; its HTTP ``Date`` header is its clock (1 s resolution)."""
        from email.utils import parsedate_to_datetime

        try:
            self.server_date_ms = int(parsedate_to_datetime(resp_headers["Date"]).timestamp() * 1000)
        except (KeyError, TypeError, ValueError):
            pass

    async def server_time_ms(self) -> int:
        self.server_date_ms = None
        await self.public("/exchange/status")
        if self.server_date_ms is None:
            raise ClockRejected("kalshi sent no Date header to learn its clock from")
        return self.server_date_ms + 500          # the header truncates to the second

    async def public(self, path: str, params: dict | None = None, weight: float = DEFAULT_COST) -> Any:
        return await self.rest.request("GET", self.prefix + path, query=urlencode(params or {}), idempotent=True,
                                       weight=weight, limiter=self.read_bucket)

    async def signed(self, method: str, path: str, *, params: dict | None = None, body: dict | None = None,
                     idempotent: bool, cost: int = DEFAULT_COST) -> Any:
        if self._key is None:
            raise AuthenticationError("kalshi: no API key configured; run `sequence connect kalshi`")
        full = self.prefix + path
        query = urlencode(params or {})
        text = msgspec.json.encode(body).decode() if body is not None else ""
        bucket = self.read_bucket if method == "GET" else self.write_bucket

        async def send(now_ms: int):
            h = headers(self._key_id, self._key, now_ms, method, full)
            if text:
                h["Content-Type"] = "application/json"
            return await self.rest.request(method, full, query=query, body=text.encode() or None, headers=h,
                                           idempotent=idempotent, weight=cost, limiter=bucket)
        return await self.clock.signed(send)

    async def _pages(self, path: str, key: str, params: dict, pages: int = 5) -> list:
        """Follow ``cursor`` a few pages (orders and fills lists are paginated)."""
        out, params = [], dict(params)
        for _ in range(pages):
            data = await self.signed("GET", path, params=params, idempotent=True)
            out += data.get(key) or []
            if not data.get("cursor"):
                break
            params["cursor"] = data["cursor"]
        return out

    # -- public --------------------------------------------------------------------------------
    async def exchange_status(self) -> dict:
        return await self.public("/exchange/status")

    async def market(self, ticker: str) -> dict:
        return (await self.public(f"/markets/{quote(ticker)}"))["market"]

    async def markets(self, tickers: list[str]) -> list:
        from .symbols import from_markets

        return from_markets((await self.public("/markets", {"tickers": ",".join(tickers)}))["markets"])

    async def event_and_series(self, ticker: str) -> tuple[dict, dict]:
        """A market's event and the ``Series`` it belongs to: the market names its event, the event its series."""
        event_ticker = (await self.market(ticker))["event_ticker"]
        event = (await self.public(f"/events/{quote(event_ticker)}"))["event"]
        return event, (await self.public(f"/series/{quote(event['series_ticker'])}"))["series"]

    async def orderbook(self, ticker: str, depth: int = 50) -> dict:
        data = await self.public(f"/markets/{quote(ticker)}/orderbook", {"depth": depth})
        return data.get("orderbook_fp") or {}

    # -- signed reads --------------------------------------------------------------------------
    async def balance(self) -> dict:
        return await self.signed("GET", "/portfolio/balance", idempotent=True)

    async def positions(self) -> list:
        return await self._pages("/portfolio/positions", "market_positions", {"limit": 1000})

    async def settlements(self, ticker: str) -> list:
        return await self._pages("/portfolio/settlements", "settlements", {"ticker": ticker})

    async def order(self, order_id: str) -> dict:
        return (await self.signed("GET", f"/portfolio/orders/{quote(order_id)}", idempotent=True, cost=CHEAP_COST))["order"]

    async def orders(self, ticker: str | None, status: str | None = None) -> list:
        """The account's orders, of one market or (``ticker`` None) of all."""
        params = {**({"ticker": ticker} if ticker else {}), "limit": 1000, **({"status": status} if status else {})}
        return await self._pages("/portfolio/orders", "orders", params)

    async def fills(self, order_id: str) -> list:
        return await self._pages("/portfolio/fills", "fills", {"order_id": order_id, "limit": 1000})

    # -- writes (V2 event orders) --------------------------------------------------------------
    async def create_order(self, body: dict) -> dict:
        return await self.signed("POST", "/portfolio/events/orders", body=body, idempotent=False)

    async def cancel_order(self, order_id: str) -> dict:
        # cancelling twice cannot do harm: retried like a read
        return await self.signed("DELETE", f"/portfolio/events/orders/{quote(order_id)}", idempotent=True,
                                 cost=CHEAP_COST)

    async def amend_order(self, order_id: str, body: dict) -> dict:
        return await self.signed("POST", f"/portfolio/events/orders/{quote(order_id)}/amend", body=body, idempotent=False)

    async def decrease_order(self, order_id: str, *, reduce_by: str | None = None, reduce_to: str | None = None) -> dict:
        """Exactly one of ``reduce_by``/``reduce_to``; only ``reduce_to`` is safe to resend."""
        body = {"reduce_by": reduce_by} if reduce_by is not None else {"reduce_to": reduce_to}
        return await self.signed("POST", f"/portfolio/events/orders/{quote(order_id)}/decrease", body=body,
                                 idempotent=reduce_to is not None)
