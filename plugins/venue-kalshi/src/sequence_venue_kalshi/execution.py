"""Kalshi execution session: node orders as V2 event orders on one binary market.

V2 orders (https://docs.kalshi.com/api-reference/orders/create-order-v2) quote the YES leg
only: ``side`` ``bid`` buys YES, ``ask`` sells YES, and ``price`` is always the YES price.
Selling YES is buying NO at ``1 - price``, so an order on the ``:NO`` instrument flips both:
buy NO at p -> ask at 1 - p, sell NO at p -> bid at 1 - p. Counts are strings with up to
two decimals, prices dollar strings with four.
Order types: ``limit`` -> ``good_till_canceled``; ``post_only`` -> that plus ``post_only``
(Kalshi refuses one that would cross); ``ioc`` -> ``immediate_or_cancel``; ``market`` -> V2
has no market type, so ``immediate_or_cancel`` at the node's limit or, without one, the far
end of the book ($0.99 for YES bids, $0.01 for asks). ``self_trade_prevention_type`` is
required: ``taker_at_cross``. ``client_order_id`` is the node's client order id; an order
whose answer was lost is found again by listing the market's orders.
Amend is native (``.../amend``: price and total count, ``count`` = filled + resting as the
docs ask); a size-only decrease uses ``.../decrease`` (``reduce_by``), which keeps the
order's queue place. Fills carry Kalshi's own ``fee_cost``; prices are the instrument's
leg (``yes_price_dollars`` or ``no_price_dollars``). Redeem: Kalshi settles resolved
markets automatically, paying $1 per winning contract into the balance; ``settle`` reports
that (``auto_settlement``) once ``GET /markets/{ticker}`` shows the result. Order changes and
fills also arrive on the private websocket (stream.py), read by the same ``_state``/``_fill``.
Fee terms: ``prepare`` (the engine awaits it before admitting a live order, beside the balance
read, time-bounded) reads the market's series terms through this session's client (market ->
event -> series, public reads; fees.py) when they are unknown or older than an hour, and keeps
them in ``fees.TERMS``, where the venue's synchronous ``fee()`` finds them. A failed read raises
a ``SequenceError``: the engine logs it and the order goes on with the terms already kept,
else the general schedule.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from decimal import Decimal

from sequence_core.errors import InvalidOrder, OrderNotFound, VenueError
from sequence_core.execution import AmendResult, ExecutionSession, OrderState, Settlement, VenueFill, VenuePosition

from . import fees
from .http import KalshiClient
from .symbols import NO_SUFFIX, ticker_of

ONE, CENT = Decimal(1), Decimal("0.01")
TIF = {"limit": "good_till_canceled", "post_only": "good_till_canceled", "ioc": "immediate_or_cancel",
       "market": "immediate_or_cancel", "fok": "fill_or_kill"}
SETTLED = ("determined", "finalized", "settled", "amended")


def _d(value, default="0") -> Decimal:
    return Decimal(str(value)) if value not in (None, "") else Decimal(default)


def _ts_ns(text: str | None) -> int:
    if not text:
        return 0
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1e9)


def _when(d: dict, ms: str, iso: str) -> int:
    """A time as ns: the websocket's ``*_ts_ms`` where given, else REST's RFC 3339 field."""
    return int(d[ms]) * 1_000_000 if d.get(ms) else _ts_ns(d.get(iso))


def wire(side: str, outcome: str, price: Decimal) -> tuple[str, Decimal]:
    """(V2 book side, YES price) for buying or selling ``outcome`` at ``price``."""
    buy_yes = (side == "buy") == (outcome != "NO")
    return ("bid" if buy_yes else "ask"), (price if outcome != "NO" else ONE - price)


def _fill(f: dict, outcome: str) -> VenueFill:
    price = _d(f.get("no_price_dollars") if outcome == "NO" else f.get("yes_price_dollars"))
    ts = _when(f, "ts_ms", "created_time") or int(f.get("ts") or 0) * 1_000_000_000
    return VenueFill(str(f.get("fill_id") or f.get("trade_id")), price, _d(f.get("count_fp") or f.get("count")),
                     _d(f.get("fee_cost")), "USD", "taker" if f.get("is_taker") else "maker", ts)


def _state(o: dict, outcome: str, fills: tuple = ()) -> OrderState:
    filled, remaining = _d(o.get("fill_count_fp")), _d(o.get("remaining_count_fp"))
    status = {"executed": "FILLED", "canceled": "CANCELLED"}.get(o.get("status", ""))
    if status is None:
        status = "PARTIALLY_FILLED" if filled else "NEW"
    qty = filled + remaining if o.get("status") == "resting" else _d(o.get("initial_count_fp"), str(filled + remaining))
    price = o.get("no_price_dollars") if outcome == "NO" else o.get("yes_price_dollars")
    when = _when(o, "last_updated_ts_ms", "last_update_time") or _when(o, "created_ts_ms", "created_time")
    return OrderState(o.get("client_order_id") or "", o["order_id"], status, filled, fills, venue_ts_ns=when or None,
                      price=_d(price) if price else None, qty=qty)


def _bids(o: dict) -> bool:
    """Whether an order is long YES: ``book_side`` ``bid`` (``outcome_side`` ``yes``), else the
    legacy pair, buy YES or sell NO (https://docs.kalshi.com/getting_started/order_direction)."""
    if o.get("book_side") or o.get("outcome_side"):
        return o.get("book_side") == "bid" or o.get("outcome_side") == "yes"
    return (o.get("action", "buy") == "buy") == (o.get("side", "yes") == "yes")


def _held(orders: list, positions: list) -> Decimal:
    """Cash held by resting orders: each contract still resting (``remaining_count_fp``) at what it
    costs, ``yes_price_dollars`` for a bid, ``no_price_dollars`` for an ask; except the contracts
    that close what the account holds (an ask against YES held, a bid against NO: selling YES is
    buying NO, the order-direction page says, so these are sales, covered by the contracts),
    taken in the order the orders were placed. Kalshi's docs state no holding rule of their own;
    this is the one the available balance is read against. No fee is counted: Kalshi documents
    fees as charged on fills (``fee_cost``), none as held for a resting order."""
    free = {p["ticker"]: _d(p.get("position_fp")) for p in positions}      # signed: + YES, - NO
    total = Decimal(0)
    for o in sorted(orders, key=lambda o: o.get("created_time") or ""):
        bid, left, owned = _bids(o), _d(o.get("remaining_count_fp")), free.get(o["ticker"], Decimal(0))
        closes = min(left, max(-owned if bid else owned, Decimal(0)))
        free[o["ticker"]] = owned + closes if bid else owned - closes
        price = _d(o.get("yes_price_dollars")) if bid else _d(o.get("no_price_dollars"), str(ONE - _d(o.get("yes_price_dollars"))))
        total += (left - closes) * price
    return total


class KalshiSession(ExecutionSession):
    venue = "kalshi"
    amend_mode = "native_atomic"

    def __init__(self, client: KalshiClient, settings: dict | None = None):
        self.client, self.settings = client, dict(settings or {})
        self._ids: dict[str, str] = {}          # client order id -> Kalshi order id
        self.cids: dict[str, str] = {}          # Kalshi order id -> client order id (the private stream's key)
        self._legs: dict[str, str] = {}         # Kalshi order id -> YES | NO, for orders placed or read here

    @staticmethod
    def _outcome(inst) -> str:
        if inst.kind != "event_contract":
            raise InvalidOrder(f"kalshi: {inst.symbol} is not an event contract")
        return "NO" if inst.venue_symbol.endswith(NO_SUFFIX) or inst.outcome == "NO" else "YES"

    async def place(self, node, instrument) -> OrderState:
        outcome = self._outcome(instrument)
        if node.order_type == "market" and node.limit_price is None:
            # no market type in V2: cross the whole book, IOC
            side, price = wire(node.side, outcome, Decimal("0.99") if node.side == "buy" else CENT)
        elif node.limit_price is None:
            raise InvalidOrder(f"kalshi: a {node.order_type} order needs a price")
        else:
            side, price = wire(node.side, outcome, node.limit_price)
        body = {"ticker": ticker_of(instrument), "client_order_id": node.client_order_id, "side": side,
                "count": f"{node.qty.quantize(CENT):f}", "price": f"{price.quantize(Decimal('0.0001')):f}",
                "time_in_force": TIF.get(node.order_type or "limit", "good_till_canceled"),
                "self_trade_prevention_type": "taker_at_cross"}
        if node.order_type == "post_only":
            body["post_only"] = True
        answer = await self.client.create_order(body)
        self.remember(node.client_order_id, answer["order_id"])
        self._legs[answer["order_id"]] = outcome
        return await self.order_state(node.client_order_id, instrument)

    def remember(self, client_order_id: str, order_id: str) -> None:
        self._ids[client_order_id] = order_id
        self.cids[order_id] = client_order_id

    async def _order_id(self, client_order_id: str, instrument) -> str | None:
        if client_order_id not in self._ids:
            for o in await self.client.orders(ticker_of(instrument)):
                if o.get("client_order_id") == client_order_id:
                    self.remember(client_order_id, o["order_id"])
        return self._ids.get(client_order_id)

    async def order_state(self, client_order_id, instrument=None):
        if instrument is None:
            return None
        order_id = await self._order_id(client_order_id, instrument)
        if order_id is None:
            return None
        try:
            order = await self.client.order(order_id)
        except OrderNotFound:
            return None
        outcome = self._outcome(instrument)
        self._legs[order_id] = outcome           # the private stream prices this order's fills by it
        fills = ()
        if _d(order.get("fill_count_fp")):
            fills = tuple(_fill(f, outcome) for f in await self.client.fills(order_id))
        return _state(order, outcome, fills)

    async def cancel(self, node, instrument) -> OrderState:
        async def request():
            order_id = await self._order_id(node.client_order_id, instrument)
            if order_id is None:
                raise OrderNotFound(f"kalshi does not know order {node.client_order_id}")
            await self.client.cancel_order(order_id)
        return await self.cancel_and_read(node, instrument, request)

    async def amend(self, node, instrument, price, qty) -> AmendResult:
        outcome = self._outcome(instrument)
        order_id = await self._order_id(node.client_order_id, instrument)
        if order_id is None:
            raise OrderNotFound(f"kalshi does not know order {node.client_order_id}")
        order = await self.client.order(order_id)
        filled, total = _d(order.get("fill_count_fp")), _d(order.get("fill_count_fp")) + _d(order.get("remaining_count_fp"))
        if qty is not None and qty <= filled:
            raise InvalidOrder(f"kalshi: the new quantity {qty} must exceed what has filled ({filled})")
        current = _d(order.get("no_price_dollars") if outcome == "NO" else order.get("yes_price_dollars"))
        if (price is None or price == current) and qty is not None and qty < total:
            await self.decrease(node, instrument, reduce_by=total - qty)
        else:
            side, yes_price = wire(node.side, outcome, price if price is not None else current)
            await self.client.amend_order(order_id, {
                "ticker": ticker_of(instrument), "side": side, "price": f"{yes_price.quantize(Decimal('0.0001')):f}",
                "count": f"{(qty if qty is not None else total).quantize(CENT):f}",
                "client_order_id": node.client_order_id})
        return AmendResult("native_atomic", await self.order_state(node.client_order_id, instrument))

    async def decrease(self, node, instrument, *, reduce_by: Decimal | None = None, reduce_to: Decimal | None = None) -> OrderState:
        """Kalshi's decrease: fewer resting contracts, same queue place (``reduce_to`` is the
        resting count wanted, ``reduce_by`` how many to take off)."""
        order_id = await self._order_id(node.client_order_id, instrument)
        if order_id is None:
            raise OrderNotFound(f"kalshi does not know order {node.client_order_id}")
        fmt = (lambda v: None if v is None else f"{v.quantize(CENT):f}")
        await self.client.decrease_order(order_id, reduce_by=fmt(reduce_by), reduce_to=fmt(reduce_to))
        return await self.order_state(node.client_order_id, instrument)

    async def open_orders(self, instrument) -> list[OrderState]:
        """Resting orders of this leg. V2 orders are all YES-book orders: an order placed
        elsewhere counts as NO only if Kalshi labels it ``side: no`` (the legacy shape)."""
        outcome = self._outcome(instrument)

        def leg(o):
            return self._legs.get(o["order_id"]) or ("NO" if o.get("side") == "no" else "YES")
        return [_state(o, outcome) for o in await self.client.orders(ticker_of(instrument), "resting") if leg(o) == outcome]

    async def _cash(self) -> Decimal:
        """``GET /portfolio/balance``: ``balance_dollars`` (else ``balance`` in cents), the cash
        Kalshi reports as available for trading (https://docs.kalshi.com/api-reference/portfolio/get-balance)."""
        data = await self.client.balance()
        return _d(data.get("balance_dollars")) if data.get("balance_dollars") else Decimal(int(data.get("balance", 0))) / 100

    async def holdings(self):
        """The account's USD: the cash Kalshi reports as available (``_cash``) plus what its
        resting orders hold (``_held``). The available balance already holds what Kalshi paid
        back on netting a YES and a NO of one market ($1 a pair) and on settlements; contracts
        are ``positions``. Kalshi reports no figure for the order-held cash an ordinary account
        can read: ``portfolio_value`` in the balance answer is "the current value of all positions
        held" (https://docs.kalshi.com/api-reference/portfolio/get-balance), and ``GET
        /portfolio/summary/total_resting_order_value`` is "only intended for use by FCM members"
        (https://docs.kalshi.com/python-sdk/api/PortfolioApi). So it is computed from ``GET
        /portfolio/orders?status=resting``, every market's
        (https://docs.kalshi.com/api-reference/portfolio/get-orders), and the positions."""
        cash, orders, positions = await asyncio.gather(self._cash(), self.client.orders(None, "resting"),
                                                       self.client.positions())
        return {"USD": cash + _held(orders, positions)}

    async def balances(self):
        out = {"USD": await self._cash()}
        for p in await self.client.positions():
            held = _d(p.get("position_fp"))
            if held:                 # Kalshi nets YES and NO: the sign says which side is held
                out[f"{p['ticker']}:{'YES' if held > 0 else 'NO'}"] = abs(held)
        return out

    async def positions(self) -> list[VenuePosition]:
        rows = []
        for p in await self.client.positions():
            held = _d(p.get("position_fp"))
            if not held:
                continue
            exposure = _d(p.get("market_exposure_dollars"))
            rows.append(VenuePosition(p["ticker"] + ("" if held > 0 else NO_SUFFIX), abs(held),
                                      entry_price=(exposure / abs(held)).quantize(Decimal("0.0001")) if exposure else None,
                                      margin=exposure or None))
        return rows

    async def settle(self, instruments) -> Settlement | None:
        ticker = ticker_of(instruments[0])
        market = await self.client.market(ticker)
        result = (market.get("result") or "").lower()
        if result not in ("yes", "no") or market.get("status") not in SETTLED:
            return None
        record = next((s for s in await self.client.settlements(ticker) if s.get("ticker") == ticker), None)
        when = (record or {}).get("settled_time") or market.get("settlement_ts") or market.get("expiration_time")
        reference = f"{ticker} settled {result}" + (f" at {record['settled_time']}" if record else "")
        return Settlement(ticker, result.upper(), _d(market.get("notional_value_dollars"), "1"), "auto_settlement",
                          _ts_ns(when) or time.time_ns(), reference)

    async def prepare(self, instrument) -> None:
        """Read the market's series fee terms when they are unknown or stale (module docstring)."""
        ticker = ticker_of(instrument)
        if not fees.needs_terms(ticker, time.monotonic()):
            return
        try:
            event, series = await self.client.event_and_series(ticker)
            terms = fees.from_series(series, event)
        except (LookupError, AttributeError, ArithmeticError, TypeError, ValueError) as exc:
            # a malformed answer: a SequenceError, which the engine logs and gets past
            fees.FAILED[ticker] = time.monotonic()
            raise VenueError(f"kalshi: unreadable fee terms for {ticker}'s series: {exc!r}") from None
        except BaseException:
            fees.FAILED[ticker] = time.monotonic()      # down or slow: not asked again for RETRY_S
            raise
        fees.TERMS[ticker] = (terms, time.monotonic())

    def user_stream(self):
        from .stream import KalshiUserStream

        return KalshiUserStream(self, self.settings)

    async def close(self) -> None:
        await self.client.close()
