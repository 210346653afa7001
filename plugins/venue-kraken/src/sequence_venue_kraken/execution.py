"""Kraken spot execution session: the engine's node orders as Kraken orders (REST).

AddOrder (https://docs.kraken.com/api/docs/rest-api/add-order): ``market`` -> ordertype
market (``volume`` in base); ``limit`` -> limit; ``ioc`` -> limit with ``timeinforce=IOC``
(market without a price); ``post_only`` -> limit with ``oflags=post`` (Kraken cancels it,
reason "Post only order", if it would take). ``oflags`` always carries ``fciq`` so the fee
is charged in the quote currency and fills read as quote fees.

Client ids: ``cl_ord_id`` accepts a UUID (36 with dashes or 32 hex) or "free format ascii
text up to 18 characters" and is unique among the key's open orders
(https://docs.kraken.com/api/docs/guides/spot-clordid). The node's client id
(``sq<graph hex>n<node>s<seq>``) is sent as it is when it fits 18 characters, else as the
UUIDv5 of it: deterministic either way, so after a lost answer ``order_state`` finds the
order with OpenOrders/ClosedOrders ``cl_ord_id=`` (QueryOrders takes only txids).
Amend is native (AmendOrder, https://docs.kraken.com/api/docs/guides/spot-amends): quantity
and/or limit price in place, same txid and cl_ord_id, queue priority kept where possible; a
new quantity below the filled one cancels the rest (the engine refuses that before sending);
a post-only order is amended with ``post_only=true`` so a new price that would take is refused.
Fills: the order's ``trades`` ids read with QueryTrades (``fee`` in quote, ``maker`` flag);
the fill id is the trade's txid (QueryTrades' key), which the private ``executions`` stream
(stream.py) reports as ``exec_id``, so the engine counts a fill seen by both once.
Perpetuals (``PF_XBTUSD`` and the like, kind ``perp``) trade on Kraken Futures with keys of
their own: every call on a perp goes to futures.py (its docstring has the protocol), and
balances add the futures account's free margin as ``perp_margin("USD")``, holdings its collateral.
Their orders and fills are pushed on Kraken Futures' own private socket (futures_stream.py), a
second user stream.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from decimal import Decimal

from sequence_core.errors import AuthenticationError, InvalidOrder, OrderNotFound
from sequence_core.execution import AmendResult, ExecutionSession, OrderState, VenueFill

from .futures import KrakenFutures
from .http import KrakenClient
from .symbols import asset, rest_pair

log = logging.getLogger("sequence.venue.kraken")

STATUS = {"pending": "NEW", "open": "NEW", "closed": "FILLED", "canceled": "CANCELLED", "expired": "EXPIRED"}
CLIENT_ID_NS = uuid.UUID("5e9e2c1a-4b7d-4c6e-9a43-6b72616b656e")    # fixed: the same node -> the same UUID


def venue_client_id(client_order_id: str) -> str:
    """The ``cl_ord_id`` Kraken is sent for an engine client id (free text up to 18, else a UUID)."""
    if len(client_order_id) <= 18 and client_order_id.isascii():
        return client_order_id
    return str(uuid.uuid5(CLIENT_ID_NS, client_order_id))


def _per_asset(balance_ex: dict, amount) -> dict[str, Decimal]:
    """``amount(entry)`` of each BalanceEx entry, by canonical asset: plain codes and ``.F``
    (auto-earn) ones added to their base; staked, bonded and tokenized variants left out."""
    out: dict[str, Decimal] = {}
    for code, b in balance_ex.items():
        base, dot, ext = code.partition(".")
        if not dot or ext == "F":
            out[asset(base)] = out.get(asset(base), Decimal(0)) + amount(b)
    return out


def _dec(row: dict, key: str) -> Decimal:
    return Decimal(row.get(key) or "0")


def _ns(seconds) -> int:
    return int(Decimal(str(seconds or 0)) * 1_000_000_000)


def _fill(tid: str, t: dict, quote: str) -> VenueFill:
    return VenueFill(tid, Decimal(t["price"]), Decimal(t["vol"]), Decimal(t.get("fee") or "0"), quote,
                     "maker" if t.get("maker") else "taker", _ns(t.get("time")))


def _state(client_order_id: str, txid: str, o: dict, fills: tuple = ()) -> OrderState:
    filled = Decimal(o.get("vol_exec") or "0")
    status = STATUS.get(o.get("status", ""), "NEW")
    if status == "NEW" and filled:
        status = "PARTIALLY_FILLED"
    elif status == "FILLED" and filled < Decimal(o.get("vol") or "0"):
        status = "CANCELLED"                     # closed with a remainder (IOC, market out of depth)
    descr = o.get("descr") or {}
    limit = descr.get("price") if descr.get("ordertype") == "limit" else None
    reason = (o.get("reason") or "") if status in ("CANCELLED", "EXPIRED") else ""
    return OrderState(client_order_id, txid, status, filled, fills, reason=reason,
                      venue_ts_ns=_ns(o.get("closetm") or o.get("opentm")),
                      price=Decimal(limit) if limit else None, qty=Decimal(o["vol"]) if o.get("vol") else None)


def _declared(order: dict):
    """The declared instrument of an order's REST pair (a lookup without the instrument)."""
    from .symbols import INSTRUMENTS

    pair = (order.get("descr") or {}).get("pair")
    return next((i for i in INSTRUMENTS if rest_pair(i.venue_symbol) == pair), None)


