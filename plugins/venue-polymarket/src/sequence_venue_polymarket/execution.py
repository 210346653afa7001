"""Polymarket execution session: the engine's node orders as signed CLOB V2 orders.

Order types (https://docs.polymarket.com/trading/orders/create): ``limit`` -> GTC,
``post_only`` -> GTC with ``postOnly`` (the CLOB refuses one that would cross), ``ioc`` -> FAK
(fill what is there, kill the rest), ``market`` -> FAK at the price that walks the book to the
size (the SDK's calculateBuy/SellMarketPrice). A FAK/FOK the book cannot fill is answered with
an error ("no orders found to match ..."); that is a venue cancel here, not a refusal.
There is no amend: the engine cancels and replaces. Polymarket has no client order id: the
order id is the hash of the signed order, the salt is derived from the node's client order id,
and the signed order is written to ``orders.jsonl`` before it is sent. So a lost answer, a
retried place or a restart finds the order by that hash (``GET /data/order/{hash}``) and a
place that never arrived is re-sent byte for byte (the CLOB refuses a duplicate).
Fills are the order's trades (``GET /data/trades``; MATCHED, MINED, CONFIRMED, RETRYING count,
FAILED does not): the taker side uses the trade's size and price, a maker side its
``maker_orders`` entry. Fees are charged at match from the market's ``fd`` parameters, so a
fill's fee is the venue's ``fee`` field when a trade carries one, else that curve (takers only).
Balances: pUSD collateral from ``/balance-allowance`` (6-decimal units) under the books'
quote name (USDC) and as pUSD, plus outcome tokens from the Data API ``/positions`` (keyed
``slug:OUTCOME``, as the engine checks a sell). Settlement: a market is resolved when the CLOB's
``GET /markets/{condition_id}`` names a winning token; the funder's holdings are then redeemed
through the relayer (relayer.py) and ``settle`` answers ``relayer_redeem``. Protocol V2 markets
(Gamma ``version`` "v2") hold positions in the PositionManager, and "V2 split, merge, and
redemption use Router" (https://docs.polymarket.com/protocol-v2-migration): their redeem is
refused with that reason rather than sent to the CTF collateral adapter. Their orders are signed
for Exchange V3 (signing.order_version).
Order and trade pushes come from the CLOB user channel (stream.py), read with the same parsers.
"""

from __future__ import annotations

import time
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

import msgspec

from sequence_core.errors import InvalidOrder, NetworkError, VenueError
from sequence_core.execution import ExecutionSession, OrderState, Settlement, VenueFill, VenuePosition
from sequence_core.sentlog import SentLog

from .fees import market_fee
from .http import DataApi, Gamma, PolymarketClient, VersionMismatch
from .relayer import Relayer
from .signing import SIGNED_VERSIONS, Wallet, build_order, is_v2_position_id, order_version, salt_for
from .symbols import Market, from_gamma, load_cache, save_market

TYPES = {"limit": ("GTC", False), "post_only": ("GTC", True), "ioc": ("FAK", False), "market": ("FAK", False)}
KILLED = ("no orders found to match", "couldn't be fully filled", "could not be fully filled")
LIVE = {"LIVE", "DELAYED", "UNMATCHED"}


class OrderRecord(msgspec.Struct):
    client_order_id: str
    order_id: str
    token_id: str
    order: dict
    order_type: str
    post_only: bool
    version: int
    neg_risk: bool


def _dec(value, default: str = "0") -> Decimal:
    try:
        return Decimal(str(value)) if value not in (None, "") else Decimal(default)
    except InvalidOperation:
        raise NetworkError(f"polymarket sent a number that is not one: {value!r}") from None


def _ts_ns(value) -> int:
    """Trade/order times come as unix seconds (or ms) or ISO 8601."""
    if value in (None, ""):
        return 0
    text = str(value)
    if text.replace(".", "", 1).isdigit():
        n = float(text)
        return int(n * (1e6 if n > 1e11 else 1e9))
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1e9)


def status_of(o: dict, order_type: str | None = None) -> str:
    raw = str(o.get("status", "")).upper()
    matched, size = _dec(o.get("size_matched")), _dec(o.get("original_size"))
    kind = (order_type or o.get("order_type") or "GTC").upper()
    if raw in LIVE:
        if kind in ("FAK", "FOK") and raw == "UNMATCHED":
            return "CANCELLED"
        return "PARTIALLY_FILLED" if matched > 0 else "NEW"
    if raw == "MATCHED":
        return "FILLED" if matched >= size else ("CANCELLED" if kind in ("FAK", "FOK") else "PARTIALLY_FILLED")
    if raw.startswith("CANCELED") or raw.startswith("CANCELLED"):
        return "CANCELLED"
    if raw == "INVALID":
        return "REJECTED"
    return "NEW"


