"""Crypto.com Exchange execution session, spot and USD perpetuals: the engine's node orders as
``private/create-order`` (the same call for both; the instrument name says which book).

Order types (https://exchange-developer.crypto.com/exchange/v1/docs/api/rest/private-create-order-dma):
``market`` -> ``type`` MARKET with ``quantity`` in base (the exchange also takes ``notional``
for market buys; not used); ``limit`` -> LIMIT GOOD_TILL_CANCEL; ``ioc`` -> LIMIT
IMMEDIATE_OR_CANCEL (MARKET without a price); ``post_only`` -> LIMIT with ``exec_inst``
["POST_ONLY"], which must be GOOD_TILL_CANCEL (else 43005). ``client_oid`` (at most 36
characters) is the node's client order id, so after a lost answer the order is found with
``private/get-order-detail`` by ``client_oid``; a second create with a live id is refused
(204 DUPLICATE_CLORDID) and answered here with the order the exchange already has.
create-order is asynchronous (its answer only confirms the request): the session reads the
order right after; an order not yet visible is reported NEW with the confirmed order id.
Amend is native (``private/amend-order``: ``new_price`` and ``new_quantity``, both required,
the same ``order_id``); the exchange performs it as cancel-then-create, so the order loses its
queue place unless only its size goes down. Without a ``client_oid`` the amended order would
take the request id as its client id, so the node's id is passed again to keep it findable.
Fills come from ``private/get-trades`` (1 request per second) for the order's instrument since
its creation, filtered by ``order_id``, and only when ``cumulative_quantity`` grew: ``fees``
is negative when charged, in ``fee_instrument_name``, and is reported in that asset as charged
(a buy's fee in the base is taken from the base received: the ledger takes it from that
holding, TCA counts it at the fill price); fills and order changes also arrive on the user websocket (stream.py).

Perpetuals (``BTCUSD-PERP``, ...; symbols.py): same order types, ``quantity`` in the base coin,
fees in USD. Crypto.com keeps one position per perp on the account's cross margin ("Smart
Cross Margin": no hedge mode exists), and an order without ``isolation_id`` trades that cross
position (private-create-order-dma: ``isolation_id``, ``leverage`` and
``isolated_margin_amount`` are only for isolated positions; this adapter never sends them).
An isolated position on the same perp would be left alone by our orders, which the ledger
would take for closing it; so before each perp order the session reads
``private/get-positions`` for that perp and refuses, with what to change, when it holds an
isolated one (a row with ``isolation_id`` / ``isolation_type`` ISOLATED_MARGIN:
https://exchange-developer.crypto.com/exchange/v1/docs/api/rest/private-get-positions).
``positions()`` reads the same call: ``quantity`` signed (the docs' example short is
"-0.1984" with a negative ``cost``), ``open_pos_cost`` / ``quantity`` as the entry (Crypto.com
resets it to the mark at each session end, so it is the session's average price),
``open_position_pnl`` as unrealised P&L; the call gives no mark, margin or liquidation price
(cross margin is account-wide: ``total_position_im`` in ``private/user-balance``). Isolated
rows are left out (and logged): this adapter does not trade them.
Leverage: ``[venues.cryptocom] leverage = 5`` (a positive integer; absent, the account's leverage
is left as it is) sends ``private/change-account-leverage`` (http.py) before the first perp
order of the session, never for spot. On Crypto.com leverage is account-wide, so it is set once
a session whatever the perp; a perp whose own maximum is lower trades at that maximum ("Whichever
leverage (account or instrument) is lower will be used"). The account takes 1 to 100
(ACCOUNT_MAX_LEVERAGE): a refusal is raised as an ``InvalidOrder`` naming the perp, the leverage
asked and that maximum, and the order is not sent (``sequence_core.execution.Leverage``). Setting the
same leverage again changes nothing, so it is retried like a read. Any other value of the
setting is refused (``ConfigError``) when the session is built.
Margin: ``private/user-balance``'s ``total_available_balance`` ("Balance that user can open
new order (Margin Balance - Initial Margin)", in the wallet's ``instrument_name``, USD, with
every collateral coin counted after its haircut) is reported as perp margin
(``sequence_core.execution.perp_margin``): a perp order is checked against it, not against
spot USD.

Funding (``funding_payments``): ``private/get-transactions`` with ``journal_type`` FUNDING
(the enum of private-get-transactions), ``start_time`` = since (ns, inclusive), ``end_time``
(ns, exclusive) and ``limit`` 100, the newest rows "before end_time": the walk moves
``end_time`` to one ns past the oldest row of each full page (rows of that nanosecond come
again and are kept once) until a page comes back short; past FUNDING_REQUESTS it raises
rather than return part (a newest-first walk cut short would drop the oldest payments). The
docs give no FUNDING row: its reading is the one of their SESSION_SETTLE example, the other
per-position cash flow (``transaction_qty`` and ``transaction_cost`` 0, the money in
``realized_pnl``, signed: received > 0), with the perp in ``instrument_name``, the time in
``event_timestamp_ns``. The payment id is ``journal_id`` and
the perp: the docs' example shows one ``journal_id`` on two rows (a cross and an isolated
position), so the id alone is not unique. Isolated rows and rows that moved nothing are
skipped. The coin is the wallet's, USD.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from sequence_core.errors import InvalidOrder, OrderNotFound, VenueError
from sequence_core.execution import (AmendResult, ExecutionSession, FundingPayment, Leverage, OrderState, VenueFill,
                                     VenuePosition, perp_margin)
from sequence_core.market import plain

from .http import DESCRIPTIONS, CryptocomClient, DuplicateClientId

log = logging.getLogger("sequence.venue.cryptocom")
FUNDING_REQUESTS = 50            # get-transactions pages per funding_payments() call
PAGE = 100                       # get-transactions' largest limit

STATUS = {"PENDING": "NEW", "NEW": "NEW", "ACTIVE": "NEW", "FILLED": "FILLED", "CANCELED": "CANCELLED",
          "REJECTED": "REJECTED", "EXPIRED": "EXPIRED"}


def _ns(row: dict) -> int:
    return int(row.get("create_time_ns") or int(row.get("create_time") or 0) * 1_000_000)


def _fill(t: dict, inst) -> VenueFill:
    return VenueFill(str(t["trade_id"]), Decimal(t["traded_price"]), Decimal(t["traded_quantity"]),
                     -Decimal(t.get("fees") or "0"), t.get("fee_instrument_name") or inst.quote,
                     "maker" if t.get("taker_side") == "MAKER" else "taker", _ns(t))


def _state(o: dict, fills: tuple = ()) -> OrderState:
    filled = Decimal(o.get("cumulative_quantity") or "0")
    status = STATUS.get(o.get("status", ""), "NEW")
    if status == "NEW" and filled:
        status = "PARTIALLY_FILLED"
    code = str(o.get("reason") or "0")
    reason = f"{DESCRIPTIONS.get(code, 'reason')} ({code})" if code != "0" else ""
    limit = o.get("limit_price")
    return OrderState(o["client_oid"], str(o["order_id"]), status, filled, fills, reason=reason,
                      venue_ts_ns=int(o.get("update_time") or 0) * 1_000_000,
                      price=Decimal(limit) if limit and Decimal(limit) else None,
                      qty=Decimal(o["quantity"]) if o.get("quantity") else None)


def _dec(value) -> Decimal | None:
    return Decimal(value) if value not in (None, "") else None


def _isolated(row: dict) -> bool:
    return bool(row.get("isolation_id") or row.get("isolation_type"))


def _position(p: dict) -> VenuePosition:
    qty, cost = Decimal(p["quantity"]), _dec(p.get("open_pos_cost"))
    entry = Decimal(plain(cost / qty)) if cost is not None else None
    return VenuePosition(p["instrument_name"], qty, entry, None, _dec(p.get("open_position_pnl")))


def _funding(row: dict) -> FundingPayment:
    ts = int(row.get("event_timestamp_ns") or int(row.get("event_timestamp_ms") or 0) * 1_000_000)
    return FundingPayment(f"{row['journal_id']}:{row['instrument_name']}", row["instrument_name"], "USD",
                          Decimal(row.get("realized_pnl") or "0"), ts)


ACCOUNT_MAX_LEVERAGE = 100     # change-account-leverage: "Valid values are between 1-100 (inclusive)"
ACCOUNT = "the account"        # leverage is account-wide: one entry for every perp


class CryptocomSession(ExecutionSession):
    venue = "cryptocom"
    amend_mode = "native_atomic"

    def __init__(self, client: CryptocomClient, settings: dict | None = None):
        self.client, self.settings = client, dict(settings or {})
        self._fills: dict[str, tuple[Decimal, tuple]] = {}     # order id -> (filled qty, fills) read
        self.leverage = Leverage("cryptocom", "Crypto.com", self.settings)

    def _name(self, inst) -> str:
        if inst.kind not in ("crypto", "perp"):
            raise InvalidOrder(f"cryptocom: {inst.symbol} is not a spot or perpetual book")
        return inst.venue_symbol

    async def _check_cross(self, inst) -> None:
        """Refuse a perp order while the account holds an isolated position on that perp (see
        the module docstring): ours would trade the cross position beside it."""
        isolated = [p for p in await self.client.positions(inst.venue_symbol)
                    if _isolated(p) and Decimal(p.get("quantity") or "0")]
        if isolated:
            p = isolated[0]
            raise InvalidOrder(f"cryptocom: the account holds an isolated-margin {inst.venue_symbol} position "
                               f"(isolation_id {p.get('isolation_id')}, {p['quantity']}); this adapter trades the "
                               f"cross-margin position only: close the isolated one (or move it to cross margin) "
                               f"in Crypto.com Exchange first")

    async def _set_leverage(self, inst) -> None:
        """The configured leverage on the account, once per session, before its first perp order
        (account-wide: one key for every perp)."""
        async def send(_account: str, leverage: int) -> None:
            await self.client.change_account_leverage(await self.client.account_id(), leverage)

        async def most(_account: str) -> int:
            return ACCOUNT_MAX_LEVERAGE
        await self.leverage.ensure(ACCOUNT, f"account-wide, before the first {inst.venue_symbol} order", send, most)

    async def place(self, node, instrument) -> OrderState:
        params = {"instrument_name": self._name(instrument), "side": node.side.upper(), "quantity": f"{node.qty:f}",
                  "client_oid": node.client_order_id}
        if node.order_type == "market" or node.limit_price is None:
            params["type"] = "MARKET"            # immediate by nature; no time_in_force
        else:
            params.update(type="LIMIT", price=f"{node.limit_price:f}", time_in_force="GOOD_TILL_CANCEL")
            if node.order_type == "ioc":
                params["time_in_force"] = "IMMEDIATE_OR_CANCEL"
            elif node.order_type == "post_only":
                params["exec_inst"] = ["POST_ONLY"]
        if instrument.kind == "perp":
            await self._check_cross(instrument)
            await self._set_leverage(instrument)
        try:
            ack = await self.client.place(params)
        except DuplicateClientId:
            known = await self.order_state(node.client_order_id, instrument)
            if known is None:
                raise
            return known
        state = await self.order_state(node.client_order_id, instrument)
        return state or OrderState(node.client_order_id, str(ack.get("order_id") or "") or None, "NEW", Decimal(0))

    async def order_state(self, client_order_id, instrument=None):
        if instrument is None:
            return None
        try:
            order = await self.client.order(client_order_id)
        except OrderNotFound:
            return None
        return _state(order, await self._fills_of(order, instrument))

    async def _fills_of(self, order: dict, inst) -> tuple:
        filled = Decimal(order.get("cumulative_quantity") or "0")
        oid = str(order["order_id"])
        seen = self._fills.get(oid)
        if not filled or (seen and seen[0] == filled):
            return seen[1] if seen else ()
        start = str(order.get("create_time_ns") or order.get("create_time") or "")
        rows = await self.client.trades(self._name(inst), start)
        fills = tuple(_fill(t, inst) for t in sorted(rows, key=_ns) if str(t.get("order_id")) == oid)
        self._fills[oid] = (filled, fills)
        return fills

    async def cancel(self, node, instrument) -> OrderState:
        return await self.cancel_and_read(node, instrument, lambda: self.client.cancel(node.client_order_id))

    async def amend(self, node, instrument, price, qty) -> AmendResult:
        self._name(instrument)
        new_price = price if price is not None else node.limit_price
        if new_price is None:
            raise InvalidOrder("cryptocom: only a limit order can be amended (this one has no price)")
        params = {"orig_client_oid": node.client_order_id, "client_oid": node.client_order_id,
                  "new_price": f"{new_price:f}", "new_quantity": f"{(qty if qty is not None else node.qty):f}"}
        await self.client.amend(params)
        state = await self.order_state(node.client_order_id, instrument)
        if state is None:
            raise OrderNotFound(f"cryptocom: the amended order {node.client_order_id} is not found")
        return AmendResult("native_atomic", state)

    async def open_orders(self, instrument) -> list[OrderState]:
        return [_state(o) for o in await self.client.open_orders(self._name(instrument))]

    async def balances(self):
        """Free balance per asset: ``quantity`` less ``reserved_qty`` of ``position_balances``;
        and the wallet's ``total_available_balance`` as perp margin (module docstring)."""
        data = await self.client.balance()
        if not data:
            return {}
        wallet = data[0]
        out = {r["instrument_name"]: Decimal(r.get("quantity") or "0") - Decimal(r.get("reserved_qty") or "0")
               for r in wallet.get("position_balances", [])}
        if wallet.get("total_available_balance") not in (None, ""):
            out[perp_margin(wallet.get("instrument_name") or "USD")] = Decimal(wallet["total_available_balance"])
        return out

    async def holdings(self):
        """Each ``position_balances`` row's ``quantity`` (its total, ``reserved_qty`` in open orders
        included; ``private/user-balance``,
        https://exchange-docs.crypto.com/exchange/v1/rest-ws/index.html#private-user-balance)."""
        data = await self.client.balance()
        rows = data[0].get("position_balances", []) if data else []
        return {r["instrument_name"]: q for r in rows if (q := Decimal(r.get("quantity") or "0"))}

    async def positions(self) -> list[VenuePosition]:
        """The account's cross-margin perp positions (isolated ones are logged and left out)."""
        out = []
        for p in await self.client.positions():
            if p.get("type", "PERPETUAL_SWAP") != "PERPETUAL_SWAP" or not Decimal(p.get("quantity") or "0"):
                continue
            if _isolated(p):
                log.warning("cryptocom: isolated-margin %s position %s (isolation_id %s) is not reported; this "
                            "adapter trades cross margin only", p.get("instrument_name"), p["quantity"],
                            p.get("isolation_id"))
                continue
            out.append(_position(p))
        return out

    async def funding_payments(self, since_ns: int) -> list[FundingPayment]:
        """Funding the journal booked on cross positions from *since_ns* on, oldest first
        (the walk is in the module docstring)."""
        end = (self.client.clock.now_ms() + 1_000) * 1_000_000
        found: dict[str, FundingPayment] = {}
        for _ in range(FUNDING_REQUESTS):
            page = await self.client.transactions("FUNDING", since_ns, end)
            ours = (_funding(r) for r in page if r.get("journal_type", "FUNDING") == "FUNDING" and not _isolated(r))
            fresh = [p for p in ours if p.payment_id not in found]
            found.update((p.payment_id, p) for p in fresh)
            if len(page) < PAGE:   # fewer than asked: nothing older is left in the window
                return sorted((p for p in found.values() if p.amount and p.venue_ts_ns >= since_ns),
                              key=lambda p: (p.venue_ts_ns, p.payment_id))
            if not fresh:          # a full page already seen: more than PAGE rows in one nanosecond
                break
            end = min(_funding(r).venue_ts_ns for r in page) + 1
        raise VenueError(f"cryptocom: the funding journal since {since_ns} ns needs more than {FUNDING_REQUESTS} "
                         f"requests ({PAGE} a page); none kept, as a part would leave out the oldest")

    def user_stream(self):
        from .stream import CryptocomUserStream

        return CryptocomUserStream(self.client, self.settings)

    async def close(self) -> None:
        await self.client.close()
