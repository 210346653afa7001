"""OKX v5 REST client (https://www.okx.com/docs-v5/en/).

Every answer is ``{"code": "0", "msg": "", "data": [...]}``; a failed order call says
``code: "1"`` with the reason per item in ``data[0].sCode``/``sMsg`` (HTTP 200), auth errors
come with HTTP 401. Endpoints used: ``GET /api/v5/public/time``, ``/public/instruments``,
``/market/books``; signed ``GET /account/balance``, ``/account/trade-fee``, ``/account/config``
(``posMode``, ``acctLv``), ``/account/positions``, ``/trade/order``, ``/trade/orders-pending``,
``/trade/fills``, ``/account/bills`` and ``/account/bills-archive`` (funding, see execution.py);
``POST /trade/order``, ``/trade/cancel-order``, ``/trade/amend-order`` (native
amend of size and/or price, by ``clOrdId``), ``/account/set-leverage`` (``[venues.okx] leverage``,
see execution.py). Spot and swaps share every endpoint; ``instType``
(SPOT or SWAP) names which book the pending-orders and fills queries read.
Rate limits (per endpoint, per user or IP, from each endpoint's doc): place, cancel, amend and
order queries 60 per 2 s; order book 40 per 2 s; balance, fees and positions 10 per 2 s
(https://www.okx.com/docs-v5/en/#trading-account-rest-api-get-positions); account
configuration 5 per 2 s (#trading-account-rest-api-get-account-configuration); set leverage 20
per 2 s (#trading-account-rest-api-set-leverage); instruments 20 per 2 s; bills 5 per 1 s
(#trading-account-rest-api-get-bills-details-last-7-days) and the
bills archive 5 per 2 s (#trading-account-rest-api-get-bills-details-last-3-months). Past them
OKX answers HTTP 429 / code 50011; the client keeps each budget itself.
Clock: a timestamp 30 s off is refused (50102): `VenueClock` learns OKX's time and signs once more.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import msgspec

from sequence_core.errors import ErrorCodes, SequenceError, VenueError
from sequence_core.rest import VenueClient

from .signing import headers

DEFAULT_BASE_URL = "https://www.okx.com"
AUTH_CODES = {"50100", "50101", "50103", "50104", "50105", "50111", "50113", "50114"}
CLOCK_CODES = {"50102", "50112"}
NOT_FOUND_CODES = {"51603", "51400", "51401", "51402"}
FUNDS_CODES = {"51008", "51131"}
INVALID_CODES = {"51000", "51010", "51001", "51006", "51020", "51120", "51121", "51122", "51124", "51137", "51138", "51139",
                 "51143", "51503", "51506", "51510", "51511", "51527",
                 "59102"}                  # set-leverage: "Leverage exceeds the maximum leverage"
LIMITS = {"/api/v5/trade/order": 60, "/api/v5/trade/cancel-order": 60, "/api/v5/trade/amend-order": 60,
          "/api/v5/trade/orders-pending": 60, "/api/v5/trade/fills": 60, "/api/v5/market/books": 40,
          "/api/v5/account/balance": 10, "/api/v5/account/trade-fee": 10, "/api/v5/account/positions": 10,
          "/api/v5/account/config": 5, "/api/v5/account/set-leverage": 20, "/api/v5/public/instruments": 20,
          "/api/v5/public/time": 10,
          "/api/v5/account/bills": (5, 1.0), "/api/v5/account/bills-archive": 5}


CODES = ErrorCodes("okx", clock=CLOCK_CODES, auth=AUTH_CODES, not_found=NOT_FOUND_CODES, funds=FUNDS_CODES,
                   invalid=INVALID_CODES, rate={"50011"}, auth_what="the API key, passphrase or signature")


def error_from(status: int, body: Any) -> SequenceError:
    body = body if isinstance(body, dict) else {}
    return CODES.error(str(body.get("code", status)), body.get("msg", ""), auth=status == 401)


def unwrap(body: Any) -> list:
    """The ``data`` of a successful answer; the item's own code when a call failed."""
    if not isinstance(body, dict) or "code" not in body:
        raise VenueError("okx sent an answer without a code")
    if body["code"] != "0":
        item = (body.get("data") or [{}])[0] if isinstance(body.get("data"), list) else {}
        raise CODES.error(str(item.get("sCode") or body["code"]), item.get("sMsg") or body.get("msg", ""))
    data = body.get("data", [])
    for item in data if isinstance(data, list) else []:
        if isinstance(item, dict) and item.get("sCode", "0") != "0":
            raise CODES.error(str(item["sCode"]), item.get("sMsg", ""))
    return data


