"""Binance REST clients: spot (https://developers.binance.com/docs/binance-spot-api-docs/rest-api)
and USD-M futures (https://developers.binance.com/docs/derivatives/usds-margined-futures).

Spot endpoints: ``GET /api/v3/ping``, ``GET /api/v3/time``, signed ``GET /api/v3/account``,
``POST /api/v3/order`` (newClientOrderId, newOrderRespType=FULL), ``GET /api/v3/order`` and
``DELETE /api/v3/order`` by origClientOrderId, ``GET /api/v3/myTrades`` by orderId.
Each client keeps the offset between Binance's clock and ours (its ``time`` endpoint) and
re-syncs once when Binance answers -1021 (timestamp outside recvWindow).
Error codes (https://developers.binance.com/docs/binance-spot-api-docs/errors and
https://developers.binance.com/docs/derivatives/usds-margined-futures/error-code) map to the
core hierarchy in ``error_from``.
Spot public: ``GET /api/v3/depth`` (weight 5 up to 100 levels, 25 to 500, 50 to 1000, 250 beyond),
``GET /api/v3/exchangeInfo`` (20), ``GET /api/v3/ticker/bookTicker`` (2 for one symbol);
signed: ``GET /api/v3/openOrders`` (6 for one symbol), ``GET /sapi/v1/asset/tradeFee`` (1),
``PUT /api/v3/order/amend/keepPriority`` (4; reduces quantity only, keeping queue priority).
Spot rate limits (https://developers.binance.com/docs/binance-spot-api-docs/rest-api/limits):
REQUEST_WEIGHT 6000 per minute per IP, told back in ``X-MBX-USED-WEIGHT-1M`` on every answer;
a 429 carries ``Retry-After`` and repeating past it earns 418 (an IP ban), so the client keeps
the budget itself and stops for the time the venue says.

USD-M (``BinanceFuturesClient``, base https://fapi.binance.com; general info:
https://developers.binance.com/docs/derivatives/usds-margined-futures/general-info): the same
HMAC-SHA256 signature over the query string with ``timestamp``/``recvWindow`` and the
``X-MBX-APIKEY`` header (its worked example is a test); its own REQUEST_WEIGHT budget of 2400
per minute per IP (exchangeInfo ``rateLimits``), told back in ``X-MBX-USED-WEIGHT-1M``; 429/418
as on spot. A 503 "Unknown error ... execution status is UNKNOWN" may have executed: places
and amends are never retried, the engine asks for the order by client id. Weights (the
endpoint pages under .../usds-margined-futures/): ``GET /fapi/v1/time``, ``/ping``,
``/exchangeInfo`` 1; ``GET /fapi/v1/depth`` 2 up to 50 levels, 5 for 100, 10 for 500, 20 for
1000 (limits 5, 10, 20, 50, 100, 500, 1000 only); ``POST /fapi/v1/order`` 0 on the IP budget
(it counts on the account's order budget); ``PUT /fapi/v1/order`` (modify) 1;
``DELETE``/``GET /fapi/v1/order`` 1; ``GET /fapi/v1/openOrders`` 1 for one symbol;
``GET /fapi/v1/userTrades`` 5; ``GET /fapi/v3/balance`` 5; ``GET /fapi/v3/positionRisk`` 5;
``GET /fapi/v1/positionSide/dual`` 30; ``POST /fapi/v1/leverage`` 1 (Change Initial Leverage,
.../usds-margined-futures/trade/rest-api/Change-Initial-Leverage) and ``GET /fapi/v1/leverageBracket``
1 (.../usds-margined-futures/account/rest-api/Notional-and-Leverage-Brackets), for
``[venues.binance] leverage`` (execution.py); ``GET /fapi/v1/income`` 30 (Get Income History,
.../usds-margined-futures/account/rest-api/Get-Income-History; its rules are in execution.py).
USD-M user data stream keys (security type USER_STREAM: the ``X-MBX-APIKEY`` header, no signature,
no parameters, weight 1; https://developers.binance.com/docs/derivatives/usds-margined-futures/
user-data-streams/Start-User-Data-Stream and .../Keepalive-User-Data-Stream): ``POST
/fapi/v1/listenKey`` answers ``{"listenKey"}`` (the account's active key if it has one, its
validity extended by 60 minutes), ``PUT /fapi/v1/listenKey`` extends it by 60 minutes (answering
``{"listenKey"}``) or refuses with -1125 "This listenKey does not exist." (then POST for a new
one; https://developers.binance.com/docs/derivatives/usds-margined-futures/user-data-streams/Connect).
"""

from __future__ import annotations

