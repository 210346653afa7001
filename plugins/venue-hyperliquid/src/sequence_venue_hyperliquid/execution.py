"""Hyperliquid execution session (perps and spot): the engine's node orders as Hyperliquid orders.

Spot orders are the perps' ``order`` action with a spot asset id (10000 + the pair's index in
``spotMeta.universe``, symbols.py), signed the same way, and everything below applies to them
alike: cloid, ``orderStatus``, ``batchModify``, ``cancelByCloid``, ``openOrders`` and ``userFills``
name a spot order by its pair's wire coin (``@107``, ``PURR/USDC``). Spot prices may carry
8 - szDecimals decimals (perps 6 - szDecimals). A spot fill's ``feeToken`` is the asset charged:
the base received on a buy, USDC on a sell (the recorded ``@156`` buy in
shared/data/responses/hyperliquid/http_user_fills_dust_conversion.json pays its fee in USOL), and
the fill keeps it as the fee's asset.

Order types (https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/exchange-endpoint#place-an-order):
``limit`` -> ``{"limit": {"tif": "Gtc"}}``, ``post_only`` -> ``Alo``, ``ioc`` -> ``Ioc``, ``market`` -> an
aggressive ``Ioc`` limit as the official SDK's ``market_open`` does: the node's cap if it has one,
else the mid (``allMids``) +/- 5 %, at 5 significant figures and 6 - szDecimals decimals (rounded
toward the passive side, so a cap is never exceeded). An IOC that finds nothing and a post-only
that would take are answered with an error status; the venue did cancel them, so they are
CANCELLED states here, not faults. The wire order is ``{a, b, p, s, r, t, c}`` in that key order.
``cloid`` is derived from the node's client order id (signing.cloid_for), so after a lost answer
``orderStatus`` by cloid finds the order. Amend is native (``batchModify`` by cloid): one signed,
atomic action; the venue replaces the order under a new oid with the same cloid, so fills are
collected by cloid across both. Its size is the new total less what has filled. The action's
``a`` (always place, added June 2026:
https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/exchange-endpoint#modify-multiple-orders,
as github.com/nktkas/hyperliquid pull 145 quotes it) is never sent:
with it the new order is placed "even if the cancel did not succeed", so an order filled
meanwhile would be traded twice; "actions hashed with a: false will be rejected". Without it the
new order must be a non-trigger ``Alo``, or a ``Gtc`` that would not match at once (which then
rests as ``Alo``): an amend of a limit order to a price that crosses the book is refused by the
venue, and the refusal is raised with its words.
Fills come from ``userFills`` (``fee`` positive when charged, in ``feeToken``; ``crossed`` = taker).
Positions come from ``clearinghouseState`` (signed ``szi``). Spot balances are every row of
``spotClearinghouseState`` (``{balances: [{coin, token, total, hold, entryNtl}]}``), free = ``total -
hold`` (https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/info-endpoint/spot#retrieve-a-users-token-balances;
the SDK's ``Info.spot_user_state``). Where perp margin lives depends on the account's
abstraction mode (``POST /info {"type": "userAbstraction", "user"}``, a bare JSON string,
https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/info-endpoint#query-a-users-abstraction-state):
"For API users, unified account and portfolio margin show all balances and holds in the spot
clearinghouse state. Individual perp dex user states are not meaningful."
(https://hyperliquid.gitbook.io/hyperliquid-docs/trading/account-abstraction-modes, which also says
"app.hyperliquid.xyz defaults to unified account"), and
``clearinghouseState`` itself now says "Under unified account or portfolio margin, use spot balances
endpoint instead" (https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/info-endpoint/perpetuals).
Clients see such an account's perp ``withdrawable`` read 0 while its USDC sits in spot (not a
documented value: the docs only call it not meaningful). So for "unifiedAccount"
and "portfolioMargin" the spot state's USDC row (token 0) ``total - hold`` is the one USDC that
spot and perp orders spend; for any other mode ("disabled"; "default", seen on accounts that
never chose one, which keep separate balances) the perp margin is ``withdrawable`` from
``clearinghouseState``, reported apart under ``execution.perp_margin("USDC")`` (a perp order is
checked against it, a spot order against the spot USDC). An unknown mode takes the
separate-balances reading, which can only understate. The mode is read again after MODE_TTL_S.
``holdings`` (each asset's total) is the spot state's ``total`` per token, and for such a standard
account the perp state's USDC without unrealized P&L added to the USDC row (``perp_usdc_from``).
Order updates and fills are also pushed on the websocket (stream.py, ``user_stream()``); polls stay the safety net.

Leverage: ``[venues.hyperliquid] leverage = 5`` (a positive integer; absent, each coin's leverage
is left as it is) sends ``updateLeverage`` (cross, http.py) for a perp before its first order of
the session, never for spot (``sequence_core.execution.Leverage``). The venue's refusal ("Invalid
leverage value") is raised as an ``InvalidOrder`` naming the coin, the leverage asked and the
coin's ``maxLeverage`` from ``meta``, and the order is not sent. Any other value of the setting is refused (``ConfigError``) when the
session is built.

Funding payments come from ``POST /info {"type": "userFunding", "user", "startTime"}``
(https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/info-endpoint/perpetuals#retrieve-a-users-funding-history-or-non-funding-ledger-updates):
unsigned like every read, about the account (or vault) address, ``startTime`` in ms inclusive,
``endTime`` optional (inclusive, defaults to now; left out here). Rows are
``{time, hash, delta: {type: "funding", coin, usdc, szi, fundingRate, nSamples}}``, oldest
first; ``coin`` is the perp's name in ``meta`` (our venue_symbol); ``usdc`` is the amount in USDC,
signed from the account's side: received > 0, paid < 0 (the official SDK's recorded answer,
shared/data/responses/hyperliquid/sdk-cassettes/test_user_funding_history_*.yaml: a short BTC at a
positive rate receives +5.950454, a long AVAX pays -0.572915; the Chainstack page below says so).
Funding is paid every hour (https://hyperliquid.gitbook.io/hyperliquid-docs/trading/funding; the
recorded ``fundingHistory`` answer in shared/data/responses/hyperliquid steps by 3,600,000 ms).
An answer over a time range holds at most 500 rows; "use the last returned timestamp as the next
startTime" (https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/info-endpoint,
"Pagination"). Every position is funded at the same millisecond, so a page can end inside one
funding time: the next page starts *at* the last time, not past it, and the rows read twice are
dropped by id. A full page all at one time could not be paged past without losing rows: refused.
``hash`` is all zeros in today's answers (https://docs.chainstack.com/reference/hyperliquid-info-user-funding
shows them so; the 2023 recording had one per row), so it identifies nothing: the payment id is
the account, coin and time, since an account has one position per coin, funded once per funding
time. It does not depend on the hash, so a row read again under either form is kept once, and
the account in it keeps two accounts' payments apart.
"""

