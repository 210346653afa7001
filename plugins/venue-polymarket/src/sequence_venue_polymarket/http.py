"""Polymarket REST clients: the CLOB (https://clob.polymarket.com), Gamma (market metadata,
https://gamma-api.polymarket.com) and the Data API (positions, https://data-api.polymarket.com).

CLOB endpoints used (docs https://docs.polymarket.com/api-reference, SDK endpoints.py):
public ``GET /time`` (unix seconds), ``/version`` ({"version": n}: the order version the
exchange accepts), ``/book?token_id=``, ``/tick-size?token_id=`` ({"minimum_tick_size"}),
``/neg-risk?token_id=`` ({"neg_risk"}), ``/fee-rate?token_id=`` ({"base_fee"}: V1 bps),
``/clob-markets/{condition_id}`` (``mts`` tick, ``nr`` neg risk, ``fd`` {r: rate, e: exponent,
to: takers only} — V2's fee parameters), ``/markets/{condition_id}`` (``tokens[].winner``);
L1 ``GET /auth/derive-api-key`` and ``POST /auth/api-key`` ({apiKey, secret, passphrase});
L2 ``POST /order``, ``DELETE /order`` ({"orderID"} -> {canceled, not_canceled}),
``GET /data/order/{id}``, ``/data/orders`` and ``/data/trades`` (cursor pages: next_cursor
"MA==" first, "LTE=" end), ``/balance-allowance?asset_type=COLLATERAL&signature_type=``.
Errors are ``{"error": "<message>"}`` with the HTTP status (https://docs.polymarket.com/
resources/error-codes); a refused order is HTTP 200/400 ``{"success": false, "errorMsg"}``.
There are no numeric codes, so the error map reads the documented messages. Trading
restrictions (https://docs.polymarket.com/trading/matching-engine and the error-codes page): a
matching-engine restart answers HTTP 425 on every order endpoint ("back off and retry": a
transient fault here); after it, 2 minutes of post-only mode refuse other orders with HTTP 503
``{"code": "post_only_mode", "error", "retry_after_seconds"}``, and HTTP 503 "Trading is
currently cancel-only. ..." / "Trading is currently disabled. ..." refuse new orders (body shapes
as ts-sdk bindings/src/clob/trading-restriction.ts reads them). Those 503s are refusals here;
any other 5xx stays a retryable fault.
An order signed for another exchange version is refused with "order_version_mismatch"; the SDK
then re-reads ``/version`` and signs again, and so does this adapter.
Rate limits (https://docs.polymarket.com/api-reference/rate-limits, per 10 s, enforced by
Cloudflare throttling, 429 past them): /book 1500, /tick-size 200, /data/orders and
/data/trades 500, /data/order 900, POST /order 3500 burst (36,000 / 10 min sustained),
DELETE /order 3000, balance-allowance 200, API-key endpoints 100; Gamma /markets 300; Data
API /positions 150. The client keeps the sustained order budget (60/s) as its own.
Clock: L1/L2 timestamps are unix seconds; like the SDK's ``useServerTime`` the client learns
the CLOB's clock from ``/time`` before its first signed call.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import msgspec

from sequence_core.errors import (AuthenticationError, InsufficientFunds, InvalidOrder, NetworkError, OrderNotFound,
                                  RateLimitExceeded, SequenceError, VenueError)
from sequence_core.market import plain
from sequence_core.rest import VenueClient

from .signing import ApiCreds, Wallet, l1_headers, l2_headers

DEFAULT_BASE_URL = "https://clob.polymarket.com"
DEFAULT_GAMMA_URL = "https://gamma-api.polymarket.com"
DEFAULT_DATA_URL = "https://data-api.polymarket.com"
FIRST_CURSOR, END_CURSOR = "MA==", "LTE="
LIMITS = {"/book": 1500, "/tick-size": 200, "/neg-risk": 200, "/fee-rate": 200, "/time": 100, "/version": 100,
          "/order": 600, "/data/orders": 500, "/data/trades": 500, "/balance-allowance": 200,
          "/auth/derive-api-key": 100, "/auth/api-key": 100}

# documented message fragments (lower case) by meaning; first match wins in this order
MESSAGES = (
    (OrderNotFound, ("not found", "does not exist", "unknown order")),
    (InsufficientFunds, ("not enough balance", "allowance", "insufficient")),
    (RateLimitExceeded, ("too many requests",)),
    (AuthenticationError, ("invalid api key", "unauthorized", "invalid l1 request headers",
                           "signer address", "order owner")),
    (InvalidOrder, ("tick size", "minimum", "invalid", "crosses book", "fully filled", "no orders found to match",
                    "not yet ready", "duplicated", "closed only", "expiration", "post-only", "order_version_mismatch",
                    "cancel-only", "trading is currently disabled", "market")),
)


class VersionMismatch(InvalidOrder):
    """The exchange accepts another order version than the one the order was signed for."""


def error_for(message: str, status: int = 400) -> SequenceError:
    text = message or "request refused"
    low = text.lower()
    if "order_version_mismatch" in low:
        return VersionMismatch(f"polymarket: {text} (the exchange moved to another order version)")
    if status == 401 or status == 403:
        return AuthenticationError(f"polymarket rejected the API key, passphrase or signature: {text} (HTTP {status})")
    for kind, fragments in MESSAGES:
        if any(f in low for f in fragments):
            if kind is AuthenticationError:
                return kind(f"polymarket rejected the API key, passphrase or signature: {text}")
            return kind(f"polymarket: {text}")
    return VenueError(f"polymarket: {text} (HTTP {status})")


def error_from(status: int, body: Any) -> SequenceError | None:
    message = ""
    if isinstance(body, dict):
        message = body.get("error") or body.get("errorMsg") or body.get("message") or ""
        if not isinstance(message, str):
            message = msgspec.json.encode(message).decode()
    if status == 425:
        return NetworkError("polymarket: the matching engine is restarting (HTTP 425); retry in a few seconds")
    if status >= 500:
        low = message.lower()
        if isinstance(body, dict) and body.get("code") == "post_only_mode":
            wait = body.get("retry_after_seconds")
            more = f" for about {wait:g} s more" if isinstance(wait, (int, float)) else ""
            return InvalidOrder(f"polymarket: {message or 'post-only mode'} (HTTP {status}: after a matching-engine "
                                f"restart only post-only orders are taken{more})")
        if "cancel-only" in low or "trading is currently disabled" in low:
            return InvalidOrder(f"polymarket: {message} (HTTP {status})")
        return None                     # any other 5xx: the client's retryable fault, as before
    return error_for(message or f"HTTP {status}", status)


def _json(data: Any) -> str:
    return msgspec.json.encode(data).decode() if data is not None else ""


class PolymarketClient(VenueClient):
    """The CLOB. ``wallet`` signs L1 and orders; API credentials are derived from it on first use."""

    venue = "polymarket"
    limits_per_period = LIMITS
    period_s = 10.0
    refusals_in_5xx = True          # 503 names cancel-only / post-only mode; other 5xx stay retryable faults

    def __init__(self, base_url: str = DEFAULT_BASE_URL, wallet: Wallet | None = None, creds: ApiCreds | None = None,
                 timeout_s: float = 10.0):
        self.wallet, self.creds = wallet, creds
        self._synced = False
        self._version: int | None = None
        super().__init__(base_url, error_from, timeout_s)

    async def server_time_ms(self) -> int:
        data = await self.public("/time")
        seconds = data.get("time") if isinstance(data, dict) else data
        if not isinstance(seconds, (int, float, str)) or not str(seconds).replace(".", "", 1).isdigit():
            raise NetworkError("polymarket sent a malformed answer to GET /time")
        return int(float(seconds) * 1000)

    async def _now_s(self) -> int:
        if not self._synced:
            await self.clock.sync()
            self._synced = True
        return self.clock.now_ms() // 1000

    # -- public --------------------------------------------------------------------------------
    async def version(self, refresh: bool = False) -> int:
        if self._version is None or refresh:
            data = await self.public("/version")
            self._version = int(data.get("version", 2)) if isinstance(data, dict) else 2
        return self._version

    async def book(self, token_id: str) -> dict:
        return self._dict(await self.public("/book", {"token_id": token_id}), "/book")

    async def tick_size(self, token_id: str) -> str:
        data = self._dict(await self.public("/tick-size", {"token_id": token_id}), "/tick-size")
        return plain(str(data["minimum_tick_size"])) if data.get("minimum_tick_size") else "0.01"

    async def neg_risk(self, token_id: str) -> bool:
        return bool(self._dict(await self.public("/neg-risk", {"token_id": token_id}), "/neg-risk").get("neg_risk"))

    async def fee_rate_bps(self, token_id: str) -> int:
        return int(float(self._dict(await self.public("/fee-rate", {"token_id": token_id}), "/fee-rate").get("base_fee") or 0))

    async def clob_market(self, condition_id: str) -> dict:
        return self._dict(await self.public(f"/clob-markets/{condition_id}"), "/clob-markets")

    async def market(self, condition_id: str) -> dict:
        return self._dict(await self.public(f"/markets/{condition_id}"), "/markets")

    @staticmethod
    def _dict(data: Any, path: str) -> dict:
        if not isinstance(data, dict):
            raise NetworkError(f"polymarket sent a malformed answer to GET {path}")
        return data

    # -- L1 ------------------------------------------------------------------------------------
    async def _l1(self, method: str, path: str) -> dict:
        headers = l1_headers(self.wallet, await self._now_s())
        data = await self.send(method, path, "", "", headers, idempotent=method == "GET")
        if not isinstance(data, dict) or not data.get("apiKey"):
            raise AuthenticationError(f"polymarket gave no API credentials at {method} {path}")
        return data

    async def ensure_creds(self) -> ApiCreds:
        """Derive the wallet's API credentials (L1), creating them the first time."""
        if self.creds is None:
            if self.wallet is None:
                raise AuthenticationError("polymarket: a signer private key is needed for trading calls")
            try:
                data = await self._l1("GET", "/auth/derive-api-key")
            except (AuthenticationError, NetworkError, RateLimitExceeded):
                raise
            except VenueError:
                data = await self._l1("POST", "/auth/api-key")
            self.creds = ApiCreds(data["apiKey"], data["secret"], data["passphrase"])
        return self.creds

    # -- L2 ------------------------------------------------------------------------------------
    async def l2(self, method: str, path: str, params: dict | None = None, body: Any = None, idempotent: bool = True) -> Any:
        creds = await self.ensure_creds()
        text = _json(body)
        headers = l2_headers(self.wallet.address, creds, await self._now_s(), method, path, text)
        headers["Content-Type"] = "application/json"
        return await self.send(method, path, urlencode(params or {}), text, headers, idempotent)

    async def post_order(self, order: dict, order_type: str, post_only: bool = False) -> dict:
        body = {"order": order, "owner": (await self.ensure_creds()).api_key, "orderType": order_type,
                "deferExec": False, "postOnly": post_only}
        data = await self.l2("POST", "/order", body=body, idempotent=False)
        if not isinstance(data, dict):
            raise NetworkError("polymarket sent a malformed answer to POST /order")
        if data.get("error") or data.get("success") is False:
            raise error_for(data.get("error") or data.get("errorMsg") or "order refused")
        if not data.get("orderID"):
            raise NetworkError("polymarket answered POST /order without an orderID")
        return data

    async def cancel(self, order_id: str) -> dict:
        return await self.l2("DELETE", "/order", body={"orderID": order_id}, idempotent=True)

    async def order(self, order_id: str) -> dict | None:
        try:
            data = await self.l2("GET", f"/data/order/{order_id}")
        except OrderNotFound:
            return None
        return data if isinstance(data, dict) and data.get("id") else None

    async def _pages(self, path: str, params: dict) -> list:
        out, cursor = [], FIRST_CURSOR
        for _ in range(100):
            page = await self.l2("GET", path, {**params, "next_cursor": cursor})
            if not isinstance(page, dict) or not isinstance(page.get("data"), list):
                raise NetworkError(f"polymarket sent a malformed page for GET {path}")
            out += page["data"]
            cursor = page.get("next_cursor") or END_CURSOR
            if cursor == END_CURSOR:
                break
        return out

    async def open_orders(self, asset_id: str) -> list:
        return await self._pages("/data/orders", {"asset_id": asset_id})

    async def trades(self, asset_id: str) -> list:
        return await self._pages("/data/trades", {"asset_id": asset_id})

    async def collateral(self) -> dict:
        return await self.l2("GET", "/balance-allowance",
                             {"asset_type": "COLLATERAL", "signature_type": self.wallet.signature_type})


