"""Kraken spot REST client (https://docs.kraken.com/api/docs/rest-api/).

Public ``GET https://api.kraken.com/0/public/<Method>``: Time, SystemStatus, AssetPairs, Depth,
Ticker. Private ``POST /0/private/<Method>``, form-encoded with ``nonce``, headers ``API-Key``
and ``API-Sign`` (signing.py): Balance, BalanceEx, TradeVolume, AddOrder, AmendOrder,
CancelOrder, OpenOrders, ClosedOrders, QueryOrders, QueryTrades, GetWebSocketsToken (the
private websocket's token, stream.py).
Every answer is HTTP 200 ``{"error": [...], "result": {...}}``; a non-empty ``error`` (strings
``E<Category>:<Message>[:<detail>]``, https://docs.kraken.com/api/docs/guides/spot-errors) is
the refusal, mapped below; ``W...`` entries are warnings.

Nonce rule instead of a clock window: ``EAPI:Invalid nonce`` means the nonce was not above the
last one the key used (another program on the same key, or one whose clock runs ahead). Kraken
refuses such a request before acting on it, so it is signed again, once, with a fresh nonce no
lower than Kraken's clock (learnt from ``Time`` through ``VenueClock``): safe for AddOrder too.
A read retried after a 5xx or a timeout goes out with the same body, so the same nonce: if
Kraken had taken it, that answer is ``Invalid nonce`` and the read is signed afresh, once.

Rate limits, kept client-side (counter with decay == a token bucket of ``max`` tokens refilled
at ``decay``/s). https://docs.kraken.com/api/docs/guides/spot-rest-ratelimits : each key has a
REST counter, +1 per call, +2 for ledger/trade-history calls (here QueryTrades, TradesHistory,
Ledgers and, conservatively, ClosedOrders), max 15 decaying 0.33/s (Starter), 20 and 0.5/s
(Intermediate), 20 and 1/s (Pro); past it ``EAPI:Rate limit exceeded``. AddOrder, AmendOrder
and CancelOrder skip that counter and count on the matching engine's per-pair counter
(https://docs.kraken.com/api/docs/guides/spot-ratelimits : add +1, amend +1 and up to +3,
cancel up to +8 by resting time; thresholds 60/125/180 by tier): one shared bucket here with
the worst-case costs. Public calls: about one per second per IP (Kraken support, "What are the
API rate limits?"). Settings ``tier`` = starter (default) | intermediate | pro.
"""

from __future__ import annotations

from typing import Any

from sequence_core.errors import ErrorCodes, NetworkError, SequenceError, VenueError
from sequence_core.rest import RateLimiter, VenueClient

from .signing import Nonces, signed_request

DEFAULT_BASE_URL = "https://api.kraken.com"

CODES = ErrorCodes(
    "kraken",
    clock={"EAPI:Invalid nonce"},
    auth={"EAPI:Invalid key", "EAPI:Invalid signature", "EGeneral:Permission denied", "EGeneral:Temporary lockout",
          "EAPI:Feature disabled", "EAuth:Account temporary disabled", "EAccount:Invalid permissions"},
    not_found={"EOrder:Unknown order", "EOrder:Invalid order"},
    funds={"EOrder:Insufficient funds", "EOrder:Insufficient margin", "EOrder:Margin allowance exceeded"},
    invalid={"EGeneral:Invalid arguments", "EOrder:Invalid price", "EOrder:Order minimum not met",
             "EOrder:Cost minimum not met", "EOrder:Tick size check failed", "EQuery:Unknown asset pair",
             "EOrder:Orders limit exceeded", "EService:Market in cancel_only mode", "EService:Market in post_only mode",
             "EOrder:Trading agreement required", "ETrade:Invalid request", "EOrder:Post only order"},
    rate={"EAPI:Rate limit exceeded", "EOrder:Rate limit exceeded", "EOrder:Domain rate limit exceeded",
          "EService:Throttled", "EAuth:Rate limit exceeded", "EAuth:Too many requests"},
    auth_what="the API key or signature")
TRANSIENT = {"EService:Unavailable", "EService:Busy", "EGeneral:Internal error", "EService:Deadline elapsed"}
HINTS = {"EAPI:Invalid nonce": "nonce not above the last one this key used (is another program using the key?)"}

# tier: (REST counter max, decay/s, trading counter threshold, decay/s)
TIERS = {"starter": (15, 0.33, 60, 1.0), "intermediate": (20, 0.5, 125, 2.34), "pro": (20, 1.0, 180, 3.75)}
PUBLIC = ("Time", "SystemStatus", "AssetPairs", "Depth", "Ticker")
WEIGHTS = {"QueryTrades": 2, "TradesHistory": 2, "Ledgers": 2, "QueryLedgers": 2, "ClosedOrders": 2,
           "AddOrder": 1, "AmendOrder": 4, "CancelOrder": 8}
TRADING = ("AddOrder", "AmendOrder", "CancelOrder")


