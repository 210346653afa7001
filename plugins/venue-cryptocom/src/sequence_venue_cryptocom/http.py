"""Crypto.com Exchange v1 REST client (https://exchange-docs.crypto.com/exchange/v1/rest-ws/index.html,
mirrored per method under https://exchange-developer.crypto.com/exchange/v1/docs/api/).

Every call is ``{base}/{method}``: public methods are GETs with a query string, private ones
POST the signed JSON body of signing.py. Answers are ``{"id", "method", "code", "result"}``
(``code`` 0) or ``{"id", "method", "code", "message"}``. The HTTP status follows the reason
code's table ("Response and Reason Codes"): 40401 NOT_FOUND comes inside HTTP 200, 40101 with
401, 42901 with 429, and most order refusals (306 INSUFFICIENT_AVAILABLE_BALANCE, 316
NO_ACTIVE_ORDER, 415 BELOW_MIN_ORDER_SIZE, ...) with HTTP **500**: the client reads 5xx
bodies too (``refusals_in_5xx``), and only 50001 ERR_INTERNAL, 40801 or a body without a
code stays a server fault (retried for reads).
Endpoints used: ``public/get-instruments``, ``public/get-book`` (depth up to 50),
``public/get-tickers`` (its ``t`` "published timestamp" is the clock: v1 has no time method);
``private/user-balance``, ``private/get-instrument-fee-rate``, ``private/create-order``,
``private/cancel-order`` and ``private/get-order-detail`` (by ``client_oid``),
``private/amend-order`` (by ``orig_client_oid``), ``private/get-open-orders``,
``private/get-trades`` (fills; no order filter, so by instrument from the order's creation),
``private/get-positions`` (perp positions, ``instrument_name`` or all) and
``private/get-transactions`` (the account's journal: ``journal_type``, ``start_time``
inclusive and ``end_time`` exclusive in ms or ns, ``limit`` at most 100 "before end_time";
https://exchange-developer.crypto.com/exchange/v1/docs/api/rest/private-get-transactions).
Rate limits ("Rate Limits"): create, cancel and cancel-all 15 per 100 ms each;
get-order-detail 30 per 100 ms; get-trades and get-order-history 1 per second; other private
methods 3 per 100 ms; public methods 100 per second per IP. The client keeps each budget; a
429 (no Retry-After is documented) is retried with backoff for reads only.
Leverage (``[venues.cryptocom] leverage``, execution.py): ``private/change-account-leverage``
with ``account_id`` ("account ID to change the leverage. Must be currently the logged user's
account") and ``leverage`` ("maximum leverage to be used for the account. Valid values are
between 1-100 (inclusive)"), answered ``{"code": 0}``; it "Changes the maximum leverage used by
the account. Please note, each instrument has its own maximum leverage. Whichever leverage
(account or instrument) is lower will be used."
(https://exchange-docs.crypto.com/exchange/v1/rest-ws/index.html#private-change-account-leverage).
The account id is ``result.master_account.uuid`` of ``private/get-accounts``
(https://exchange-docs.crypto.com/exchange/v1/rest-ws/index.html#private-get-accounts; the
docs' example answer carries ``master_account`` with ``uuid`` and a ``sub_account_list``). Both
are "all others" for the rate limit (3 per 100 ms). The refusal code for a leverage outside
1-100 is not documented: any refusal of it is read against that range (execution.py).

Clock: a nonce more than 60 s off is refused (40102 INVALID_NONCE, HTTP 400): `VenueClock`
learns the exchange's time from the ticker and signs once more.
"""

from __future__ import annotations

import itertools
from typing import Any

import msgspec

from sequence_core.errors import ErrorCodes, InvalidOrder, NetworkError, SequenceError, VenueError
from sequence_core.rest import VenueClient

from .signing import signed_body

DEFAULT_BASE_URL = "https://api.crypto.com/exchange/v1"

