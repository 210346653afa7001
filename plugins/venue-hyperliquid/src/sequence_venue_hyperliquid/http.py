"""Hyperliquid REST client: ``POST /info`` (reads, unsigned) and ``POST /exchange`` (signed actions).

Docs: https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/info-endpoint and
.../exchange-endpoint. Reads used: ``meta``, ``spotMeta`` (symbols.py), ``l2Book``, ``allMids``, ``clearinghouseState``,
``spotClearinghouseState``, ``userAbstraction`` (execution.py's balances says why), ``openOrders``,
``orderStatus`` (by oid or by 16-byte cloid), ``userFills``, ``userRole``, ``userFunding``
(execution.py's funding_payments says how it is paged). Actions:
``order``, ``cancel``, ``cancelByCloid``, ``batchModify``, ``approveAgent``; the body is
``{action, nonce, signature, vaultAddress, expiresAfter}`` (signing.py). An action answer is
``{"status": "ok", "response": {"type": ..., "data": {"statuses": [...]}}}`` where each status is
``{"resting": {oid}}`` | ``{"filled": {totalSz, avgPx, oid}}`` | ``{"error": "..."}`` |
``"success"``, or ``{"status": "err", "response": "<message>"}`` for the whole request, both with
HTTP 200. Hyperliquid has no error codes: messages are matched to the error types its docs list
(https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/error-responses: Tick,
MinTradeNtl, PerpMargin, ReduceOnly, BadAloPx, IocCancel, ...; for spot MinTradeSpotNtl "Order must
have minimum value of 10 {quote_token}" and InsufficientSpotBalance "Order has insufficient spot
balance to trade"), which the messages then show. Spot orders are the same ``order`` action with a
spot asset id, signed the same way (the SDK's ``Exchange.order`` takes any name its Info maps).
A signature from the wrong key recovers another address: "User or API Wallet 0x.. does not exist."
Nonces (https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/nonces-and-api-wallets):
a millisecond timestamp, unique per signer, within (T - 2 days, T + 1 day) of the block time T;
here ``max(now, last + 1)`` on the venue's clock. "Invalid nonce" answers are resynced from the
``time`` of an l2Book answer and signed again (a refused action did nothing, so resending it
is safe); a signed action is never replayed as it was, except ``updateLeverage``.

Leverage (``[venues.hyperliquid] leverage``, execution.py): the L1 action ``{"type":
"updateLeverage", "asset", "isCross", "leverage"}`` in that key order (the hash is over msgpack
of the action as sent), signed like ``order`` (phantom agent), ``isCross`` true ("true for cross
leverage, false for isolated leverage"), ``leverage`` an integer; answered ``{"status": "ok",
"response": {"type": "default"}}``
(https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/exchange-endpoint#update-leverage;
the official SDK's ``Exchange.update_leverage``; https://docs.chainstack.com/reference/hyperliquid-exchange-update-leverage
gives the fields and the answer). Each perp's maximum is ``maxLeverage`` in ``meta.universe``;
above it the venue refuses with ``{"status": "err", "response": "Invalid leverage value"}`` (the
words as traders report them for a coin whose ``maxLeverage`` is below the leverage asked; not
in the error-responses page). Setting the same leverage twice changes nothing, so this action
may be resent as a read is: a resend of an action that did land is refused as a duplicate
nonce, which is signed afresh like any nonce refusal, and sets the same value again.
Rate limits (https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/rate-limits-and-user-limits,
formerly .../rate-limits): per
IP 1200 weight a minute; actions weigh 1 + floor(batch / 40); ``l2Book``, ``allMids``,
``clearinghouseState``, ``orderStatus`` weigh 2, ``userRole`` 60, other info requests 20 (plus 1
per 20 rows returned for ``userFills`` and ``userFunding``, also listed in
https://docs.rs/crate/guilder-client-hyperliquid/0.2.0/source/README.md; ``userFunding``'s rows
are charged once they are known). Per address, actions are limited by traded volume (10000 to start);
once the venue says so ("Too many cumulative requests"), the client sends at most one order
action per 10 s, as the venue still allows, while cancels go on (their limit is higher).
Accounts in unified account or portfolio margin mode are also "limited to 50k user actions per
day" (https://hyperliquid.gitbook.io/hyperliquid-docs/trading/account-abstraction-modes; the
words of that refusal are not documented: a message with "too many" or "rate limit" is taken
for the address limit above, any other is shown as the venue wrote it).
"""

from __future__ import annotations

from typing import Any

import msgspec

from sequence_core.errors import ErrorCodes, RateLimitExceeded, SequenceError, VenueError
from sequence_core.keys import evm_address_of, parse_evm_private_key
from sequence_core.rest import RateLimiter, VenueClient

from . import signing