from __future__ import annotations

import logging
import time
from decimal import Decimal, InvalidOperation

from sequence_core.errors import InvalidOrder, OrderNotFound, VenueError
from sequence_core.execution import (AmendResult, ExecutionSession, FundingPayment, Leverage, OrderState, VenueFill,
                                     VenuePosition, perp_margin)

from .http import HyperliquidClient, error_type, refusal
from .signing import client_id_of, cloid_for, to_wire
from .symbols import check_order, from_meta, max_decimals, round_price, spot_from_meta

log = logging.getLogger("sequence.venue.hyperliquid")

VENUE_CANCELLED = ("IocCancel", "BadAloPx")
FUNDING_PAGE = 500          # rows in a full userFunding answer
FUNDING_MAX_PAGES = 20      # per call: 10,000 payments, 900 of the 1200 weight a minute at most
TIF = {"post_only": "Alo", "ioc": "Ioc", "market": "Ioc"}
UNIFIED = ("unifiedAccount", "portfolioMargin")     # abstraction modes whose balances are in the spot state
MODE_TTL_S = 60.0           # how long the abstraction mode read is trusted (one userAbstraction weighs 20)


def _status(venue_status: str, filled: Decimal) -> str:
    if venue_status in ("open", "triggered"):
        return "PARTIALLY_FILLED" if filled else "NEW"
    if venue_status == "filled":
        return "FILLED"
    if venue_status.lower().endswith("rejected"):
        return "REJECTED"
    return "CANCELLED"          # canceled, marginCanceled, scheduledCancel, selfTradeCanceled, ...


def wire(asset: int, side: str, price: Decimal, qty: Decimal, tif: str, cloid: str) -> dict:
    return {"a": asset, "b": side == "buy", "p": to_wire(price), "s": to_wire(qty), "r": False,
            "t": {"limit": {"tif": tif}}, "c": cloid}