# reason codes by meaning (Common API Reference, "Response and Reason Codes"); 10002, 10003,
# 10006 and 10007 are the older spot API's spellings of the same refusals, still mapped by ccxt
DESCRIPTIONS = {
    "204": "duplicate client order id", "208": "instrument is not tradable", "209": "instrument is invalid",
    "213": "invalid order quantity", "218": "invalid order type", "219": "invalid exec_inst", "220": "invalid side",
    "221": "invalid time_in_force", "224": "rejected by the matching engine", "306": "insufficient available balance",
    "308": "invalid price", "309": "market is not open", "312": "price above the limit-up price",
    "313": "price below the limit-down price", "314": "exceeds the maximum order size", "315": "limit price too far away",
    "316": "no active order", "318": "exceeds the maximum number of open orders", "321": "exceeds maximum available balance",
    "415": "below the minimum order size", "40001": "bad request", "40004": "a required argument is blank or missing",
    "40101": "not authenticated, or key or signature incorrect", "40102": "nonce differs by more than 60 seconds",
    "40103": "IP address not whitelisted", "40104": "disallowed for this user tier", "40401": "not found",
    "42901": "requests have exceeded rate limits", "43003": "FOK order not filled, cancelled",
    "43004": "IOC order not filled, cancelled", "43005": "POST_ONLY order would have taken liquidity",
    "43012": "cancelled by self-trade prevention",
}
CODES = ErrorCodes(
    "cryptocom",
    clock={"40102", "10007"},
    auth={"40101", "40103", "40104", "10002", "10003"},
    not_found={"40401", "316", "212"},
    funds={"306", "320", "321"},
    invalid={"204", "208", "209", "213", "218", "219", "220", "221", "223", "224", "308", "309", "312", "313", "314",
             "315", "318", "415", "1110", "606", "40001", "40003", "40004", "43003", "43004", "43005"},
    rate={"42901", "10006"},
    auth_what="the API key or signature",
)
SERVER_FAULTS = {"50001", "40801"}         # the exchange's own trouble: a network fault to us

# budgets per 100 ms, and the per-second ones
LIMITS = {"/private/create-order": 15, "/private/cancel-order": 15, "/private/cancel-all-orders": 15,
          "/private/get-order-detail": 30, "/private/amend-order": 3, "/private/get-open-orders": 3,
          "/private/user-balance": 3, "/private/get-instrument-fee-rate": 3, "/private/get-positions": 3,
          "/private/get-transactions": 3, "/private/get-accounts": 3, "/private/change-account-leverage": 3,
          "/public/get-book": 10,
          "/public/get-tickers": 10, "/public/get-instruments": 10, "/public/get-trades": 10,
          "/private/get-trades": (1, 1.0), "/private/get-order-history": (1, 1.0)}


class DuplicateClientId(InvalidOrder):
    """204 DUPLICATE_CLORDID: the exchange already has an order with this client id."""


def _code(body: Any) -> str:
    return str(body.get("code", "")) if isinstance(body, dict) else ""


def coded_error(code: str, message: str, *, auth: bool = False) -> SequenceError:
    if code in SERVER_FAULTS:
        return NetworkError(f"cryptocom: {DESCRIPTIONS.get(code, message or 'internal error')} ({code})")
    err = CODES.error(code, DESCRIPTIONS.get(code) or message, auth=auth)
    return DuplicateClientId(str(err)) if code == "204" else err


def error_from(status: int, body: Any) -> SequenceError:
    if status >= 500 and not _code(body):
        return NetworkError(f"cryptocom answered HTTP {status}")
    code = _code(body) or str(status)
    return coded_error(code, body.get("message", "") if isinstance(body, dict) else "", auth=status == 401)


def unwrap(body: Any) -> Any:
    """The ``result`` of an answer with code 0; the coded error otherwise (NOT_FOUND comes in a 200)."""
    if not isinstance(body, dict) or "code" not in body:
        raise VenueError("cryptocom sent an answer without a code")
    if _code(body) != "0":
        raise coded_error(_code(body), body.get("message", ""))
    return body.get("result") or {}


