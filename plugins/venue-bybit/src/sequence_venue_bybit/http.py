"""Bybit v5 REST client (https://bybit-exchange.github.io/docs/v5/intro).

Every answer is ``{"retCode": 0, "retMsg": "OK", "result": {...}, "time": ms}``; a refusal
is a non-zero ``retCode`` with HTTP 200 (https://bybit-exchange.github.io/docs/v5/error).
Endpoints: ``GET /v5/market/time``, ``/v5/market/instruments-info``, ``/v5/market/orderbook``;
signed ``GET /v5/account/wallet-balance`` (UNIFIED), ``/v5/account/fee-rate``,
``/v5/order/realtime`` (by ``orderLinkId``; open and recently closed), ``/v5/order/history``,
``/v5/execution/list``, ``/v5/position/list``, ``/v5/account/transaction-log`` (funding:
execution.py); ``POST /v5/order/create``, ``/v5/order/amend`` (native: qty and/or price),
``/v5/order/cancel``, ``/v5/position/set-leverage`` (``[venues.bybit] leverage``: execution.py;
its retCode 110043 "Set leverage not modified", the value asked being already set, is success
here: https://bybit-exchange.github.io/docs/v5/error). Lists come in pages: ``limit`` (open orders 1..50, default 20:
https://bybit-exchange.github.io/docs/v5/order/open-order; executions 1..100, default 50:
https://bybit-exchange.github.io/docs/v5/order/execution; positions 1..200, default 20:
https://bybit-exchange.github.io/docs/v5/position) and ``cursor`` = the last page's
``nextPageCursor``; :meth:`BybitClient.every` asks for the largest page and follows the cursor
to its end, so the 21st open order or the 51st fill of an order is not lost.
Rate limits (https://bybit-exchange.github.io/docs/v5/rate-limit): per UID per endpoint, 10
to 20 requests per second for trading; every answer says what is left in
``X-Bapi-Limit-Status`` of ``X-Bapi-Limit``; past it retCode 10006 (or HTTP 403 for the IP
limit of 600 per 5 s). The client keeps a budget per endpoint and follows those headers.
Clock: retCode 10002 (timestamp outside the recv window) -> learn Bybit's time, retry once.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import msgspec

from sequence_core.errors import ErrorCodes, RateLimitExceeded, SequenceError, VenueError
from sequence_core.rest import VenueClient

from .signing import headers

DEFAULT_BASE_URL = "https://api.bybit.com"
AUTH_CODES = {10003, 10004, 10005, 10007, 10009, 33004}
NOT_FOUND_CODES = {110001, 170213, 170142}
FUNDS_CODES = {110004, 110007, 110012, 170131, 170033}
INVALID_CODES = {10001, 110003, 110017, 110094, 170130, 170134, 170135, 170136, 170137, 170140, 170141, 170193, 170218,
                 110013}         # set-leverage: "Due to risk limit, cannot set leverage" (over the maximum)
LIMITS = {"/v5/order/create": 10, "/v5/order/amend": 10, "/v5/order/cancel": 10, "/v5/order/realtime": 50, "/v5/order/history": 50,
          "/v5/execution/list": 50, "/v5/account/wallet-balance": 50, "/v5/account/fee-rate": 5, "/v5/position/list": 50,
          "/v5/account/transaction-log": 25, "/v5/position/set-leverage": 10}
UNCHANGED = {110043}             # set-leverage: "Set leverage not modified": already as asked
MAX_PAGES = 100                  # a cursor still going after this many pages is a fault, not data


CODES = ErrorCodes("bybit", clock={10002}, auth=AUTH_CODES, not_found=NOT_FOUND_CODES, funds=FUNDS_CODES,
                   invalid=INVALID_CODES, rate={10006, 10018})


def error_from(status: int, body: Any) -> SequenceError:
    body = body if isinstance(body, dict) else {}
    if status in (401, 403) and "retCode" not in body:
        return RateLimitExceeded(f"bybit refused the request (HTTP {status}; the IP limit is 600 per 5 s)")
    return CODES.error(int(body.get("retCode", status)), body.get("retMsg", ""))


def unwrap(body: Any) -> dict:
    if not isinstance(body, dict) or "retCode" not in body:
        raise VenueError("bybit sent an answer without a retCode")
    if body["retCode"] != 0 and body["retCode"] not in UNCHANGED:
        raise CODES.error(int(body["retCode"]), body.get("retMsg", ""))
    return body.get("result") or {}


def follow_headers(h, limiter) -> None:
    left, limit = h.get("X-Bapi-Limit-Status"), h.get("X-Bapi-Limit")
    if left and limit and left.isdigit() and limit.isdigit():
        limiter.used(int(limit) - int(left), int(limit))


class BybitClient(VenueClient):
    venue = "bybit"
    limits_per_period = LIMITS
    period_s = 1.0

    def __init__(self, api_key: str, api_secret: str, base_url: str = DEFAULT_BASE_URL, timeout_s: float = 10.0):
        self._key, self._secret = api_key, api_secret
        super().__init__(base_url, error_from, timeout_s, unwrap=unwrap, usage=follow_headers)

    async def server_time_ms(self) -> int:
        return int((await self.public("/v5/market/time"))["timeNano"]) // 1_000_000

    async def signed(self, method: str, path: str, params: dict, idempotent: bool) -> dict:
        query = urlencode(params) if method == "GET" else ""
        body = "" if method == "GET" else msgspec.json.encode(params).decode()
        async def send(now_ms: int):
            h = headers(self._key, self._secret, now_ms, query or body)
            return await self.send(method, path, query, body, h, idempotent)
        return await self.clock.signed(send)

    # -- public ---------------------------------------------------------------------------------
    async def orderbook(self, category: str, symbol: str, limit: int = 50) -> dict:
        return await self.public("/v5/market/orderbook", {"category": category, "symbol": symbol, "limit": limit})

    async def instruments(self, category: str = "spot") -> list:
        from .symbols import from_instruments_info

        return from_instruments_info((await self.public("/v5/market/instruments-info", {"category": category}))["list"])

    # -- signed ---------------------------------------------------------------------------------
    async def wallet(self) -> dict:
        return await self.signed("GET", "/v5/account/wallet-balance", {"accountType": "UNIFIED"}, idempotent=True)

    async def fee_rate(self, category: str, symbol: str) -> dict:
        return (await self.signed("GET", "/v5/account/fee-rate", {"category": category, "symbol": symbol}, True))["list"][0]

    async def create(self, body: dict) -> dict:
        return await self.signed("POST", "/v5/order/create", body, idempotent=False)

    async def amend(self, body: dict) -> dict:
        return await self.signed("POST", "/v5/order/amend", body, idempotent=False)

    async def cancel(self, category: str, symbol: str, link_id: str) -> dict:
        return await self.signed("POST", "/v5/order/cancel", {"category": category, "symbol": symbol, "orderLinkId": link_id},
                                 idempotent=True)

    async def order(self, category: str, symbol: str, link_id: str) -> dict | None:
        """By ``orderLinkId``: open or recently closed from realtime, else from history."""
        params = {"category": category, "symbol": symbol, "orderLinkId": link_id}
        found = (await self.signed("GET", "/v5/order/realtime", params, True))["list"]
        if not found:
            found = (await self.signed("GET", "/v5/order/history", params, True))["list"]
        return found[0] if found else None

    async def set_leverage(self, symbol: str, leverage: int) -> dict:
        """``POST /v5/position/set-leverage`` on a USDT linear perp, buy and sell alike (one-way
        mode wants them equal). It sets a value, so sending it twice does no harm: retried like a read."""
        body = {"category": "linear", "symbol": symbol, "buyLeverage": str(leverage), "sellLeverage": str(leverage)}
        return await self.signed("POST", "/v5/position/set-leverage", body, idempotent=True)

    async def max_leverage(self, symbol: str) -> str:
        """``leverageFilter.maxLeverage`` of a linear perp (``GET /v5/market/instruments-info``)."""
        found = await self.public("/v5/market/instruments-info", {"category": "linear", "symbol": symbol})
        rows = found.get("list") or []
        return (rows[0].get("leverageFilter") or {}).get("maxLeverage", "") if rows else ""

    async def every(self, path: str, params: dict, limit: int) -> list:
        """Every row of a paged signed GET: pages of *limit*, each ``cursor`` the last page's
        ``nextPageCursor`` as Bybit sent it (see settlements), until it comes back empty."""
        rows, cursor = [], ""
        for _ in range(MAX_PAGES):
            page = await self.signed("GET", path, {**params, "limit": limit, **({"cursor": cursor} if cursor else {})}, True)
            rows += page.get("list") or []
            cursor, last = page.get("nextPageCursor") or "", cursor
            if not cursor or cursor == last or not page.get("list"):
                return rows
        raise VenueError(f"bybit {path} still had more after {MAX_PAGES} pages")

    async def open_orders(self, category: str, symbol: str) -> list:
        return await self.every("/v5/order/realtime", {"category": category, "symbol": symbol, "openOnly": 0}, 50)

    async def positions(self, category: str = "linear", settle_coin: str = "USDT") -> list:
        """Open positions (``/v5/position/list``): ``side`` Buy/Sell, ``size``, ``avgPrice``,
        ``markPrice``, ``unrealisedPnl``, ``positionIM``, ``liqPrice``."""
        return await self.every("/v5/position/list", {"category": category, "settleCoin": settle_coin}, 200)

    async def settlements(self, start_ms: int, end_ms: int, cursor: str = "") -> dict:
        """One page (at most 50 rows) of the unified account's linear ``SETTLEMENT`` rows booked
        from *start_ms* to *end_ms*: ``list`` and ``nextPageCursor``. The cursor goes back as
        Bybit sent it (already percent-encoded, ``21963%3A1%2C14954%3A1``): urlencode encodes it
        once more and the signature covers exactly that query, as the bybit-api Node SDK does
        (https://github.com/sieblyio/bybit-api/pull/198); Bybit decodes it once."""
        params = {"accountType": "UNIFIED", "category": "linear", "type": "SETTLEMENT", "startTime": start_ms,
                  "endTime": end_ms, "limit": 50}
        if cursor:
            params["cursor"] = cursor
        return await self.signed("GET", "/v5/account/transaction-log", params, True)

    async def executions(self, category: str, symbol: str, order_id: str) -> list:
        return await self.every("/v5/execution/list", {"category": category, "symbol": symbol, "orderId": order_id}, 100)
