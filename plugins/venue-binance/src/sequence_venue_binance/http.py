"""Binance spot REST client (https://developers.binance.com/docs/binance-spot-api-docs/rest-api).

Endpoints: ``GET /api/v3/ping``, ``GET /api/v3/time``, signed ``GET /api/v3/account``,
``POST /api/v3/order`` (newClientOrderId, newOrderRespType=FULL), ``GET /api/v3/order`` and
``DELETE /api/v3/order`` by origClientOrderId, ``GET /api/v3/myTrades`` by orderId.
The client keeps the offset between Binance's clock and ours (``/api/v3/time``) and
re-syncs once when Binance answers -1021 (timestamp outside recvWindow).
Error codes (https://developers.binance.com/docs/binance-spot-api-docs/errors) map to the
core hierarchy in ``error_from``.
Public: ``GET /api/v3/depth`` (weight 5 up to 100 levels, 25 to 500, 50 to 1000, 250 beyond),
``GET /api/v3/exchangeInfo`` (20), ``GET /api/v3/ticker/bookTicker`` (2 for one symbol);
signed: ``GET /api/v3/openOrders`` (6 for one symbol), ``GET /sapi/v1/asset/tradeFee`` (1),
``PUT /api/v3/order/amend/keepPriority`` (4; reduces quantity only, keeping queue priority).
Rate limits (https://developers.binance.com/docs/binance-spot-api-docs/rest-api/limits):
REQUEST_WEIGHT 6000 per minute per IP, told back in ``X-MBX-USED-WEIGHT-1M`` on every answer;
a 429 carries ``Retry-After`` and repeating past it earns 418 (an IP ban), so the client keeps
the budget itself and stops for the time the venue says.
"""

from __future__ import annotations

from typing import Any

from sequence_core.errors import (AuthenticationError, InsufficientFunds, InvalidOrder, OrderNotFound,
                                  RateLimitExceeded, SequenceError, VenueError)
from sequence_core.rest import ClockRejected, RateLimiter, VenueClient

from .signing import signed_query

DEFAULT_BASE_URL = "https://api.binance.com"
AUTH_CODES = {-1022, -2014, -2015, -1002}
NOT_FOUND_CODES = {-2011, -2013}
INVALID_CODES = {-1013, -1100, -1101, -1102, -1111, -1116, -1117, -1121}
WEIGHT_PER_MINUTE = 6000


def depth_weight(limit: int) -> int:
    return 5 if limit <= 100 else 25 if limit <= 500 else 50 if limit <= 1000 else 250


def used_weight(headers, limiter: RateLimiter) -> None:
    used = headers.get("X-MBX-USED-WEIGHT-1M")
    if used is not None and used.isdigit():
        limiter.used(int(used))


def error_from(status: int, body: Any) -> SequenceError:
    code = body.get("code") if isinstance(body, dict) else None
    msg = body.get("msg", "") if isinstance(body, dict) else ""
    if code == -1021:
        return ClockRejected(f"binance: {msg or 'timestamp outside recvWindow'} (-1021)")
    if code in AUTH_CODES or status in (401, 403):
        return AuthenticationError(f"binance rejected the API key or signature: {msg} ({code})")
    if code in NOT_FOUND_CODES:
        return OrderNotFound(f"binance: {msg} ({code})")
    if code == -2010 and "insufficient balance" in msg.lower():
        return InsufficientFunds(f"binance: {msg} (-2010)")
    if code == -2010 or code in INVALID_CODES:
        return InvalidOrder(f"binance: {msg} ({code})")
    if code == -1003:
        return RateLimitExceeded(f"binance: {msg} (-1003)")
    return VenueError(f"binance: {msg or 'request refused'} ({code if code is not None else status})")


class BinanceClient(VenueClient):
    venue = "binance"

    def __init__(self, api_key: str, api_secret: str, base_url: str = DEFAULT_BASE_URL, timeout_s: float = 10.0):
        self._key, self._secret = api_key, api_secret
        super().__init__(base_url, error_from, timeout_s, usage=used_weight, limiter=RateLimiter(WEIGHT_PER_MINUTE, 60.0))

    async def ping(self) -> None:
        await self.public("/api/v3/ping")

    async def server_time_ms(self) -> int:
        return (await self.public("/api/v3/time"))["serverTime"]

    async def depth(self, symbol: str, limit: int = 100) -> dict:
        return await self.public("/api/v3/depth", {"symbol": symbol, "limit": limit}, depth_weight(limit))

    async def exchange_info(self, symbols: list[str] | None = None) -> dict:
        params = {"symbols": "[" + ",".join(f'"{s}"' for s in symbols) + "]"} if symbols else {}
        return await self.public("/api/v3/exchangeInfo", params, 20)

    async def book_ticker(self, symbol: str) -> dict:
        return await self.public("/api/v3/ticker/bookTicker", {"symbol": symbol}, 2)

    async def signed(self, method: str, path: str, params: dict, idempotent: bool, weight: int = 1) -> Any:
        async def send(now_ms: int):
            query = signed_query(self._secret, params, now_ms)
            return await self.send(method, path, query, "", {"X-MBX-APIKEY": self._key}, idempotent, weight)
        return await self.clock.signed(send)

    async def account(self) -> dict:
        return await self.signed("GET", "/api/v3/account", {}, idempotent=True, weight=20)

    async def open_orders(self, symbol: str) -> list[dict]:
        return await self.signed("GET", "/api/v3/openOrders", {"symbol": symbol}, idempotent=True, weight=6)

    async def trade_fee(self, symbol: str) -> list[dict]:
        return await self.signed("GET", "/sapi/v1/asset/tradeFee", {"symbol": symbol}, idempotent=True)

    async def amend_keep_priority(self, symbol: str, client_order_id: str, new_qty: str) -> dict:
        """Reduce an order's quantity in place; the order keeps its client id and its queue place."""
        return await self.signed("PUT", "/api/v3/order/amend/keepPriority",
                                 {"symbol": symbol, "origClientOrderId": client_order_id,
                                  "newClientOrderId": client_order_id, "newQty": new_qty}, idempotent=False, weight=4)

    async def new_order(self, params: dict) -> dict:
        return await self.signed("POST", "/api/v3/order", {**params, "newOrderRespType": "FULL"}, idempotent=False)

    async def instruments(self, symbols: list[str] | None = None) -> list:
        from .symbols import from_exchange_info

        return from_exchange_info(await self.exchange_info(symbols))

    async def query_order(self, symbol: str, client_order_id: str) -> dict:
        return await self.signed("GET", "/api/v3/order", {"symbol": symbol, "origClientOrderId": client_order_id},
                                 idempotent=True, weight=4)

    async def cancel_order(self, symbol: str, client_order_id: str) -> dict:
        return await self.signed("DELETE", "/api/v3/order", {"symbol": symbol, "origClientOrderId": client_order_id}, idempotent=True)

    async def my_trades(self, symbol: str, order_id: int) -> list[dict]:
        return await self.signed("GET", "/api/v3/myTrades", {"symbol": symbol, "orderId": order_id}, idempotent=True, weight=20)