DEFAULT_BASE_URL = "https://api.hyperliquid.xyz"
TESTNET_BASE_URL = "https://api.hyperliquid-testnet.xyz"
INFO_WEIGHTS = {"l2Book": 2, "allMids": 2, "clearinghouseState": 2, "orderStatus": 2, "spotClearinghouseState": 2,
                "exchangeStatus": 2, "userRole": 60}

# (words in the venue's message, the error type its docs name or ours in lower case)
MESSAGES = (
    ("divisible by tick size", "Tick"), ("minimum value of 10 ", "MinTradeSpotNtl"), ("minimum value of", "MinTradeNtl"),
    ("insufficient spot balance", "InsufficientSpotBalance"), ("insufficient margin", "PerpMargin"),
    ("reduce only order would increase", "ReduceOnly"), ("post only order would have immediately matched", "BadAloPx"),
    ("could not immediately match", "IocCancel"), ("invalid tp/sl price", "BadTriggerPx"),
    ("no liquidity available", "MarketOrderNoLiquidity"), ("invalid size", "invalid_size"),
    ("invalid price", "invalid_price"), ("never placed, already canceled, or filled", "unknown_order"),
    ("cannot modify", "unknown_order"), ("does not exist", "unknown_signer"), ("invalid nonce", "nonce"),
    ("invalid leverage", "invalid_leverage"), ("too many", "address_rate_limit"), ("rate limit", "address_rate_limit"),
)
CODES = ErrorCodes("hyperliquid", clock={"nonce"}, auth={"unknown_signer"}, not_found={"unknown_order"},
                   funds={"PerpMargin", "InsufficientSpotBalance"}, invalid={"Tick", "MinTradeNtl", "MinTradeSpotNtl", "ReduceOnly", "BadAloPx", "IocCancel",
                                                   "BadTriggerPx", "MarketOrderNoLiquidity", "invalid_size", "invalid_price",
                                                   "invalid_leverage"},
                   rate={"address_rate_limit"}, auth_what="the private key (or the API wallet's approval)")


def error_type(message: str) -> str:
    low = message.lower()
    return next((code for words, code in MESSAGES if words in low), "refused")


def refusal(message: str) -> VenueError:
    return CODES.error(error_type(message), str(message).strip().rstrip("."))


def error_from(status: int, body: Any) -> SequenceError:
    """4xx other than 429: 422 is the venue's "Failed to deserialize the JSON body" (text)."""
    return VenueError(f"hyperliquid refused the request (HTTP {status}): "
                      f"{body if isinstance(body, str) else 'the body was not what it expects'}")


def unwrap_action(body: Any) -> Any:
    if not isinstance(body, dict) or body.get("status") not in ("ok", "err"):
        raise VenueError("hyperliquid sent an action answer without a status")
    if body["status"] == "err":
        raise refusal(str(body.get("response", "")))
    return body.get("response")