def venue_fill(f: dict) -> VenueFill:
    """A ``userFills`` row; fills recorded before trade ids (``tid``) existed are keyed by their content."""
    fill_id = str(f.get("tid") or f"{f['hash']}:{f['oid']}:{f['px']}:{f['sz']}:{f.get('startPosition', '')}")
    return VenueFill(fill_id, Decimal(f["px"]), Decimal(f["sz"]), Decimal(f.get("fee") or "0"),
                     f.get("feeToken") or "USDC", "taker" if f.get("crossed") else "maker", int(f["time"]) * 1_000_000)


class HyperliquidSession(ExecutionSession):
    venue = "hyperliquid"
    amend_mode = "native_atomic"
    slippage = Decimal("0.05")          # the SDK's DEFAULT_SLIPPAGE for market orders
    min_poll_s = 1.0                    # orderStatus per resting order, within the IP weight budget

    def __init__(self, client: HyperliquidClient, settings: dict | None = None):
        self.client = client
        self.settings = dict(settings or {})
        self._assets: dict[str, tuple[int, int]] | None = None
        self._spot: dict[str, tuple[int, int, str, str]] | None = None     # spotMeta, read on the first spot order
        self._seen: dict[str, tuple] = {}     # cloid -> (what the last status said, its raw fills, oids)
        self._amending: set[str] = set()      # cloids with a batchModify in flight (the stream's old-leg cancels)
        self._cids: dict[str, str] = {}       # cloid -> client order id, for the stream (a cloid is a hash of
                                              # today's 13-digit graph ids: signing.client_id_of cannot invert it)
        self._polled = 0.0
        self._mode: tuple[str, float] | None = None   # (userAbstraction answer, when read)
        self.leverage = Leverage("hyperliquid", "Hyperliquid", self.settings)
        self._max_leverage: dict[str, int] = {}       # coin -> meta's maxLeverage

    def _cloid(self, client_order_id: str) -> str:
        cloid = cloid_for(client_order_id)
        self._cids[cloid] = client_order_id
        return cloid

    def client_id(self, cloid: str) -> str:
        """The engine's id for a cloid this session has used (after a restart: once the catch-up
        read the order), else what the cloid encodes, else the cloid itself."""
        return self._cids.get(cloid) or client_id_of(cloid) or cloid

    async def _asset(self, inst) -> tuple[int, int]:
        """(asset id, szDecimals) of a perp or spot pair, learnt from ``meta`` / ``spotMeta``."""
        if inst.kind == "crypto":
            return await self._spot_asset(inst)
        if inst.kind != "perp":
            raise InvalidOrder(f"hyperliquid: {inst.symbol} is neither a perp nor a spot pair")
        if self._assets is None:
            meta = await self.client.meta()
            self._assets = from_meta(meta)
            self._max_leverage = {u["name"]: int(u["maxLeverage"]) for u in meta["universe"] if u.get("maxLeverage")}
        if inst.venue_symbol not in self._assets:
            raise InvalidOrder(f"hyperliquid: {inst.venue_symbol} is not in the venue's meta universe")
        return self._assets[inst.venue_symbol]

    async def _spot_asset(self, inst) -> tuple[int, int]:
        if self._spot is None:
            self._spot = spot_from_meta(await self.client.spot_meta())
        found = self._spot.get(inst.venue_symbol)
        wanted = (inst.base, inst.quote)
        if found is None or found[2:] != wanted:
            # pair indices differ between mainnet and testnet: never trade a pair by a number that names another
            listed = "not listed" if found is None else f"{found[2]}/{found[3]}"
            raise InvalidOrder(f"hyperliquid: spot pair {inst.venue_symbol} is {listed} in this network's spotMeta, "
                               f"not {wanted[0]}/{wanted[1]} ({inst.symbol})")
        return found[0], found[1]

    async def _set_leverage(self, inst, asset: int) -> None:
        """The configured leverage on a perp (cross), once per session, before its first order."""
        if inst.kind != "perp":
            return

        async def most(coin: str) -> int | None:
            return self._max_leverage.get(coin)
        await self.leverage.ensure(inst.venue_symbol, inst.symbol,
                                   lambda _coin, n: self.client.update_leverage(asset, n), most)

    async def _price(self, node, inst, sz_decimals: int) -> Decimal:
        buy = node.side == "buy"
        if node.order_type not in ("market", "ioc") and node.limit_price is not None:
            return node.limit_price                      # a resting price is the user's: checked, not moved
        price = node.limit_price
        if price is None:
            mid = Decimal(str((await self.client.all_mids())[inst.venue_symbol]))
            price = mid * (1 + self.slippage if buy else 1 - self.slippage)
        return round_price(price, sz_decimals, up=not buy, most=max_decimals(inst))

    async def place(self, node, instrument) -> OrderState:
        asset, sz_decimals = await self._asset(instrument)
        price = await self._price(node, instrument, sz_decimals)
        check_order(price, node.qty, sz_decimals, instrument.venue_symbol, max_decimals(instrument))
        tif = "Ioc" if node.limit_price is None else TIF.get(node.order_type, "Gtc")
        await self._set_leverage(instrument, asset)
        cloid = self._cloid(node.client_order_id)
        (status,) = await self.client.order(wire(asset, node.side, price, node.qty, tif, cloid))
        if isinstance(status, dict) and "error" in status:
            if error_type(status["error"]) in VENUE_CANCELLED:
                return OrderState(node.client_order_id, None, "CANCELLED", Decimal(0), reason=str(refusal(status["error"])))
            raise refusal(status["error"])
        state = await self.order_state(node.client_order_id, instrument)
        if state is None:       # accepted but not yet visible to reads: its ack is all there is
            ack = next(iter(status.values())) if isinstance(status, dict) else {}
            state = OrderState(node.client_order_id, str(ack.get("oid", "")) or None, "NEW", Decimal(0))
        return state

    async def _fills(self, cloid: str, order: dict, venue_status: str) -> list[dict]:
        """Fills by cloid (every leg of an amended order), read only when the order moved."""
        key = (order["oid"], order["sz"], venue_status)
        known = self._seen.get(cloid)
        oids = (known[2] if known else set()) | {order["oid"]}
        if known and known[0] == key:
            return known[1]
        untouched = venue_status == "open" and Decimal(order["sz"]) == Decimal(order.get("origSz") or order["sz"])
        if untouched and len(oids) == 1:
            raw = []
        else:
            raw = [f for f in await self.client.user_fills() if f.get("cloid") == cloid or f.get("oid") in oids]
        self._seen[cloid] = (key, raw, oids)
        return raw

    async def order_state(self, client_order_id, instrument=None):
        cloid = self._cloid(client_order_id)
        body = await self.client.order_status(cloid)
        if not isinstance(body, dict) or body.get("status") != "order":
            return None                                   # {"status": "unknownOid"}: never received
        venue_status, order = body["order"]["status"], body["order"]["order"]
        raw = await self._fills(cloid, order, venue_status)
        orig, left = Decimal(order.get("origSz") or order["sz"]), Decimal(order["sz"])
        earlier = sum((Decimal(f["sz"]) for f in raw if f.get("oid") != order["oid"]), Decimal(0))
        filled = max(sum((Decimal(f["sz"]) for f in raw), Decimal(0)), earlier + orig - left)
        return OrderState(client_order_id, str(order["oid"]), _status(venue_status, filled), filled,
                          tuple(venue_fill(f) for f in raw), reason="" if venue_status in ("open", "filled", "canceled")
                          else venue_status, venue_ts_ns=int(body["order"].get("statusTimestamp") or 0) * 1_000_000,
                          price=Decimal(order["limitPx"]), qty=earlier + orig)

    async def poll(self, nodes):
        if time.monotonic() - self._polled < self.min_poll_s:
            return []                                     # nothing new claimed; the next tick asks
        self._polled = time.monotonic()
        return await super().poll(nodes)

    async def cancel(self, node, instrument) -> OrderState:
        async def request():
            asset, _ = await self._asset(instrument)
            (status,) = await self.client.cancel_by_cloid(asset, self._cloid(node.client_order_id))
            if isinstance(status, dict) and "error" in status:
                raise refusal(status["error"])
        return await self.cancel_and_read(node, instrument, request)

    async def amend(self, node, instrument, price, qty) -> AmendResult:
        asset, sz_decimals = await self._asset(instrument)
        new_price = price if price is not None else node.limit_price
        remaining = (qty if qty is not None else node.qty) - node.filled_qty
        if new_price is None or remaining <= 0:
            raise InvalidOrder("hyperliquid: an amend needs a resting price and a size above what has filled "
                               f"({node.filled_qty})")
        check_order(new_price, remaining, sz_decimals, instrument.venue_symbol, max_decimals(instrument))
        cloid = self._cloid(node.client_order_id)
        self._amending.add(cloid)          # until the new oid is read back, a cancel pushed for the old one is the modify's
        try:
            (status,) = await self.client.modify(cloid, wire(asset, node.side, new_price, remaining,
                                                             TIF.get(node.order_type, "Gtc"), cloid))
            if isinstance(status, dict) and "error" in status:
                raise refusal(status["error"])
            state = await self.order_state(node.client_order_id, instrument)
        finally:
            self._amending.discard(cloid)
        if state is None:
            raise OrderNotFound(f"hyperliquid does not know order {cloid} after amending it")
        return AmendResult("native_atomic", state)

    async def open_orders(self, instrument) -> list[OrderState]:
        return [open_order(o, self.client_id) for o in await self.client.open_orders() if o["coin"] == instrument.venue_symbol]

    async def balances(self):
        """Spot tokens free; a standard account's perp margin apart (``USDC:perp-margin``)."""
        spot = spot_balances_from(await self.client.spot_clearinghouse_state())
        if await self.abstraction() in UNIFIED:
            return spot
        return {**spot, perp_margin("USDC"): balances_from(await self.client.clearinghouse_state())["USDC"]}

    async def holdings(self):
        """Spot tokens in total, held by open orders included (``spot_holdings_from``), plus, for a
        standard account with an address, the perp account's USDC without unrealized P&L
        (``perp_usdc_from``: the perp rows carry that P&L) added to the USDC row, read with the
        ``clearinghouseState`` request ``balances`` makes: the ledger books perp P&L, funding and
        fees in USDC, so both accounts are that coin. A unified (or portfolio margin) account's
        spot USDC row already holds all its USDC ("unified account and portfolio margin show all
        balances and holds in the spot clearinghouse state",
        https://hyperliquid.gitbook.io/hyperliquid-docs/trading/account-abstraction-modes): its perp
        state is not read, so nothing is counted twice."""
        held = spot_holdings_from(await self.client.spot_clearinghouse_state())
        if not self.client.user or await self.abstraction() in UNIFIED:
            return held
        usdc = held.get("USDC", Decimal(0)) + perp_usdc_from(await self.client.clearinghouse_state())
        return {**held, "USDC": usdc} if usdc else {a: q for a, q in held.items() if a != "USDC"}

    async def abstraction(self) -> str:
        """The account's abstraction mode, read at most every MODE_TTL_S."""
        if self._mode is None or time.monotonic() - self._mode[1] > MODE_TTL_S:
            self._mode = (await self.client.user_abstraction(), time.monotonic())
        return self._mode[0]

    def user_stream(self):
        """``orderUpdates`` + ``userFills`` for the address the reads are about (none without one)."""
        if not self.client.user:
            return None
        from .stream import HyperliquidUserStream

        return HyperliquidUserStream(self)

    async def positions(self):
        return positions_from(await self.client.clearinghouse_state())

    async def funding_payments(self, since_ns: int) -> list[FundingPayment]:
        """Every ``userFunding`` page from *since_ns* to now, oldest first. Past FUNDING_MAX_PAGES
        the oldest part is returned with a warning: the engine's next read starts from the last
        payment it kept, so the rest follows on later polls."""
        if not self.client.user:
            raise VenueError("hyperliquid: no account address configured; run `sequence connect hyperliquid`")
        start, kept = since_ns // 1_000_000, {}
        for _ in range(FUNDING_MAX_PAGES):
            rows = await self.client.user_funding(start)
            for p in funding_page(rows, self.client.user):
                if p.venue_ts_ns >= since_ns:
                    kept.setdefault(p.payment_id, p)
            if len(rows) < FUNDING_PAGE:
                return _oldest_first(kept)
            start = _next_start(rows, start)
        log.warning("hyperliquid: funding payments read up to %d ms only (%d pages); the next read goes on from there",
                    start, FUNDING_MAX_PAGES)
        return _oldest_first(kept)

    async def close(self) -> None:
        await self.client.close()


