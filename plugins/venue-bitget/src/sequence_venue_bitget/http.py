"""Bitget v2 REST client: spot and USDT-M futures (https://www.bitget.com/api-doc/spot/intro,
https://www.bitget.com/api-doc/contract/intro). Same host, same signature for both.

Answers are ``{"code": "00000", "msg": "success", "requestTime": ms, "data": ...}``; a
refusal is another ``code`` (HTTP 400 for most, 429 for rate limits;
https://www.bitget.com/api-doc/common/error-code). Endpoints: ``GET /api/v2/public/time``,
``/api/v2/spot/public/symbols``, ``/api/v2/spot/market/orderbook``; signed
``GET /api/v2/spot/account/assets``, ``/api/v2/spot/trade/orderInfo`` (by ``orderId`` or
``clientOid``: by ``clientOid`` only orders of the last 2 hours, see execution.py),
``/api/v2/spot/trade/unfilled-orders`` (each order's price is in ``priceAvg``: "Order price",
there is no ``price``; https://www.bitget.com/api-doc/spot/trade/Get-Unfilled-Orders),
``/api/v2/spot/trade/history-orders`` (orders of the last 90 days, 100 a page, ``idLessThan``
for older ones; https://www.bitget.com/api-doc/spot/trade/Get-History-Orders), ``/api/v2/spot/trade/fills``;
``POST /api/v2/spot/trade/place-order`` (answers ``{orderId, clientOid}``), ``/api/v2/spot/trade/cancel-order``.
Rate limits (each endpoint's doc): place and cancel 10 per second per UID, order queries 20,
assets 10, public market data 20 per second per IP. Clock: 40008 -> learn Bitget's time, sign again.

USDT-M futures (``productType=USDT-FUTURES``, margin coin USDT): public
``GET /api/v2/mix/market/contracts`` and ``/api/v2/mix/market/merge-depth`` (``limit`` one of
1/5/15/50/max; levels come as JSON numbers), 20/s per IP; signed
``POST /api/v2/mix/order/place-order`` and ``/api/v2/mix/order/cancel-order`` (10/s per UID),
``GET /api/v2/mix/order/detail`` (by ``clientOid``; status in ``state``),
``/api/v2/mix/order/orders-pending`` (``entrustedList``, null when empty),
``/api/v2/mix/order/fills`` (``fillList``), ``/api/v2/mix/account/account`` (one symbol:
``posMode``, ``marginMode``), ``/api/v2/mix/account/accounts`` (10/s each),
``/api/v2/mix/position/all-position`` (5/s) and ``/api/v2/mix/account/bill`` (10/s; funding
bills, see execution.py). Pages: https://www.bitget.com/api-doc/contract/trade/Place-Order,
.../Cancel-Order, .../Get-Order-Details, .../Get-Orders-Pending, .../Get-Order-Fills,
https://www.bitget.com/api-doc/contract/account/Get-Single-Account, .../Get-Account-List,
https://www.bitget.com/api-doc/contract/position/get-all-position,
https://www.bitget.com/api-doc/contract/account/Get-Account-Bill,
https://www.bitget.com/api-doc/contract/market/Get-Merge-Depth. Futures refusals seen here:
40109 (order detail: no such order) and 40768 (cancel: no such order), 22001 (no order to
cancel), 40754 (insufficient balance), 40014 (the key lacks the permission).

Leverage (``[venues.bitget] leverage``, execution.py): Classic ``POST
/api/v2/mix/account/set-leverage`` with ``symbol``, ``productType`` USDT-FUTURES, ``marginCoin``
USDT ("must be capitalized") and ``leverage`` (a string; ``holdSide`` "no need in cross margin
mode"), 5/s per UID, answering ``{symbol, marginCoin, longLeverage, shortLeverage,
crossMarginLeverage, marginMode}`` (https://www.bitget.com/api-doc/contract/account/Change-Leverage).
A unified account's is ``POST /api/v3/account/set-leverage`` with ``category`` USDT-FUTURES,
``symbol`` ("required to set leverage for futures") and ``leverage`` (string), 10/s per UID,
answering ``data: "success"`` (https://www.bitget.com/api-doc/uta/account/Change-Leverage; the
``bitget-api`` npm package's ``SetLeverageRequestV3`` adds ``marginMode`` "Futures only.
Defaults to crossed"). Above a contract's maximum Bitget refuses 40797 "Exceeded the maximum
settable leverage" (the code as traders report it from live accounts; the v3 page names no
code, so any ``InvalidOrder`` there is checked the same way); the contract's maximum is the
``maxLever`` of ``/api/v2/mix/market/contracts`` (public, so it answers a unified account too).

Unified trading accounts (UTA, the v3 API; https://www.bitget.com/api-doc/uta/intro): same
host, same signature and answer envelope. Account mode is read once per client with
``GET /api/v3/account/settings`` (https://www.bitget.com/api-doc/uta/account/Get-Account-Setting,
20/s): a UTA answers its settings (``holdMode``, ``symbolConfigList`` of ``{category, symbol,
marginMode, leverage}``), a Classic account is refused 40084 "You are in Classic Account mode,
and the Unified Account API is not supported at this time", and a v2 private call from a UTA
is refused 40085 "You are in Unified Account mode, and the Classic Account API is not
supported at this time" (40085 as a UTA key got it in https://github.com/ccxt/ccxt/issues/26838;
40084 from a v3 probe with a Classic key in https://github.com/TraderAlice/OpenAlice/pull/951 and
https://github.com/enarjord/passivbot/pull/601, both run against live accounts; ccxt issue
https://github.com/ccxt/ccxt/issues/28041 reports 40404 for the v2 futures bills of a UTA).
The v3 endpoints' own refusals, as the ``bitget-api`` npm package (tiagosiebler, its
``API_ERROR_CODE`` constants) names them: 25204 order does not exist, 25202 insufficient
balance, 25203 insufficient margin; the classic codes (40109 ...) are kept beside them.
Accounts created since May 2026 are UTA only (https://github.com/JKorf/Bitget.Net/issues/69). Signed v3 endpoints used (request and answer shapes also checked
against the ``bitget-api`` npm package's v3 types, src/types/{request,response}/v3):
``POST /api/v3/trade/place-order`` (``category`` SPOT | USDT-FUTURES, ``symbol``, ``side``,
``orderType``, ``qty`` in base coin for limit orders, ``price``, ``timeInForce``
gtc | ioc | fok | post_only, ``clientOid``, futures ``marginMode``; answers ``{orderId,
clientOid}``), ``POST /api/v3/trade/cancel-order`` (``category``, ``clientOid``),
``GET /api/v3/trade/order-info`` (``orderId`` or ``clientOid``, one order, 20/s;
https://www.bitget.com/api-doc/uta/trade/Get-Order-Details), ``/api/v3/trade/unfilled-orders``,
``/api/v3/trade/history-orders``, ``/api/v3/trade/fills`` (each ``{list, cursor}``),
``/api/v3/account/assets`` (``{assets: [{coin, available, ...}]}``),
``/api/v3/position/current-position`` (``{list}``) and ``/api/v3/account/financial-records``
(20/s, see uta.py). Public market data stays on the v2 public endpoints: they take no
credentials, so they answer alike whatever mode an account is in.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import msgspec

from sequence_core.errors import AuthenticationError, ErrorCodes, SequenceError, VenueError
from sequence_core.rest import VenueClient

from .signing import headers
from .symbols import MARGIN_COIN, PRODUCT_TYPE

DEFAULT_BASE_URL = "https://api.bitget.com"
AUTH_CODES = {"40002", "40003", "40005", "40006", "40009", "40011", "40012", "40014", "40037"}
NOT_FOUND_CODES = {"40768", "40109", "22001", "43001", "43025", "25204"}
FUNDS_CODES = {"43012", "40762", "40754", "25202", "25203"}
INVALID_CODES = {"40797", "40017", "40019", "40020", "40034", "40808", "43006", "43007", "43008", "43009", "43027", "45110", "45111"}
LIMITS = {"/api/v2/spot/trade/place-order": 10, "/api/v2/spot/trade/cancel-order": 10, "/api/v2/spot/trade/orderInfo": 20,
          "/api/v2/spot/trade/unfilled-orders": 20, "/api/v2/spot/trade/history-orders": 20,
          "/api/v2/spot/trade/fills": 10, "/api/v2/spot/account/assets": 10,
          "/api/v2/spot/market/orderbook": 20, "/api/v2/spot/public/symbols": 20, "/api/v2/public/time": 20,
          "/api/v2/mix/order/place-order": 10, "/api/v2/mix/order/cancel-order": 10, "/api/v2/mix/order/detail": 10,
          "/api/v2/mix/order/orders-pending": 10, "/api/v2/mix/order/fills": 10, "/api/v2/mix/account/account": 10,
          "/api/v2/mix/account/accounts": 10, "/api/v2/mix/position/all-position": 5, "/api/v2/mix/account/bill": 10,
          "/api/v2/mix/market/contracts": 20, "/api/v2/mix/account/set-leverage": 5, "/api/v3/account/set-leverage": 10, "/api/v2/mix/market/merge-depth": 20,
          "/api/v3/account/settings": 20, "/api/v3/trade/place-order": 10, "/api/v3/trade/cancel-order": 10,
          "/api/v3/trade/order-info": 20, "/api/v3/trade/unfilled-orders": 20, "/api/v3/trade/history-orders": 20,
          "/api/v3/trade/fills": 20, "/api/v3/account/assets": 10, "/api/v3/position/current-position": 10,
          "/api/v3/account/financial-records": 20}
DEPTHS = (1, 5, 15, 50)
FUNDING_BILL = "contract_settle_fee"         # the bill's businessType for a funding settlement
BILL_PAGE = 100                              # the bill endpoint's largest page (default 20)
ACCOUNT_MODES = ("auto", "classic", "uta")   # [venues.bitget] account
CLASSIC_ONLY, UTA_ONLY = "40084", "40085"    # a v3 call from a Classic account, a v2 one from a UTA
MODE_REFUSALS = {
    CLASSIC_ONLY: 'bitget: this is a Classic account, which the unified (v3) API refuses; set [venues.bitget] '
                  'account = "classic" or "auto"',
    UTA_ONLY: 'bitget: this is a unified trading account (UTA), which the classic (v2) API refuses; set '
              '[venues.bitget] account = "uta" or "auto"',
}


CODES = ErrorCodes("bitget", clock={"40008"}, auth=AUTH_CODES, not_found=NOT_FOUND_CODES, funds=FUNDS_CODES,
                   invalid=INVALID_CODES, rate={"429"}, auth_what="the API key, passphrase or signature")


_MODES: dict[tuple[str, str], str] = {}     # (host, API key) -> the mode detected


class WrongAccountMode(AuthenticationError):
    """The v2 API called for a UTA, or v3 for a Classic account: a setting to change, not a bad key."""

    def __init__(self, code: str):
        super().__init__(f"{MODE_REFUSALS[code]} ({code})")
        self.code = code


def _error(code: str, msg: str) -> SequenceError:
    return WrongAccountMode(code) if code in MODE_REFUSALS else CODES.error(code, msg)


def error_from(status: int, body: Any) -> SequenceError:
    body = body if isinstance(body, dict) else {}
    return _error(str(body.get("code", status)), body.get("msg", ""))


def unwrap(body: Any) -> Any:
    if not isinstance(body, dict) or "code" not in body:
        raise VenueError("bitget sent an answer without a code")
    if body["code"] != "00000":
        raise _error(str(body["code"]), body.get("msg", ""))
    return body.get("data")


class BitgetClient(VenueClient):
    venue = "bitget"
    limits_per_period = LIMITS
    period_s = 1.0

    def __init__(self, api_key: str, api_secret: str, passphrase: str, base_url: str = DEFAULT_BASE_URL,
                 timeout_s: float = 10.0):
        self._key, self._secret, self._passphrase = api_key, api_secret, passphrase
        super().__init__(base_url, error_from, timeout_s, unwrap=unwrap)

    async def account_mode(self, setting: str = "auto") -> str:
        """``classic`` or ``uta``: the setting when it names one, else learnt from
        ``/api/v3/account/settings`` (answered: UTA; refused 40084: Classic) once per key and
        host for the process (an API key's account keeps its mode; ``forget_mode`` on a
        refusal that says it changed)."""
        if setting not in ACCOUNT_MODES:
            raise VenueError(f'bitget: [venues.bitget] account = "{setting}" is none of auto, classic, uta')
        if setting != "auto":
            return setting
        key = (self.rest.base_url, self._key)
        if key not in _MODES:
            try:
                await self.account_settings()
                _MODES[key] = "uta"
            except WrongAccountMode as exc:
                if exc.code != CLASSIC_ONLY:
                    raise
                _MODES[key] = "classic"
        return _MODES[key]

    def forget_mode(self) -> None:
        _MODES.pop((self.rest.base_url, self._key), None)

    async def server_time_ms(self) -> int:
        return int((await self.public("/api/v2/public/time"))["serverTime"])

    async def signed(self, method: str, path: str, params: dict, idempotent: bool) -> Any:
        query = urlencode(params) if method == "GET" else ""
        body = "" if method == "GET" else msgspec.json.encode(params).decode()
        request_path = path + (f"?{query}" if query else "")

        async def send(now_ms: int):
            h = headers(self._key, self._secret, self._passphrase, now_ms, method, request_path, body)
            return await self.send(method, path, query, body, h, idempotent)
        try:
            return await self.clock.signed(send)
        except WrongAccountMode:
            self.forget_mode()           # the account changed mode (an upgrade): detect again next call
            raise

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

    async def order(self, client_oid: str | None = None, order_id: str | None = None) -> dict | None:
        """One spot order by ``orderId`` (when given) or ``clientOid`` (the last 2 hours only)."""
        params = {"orderId": order_id} if order_id else {"clientOid": client_oid}
        found = await self.signed("GET", "/api/v2/spot/trade/orderInfo", params, idempotent=True)
        return found[0] if found else None

    async def history_orders(self, symbol: str) -> list:
        """The first page (100, the newest) of the symbol's spot order history."""
        return await self.signed("GET", "/api/v2/spot/trade/history-orders", {"symbol": symbol, "limit": "100"},
                                 idempotent=True) or []

    async def open_orders(self, symbol: str) -> list:
        return await self.signed("GET", "/api/v2/spot/trade/unfilled-orders", {"symbol": symbol}, idempotent=True)

    async def fills(self, symbol: str, order_id: str) -> list:
        return await self.signed("GET", "/api/v2/spot/trade/fills", {"symbol": symbol, "orderId": order_id}, idempotent=True)

    # -- USDT-M futures (productType USDT-FUTURES, margin coin USDT) ----------------------------
    async def merge_depth(self, symbol: str, limit: int = 50) -> dict:
        depth = next((str(d) for d in DEPTHS if d >= limit), "max")
        return await self.public("/api/v2/mix/market/merge-depth", {"symbol": symbol, "productType": PRODUCT_TYPE,
                                                                   "precision": "scale0", "limit": depth})

    async def perp_instruments(self) -> list:
        from .symbols import from_contracts

        return from_contracts(await self.public("/api/v2/mix/market/contracts", {"productType": PRODUCT_TYPE}))

    def _mix(self, **params) -> dict:
        return {"productType": PRODUCT_TYPE, **params}

    async def perp_place(self, body: dict) -> dict:
        return await self.signed("POST", "/api/v2/mix/order/place-order", self._mix(marginCoin=MARGIN_COIN, **body),
                                 idempotent=False)

    async def perp_cancel(self, symbol: str, client_oid: str) -> dict:
        return await self.signed("POST", "/api/v2/mix/order/cancel-order",
                                 self._mix(symbol=symbol, marginCoin=MARGIN_COIN, clientOid=client_oid), idempotent=True)

    async def perp_order(self, symbol: str, client_oid: str) -> dict | None:
        return await self.signed("GET", "/api/v2/mix/order/detail", self._mix(symbol=symbol, clientOid=client_oid), True)

    async def perp_open_orders(self, symbol: str) -> list:
        found = await self.signed("GET", "/api/v2/mix/order/orders-pending", self._mix(symbol=symbol), idempotent=True)
        return (found or {}).get("entrustedList") or []

    async def perp_fills(self, symbol: str, order_id: str) -> list:
        found = await self.signed("GET", "/api/v2/mix/order/fills", self._mix(symbol=symbol, orderId=order_id), True)
        return (found or {}).get("fillList") or []

    async def perp_account(self, symbol: str) -> dict:
        """One symbol's futures account: ``posMode`` (one_way_mode | hedge_mode), ``marginMode``."""
        return await self.signed("GET", "/api/v2/mix/account/account",
                                 self._mix(symbol=symbol, marginCoin=MARGIN_COIN), idempotent=True)

    async def set_leverage(self, symbol: str, leverage: int) -> dict:
        """Cross leverage of one USDT-M symbol (idempotent: setting it twice changes nothing)."""
        return await self.signed("POST", "/api/v2/mix/account/set-leverage",
                                 self._mix(symbol=symbol, marginCoin=MARGIN_COIN, leverage=str(leverage)), idempotent=True)

    async def max_leverage(self, symbol: str) -> int | None:
        """The contract's ``maxLever`` (public), None when Bitget does not list the symbol."""
        rows = await self.public("/api/v2/mix/market/contracts", {"productType": PRODUCT_TYPE, "symbol": symbol})
        found = next((r for r in rows or [] if r.get("symbol") == symbol and r.get("maxLever")), None)
        return int(found["maxLever"]) if found else None

    async def perp_accounts(self) -> list:
        return await self.signed("GET", "/api/v2/mix/account/accounts", self._mix(), idempotent=True) or []

    async def positions(self) -> list:
        return await self.signed("GET", "/api/v2/mix/position/all-position", self._mix(marginCoin=MARGIN_COIN), True) or []

    async def funding_bills(self, start_ms: int, end_ms: int, id_less_than: str | None = None) -> dict:
        """One page of funding bills booked in [start_ms, end_ms] (at most 30 days apart), newest
        first: ``{"bills": [...], "endId"}``; ``id_less_than`` (the last page's ``endId``) asks older."""
        params = self._mix(businessType=FUNDING_BILL, startTime=str(start_ms), endTime=str(end_ms), limit=str(BILL_PAGE))
        if id_less_than:
            params["idLessThan"] = id_less_than
        return await self.signed("GET", "/api/v2/mix/account/bill", params, idempotent=True) or {}

    # -- unified trading account (v3; uta.py) -----------------------------------------------------
    async def account_settings(self) -> dict:
        return await self.signed("GET", "/api/v3/account/settings", {}, idempotent=True) or {}

    async def uta_set_leverage(self, symbol: str, leverage: int) -> dict:
        return await self.signed("POST", "/api/v3/account/set-leverage",
                                 {"category": PRODUCT_TYPE, "symbol": symbol, "leverage": str(leverage)}, idempotent=True)

    async def uta_assets(self) -> list:
        return (await self.signed("GET", "/api/v3/account/assets", {}, idempotent=True) or {}).get("assets") or []

    async def uta_place(self, body: dict) -> dict:
        return await self.signed("POST", "/api/v3/trade/place-order", body, idempotent=False)

    async def uta_cancel(self, category: str, client_oid: str) -> dict:
        return await self.signed("POST", "/api/v3/trade/cancel-order", {"category": category, "clientOid": client_oid},
                                 idempotent=True)

    async def uta_order(self, client_oid: str | None = None, order_id: str | None = None) -> dict | None:
        params = {"orderId": order_id} if order_id else {"clientOid": client_oid}
        return await self.signed("GET", "/api/v3/trade/order-info", params, idempotent=True) or None

    async def _list(self, path: str, params: dict) -> list:
        return (await self.signed("GET", path, params, idempotent=True) or {}).get("list") or []

    async def uta_open_orders(self, category: str, symbol: str) -> list:
        return await self._list("/api/v3/trade/unfilled-orders", {"category": category, "symbol": symbol})

    async def uta_history_orders(self, category: str, symbol: str) -> list:
        """The newest page (100) of the symbol's finished orders."""
        return await self._list("/api/v3/trade/history-orders", {"category": category, "symbol": symbol, "limit": "100"})

    async def uta_fills(self, category: str, order_id: str) -> list:
        return await self._list("/api/v3/trade/fills", {"category": category, "orderId": order_id, "limit": "100"})

    async def uta_positions(self) -> list:
        return await self._list("/api/v3/position/current-position", {"category": PRODUCT_TYPE})

    async def financial_records(self, kind: str, start_ms: int, end_ms: int, cursor: str | None = None) -> dict:
        """One page (newest first) of USDT-futures records of one ``type`` in [start_ms, end_ms]
        (at most 30 days apart): ``{"list": [...], "cursor"}``; ``cursor`` asks the next page."""
        params = {"category": PRODUCT_TYPE, "type": kind, "startTime": str(start_ms), "endTime": str(end_ms),
                  "limit": str(BILL_PAGE)}
        if cursor:
            params["cursor"] = cursor
        return await self.signed("GET", "/api/v3/account/financial-records", params, idempotent=True) or {}