def order_state(cid: str, o: dict, fills: tuple = (), order_type: str | None = None) -> OrderState:
    return OrderState(cid, str(o["id"]), status_of(o, order_type), _dec(o.get("size_matched")), fills,
                      price=_dec(o["price"]) if o.get("price") else None,
                      qty=_dec(o["original_size"]) if o.get("original_size") else None,
                      venue_ts_ns=_ts_ns(o.get("created_at")))


def fills_of(order: dict, trades: list, quote: str, fd: dict | None) -> tuple:
    """Our fills in these trades: as taker (taker_order_id) or as a maker (maker_orders)."""
    oid, out = str(order["id"]).lower(), []
    for t in trades:
        if str(t.get("status", "")).upper() == "FAILED":
            continue
        ts = _ts_ns(t.get("match_time"))
        if str(t.get("taker_order_id", "")).lower() == oid:
            price, qty = _dec(t["price"]), _dec(t["size"])
            fee = _dec(t["fee"]) if t.get("fee") not in (None, "") else market_fee(price, qty, "taker", fd)
            out.append(VenueFill(str(t["id"]), price, qty, fee, quote, "taker", ts))
            continue
        for m in t.get("maker_orders") or []:
            if str(m.get("order_id", "")).lower() == oid:
                price, qty = _dec(m["price"]), _dec(m["matched_amount"])
                fee = _dec(m["fee"]) if m.get("fee") not in (None, "") else market_fee(price, qty, "maker", fd)
                out.append(VenueFill(f"{t['id']}:{oid[:18]}", price, qty, fee, quote, "maker", ts))
    return tuple(out)


def position_of(row: dict) -> VenuePosition:
    return VenuePosition(str(row["asset"]), _dec(row.get("size")), entry_price=_dec(row["avgPrice"]) if row.get("avgPrice") is not None else None,
                         mark_price=_dec(row["curPrice"]) if row.get("curPrice") is not None else None,
                         unrealized_pnl=_dec(row["cashPnl"]) if row.get("cashPnl") is not None else None)


def collateral(balance) -> Decimal:
    """``/balance-allowance`` balance: 6-decimal integer units (a decimal string is taken as is)."""
    text = str(balance or "0")
    return _dec(text) if "." in text else _dec(text) / Decimal(10) ** 6