class KrakenSession(ExecutionSession):
    venue = "kraken"
    amend_mode = "native_atomic"

    def __init__(self, client: KrakenClient, settings: dict | None = None, futures: KrakenFutures | None = None):
        self.client, self.settings, self.futures = client, settings or {}, futures
        self.leverage = futures.leverage if futures is not None else None     # Kraken Futures' (futures.py)
        self._txids: dict[str, str] = {}         # engine client id -> Kraken txid, once known
        self._cids: dict[str, str] = {}          # cl_ord_id sent -> engine client id

    def _perp(self, inst) -> KrakenFutures | None:
        """The futures half for a perp (None for a spot pair)."""
        if inst is None or inst.kind != "perp":
            return None
        if self.futures is None:
            raise InvalidOrder(f"kraken: {inst.symbol} trades on Kraken Futures, which this session was not given")
        return self.futures

    def _pair(self, inst) -> str:
        if inst.kind != "crypto":
            raise InvalidOrder(f"kraken: {inst.symbol} is not a spot pair; this adapter trades Kraken spot only")
        return rest_pair(inst.venue_symbol)

    def _cl(self, client_order_id: str) -> str:
        cl = venue_client_id(client_order_id)
        self._cids[cl] = client_order_id
        return cl

    async def place(self, node, instrument) -> OrderState:
        if (futures := self._perp(instrument)) is not None:
            return await futures.place(node, instrument)
        params = {"pair": self._pair(instrument), "type": node.side, "volume": f"{node.qty:f}",
                  "cl_ord_id": self._cl(node.client_order_id), "oflags": "fciq"}
        if node.order_type == "market" or node.limit_price is None:
            params["ordertype"] = "market"
        else:
            params.update(ordertype="limit", price=f"{node.limit_price:f}")
            if node.order_type == "ioc":
                params["timeinforce"] = "IOC"
            elif node.order_type == "post_only":
                params["oflags"] = "post,fciq"
        result = await self.client.add_order(params)
        if result.get("txid"):
            self._txids[node.client_order_id] = result["txid"][0]
        state = await self.order_state(node.client_order_id, instrument)
        return state or OrderState(node.client_order_id, self._txids.get(node.client_order_id), "NEW", Decimal(0))

    async def _find(self, client_order_id: str) -> tuple[str, dict] | None:
        """(txid, order) by the txid when known (one call, open or closed), else by cl_ord_id."""
        txid = self._txids.get(client_order_id)
        if txid:
            found = await self.client.query_orders([txid])
        else:
            cl = self._cl(client_order_id)
            found = await self.client.open_orders(cl) or await self.client.closed_orders(cl)
        if not found:
            return None
        txid, order = next(iter(found.items()))
        self._txids[client_order_id] = txid
        return txid, order

    async def order_state(self, client_order_id, instrument=None):
        if instrument is None and self.futures is not None and self.futures.knows(client_order_id):
            return await self.futures.order_state(client_order_id)
        if (futures := self._perp(instrument)) is not None:
            return await futures.order_state(client_order_id)
        try:
            found = await self._find(client_order_id)
        except OrderNotFound:
            return None
        if found is None:
            return None
        txid, order = found
        fills = ()
        inst = instrument or _declared(order)         # fees are in its quote (fciq)
        if Decimal(order.get("vol_exec") or "0") and order.get("trades") and inst is not None:
            trades = await self.client.query_trades(list(order["trades"]))
            fills = tuple(_fill(tid, t, inst.quote) for tid, t in sorted(trades.items(), key=lambda kv: kv[1].get("time", 0)))
        return _state(client_order_id, txid, order, fills)

    async def cancel(self, node, instrument) -> OrderState:
        if (futures := self._perp(instrument)) is not None:
            return await self.cancel_and_read(node, instrument, lambda: futures.cancel(node.client_order_id))
        return await self.cancel_and_read(node, instrument, lambda: self.client.cancel_order(self._cl(node.client_order_id)))

    async def amend(self, node, instrument, price, qty) -> AmendResult:
        if (futures := self._perp(instrument)) is not None:
            return await futures.amend(node, instrument, price, qty)
        params = {"cl_ord_id": self._cl(node.client_order_id)}
        if qty is not None:
            params["order_qty"] = f"{qty:f}"
        if price is not None:
            params["limit_price"] = f"{price:f}"
            if node.order_type == "post_only":
                params["post_only"] = "true"
        await self.client.amend_order(params)
        return AmendResult("native_atomic", await self.order_state(node.client_order_id, instrument))

    async def open_orders(self, instrument) -> list[OrderState]:
        if (futures := self._perp(instrument)) is not None:
            return await futures.open_orders(instrument)
        pair = self._pair(instrument)
        out = []
        for txid, o in (await self.client.open_orders()).items():
            if (o.get("descr") or {}).get("pair") == pair:
                cl = o.get("cl_ord_id") or txid
                out.append(_state(self._cids.get(cl, cl), txid, o))
        return out

    async def balances(self):
        """Free balances, as BalanceEx documents them (https://docs.kraken.com/api-reference/account-data/get-extended-balance):
        ``balance + credit - credit_used - hold_trade``. ``.F`` entries (``XBT.F``, ``USD.F``: funds
        earning in Kraken Rewards) are spent through their base asset, whose ``hold_trade`` may then
        exceed its own ``balance``, so each is added to it; Kraken deprecated them on 13 November
        2025 (https://docs.kraken.com/api/docs/change-log), and without them the base alone counts.
        Staked and bonded variants (``ETH.B``, ``.S``, ``.M``) and tokenized ``.T`` are left out."""
        out = _per_asset(await self.client.balance_ex(), lambda b: _dec(b, "balance") + _dec(b, "credit")
                         - _dec(b, "credit_used") - _dec(b, "hold_trade"))
        if self.futures is not None and self.futures.client.has_credentials:
            out.update(await self.futures.margin())
        return out

    async def holdings(self):
        """Spot totals from the same BalanceEx answer: ``balance`` (what the account holds,
        ``hold_trade`` in open orders included; credit is not the account's own), ``.F`` funds in
        their base asset as above; plus, with futures keys, what Kraken Futures' multi-collateral
        (flex) account holds of each currency, read with the same ``GET accounts`` as the perp
        margin: ``flex.currencies[<currency>].quantity``, in the currency's own units, never
        ``value``/``collateral`` (USD) nor ``portfolioValue``, which carries the open positions'
        unrealized P&L that the perp rows already show
        (https://docs.kraken.com/api-reference/account-information/get-wallets; futures.py has the
        protocol). The ledger books perp fees, P&L and funding in USD, the flex account's, so both
        are that asset (``XBT`` read as BTC, as spot's). A futures key Kraken refuses leaves the
        spot totals as they are (logged), never the whole read failed."""
        spot, collateral = await asyncio.gather(self.client.balance_ex(), self._collateral())
        out = _per_asset(spot, lambda b: _dec(b, "balance"))
        for name, qty in collateral.items():
            out[name] = out.get(name, Decimal(0)) + qty
        return {a: q for a, q in out.items() if q}

    async def _collateral(self) -> dict[str, Decimal]:
        """The flex account's quantity per asset (none without futures keys, or with keys refused)."""
        if self.futures is None or not self.futures.client.has_credentials:
            return {}
        try:
            return await self.futures.collateral()
        except AuthenticationError as exc:
            log.info("kraken futures collateral not readable, holdings are spot only: %s", exc)
            return {}

    async def positions(self):
        """Perp positions on Kraken Futures (None without futures keys: this session cannot tell)."""
        if self.futures is None or not self.futures.client.has_credentials:
            return None
        return await self.futures.positions()

    async def funding_payments(self, since_ns: int):
        if self.futures is None or not self.futures.client.has_credentials:
            return None
        return await self.futures.funding_payments(since_ns)

    async def fees(self, instrument) -> tuple[Decimal, Decimal]:
        """This account's (maker, taker) rates on a pair, as fractions (TradeVolume gives percent);
        a perp's are the published tier 0 (fees.py)."""
        if instrument.kind == "perp":
            from .fees import SCHEDULE

            tier = SCHEDULE.tier0_for("perp")
            return tier.maker, tier.taker
        result = await self.client.trade_volume(self._pair(instrument))
        taker = next(iter((result.get("fees") or {}).values()))["fee"]
        maker = next(iter((result.get("fees_maker") or {}).values()), {"fee": taker})["fee"]
        return Decimal(maker) / 100, Decimal(taker) / 100

    def user_stream(self):
        """The private ``executions`` websocket (stream.py); it shares this session's client
        (the token call) and its client id and txid maps."""
        from .stream import KrakenUserStream

        return KrakenUserStream(self, self.settings)

    def user_streams(self) -> list:
        """The spot ``executions`` socket, and with futures keys Kraken Futures' own for perps
        (futures_stream.py): each says which books it covers, so the engine slows its polling
        of spot and of perp orders each while that socket is live."""
        streams = [self.user_stream()]
        if self.futures is not None and self.futures.client.has_credentials:
            from .futures_stream import KrakenFuturesUserStream

            streams.append(KrakenFuturesUserStream(self.futures, self.settings))
        return streams

    async def close(self) -> None:
        await self.client.close()
        if self.futures is not None:
            await self.futures.close()
