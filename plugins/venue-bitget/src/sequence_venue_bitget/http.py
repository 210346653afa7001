"""Bitget v2 spot REST client (https://www.bitget.com/api-doc/spot/intro).

Answers are ``{"code": "00000", "msg": "success", "requestTime": ms, "data": ...}``; a
refusal is another ``code`` (HTTP 400 for most, 429 for rate limits;
https://www.bitget.com/api-doc/common/error-code). Endpoints: ``GET /api/v2/public/time``,
``/api/v2/spot/public/symbols``, ``/api/v2/spot/market/orderbook``; signed
``GET /api/v2/spot/account/assets``, ``/api/v2/spot/trade/orderInfo`` (by ``clientOid``),
``/api/v2/spot/trade/unfilled-orders``, ``/api/v2/spot/trade/fills``;
``POST /api/v2/spot/trade/place-order``, ``/api/v2/spot/trade/cancel-order``.
Rate limits (each endpoint's doc): place and cancel 10 per second per UID, order queries 20,
assets 10, public market data 20 per second per IP. Clock: 40008 -> learn Bitget's time, sign again.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import msgspec

from sequence_core.errors import ErrorCodes, SequenceError, VenueError
from sequence_core.rest import VenueClient

from .signing import headers

DEFAULT_BASE_URL = "https://api.bitget.com"
AUTH_CODES = {"40002", "40003", "40005", "40006", "40009", "40011", "40012", "40037"}
NOT_FOUND_CODES = {"40768", "43001", "43025"}
FUNDS_CODES = {"43012", "40762"}
INVALID_CODES = {"40017", "40019", "40020", "40034", "40808", "43006", "43007", "43008", "43009", "43027", "45110", "45111"}
LIMITS = {"/api/v2/spot/trade/place-order": 10, "/api/v2/spot/trade/cancel-order": 10, "/api/v2/spot/trade/orderInfo": 20,
          "/api/v2/spot/trade/unfilled-orders": 20, "/api/v2/spot/trade/fills": 10, "/api/v2/spot/account/assets": 10,
          "/api/v2/spot/market/orderbook": 20, "/api/v2/spot/public/symbols": 20, "/api/v2/public/time": 20}


CODES = ErrorCodes("bitget", clock={"40008"}, auth=AUTH_CODES, not_found=NOT_FOUND_CODES, funds=FUNDS_CODES,
                   invalid=INVALID_CODES, rate={"429"}, auth_what="the API key, passphrase or signature")


def error_from(status: int, body: Any) -> SequenceError:
    body = body if isinstance(body, dict) else {}
    return CODES.error(str(body.get("code", status)), body.get("msg", ""))


def unwrap(body: Any) -> Any:
    if not isinstance(body, dict) or "code" not in body:
        raise VenueError("bitget sent an answer without a code")
    if body["code"] != "00000":
        raise CODES.error(str(body["code"]), body.get("msg", ""))
    return body.get("data")


class BitgetClient(VenueClient):
    venue = "bitget"
    limits_per_period = LIMITS
    period_s = 1.0

    def __init__(self, api_key: str, api_secret: str, passphrase: str, base_url: str = DEFAULT_BASE_URL,
                 timeout_s: float = 10.0):
        self._key, self._secret, self._passphrase = api_key, api_secret, passphrase
        super().__init__(base_url, error_from, timeout_s, unwrap=unwrap)

    async def server_time_ms(self) -> int:
        return int((await self.public("/api/v2/public/time"))["serverTime"])

    async def signed(self, method: str, path: str, params: dict, idempotent: bool) -> Any:
        query = urlencode(params) if method == "GET" else ""
        body = "" if method == "GET" else msgspec.json.encode(params).decode()
        request_path = path + (f"?{query}" if query else "")

        async def send(now_ms: int):
            h = headers(self._key, self._secret, self._passphrase, now_ms, method, request_path, body)
            return await self.send(method, path, query, body, h, idempotent)
        return await self.clock.signed(send)

    async def orderbook(self, symbol: str, limit: int = 50) -> dict:
        return await self.public("/api/v2/spot/market/orderbook", {"symbol": symbol, "type": "step0", "limit": min(limit, 150)})

    async def instruments(self) -> list:
        from .symbols import from_symbols

        return from_symbols(await self.public("/api/v2/spot/public/symbols"))

    async def assets(self) -> list:
        return await self.signed("GET", "/api/v2/spot/account/assets", {}, idempotent=True)

    async def place(self, body: dict) -> dict:
        return await self.signed("POST", "/api/v2/spot/trade/place-order", body, idempotent=False)

    async def cancel(self, symbol: str, client_oid: str) -> dict:
        return await self.signed("POST", "/api/v2/spot/trade/cancel-order", {"symbol": symbol, "clientOid": client_oid},
                                 idempotent=True)

    async def order(self, client_oid: str) -> dict | None:
        found = await self.signed("GET", "/api/v2/spot/trade/orderInfo", {"clientOid": client_oid}, idempotent=True)
        return found[0] if found else None

    async def open_orders(self, symbol: str) -> list:
        return await self.signed("GET", "/api/v2/spot/trade/unfilled-orders", {"symbol": symbol}, idempotent=True)

    async def fills(self, symbol: str, order_id: str) -> list:
        return await self.signed("GET", "/api/v2/spot/trade/fills", {"symbol": symbol, "orderId": order_id}, idempotent=True)