def _dec(value) -> Decimal | None:
    return Decimal(str(value)) if value not in (None, "") else None


def open_order(o: dict, client_id=client_id_of) -> OrderState:
    """An ``openOrders`` row (``origSz`` and ``cloid`` are absent from older answers);
    *client_id*: cloid -> the engine's id (the session's, which knows today's hashed cloids)."""
    orig, left = Decimal(o.get("origSz") or o["sz"]), Decimal(o["sz"])
    return OrderState((client_id(o["cloid"]) or o["cloid"]) if o.get("cloid") else str(o["oid"]), str(o["oid"]),
                      "PARTIALLY_FILLED" if left < orig else "NEW", orig - left,
                      price=Decimal(o["limitPx"]), qty=orig, venue_ts_ns=int(o["timestamp"]) * 1_000_000)


def balances_from(state: dict) -> dict[str, Decimal]:
    """Free USDC margin of a standard account's perps: ``withdrawable`` (``accountValue`` less margin in use)."""
    return {"USDC": Decimal(state["withdrawable"])}


def perp_usdc_from(state: dict) -> Decimal:
    """A standard account's perp USDC without unrealized P&L: ``marginSummary.accountValue`` (all
    positions, cross and isolated) less each ``assetPositions[].position.unrealizedPnl``, i.e. what
    was deposited plus realized P&L and funding, less fees. The fields are those of "Retrieve user's
    perpetuals account summary"
    (https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/info-endpoint/perpetuals; the
    official SDK's ``Info.user_state`` lists them), which defines none of them in words; the
    official SDK's recorded answer (sdk-cassettes/test_get_user_state.yaml) shows ``accountValue``
    = ``totalRawUsd`` + each position's signed notional (``szi`` x ``positionValue`` / |``szi``|), so
    ``accountValue`` holds the unrealized P&L and ``totalRawUsd`` is cash net of the positions'
    notional (it can be negative: http_clearinghouse_state_negative_total_raw_usd.json), a
    balance of neither kind. ``withdrawable`` leaves out the margin in use: not the total either."""
    upnl = sum((Decimal(row["position"].get("unrealizedPnl") or "0") for row in state.get("assetPositions", [])),
               Decimal(0))
    return Decimal(state["marginSummary"]["accountValue"]) - upnl