from typing import Any

from sequence_core.errors import (AuthenticationError, InsufficientFunds, InvalidOrder, OrderNotFound,
                                  RateLimitExceeded, SequenceError, VenueError)
from sequence_core.rest import ClockRejected, RateLimiter, VenueClient

from .signing import signed_query

DEFAULT_BASE_URL = "https://api.binance.com"
DEFAULT_FAPI_URL = "https://fapi.binance.com"
AUTH_CODES = {-1022, -2014, -2015, -1002}
NOT_FOUND_CODES = {-2011, -2013}
INVALID_CODES = {-1013, -1100, -1101, -1102, -1111, -1116, -1117, -1121}
# USD-M: -2018 balance / -2019 margin insufficient; filters, GTX (-5022), FOK (-5021), reduce-only,
# position side, market-order price band (-4131), an amend that changes nothing (-5027), a leverage
# over the symbol's brackets (-4028 INVALID_LEVERAGE, "Leverage 100 is not valid")
FUTURES_FUNDS_CODES = {-2018, -2019}
FUTURES_INVALID_CODES = {-1115, -1130, -2020, -2021, -2022, -2024, -2025, -2027, -4003, -4028, -4004, -4005, -4013, -4014,
                         -4015, -4016, -4023, -4024, -4061, -4131, -4164, -5021, -5022, -5024, -5025, -5026, -5027,
                         -5029}
WEIGHT_PER_MINUTE = 6000
FAPI_WEIGHT_PER_MINUTE = 2400
FAPI_DEPTH_LIMITS = (5, 10, 20, 50, 100, 500, 1000)


def depth_weight(limit: int) -> int:
    return 5 if limit <= 100 else 25 if limit <= 500 else 50 if limit <= 1000 else 250


def fapi_depth(levels: int) -> tuple[int, int]:
    """(limit, weight) for ``GET /fapi/v1/depth``: the smallest valid limit covering ``levels``."""
    limit = next((n for n in FAPI_DEPTH_LIMITS if n >= levels), FAPI_DEPTH_LIMITS[-1])
    return limit, 2 if limit <= 50 else 5 if limit == 100 else 10 if limit == 500 else 20


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
    if (code == -2010 and "insufficient balance" in msg.lower()) or code in FUTURES_FUNDS_CODES:
        return InsufficientFunds(f"binance: {msg} ({code})")
    if code == -2010 or code in INVALID_CODES or code in FUTURES_INVALID_CODES:
        return InvalidOrder(f"binance: {msg} ({code})")
    if code == -1003:
        return RateLimitExceeded(f"binance: {msg} (-1003)")
    return VenueError(f"binance: {msg or 'request refused'} ({code if code is not None else status})")


class _BinanceRest(VenueClient):
    """What both Binance hosts share: the key, HMAC query signing, the weight budget it follows."""

    venue = "binance"

    def __init__(self, api_key: str, api_secret: str, base_url: str, timeout_s: float, weight_per_minute: int):
        self._key, self._secret = api_key, api_secret
        super().__init__(base_url, error_from, timeout_s, usage=used_weight, limiter=RateLimiter(weight_per_minute, 60.0))

    async def signed(self, method: str, path: str, params: dict, idempotent: bool, weight: int = 1) -> Any:
        async def send(now_ms: int):
            query = signed_query(self._secret, params, now_ms)
            return await self.send(method, path, query, "", {"X-MBX-APIKEY": self._key}, idempotent, weight)
        return await self.clock.signed(send)

    async def keyed(self, method: str, path: str, weight: int = 1) -> Any:
        """A USER_STREAM call: the API key header alone, nothing signed (listenKey management)."""
        return await self.send(method, path, "", "", {"X-MBX-APIKEY": self._key}, True, weight)


class BinanceClient(_BinanceRest):
    """Spot: api.binance.com."""

    def __init__(self, api_key: str, api_secret: str, base_url: str = DEFAULT_BASE_URL, timeout_s: float = 10.0):
        super().__init__(api_key, api_secret, base_url, timeout_s, WEIGHT_PER_MINUTE)

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