def kraken_error(text: str, auth: bool = False) -> VenueError:
    """``EOrder:Invalid price:XBTUSD price can only be specified up to 1 decimals.`` -> the core
    error for ``EOrder:Invalid price``, the detail kept in the message."""
    category, _, rest = text.partition(":")
    message, _, detail = rest.partition(":")
    key = f"{category}:{message.strip()}"
    shown = HINTS.get(key) or (message.strip() + (f": {detail.strip()}" if detail.strip() else ""))
    if key in TRANSIENT and not auth:
        return NetworkError(f"kraken: {shown} ({key})")
    return CODES.error(key, shown, auth=auth)


def errors_in(body: Any) -> list[str]:
    return [e for e in body.get("error") or [] if isinstance(e, str) and e.startswith("E")] if isinstance(body, dict) else []


def error_from(status: int, body: Any) -> SequenceError:
    errors = errors_in(body)
    if errors:
        return kraken_error(errors[0], auth=status in (401, 403))
    return VenueError(f"kraken refused the request: HTTP {status}")


def unwrap(body: Any) -> Any:
    """The ``result`` of an answer, or its first error as the core error."""
    if not isinstance(body, dict) or "error" not in body:
        raise VenueError("kraken sent an answer without its error/result envelope")
    errors = errors_in(body)
    if errors:
        raise kraken_error(errors[0])
    return body.get("result")


class KrakenClient(VenueClient):
    venue = "kraken"

    def __init__(self, api_key: str, api_secret: str, base_url: str = DEFAULT_BASE_URL, timeout_s: float = 10.0,
                 tier: str = "starter"):
        self._key, self._secret = api_key, api_secret
        counter_max, decay, trade_max, trade_decay = TIERS.get(tier, TIERS["starter"])
        # the REST counter is the default budget; public and trading calls have their own
        super().__init__(base_url, error_from, timeout_s, unwrap=unwrap, limiter=RateLimiter(counter_max, counter_max / decay))
        public, trading = RateLimiter(1, 1.0), RateLimiter(trade_max, trade_max / trade_decay)
        self.limits = {**{f"/0/public/{m}": public for m in PUBLIC}, **{f"/0/private/{m}": trading for m in TRADING}}
        self.nonces = Nonces()

    async def server_time_ms(self) -> int:
        # whole seconds only: the end of that second, since an early nonce is refused and a late one is not
        return int((await self.public("/0/public/Time"))["unixtime"]) * 1000 + 999

    async def private(self, method: str, params: dict | None = None, idempotent: bool = True) -> Any:
        path = f"/0/private/{method}"

        async def send(venue_ms: int):
            body, headers = signed_request(self._key, self._secret, path, params or {}, self.nonces.next(venue_ms))
            return await self.send("POST", path, "", body, headers, idempotent, WEIGHTS.get(method, 1))
        return await self.clock.signed(send)

    # -- public -------------------------------------------------------------------------------
    async def system_status(self) -> str:
        return (await self.public("/0/public/SystemStatus"))["status"]

    async def instruments(self) -> list:
        from .symbols import from_asset_pairs

        return from_asset_pairs(await self.public("/0/public/AssetPairs"))

    async def depth(self, pair: str, count: int = 100) -> dict:
        """The one book asked for (the answer is keyed by Kraken's REST key, ``XXBTZUSD``)."""
        result = await self.public("/0/public/Depth", {"pair": pair, "count": min(count, 500)})
        return next(iter(result.values()))

    async def ticker(self, pair: str) -> dict:
        return next(iter((await self.public("/0/public/Ticker", {"pair": pair})).values()))

    # -- private ------------------------------------------------------------------------------
    async def balance(self) -> dict:
        return await self.private("Balance")

    async def balance_ex(self) -> dict:
        return await self.private("BalanceEx")

    async def trade_volume(self, pair: str) -> dict:
        return await self.private("TradeVolume", {"pair": pair})

    async def add_order(self, params: dict) -> dict:
        return await self.private("AddOrder", params, idempotent=False)

    async def amend_order(self, params: dict) -> dict:
        return await self.private("AmendOrder", params, idempotent=False)

    async def cancel_order(self, cl_ord_id: str) -> dict:
        return await self.private("CancelOrder", {"cl_ord_id": cl_ord_id})

    async def open_orders(self, cl_ord_id: str | None = None) -> dict:
        params = {"trades": "true", **({"cl_ord_id": cl_ord_id} if cl_ord_id else {})}
        return (await self.private("OpenOrders", params))["open"]

    async def closed_orders(self, cl_ord_id: str) -> dict:
        return (await self.private("ClosedOrders", {"trades": "true", "cl_ord_id": cl_ord_id}))["closed"]

    async def query_orders(self, txids: list[str]) -> dict:
        return await self.private("QueryOrders", {"trades": "true", "txid": ",".join(txids)})

    async def websockets_token(self) -> str:
        """A token for the private websocket (https://docs.kraken.com/api/docs/rest-api/get-websockets-token):
        ``result.token``; to be used within 15 minutes of issue, it then lasts as long as the connection."""
        return (await self.private("GetWebSocketsToken"))["token"]

    async def query_trades(self, txids: list[str]) -> dict:
        """Trade details, 20 ids a call (the endpoint's limit)."""
        out: dict = {}
        for i in range(0, len(txids), 20):
            out.update(await self.private("QueryTrades", {"txid": ",".join(txids[i:i + 20])}))
        return out