def _spot_rows(state: dict):
    """(token name, row) of each ``spotClearinghouseState`` balance; token 0 is USDC."""
    return (("USDC" if row.get("token") == 0 else row["coin"], row) for row in state.get("balances", []))


def spot_balances_from(state: dict) -> dict[str, Decimal]:
    """Free spot tokens, ``total - hold`` per row (never below 0), USDC always present. Under a
    unified (or portfolio margin) account the USDC row's hold includes the perps' margin."""
    out = {"USDC": Decimal(0)}
    for coin, row in _spot_rows(state):
        out[coin] = max(Decimal(row["total"]) - Decimal(row["hold"]), Decimal(0))
    return out


def spot_holdings_from(state: dict) -> dict[str, Decimal]:
    """Each spot token's ``total`` (``hold`` in open orders included; "Retrieve a user's token
    balances", https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/info-endpoint/spot)."""
    return {coin: q for coin, row in _spot_rows(state) if (q := Decimal(row["total"]))}


def positions_from(state: dict) -> list[VenuePosition]:
    out = []
    for row in state.get("assetPositions", []):
        p = row["position"]
        szi = Decimal(p["szi"])
        if not szi:
            continue
        value = Decimal(p.get("positionValue") or "0")
        out.append(VenuePosition(p["coin"], szi, _dec(p.get("entryPx")), abs(value / szi) if value else None,
                                 _dec(p.get("unrealizedPnl")), _dec(p.get("marginUsed")), _dec(p.get("liquidationPx"))))
    return out


