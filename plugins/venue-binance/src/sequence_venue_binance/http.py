"""Binance spot REST client (https://developers.binance.com/docs/binance-spot-api-docs/rest-api).

Endpoints: ``GET /api/v3/ping``, ``GET /api/v3/time``, signed ``GET /api/v3/account``,
``POST /api/v3/order`` (newClientOrderId, newOrderRespType=FULL), ``GET /api/v3/order`` and
``DELETE /api/v3/order`` by origClientOrderId, ``GET /api/v3/myTrades`` by orderId.
The client keeps the offset between Binance's clock and ours (``/api/v3/time``) and
re-syncs once when Binance answers -1021 (timestamp outside recvWindow).
Error codes (https://developers.binance.com/docs/binance-spot-api-docs/errors) map to the
core hierarchy in ``error_from``.
"""

from __future__ import annotations

import time
from typing import Any

from sequence_core.errors import (AuthenticationError, InsufficientFunds, InvalidOrder, OrderNotFound,
                                  RateLimitExceeded, SequenceError, VenueError)
from sequence_core.rest import RestClient

from .signing import signed_query

DEFAULT_BASE_URL = "https://api.binance.com"
AUTH_CODES = {-1022, -2014, -2015, -1002}
NOT_FOUND_CODES = {-2011, -2013}
INVALID_CODES = {-1013, -1100, -1101, -1102, -1111, -1116, -1117, -1121}


class TimestampRejected(VenueError):
    """-1021: the request's timestamp was outside Binance's recv window."""


def error_from(status: int, body: Any) -> SequenceError:
    code = body.get("code") if isinstance(body, dict) else None
    msg = body.get("msg", "") if isinstance(body, dict) else ""
    if code == -1021:
        return TimestampRejected(f"binance: {msg or 'timestamp outside recvWindow'} (-1021)")
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


class BinanceClient:
    def __init__(self, api_key: str, api_secret: str, base_url: str = DEFAULT_BASE_URL, timeout_s: float = 10.0):
        self._key = api_key
        self._secret = api_secret
        self.rest = RestClient(base_url, "binance", error_from, timeout_s=timeout_s)
        self.offset_ms = 0

    def __repr__(self) -> str:           # never show the credentials
        return f"BinanceClient({self.rest.base_url})"

    async def close(self) -> None:
        await self.rest.close()

    async def ping(self) -> None:
        await self.rest.request("GET", "/api/v3/ping", idempotent=True)

    async def sync_time(self) -> None:
        before = time.time_ns() // 1_000_000
        server = (await self.rest.request("GET", "/api/v3/time", idempotent=True))["serverTime"]
        after = time.time_ns() // 1_000_000
        self.offset_ms = server - (before + after) // 2

    async def signed(self, method: str, path: str, params: dict, idempotent: bool) -> Any:
        for attempt in (0, 1):
            query = signed_query(self._secret, params, time.time_ns() // 1_000_000 + self.offset_ms)
            try:
                return await self.rest.request(method, path, query=query, headers={"X-MBX-APIKEY": self._key}, idempotent=idempotent)
            except TimestampRejected:
                if attempt:
                    raise
                await self.sync_time()     # our clock is off: learn Binance's, then try once more

    async def account(self) -> dict:
        return await self.signed("GET", "/api/v3/account", {}, idempotent=True)

    async def new_order(self, params: dict) -> dict:
        return await self.signed("POST", "/api/v3/order", {**params, "newOrderRespType": "FULL"}, idempotent=False)

    async def query_order(self, symbol: str, client_order_id: str) -> dict:
        return await self.signed("GET", "/api/v3/order", {"symbol": symbol, "origClientOrderId": client_order_id}, idempotent=True)

    async def cancel_order(self, symbol: str, client_order_id: str) -> dict:
        return await self.signed("DELETE", "/api/v3/order", {"symbol": symbol, "origClientOrderId": client_order_id}, idempotent=True)

    async def my_trades(self, symbol: str, order_id: int) -> list[dict]:
        return await self.signed("GET", "/api/v3/myTrades", {"symbol": symbol, "orderId": order_id}, idempotent=True)
