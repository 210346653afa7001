"""Kraken Futures REST client (futures.kraken.com): the perpetuals' API, separate from spot's.

Trading API ``https://futures.kraken.com/derivatives/api/v3/<endpoint>``
(https://docs.kraken.com/api/docs/futures-api/trading/): public ``instruments``, ``orderbook``;
private (signing.py ``futures_signed``) ``accounts``, ``openpositions``, ``openorders``, ``fills``
(GET, parameters in the query string) and ``sendorder``, ``editorder``, ``cancelorder``,
``orders/status`` (POST, parameters form-encoded in the body; what is signed is exactly what is
sent). History API ``https://futures.kraken.com/api/history/v3/account-log``
(https://docs.kraken.com/api-reference/account-history/get-account-log): ``since``/``before`` (ms),
``from``/``to`` (entry ids, inclusive), ``sort``, ``count``, ``info``; answers
``{"accountUid", "logs": [..]}``. Setting ``[venues.kraken] futures_url`` moves both (a test
server); without it, Kraken's.

Answers: ``{"result": "success", ..., "serverTime"}``, or ``{"result": "error", "error": "<code>"}``
(codes from https://docs.kraken.com/api/docs/guides/futures-rest and ccxt's krakenfutures error
table: ``authenticationError``, ``apiLimitExceeded``, ``nonceBelowThreshold``/``nonceDuplicate``,
``invalidArgument...``, ``requiredArgumentMissing``, ``marketUnavailable``, ``contractNotFound``,
``insufficientFunds``, ``accountInactive``); a 5xx may carry ``{"errors": [{"code", "message"}]}``
(``INSUFFICIENT_MARGIN``, ccxt#19896). An order refused after it was read says so in its
``sendStatus``/``editStatus``/``cancelStatus`` ``status`` instead (futures.py maps those).

Leverage (``[venues.kraken] leverage``, futures.py): ``PUT /derivatives/api/v3/leveragepreferences``
with ``symbol`` and ``maxLeverage`` as query parameters (signed like a GET: postData is the
query string), for multi-collateral contracts only ("88: Contract not a multi-collateral futures
contract"); answered ``{"result": "success", "serverTime"}``
(https://docs.kraken.com/api/docs/futures-api/trading/set-leverage-setting, also
https://docs.kraken.com/api-reference/multi-collateral/set-leverage-settings). Its refusals come
as HTTP 500 with ``{"result": "error", "errors": [{"code", "message"}]}`` (ccxt pull 18735:
``{"code": 87, "message": "CONTRACT_DOES_NOT_EXIST"}`` from this endpoint), so this one call
reads a 5xx body as a refusal (``refusals_in_5xx``); every other call keeps a 5xx a fault. A
contract's leverage is bounded by its margin schedule: ``marginLevels`` in ``instruments``, the
first tier's ``initialMargin`` (0.02 on PF_XBTUSD, PF_ETHUSD) allowing 1/0.02 = 50x, as ccxt's
``fetchLeverageTiers`` reads it (ccxt pull 24844); the REST refusal above it is not documented
(Kraken's websocket ``set_preference`` lists "Leverage exceeds the market's margin schedule",
https://docs.kraken.com/exchange/api-reference/unified-ws/set_preference).

Budgets (https://docs.kraken.com/api/docs/guides/futures-rate-limits): ``/derivatives`` calls
spend from 500 every 10 s: sendorder, editorder, cancelorder 10; accounts, openpositions,
openorders, fills (without ``lastFillTime``) 2; orders/status 1 (leveragepreferences is not listed:
budgeted at 1); public calls cost nothing
(Kraken's public limit is per IP: one a second here, as spot's). ``/history`` calls draw on a
pool of 100 tokens (same page; their cost rises with ``count``): budgeted here at 10 a call.
Over the limit Kraken answers ``apiLimitExceeded``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode

from sequence_core.errors import ErrorCodes, NetworkError, SequenceError, VenueError
from sequence_core.rest import RateLimiter, RestClient, VenueClient

from .signing import Nonces, futures_signed, futures_signed_challenge

DEFAULT_FUTURES_URL = "https://futures.kraken.com"
API = "/derivatives/api/v3"
ACCOUNT_LOG = "/api/history/v3/account-log"

CODES = ErrorCodes(
    "kraken futures",
    clock={"nonceBelowThreshold", "nonceDuplicate"},
    auth={"authenticationError", "apiKeyNotFound", "invalidApiKey"},
    not_found={"notFound", "orderForEditNotFound"},
    funds={"insufficientFunds", "INSUFFICIENT_MARGIN", "insufficientAvailableFunds", "wouldCauseLiquidation"},
    invalid={"invalidArgument", "requiredArgumentMissing", "marketUnavailable", "contractNotFound", "invalidUnit",
             "invalidAmount", "accountInactive", "Bad Request"},
    rate={"apiLimitExceeded"},
    auth_what="the futures API key or signature")
TRANSIENT = {"unavailable", "Unavailable", "Server Error", "unknownError"}
COSTS = {"leveragepreferences": 1,                  # not among the costs the rate-limit page lists: 1 here
         "sendorder": 10, "editorder": 10, "cancelorder": 10, "accounts": 2, "openpositions": 2, "openorders": 2,
         "fills": 2, "orders/status": 1}
HISTORY_COST = 10


def _code(body: Any) -> str | None:
    if not isinstance(body, dict):
        return None
    errors = body.get("errors")
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else None
    if body.get("result") == "error" or (body.get("error") and body.get("result") != "success"):
        return str(body.get("error") or (first and (first.get("message") or first.get("code"))) or "unknownError")
    if first is not None:
        return str(first.get("message") or first.get("code"))
    return None


def futures_error(code: str, auth: bool = False) -> VenueError:
    """``invalidArgument: size`` -> the core error for ``invalidArgument``, the detail kept."""
    head, _, detail = code.partition(":")
    head = head.strip()
    if head in TRANSIENT and not auth:
        return NetworkError(f"kraken futures: {code}")
    return CODES.error(head, detail.strip() or head, auth=auth)


def error_from(status: int, body: Any) -> SequenceError:
    code = _code(body)
    if code:
        return futures_error(code, auth=status in (401, 403))
    return VenueError(f"kraken futures refused the request: HTTP {status}")


def unwrap(body: Any) -> Any:
    """The answer itself, or its error as the core error (a rate-limit answer is retried)."""
    if not isinstance(body, dict):
        raise NetworkError("kraken futures sent an answer that is not a JSON object")
    code = _code(body)
    if code:
        raise futures_error(code)
    return body


class KrakenFuturesClient(VenueClient):
    venue = "kraken"

    def __init__(self, api_key: str, api_secret: str, base_url: str = DEFAULT_FUTURES_URL, timeout_s: float = 10.0):
        self._key, self._secret = api_key, api_secret
        super().__init__(base_url, error_from, timeout_s, unwrap=unwrap)
        self.trading, self.history = RateLimiter(500, 10.0), RateLimiter(100, 600.0)
        self.limits = {f"{API}/{name}": self.trading for name in COSTS} | {ACCOUNT_LOG: self.history,
                                                                          f"{API}/instruments": RateLimiter(1, 1.0),
                                                                          f"{API}/orderbook": RateLimiter(1, 1.0)}
        self.nonces = Nonces()
        # leveragepreferences refuses with HTTP 500 and a body that says why (module docstring)
        self._refusing = RestClient(base_url, self.venue, error_from, timeout_s, refusals_in_5xx=True)

    @property
    def has_credentials(self) -> bool:
        return bool(self._key and self._secret)

    def challenge_request(self) -> dict:
        """The websocket's challenge request (futures_stream.py): the key, never the secret."""
        return {"event": "challenge", "api_key": self._key}

    def signed_challenge(self, challenge: str) -> dict:
        """What every private websocket subscribe carries: the key, the challenge and its signature."""
        return {"api_key": self._key, "original_challenge": challenge,
                "signed_challenge": futures_signed_challenge(self._secret, challenge)}

    async def server_time_ms(self) -> int:
        """Kraken's clock from any answer's ``serverTime`` (the public instruments call)."""
        from .feed import ts_ns

        return ts_ns((await self.public(f"{API}/instruments")).get("serverTime")) // 1_000_000

    async def close(self) -> None:
        await self._refusing.close()
        await super().close()

    async def private(self, method: str, path: str, params: dict | None = None, idempotent: bool = True,
                      weight: float | None = None, rest: RestClient | None = None) -> Any:
        # spaces as %20, the form of the docs' example (``greeting=hello%20world``)
        data = urlencode({k: v for k, v in (params or {}).items() if v is not None}, quote_via=quote)

        async def send(venue_ms: int):
            headers = futures_signed(self._key, self._secret, path, data, self.nonces.next(venue_ms))
            if method == "POST":
                headers["Content-Type"] = "application/x-www-form-urlencoded"
                return await self.send("POST", path, "", data, headers, idempotent, weight or 1)
            if rest is not None:
                return await rest.request(method, path, query=data, headers=headers, idempotent=idempotent, weight=weight or 1,
                                          limiter=self.limits.get(path), unwrap=self._unwrap)
            return await self.send(method, path, data, "", headers, idempotent, weight or 1)
        return await self.clock.signed(send)

    # -- public -------------------------------------------------------------------------------
    async def instruments(self) -> list:
        from .symbols import from_futures_instruments

        return from_futures_instruments((await self.public(f"{API}/instruments")).get("instruments") or [])

    async def max_leverage(self, symbol: str) -> int | None:
        """1 / the first margin tier's ``initialMargin`` of a contract (None: not listed)."""
        rows = (await self.public(f"{API}/instruments")).get("instruments") or []
        levels = next((r.get("marginLevels") for r in rows if str(r.get("symbol", "")).upper() == symbol.upper()), None)
        initial = Decimal(str(levels[0].get("initialMargin") or 0)) if levels else Decimal(0)
        return int(1 / initial) if initial > 0 else None

    async def orderbook(self, symbol: str) -> dict:
        return await self.public(f"{API}/orderbook", {"symbol": symbol})

    # -- private ------------------------------------------------------------------------------
    async def _call(self, method: str, name: str, params: dict | None = None, idempotent: bool = True) -> dict:
        return await self.private(method, f"{API}/{name}", params, idempotent, COSTS.get(name, 1))

    async def accounts(self) -> dict:
        return (await self._call("GET", "accounts")).get("accounts") or {}

    async def open_positions(self) -> list:
        return (await self._call("GET", "openpositions")).get("openPositions") or []

    async def open_orders(self) -> list:
        return (await self._call("GET", "openorders")).get("openOrders") or []

    async def fills(self) -> list:
        """The account's latest fills (Kraken returns the last 100 without ``lastFillTime``)."""
        return (await self._call("GET", "fills")).get("fills") or []

    async def send_order(self, params: dict) -> dict:
        return (await self._call("POST", "sendorder", params, idempotent=False)).get("sendStatus") or {}

    async def edit_order(self, params: dict) -> dict:
        return (await self._call("POST", "editorder", params, idempotent=False)).get("editStatus") or {}

    async def cancel_order(self, cli_ord_id: str) -> dict:
        return (await self._call("POST", "cancelorder", {"cliOrdId": cli_ord_id})).get("cancelStatus") or {}

    async def order_status(self, cli_ord_id: str) -> list:
        """``orders/status`` of one client id: open orders, or ones filled or cancelled in the last 5 s."""
        return (await self._call("POST", "orders/status", {"cliOrdIds": cli_ord_id})).get("orders") or []

    async def set_leverage(self, symbol: str, leverage: int) -> dict:
        """A contract's max leverage preference (idempotent; Kraken makes the contract isolated-margin)."""
        return await self.private("PUT", f"{API}/leveragepreferences", {"symbol": symbol, "maxLeverage": str(leverage)},
                                  weight=COSTS["leveragepreferences"], rest=self._refusing)

    async def account_log(self, params: dict) -> list:
        return (await self.private("GET", ACCOUNT_LOG, params, weight=HISTORY_COST)).get("logs") or []