class CryptocomClient(VenueClient):
    venue = "cryptocom"
    limits_per_period = LIMITS
    period_s = 0.1
    refusals_in_5xx = True

    def __init__(self, api_key: str, api_secret: str, base_url: str = DEFAULT_BASE_URL, timeout_s: float = 10.0,
                 clock_instrument: str = "BTC_USD"):
        self._key, self._secret = api_key, api_secret
        super().__init__(base_url, error_from, timeout_s, unwrap=unwrap)
        self._clock_instrument = clock_instrument
        self._ids = itertools.count(1)

    async def server_time_ms(self) -> int:
        return max(int(t["t"]) for t in await self.tickers(self._clock_instrument))

    async def private(self, method: str, params: dict, idempotent: bool) -> Any:
        """One signed POST; a refused nonce makes the clock resync and the body be signed anew."""
        async def send(now_ms: int):
            body = signed_body(self._key, self._secret, method, next(self._ids), params, now_ms)
            return await self.send("POST", f"/{method}", "", msgspec.json.encode(body).decode(),
                                   {"Content-Type": "application/json"}, idempotent)
        return await self.clock.signed(send)

    # -- public -------------------------------------------------------------------------------
    async def book(self, instrument: str, depth: int = 50) -> dict:
        return (await self.public("/public/get-book", {"instrument_name": instrument, "depth": min(depth, 50)}))["data"][0]

    async def tickers(self, instrument: str) -> list:
        return (await self.public("/public/get-tickers", {"instrument_name": instrument}))["data"]

    async def instruments(self) -> list:
        from .symbols import from_instruments

        return from_instruments((await self.public("/public/get-instruments"))["data"])

    # -- private ------------------------------------------------------------------------------
    async def balance(self) -> list:
        return (await self.private("private/user-balance", {}, idempotent=True)).get("data", [])

    async def fee_rate(self, instrument: str) -> dict:
        return await self.private("private/get-instrument-fee-rate", {"instrument_name": instrument}, idempotent=True)

    async def place(self, params: dict) -> dict:
        return await self.private("private/create-order", params, idempotent=False)

    async def cancel(self, client_oid: str) -> dict:
        return await self.private("private/cancel-order", {"client_oid": client_oid}, idempotent=True)

    async def amend(self, params: dict) -> dict:
        return await self.private("private/amend-order", params, idempotent=False)

    async def order(self, client_oid: str) -> dict:
        return await self.private("private/get-order-detail", {"client_oid": client_oid}, idempotent=True)

    async def open_orders(self, instrument: str) -> list:
        return (await self.private("private/get-open-orders", {"instrument_name": instrument}, idempotent=True)).get("data", [])

    async def trades(self, instrument: str, start_time: str) -> list:
        params = {"instrument_name": instrument, "start_time": start_time, "limit": 100}
        return (await self.private("private/get-trades", params, idempotent=True)).get("data", [])

    async def positions(self, instrument: str | None = None) -> list:
        params = {"instrument_name": instrument} if instrument else {}
        return (await self.private("private/get-positions", params, idempotent=True)).get("data", [])

    async def account_id(self) -> str:
        """The key's own account: ``master_account.uuid`` of ``private/get-accounts``."""
        found = (await self.private("private/get-accounts", {}, idempotent=True)).get("master_account") or {}
        if not found.get("uuid"):
            raise VenueError("cryptocom: private/get-accounts named no account (master_account.uuid)")
        return str(found["uuid"])

    async def change_account_leverage(self, account_id: str, leverage: int) -> dict:
        """The account's maximum leverage (account-wide; idempotent)."""
        return await self.private("private/change-account-leverage", {"account_id": account_id, "leverage": leverage},
                                  idempotent=True)

    async def transactions(self, journal_type: str, start_ns: int, end_ns: int) -> list:
        """One page: at most 100 journal rows of *journal_type* in [start_ns, end_ns), the newest."""
        params = {"journal_type": journal_type, "start_time": str(start_ns), "end_time": str(end_ns), "limit": 100}
        return (await self.private("private/get-transactions", params, idempotent=True)).get("data", [])