class HyperliquidClient(VenueClient):
    venue = "hyperliquid"

    def __init__(self, private_key: str = "", account_address: str = "", vault_address: str = "",
                 base_url: str = DEFAULT_BASE_URL, mainnet: bool | None = None, timeout_s: float = 10.0):
        self._key = parse_evm_private_key("private_key", private_key) if private_key else b""
        self.signer = evm_address_of(self._key) if self._key else ""
        self.vault = vault_address or None
        self.user = vault_address or account_address or self.signer    # whose state the reads are about
        self.mainnet = ("testnet" not in base_url) if mainnet is None else mainnet
        self._last_nonce = 0
        self.action_limiter: RateLimiter | None = None                 # set once the address is limited
        super().__init__(base_url, error_from, timeout_s, limiter=RateLimiter(1200, 60.0))

    def __repr__(self) -> str:
        return f"HyperliquidClient({self.rest.base_url}, {self.user or 'no account'})"

    # -- transport ----------------------------------------------------------------------------------
    async def info(self, body: dict, weight: float | None = None) -> Any:
        weight = weight if weight is not None else INFO_WEIGHTS.get(body["type"], 20)
        return await self.rest.request("POST", "/info", body=msgspec.json.encode(body),
                                       headers={"Content-Type": "application/json"}, idempotent=True, weight=weight)

    def nonce(self, now_ms: int) -> int:
        self._last_nonce = max(now_ms, self._last_nonce + 1)
        return self._last_nonce

    async def action(self, action: dict, batch: int = 1, cancel: bool = False, user_signed: tuple | None = None,
                     idempotent: bool = False) -> Any:
        """Sign and send one action. Never retried as sent (unless *idempotent*: the same value set
        again changes nothing): a refused nonce is signed afresh."""
        if not self._key:
            raise VenueError("hyperliquid: no private key configured; run `sequence connect hyperliquid`")
        if self.action_limiter and not cancel:
            await self.action_limiter.acquire()

        async def send(now_ms: int):
            nonce = self.nonce(now_ms)
            if user_signed:
                fields, primary = user_signed
                action["nonce"] = nonce
                signature = signing.sign_user_action(self._key, action, fields, primary, self.mainnet)
            else:
                signature = signing.sign_l1_action(self._key, action, self.vault, nonce, self.mainnet)
            body = {"action": action, "nonce": nonce, "signature": signature,
                    "vaultAddress": None if user_signed else self.vault, "expiresAfter": None}
            try:
                return await self.rest.request("POST", "/exchange", body=msgspec.json.encode(body),
                                               headers={"Content-Type": "application/json"}, idempotent=idempotent,
                                               weight=1 + batch // 40, unwrap=unwrap_action)
            except RateLimitExceeded as exc:
                if exc.retry_after is None:    # the address limit (not HTTP 429): one action per 10 s from now on
                    self.action_limiter = self.action_limiter or RateLimiter(1, 10.0)
                    self.action_limiter.tokens = 0.0
                raise
        return await self.clock.signed(send)

    async def server_time_ms(self) -> int:
        """Hyperliquid has no time endpoint; an l2Book answer carries the venue's time in ms."""
        return int((await self.info({"type": "l2Book", "coin": "BTC"}))["time"])

    # -- reads --------------------------------------------------------------------------------------
    async def meta(self) -> dict:
        return await self.info({"type": "meta"})

    async def spot_meta(self) -> dict:
        return await self.info({"type": "spotMeta"})

    async def l2_book(self, coin: str) -> dict:
        return await self.info({"type": "l2Book", "coin": coin})

    async def all_mids(self) -> dict:
        return await self.info({"type": "allMids"})

    async def clearinghouse_state(self) -> dict:
        return await self.info({"type": "clearinghouseState", "user": self.user})

    async def spot_clearinghouse_state(self) -> dict:
        return await self.info({"type": "spotClearinghouseState", "user": self.user})

    async def user_abstraction(self) -> str:
        """The account's abstraction mode ("unifiedAccount", "portfolioMargin", "disabled", "default"; "" if
        the answer is not a string)."""
        mode = await self.info({"type": "userAbstraction", "user": self.user})
        return mode if isinstance(mode, str) else ""

    async def open_orders(self) -> list:
        return await self.info({"type": "openOrders", "user": self.user})

    async def order_status(self, oid: int | str) -> dict:
        return await self.info({"type": "orderStatus", "user": self.user, "oid": oid})

    async def user_fills(self) -> list:
        return await self.info({"type": "userFills", "user": self.user})

    async def user_funding(self, start_ms: int) -> list:
        """The account's funding from *start_ms* (inclusive) to now, oldest first, at most a page.
        It weighs 20 plus 1 per 20 rows: the rows' share is taken from the budget once they are known."""
        rows = await self.info({"type": "userFunding", "user": self.user, "startTime": start_ms})
        if isinstance(rows, list) and self.rest.limiter:
            await self.rest.limiter.acquire(len(rows) // 20)
        return rows

    async def user_role(self, address: str) -> dict:
        return await self.info({"type": "userRole", "user": address})

    # -- actions ------------------------------------------------------------------------------------
    async def order(self, wire: dict) -> list:
        return _statuses(await self.action({"type": "order", "orders": [wire], "grouping": "na"}))

    async def cancel_by_cloid(self, asset: int, cloid: str) -> list:
        return _statuses(await self.action({"type": "cancelByCloid", "cancels": [{"asset": asset, "cloid": cloid}]},
                                           cancel=True))

    async def cancel(self, asset: int, oid: int) -> list:
        return _statuses(await self.action({"type": "cancel", "cancels": [{"a": asset, "o": oid}]}, cancel=True))

    async def modify(self, oid: int | str, wire: dict) -> list:
        return _statuses(await self.action({"type": "batchModify", "modifies": [{"oid": oid, "order": wire}]}))

    async def update_leverage(self, asset: int, leverage: int) -> Any:
        """Cross leverage of one perp (idempotent)."""
        return await self.action({"type": "updateLeverage", "asset": asset, "isCross": True, "leverage": leverage},
                                 idempotent=True)

    async def approve_agent(self, agent_address: str, name: str = "") -> Any:
        """Signed by the main wallet's key (a user-signed action, ``HyperliquidTransaction:ApproveAgent``)."""
        action = {"type": "approveAgent", "agentAddress": agent_address, "agentName": name, "nonce": 0}
        return await self.action(action, user_signed=(signing.APPROVE_AGENT_FIELDS, "HyperliquidTransaction:ApproveAgent"))


def _statuses(response: Any) -> list:
    try:
        return list(response["data"]["statuses"])
    except (TypeError, KeyError):
        raise VenueError("hyperliquid sent an action answer without statuses") from None