class OkxClient(VenueClient):
    venue = "okx"
    limits_per_period = LIMITS
    period_s = 2.0

    def __init__(self, api_key: str, api_secret: str, passphrase: str, base_url: str = DEFAULT_BASE_URL,
                 timeout_s: float = 10.0):
        self._key, self._secret, self._passphrase = api_key, api_secret, passphrase
        super().__init__(base_url, error_from, timeout_s, unwrap=unwrap)

    async def server_time_ms(self) -> int:
        return int((await self.public("/api/v5/public/time"))[0]["ts"])

    async def signed(self, method: str, path: str, params: dict, idempotent: bool) -> list:
        query = urlencode(params) if method == "GET" else ""
        body = "" if method == "GET" else msgspec.json.encode(params).decode()
        request_path = path + (f"?{query}" if query else "")
        async def send(now_ms: int):
            h = headers(self._key, self._secret, self._passphrase, now_ms, method, request_path, body)
            return await self.send(method, path, query, body, h, idempotent)
        return await self.clock.signed(send)

    # -- public -------------------------------------------------------------------------------
    async def books(self, inst_id: str, depth: int = 50) -> dict:
        return (await self.public("/api/v5/market/books", {"instId": inst_id, "sz": min(depth, 400)}))[0]

    async def instruments(self, inst_type: str = "SPOT") -> list:
        from .symbols import from_instruments

        return from_instruments(await self.public("/api/v5/public/instruments", {"instType": inst_type}))

    # -- signed -------------------------------------------------------------------------------
    async def balance(self) -> list:
        return await self.signed("GET", "/api/v5/account/balance", {}, idempotent=True)

    async def trade_fee(self, inst_id: str, inst_type: str = "SPOT") -> dict:
        return (await self.signed("GET", "/api/v5/account/trade-fee", {"instType": inst_type, "instId": inst_id}, True))[0]

    async def place(self, body: dict) -> dict:
        return (await self.signed("POST", "/api/v5/trade/order", body, idempotent=False))[0]

    async def cancel(self, inst_id: str, cl_ord_id: str) -> dict:
        return (await self.signed("POST", "/api/v5/trade/cancel-order", {"instId": inst_id, "clOrdId": cl_ord_id},
                                  idempotent=True))[0]

    async def amend(self, body: dict) -> dict:
        return (await self.signed("POST", "/api/v5/trade/amend-order", body, idempotent=False))[0]

    async def order(self, inst_id: str, cl_ord_id: str) -> dict:
        return (await self.signed("GET", "/api/v5/trade/order", {"instId": inst_id, "clOrdId": cl_ord_id}, True))[0]

    async def open_orders(self, inst_id: str, inst_type: str = "SPOT") -> list:
        return await self.signed("GET", "/api/v5/trade/orders-pending", {"instType": inst_type, "instId": inst_id}, True)

    async def fills(self, inst_id: str, ord_id: str, inst_type: str = "SPOT") -> list:
        return await self.signed("GET", "/api/v5/trade/fills", {"instType": inst_type, "instId": inst_id, "ordId": ord_id}, True)

    async def account_config(self) -> dict:
        """``posMode`` (``net_mode`` or ``long_short_mode``) and ``acctLv`` (1 spot mode, 2 futures
        mode, 3 multi-currency margin, 4 portfolio margin), among others."""
        return (await self.signed("GET", "/api/v5/account/config", {}, True))[0]

    async def set_leverage(self, inst_id: str, lever: int) -> dict:
        """``POST /api/v5/account/set-leverage`` for a swap in cross margin (``posSide`` is not
        needed there). It sets a value, so sending it twice does no harm: retried like a read."""
        body = {"instId": inst_id, "lever": str(lever), "mgnMode": "cross"}
        return (await self.signed("POST", "/api/v5/account/set-leverage", body, idempotent=True))[0]

    async def max_leverage(self, inst_id: str, inst_type: str = "SWAP") -> str:
        """The instrument's ``lever`` ("Max Leverage") from ``GET /api/v5/public/instruments``."""
        rows = await self.public("/api/v5/public/instruments", {"instType": inst_type, "instId": inst_id})
        return rows[0].get("lever", "") if rows else ""

    async def positions(self, inst_type: str = "SWAP") -> list:
        return await self.signed("GET", "/api/v5/account/positions", {"instType": inst_type}, True)

    async def bills(self, params: dict, archive: bool = False) -> list:
        """One page of account bills, newest first: the last 7 days, or 3 months from the archive."""
        path = "/api/v5/account/bills-archive" if archive else "/api/v5/account/bills"
        return await self.signed("GET", path, params, True)