class Gamma(VenueClient):
    """Market metadata: ``GET /markets?slug=`` (a list; clobTokenIds and outcomes are JSON text)."""

    venue = "polymarket"
    limits_per_period = {"/markets": 300}
    period_s = 10.0

    def __init__(self, base_url: str = DEFAULT_GAMMA_URL, timeout_s: float = 10.0):
        super().__init__(base_url, error_from, timeout_s)

    async def market_by_slug(self, slug: str) -> dict | None:
        data = await self.public("/markets", {"slug": slug})
        rows = data if isinstance(data, list) else [data] if isinstance(data, dict) and data.get("slug") else []
        return next((m for m in rows if isinstance(m, dict) and m.get("slug") == slug), None)


class DataApi(VenueClient):
    """Positions as the venue reports them: ``GET /positions?user=<funder>``."""

    venue = "polymarket"
    limits_per_period = {"/positions": 150}
    period_s = 10.0

    def __init__(self, base_url: str = DEFAULT_DATA_URL, timeout_s: float = 10.0):
        super().__init__(base_url, error_from, timeout_s)

    async def positions(self, user: str) -> list:
        data = await self.public("/positions", {"user": user, "sizeThreshold": "0", "limit": "500"})
        if not isinstance(data, list):
            raise NetworkError("polymarket sent a malformed answer to GET /positions")
        return data