class PolymarketSession(ExecutionSession):
    venue = "polymarket"
    amend_mode = "cancel_replace"

    def __init__(self, client: PolymarketClient, gamma: Gamma, data: DataApi, relayer: Relayer, wallet: Wallet,
                 log: SentLog[OrderRecord], cache: Path | None = None, settings: dict | None = None):
        self.client, self.gamma, self.data, self.relayer, self.wallet, self.log = client, gamma, data, relayer, wallet, log
        self.cache, self.settings = cache, settings or {}
        self._params: dict[str, tuple[str, bool]] = {}
        self._fd: dict[str, dict] = {}
        self._markets: dict[str, Market] = {}
        self._by_order_id = {r.order_id.lower(): r for r in log}     # pushes name orders by id only

    # -- market facts ----------------------------------------------------------------------------
    async def params(self, token_id: str) -> tuple[str, bool]:
        """(tick size, neg risk) of a token, as the CLOB says (they decide rounding and the exchange)."""
        if token_id not in self._params:
            self._params[token_id] = (await self.client.tick_size(token_id), await self.client.neg_risk(token_id))
        return self._params[token_id]

    async def market(self, inst) -> Market:
        """The market of an instrument with its condition id (Gamma, cached on disk)."""
        slug = inst.symbol
        if slug not in self._markets:
            mk = load_cache(self.cache).get(slug) if self.cache else None
            if mk is None or not mk.condition_id:
                found = await self.gamma.market_by_slug(slug)
                mk = from_gamma(found) if found else None
                if mk is None:
                    raise InvalidOrder(f"polymarket: Gamma does not know a binary market '{slug}'")
                if self.cache:
                    save_market(mk, self.cache)
            self._markets[slug] = mk
        return self._markets[slug]

    async def fee_details(self, condition_id: str) -> dict:
        if condition_id and condition_id not in self._fd:
            try:
                self._fd[condition_id] = (await self.client.clob_market(condition_id)).get("fd") or {}
            except VenueError:
                return {}
        return self._fd.get(condition_id, {})

    async def prepare(self, instrument) -> None:
        """Read the market's fee parameters (``fd``) before a live order on it is admitted, so
        ``PolymarketVenue.fee`` estimates with them (most markets charge none; one that does was
        estimated free). A failed read is not tried again for ``fees.RETRY_S``."""
        from . import fees

        token = instrument.venue_symbol
        if token in fees.FD or time.monotonic() - fees.FAILED.get(token, -fees.RETRY_S) < fees.RETRY_S:
            return
        try:
            condition_id = (await self.market(instrument)).condition_id
            fees.FD[token] = (await self.client.clob_market(condition_id)).get("fd") or {}
        except BaseException:
            fees.FAILED[token] = time.monotonic()
            raise

    def known_fee_details(self, condition_id: str) -> dict | None:
        """The market's fee parameters if already read (None: not yet), for code that cannot wait."""
        return self._fd.get(condition_id)

    # -- orders ----------------------------------------------------------------------------------
    async def _walk_price(self, node, token_id: str) -> Decimal:
        """The price at which the book covers the size (the SDK's market-price walk)."""
        book = await self.client.book(token_id)
        side = book.get("asks" if node.side == "buy" else "bids") or []
        levels = sorted(((_dec(l["price"]), _dec(l["size"])) for l in side), reverse=node.side != "buy")
        if not levels:
            raise InvalidOrder(f"polymarket: no {'asks' if node.side == 'buy' else 'bids'} to take for a market order")
        total = Decimal(0)
        for price, size in levels:
            total += size
            if total >= node.qty:
                return price
        return levels[-1][0]

    async def _sign(self, node, inst, clob_version: int) -> OrderRecord:
        version = order_version(inst.venue_symbol, clob_version)
        if version not in SIGNED_VERSIONS:
            raise InvalidOrder(f"polymarket: the exchange reports order version {version}; this adapter signs "
                               f"versions {', '.join(map(str, SIGNED_VERSIONS))} (V1 orders are refused since 2026-04-28)")
        token = inst.venue_symbol
        tick, neg_risk = await self.params(token)
        price = node.limit_price if node.limit_price is not None else await self._walk_price(node, token)
        t = Decimal(tick)
        if price % t or not t <= price <= 1 - t:
            raise InvalidOrder(f"polymarket: price {price} must be a multiple of the tick {tick} between {tick} and {1 - t}")
        order_type, post_only = TYPES.get(node.order_type, ("GTC", False))
        order, oid = build_order(self.wallet, token_id=token, side=node.side, size=node.qty, price=price, tick=tick,
                                 neg_risk=neg_risk, version=version, salt=salt_for(node.client_order_id),
                                 timestamp_ms=time.time_ns() // 1_000_000, market=order_type in ("FAK", "FOK"))
        rec = OrderRecord(node.client_order_id, oid, token, order, order_type, post_only, version, neg_risk)
        self._keep(rec)                                    # written before it is sent
        return rec

    def _keep(self, rec: OrderRecord) -> None:
        self.log.put(rec)
        self._by_order_id[rec.order_id.lower()] = rec

    def record_of(self, order_id) -> OrderRecord | None:
        """What this session signed under that order id (None: not an order of ours)."""
        return self._by_order_id.get(str(order_id or "").lower())

    async def place(self, node, instrument) -> OrderState:
        rec = self.log.get(node.client_order_id)
        if rec is not None:                                # a retry: the venue may have it already
            state = await self.order_state(node.client_order_id, instrument)
            if state is not None:
                return state
        else:
            rec = await self._sign(node, instrument, await self.client.version())
        return await self._send(rec, node, instrument)

    async def _send(self, rec: OrderRecord, node, inst) -> OrderState:
        try:
            try:
                answer = await self.client.post_order(rec.order, rec.order_type, rec.post_only)
            except VersionMismatch:
                version = await self.client.version(refresh=True)
                if order_version(rec.token_id, version) == rec.version:
                    raise
                rec = await self._sign(node, inst, version)
                answer = await self.client.post_order(rec.order, rec.order_type, rec.post_only)
        except InvalidOrder as exc:
            text = str(exc).lower()
            if any(k in text for k in KILLED):
                return OrderState(rec.client_order_id, rec.order_id, "CANCELLED", Decimal(0), reason=str(exc))
            if "duplicated" not in text:
                raise
            answer = {"orderID": rec.order_id}                # it did arrive before: read it
        if str(answer["orderID"]).lower() != rec.order_id.lower():
            rec = msgspec.structs.replace(rec, order_id=str(answer["orderID"]))
            self._keep(rec)
        state = await self.order_state(rec.client_order_id, inst)
        return state or OrderState(rec.client_order_id, rec.order_id, "NEW", Decimal(0))

    async def order_state(self, client_order_id, instrument=None):
        rec = self.log.get(client_order_id)
        if rec is None:
            return None
        o = await self.client.order(rec.order_id)
        if o is None:
            return None
        fills = ()
        if _dec(o.get("size_matched")) > 0:
            fd = await self.fee_details(str(o.get("market", "")))
            quote = instrument.quote if instrument is not None else "USDC"
            fills = fills_of(o, await self.client.trades(str(o.get("asset_id") or rec.token_id)), quote, fd)
        return order_state(client_order_id, o, fills, rec.order_type)

    async def cancel(self, node, instrument) -> OrderState:
        rec = self.log.get(node.client_order_id)
        if rec is None:
            return OrderState(node.client_order_id, None, "REJECTED", Decimal(0), reason="polymarket never received this order")
        return await self.cancel_and_read(node, instrument, lambda: self.client.cancel(rec.order_id))

    def _cid_of(self, order_id: str) -> str:
        rec = self.record_of(order_id)
        return rec.client_order_id if rec else ""

    async def open_orders(self, instrument) -> list[OrderState]:
        return [order_state(self._cid_of(str(o["id"])), o) for o in await self.client.open_orders(instrument.venue_symbol)]

    def user_stream(self):
        from .stream import PolymarketUserStream

        return PolymarketUserStream(self, self.settings)

    # -- account ---------------------------------------------------------------------------------
    async def _cash(self) -> Decimal:
        return collateral((await self.client.collateral()).get("balance"))

    async def holdings(self):
        """The funder's pUSD collateral as ``GET /balance-allowance`` reports it (the on-chain
        balance: CLOB orders are not escrowed, so open orders' funds are in it; CLOB API,
        https://docs.polymarket.com/api-reference), under USDC, the
        name its books and the ledger use. Outcome tokens are ``positions``."""
        return {"USDC": cash} if (cash := await self._cash()) else {}

    async def balances(self):
        cash = await self._cash()
        out = {"USDC": cash, "pUSD": cash}
        try:
            rows = await self.data.positions(self.wallet.funder)
        except VenueError:
            return out                                    # cash still answers buys
        for row in rows:
            if row.get("slug") and row.get("outcome"):
                size = _dec(row.get("size"))
                out[f"{row['slug']}:{str(row['outcome']).upper()}"] = size
        return out

    async def positions(self):
        return [position_of(r) for r in await self.data.positions(self.wallet.funder) if _dec(r.get("size")) > 0]

    async def settle(self, instruments) -> Settlement | None:
        inst = instruments[0]
        mk = await self.market(inst)
        info = await self.client.market(mk.condition_id)
        winner = next((str(t.get("token_id")) for t in info.get("tokens") or [] if t.get("winner")), None)
        if not winner:
            return None
        outcome = next((o for o, token in mk.tokens.items() if token == winner), None)
        if outcome is None:
            raise VenueError(f"polymarket: the winning token of {mk.slug} is not one of its outcomes")
        held = [r for r in await self.data.positions(self.wallet.funder)
                if str(r.get("conditionId", "")).lower() == mk.condition_id.lower() and _dec(r.get("size")) > 0]
        reference = ""
        if held:
            if not any(r.get("redeemable") for r in held):
                raise InvalidOrder(f"polymarket: {mk.slug} has resolved but the venue does not report the position "
                                   "redeemable yet; try again later")
            if mk.version == "v2" or is_v2_position_id(winner):
                raise InvalidOrder(f"polymarket: {mk.slug} is a Protocol V2 market, whose positions are redeemed "
                                   "through the Router, not the collateral adapter this adapter calls; redeem it in "
                                   "the Polymarket app")
            tx = await self.relayer.redeem(self.wallet, mk.condition_id, bool(info.get("neg_risk", mk.neg_risk)))
            reference = tx.get("transactionHash") or tx.get("transactionID") or ""
        return Settlement(mk.slug, outcome, Decimal(1), "relayer_redeem", time.time_ns(), reference)

    async def close(self) -> None:
        for c in (self.client, self.gamma, self.data, self.relayer):
            await c.close()