class BinanceFuturesClient(_BinanceRest):
    """USD-M futures: fapi.binance.com, its own clock offset and weight budget."""

    def __init__(self, api_key: str, api_secret: str, base_url: str = DEFAULT_FAPI_URL, timeout_s: float = 10.0):
        super().__init__(api_key, api_secret, base_url, timeout_s, FAPI_WEIGHT_PER_MINUTE)

    async def ping(self) -> None:
        await self.public("/fapi/v1/ping")

    async def server_time_ms(self) -> int:
        return (await self.public("/fapi/v1/time"))["serverTime"]

    async def depth(self, symbol: str, levels: int = 50) -> dict:
        limit, weight = fapi_depth(levels)
        return await self.public("/fapi/v1/depth", {"symbol": symbol, "limit": limit}, weight)

    async def exchange_info(self) -> dict:
        return await self.public("/fapi/v1/exchangeInfo")

    async def instruments(self) -> list:
        from .symbols import from_futures_exchange_info

        return from_futures_exchange_info(await self.exchange_info())

    async def new_order(self, params: dict) -> dict:
        """``newOrderRespType=RESULT``: a MARKET or IOC order comes back in its final state."""
        return await self.signed("POST", "/fapi/v1/order", {**params, "newOrderRespType": "RESULT"}, idempotent=False,
                                 weight=0)

    async def modify_order(self, symbol: str, client_order_id: str, side: str, qty: str, price: str) -> dict:
        """``PUT /fapi/v1/order``: a LIMIT order's price and quantity in place (both required)."""
        return await self.signed("PUT", "/fapi/v1/order", {"symbol": symbol, "origClientOrderId": client_order_id,
                                                           "side": side, "quantity": qty, "price": price}, idempotent=False)

    async def query_order(self, symbol: str, client_order_id: str) -> dict:
        return await self.signed("GET", "/fapi/v1/order", {"symbol": symbol, "origClientOrderId": client_order_id},
                                 idempotent=True)

    async def cancel_order(self, symbol: str, client_order_id: str) -> dict:
        return await self.signed("DELETE", "/fapi/v1/order", {"symbol": symbol, "origClientOrderId": client_order_id},
                                 idempotent=True)

    async def open_orders(self, symbol: str) -> list[dict]:
        return await self.signed("GET", "/fapi/v1/openOrders", {"symbol": symbol}, idempotent=True)

    async def user_trades(self, symbol: str, order_id: int) -> list[dict]:
        return await self.signed("GET", "/fapi/v1/userTrades", {"symbol": symbol, "orderId": order_id}, idempotent=True,
                                 weight=5)

    async def balance(self) -> list[dict]:
        return await self.signed("GET", "/fapi/v3/balance", {}, idempotent=True, weight=5)

    async def position_risk(self) -> list[dict]:
        return await self.signed("GET", "/fapi/v3/positionRisk", {}, idempotent=True, weight=5)

    async def set_leverage(self, symbol: str, leverage: int) -> dict:
        """``POST /fapi/v1/leverage``: the symbol's initial leverage (an int, 1 to 125 as the
        brackets allow). It sets a value, so sending it twice does no harm: retried like a read."""
        return await self.signed("POST", "/fapi/v1/leverage", {"symbol": symbol, "leverage": leverage}, idempotent=True)

    async def max_leverage(self, symbol: str) -> int | None:
        """The highest ``initialLeverage`` of the symbol's brackets for this account
        (``GET /fapi/v1/leverageBracket?symbol=``: one object, or a list of one)."""
        answer = await self.signed("GET", "/fapi/v1/leverageBracket", {"symbol": symbol}, idempotent=True)
        row = answer[0] if isinstance(answer, list) and answer else answer
        levels = [int(b["initialLeverage"]) for b in (row or {}).get("brackets", []) if "initialLeverage" in b]
        return max(levels) if levels else None

    async def funding_income(self, start_ms: int, end_ms: int, limit: int) -> list[dict]:
        """``GET /fapi/v1/income?incomeType=FUNDING_FEE``: the rows booked from ``start_ms`` to
        ``end_ms`` (both inclusive), the oldest ``limit`` of them."""
        params = {"incomeType": "FUNDING_FEE", "startTime": start_ms, "endTime": end_ms, "limit": limit}
        return await self.signed("GET", "/fapi/v1/income", params, idempotent=True, weight=30)

    async def new_listen_key(self) -> str:
        """``POST /fapi/v1/listenKey``: the account's user data stream key (the active one, extended)."""
        return (await self.keyed("POST", "/fapi/v1/listenKey"))["listenKey"]

    async def keepalive_listen_key(self) -> None:
        """``PUT /fapi/v1/listenKey``: 60 more minutes for the active key (-1125 once it is gone)."""
        await self.keyed("PUT", "/fapi/v1/listenKey")

    async def hedge_mode(self) -> bool:
        """``dualSidePosition``: true is Hedge Mode (LONG/SHORT legs), false One-way Mode."""
        answer = await self.signed("GET", "/fapi/v1/positionSide/dual", {}, idempotent=True, weight=30)
        return bool(answer.get("dualSidePosition"))