def funding_payment(row: dict, user: str) -> FundingPayment | None:
    """A ``userFunding`` row (None for a delta other than funding), its id the account, coin and time."""
    delta = row["delta"]
    if delta.get("type") != "funding":
        return None
    time_ms = int(row["time"])
    return FundingPayment(f"{user.lower()}:{delta['coin']}:{time_ms}", delta["coin"], "USDC", Decimal(delta["usdc"]),
                          time_ms * 1_000_000)


def funding_page(rows, user: str) -> list[FundingPayment]:
    try:
        return [p for p in (funding_payment(r, user) for r in rows) if p]
    except (TypeError, KeyError, ValueError, AttributeError, InvalidOperation):
        raise VenueError("hyperliquid sent a userFunding answer that is not a list of funding rows") from None


def _next_start(rows: list, start: int) -> int:
    """The next page starts at the last time read (a page can end inside one funding time)."""
    last = max(int(r["time"]) for r in rows)
    if last <= start:
        raise VenueError(f"hyperliquid answered a full page of {len(rows)} funding payments at one time ({last} ms): "
                         "more than one page can hold, so the rest cannot be read")
    return last


def _oldest_first(kept: dict) -> list[FundingPayment]:
    return sorted(kept.values(), key=lambda p: (p.venue_ts_ns, p.venue_symbol))
