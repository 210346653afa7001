"""The paper exchange behind sandbox mode.

Orders are matched against the active market-data source's current book of the real
venue they are addressed to, with that venue's fee schedule:

- market / IOC: walk the book from the touch, up to the quantity and the limit price
  (taker fills, each level at its own price); the rest expires.
- limit: the marketable part takes liquidity as above; the rest rests. Post-only orders
  that would take are rejected.
- resting orders fill when the opposite side trades through their price (filled at the
  order's price, maker), or at the touch through the queue model below.
- Queue model: a resting order joins behind the size displayed at its price. While its
  price is the touch, the volume that trades there against its side (the source's trade
  prints; for sources without trades, 0.1 x the displayed size per second, drawn
  deterministically per (seed, order, second)) shrinks the queue ahead; the order fills
  once the queue is used up.
- Latency: the paper venue waits ``ENTRY_LATENCY_MS`` (5 ms) before matching, like the trip
  to a venue; the venue timestamp is that moment, so it precedes our receipt.
- Liquidity taken stays taken: the source never sees our trades, so :class:`PaperMarket`
  remembers what paper takers took at each level and shows the book without it (to the paper
  venues and to the engine's routing alike) until the source shows that level with another
  size, or for ``TAKEN_KEEP_S`` at most.

State (orders, fills) lives in ``<home>/sandbox/paper.db``: the venue side, separate from
the engine's journal, so crash recovery is tested against a venue that really remembers
what it received (writes are group-committed, and answered only once committed). Every
default here is written in docs/sandbox.md.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import sqlite3
import struct
import time
from decimal import Decimal
from pathlib import Path

import msgspec

from sequence_core.errors import InvalidOrder, NetworkError, RateLimitExceeded
from sequence_core.execution import ExecutionSession, OrderState, Settlement, VenueFill
from sequence_core.journal import checkpoint_in_background, retry_commit_later, rollback_quietly
from sequence_core.market import BookLevel, Instrument, MarketDataSource, OrderBook, with_outcomes
from sequence_core.orders import NodeOrder

TOUCH_TURNOVER_PER_S = Decimal("0.1")   # share of displayed touch size traded per second
ENTRY_LATENCY_MS = 5
BOOK_DEPTH = 50                         # levels a place may walk, or look through for its queue
TAKEN_KEEP_S = 10                       # source seconds a level stays depleted when its size never changes
log = logging.getLogger("sequence.paper")

SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    venue TEXT NOT NULL, client_order_id TEXT NOT NULL, status TEXT NOT NULL,
    updated_ns INTEGER NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (venue, client_order_id)
);
"""


class PaperOrder(msgspec.Struct):
    client_order_id: str
    venue_order_id: str
    symbol: str
    side: str
    qty: Decimal
    price: Decimal | None
    order_type: str
    status: str
    placed_ns: int
    queue_ahead: Decimal = Decimal(0)
    last_poll_ns: int = 0
    fills: list[VenueFill] = []
    reason: str = ""

    @property
    def filled(self) -> Decimal:
        return sum((f.qty for f in self.fills), Decimal(0))

    def state(self) -> OrderState:
        return OrderState(self.client_order_id, self.venue_order_id, self.status, self.filled, tuple(self.fills),
                          self.reason, self.placed_ns, self.price, self.qty)


class PaperExchange:
    """The paper venues' shared order store.

    Writes are committed in groups, as a venue's matching engine persists: every put waits
    in memory (where get() reads it first) for one commit on the next event-loop turn
    (outside a loop: at once), and a session awaits :meth:`saved` before it answers, so the
    venue never answers what it would not remember after a crash. One commit per order was
    ~6% of the engine's CPU under load (issue 4). A commit the disk refuses keeps its rows
    and its waiters and is tried again (4 ms, doubling to 1 s), as the journal does. In the
    engine its WAL is checkpointed on a thread of its own: the checkpoint SQLite runs inside
    every ~1,000th page's commit synced the file on the event loop, 3-20 ms stalls that were
    the slowest of a deployed strategy's orders."""

    def __init__(self, path: Path):
        self.path = path
        self.db = sqlite3.connect(path, timeout=10, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        self._pending: dict[tuple[str, str], tuple] = {}   # rows put, not yet committed
        self._scheduled = False            # a commit is on its way
        self._failures = 0                 # commits refused in a row
        self._waiters: list[asyncio.Future] = []
        try:
            asyncio.get_running_loop()     # in the engine: never checkpoint inside a commit
        except RuntimeError:
            pass
        else:
            checkpoint_in_background(self.db)

    def get(self, venue: str, cid: str) -> PaperOrder | None:
        pending = self._pending.get((venue, cid))
        if pending is not None:
            data = pending[4]
        else:
            row = self.db.execute("SELECT data FROM orders WHERE venue=? AND client_order_id=?", (venue, cid)).fetchone()
            data = row[0] if row else None
        return msgspec.json.decode(data, type=PaperOrder) if data else None

    def put(self, venue: str, order: PaperOrder) -> None:
        self._pending[(venue, order.client_order_id)] = (venue, order.client_order_id, order.status, time.time_ns(),
                                                         msgspec.json.encode(order).decode())
        if not self._scheduled:
            try:
                asyncio.get_running_loop().call_soon(self._commit)
                self._scheduled = True
            except RuntimeError:
                self._commit()             # no loop: at once

    async def saved(self) -> None:
        """Return once every put so far is committed."""
        if self._pending:
            future = asyncio.get_running_loop().create_future()
            self._waiters.append(future)
            await future

    def _commit(self) -> None:
        self._scheduled = False
        if self._pending:
            try:
                self.db.execute("BEGIN IMMEDIATE")
                self.db.executemany("INSERT OR REPLACE INTO orders VALUES (?,?,?,?,?)", list(self._pending.values()))
                self.db.execute("COMMIT")
            except sqlite3.Error as exc:
                rollback_quietly(self.db)
                self._failures += 1
                retry_commit_later(exc, self._failures, self._commit, "the paper venues' store", log)
                self._scheduled = True
                return
            self._pending, self._failures = {}, 0
        waiters, self._waiters = self._waiters, []
        for future in waiters:
            if not future.done():
                future.set_result(None)


class _Taken(msgspec.Struct):
    shown: Decimal          # the level's size in the source when paper takers first took from it
    taken: Decimal          # what they took since
    at_ns: int              # source time of the first take


class PaperMarket(MarketDataSource):
    """The sandbox's market-data source with the paper venues' own trades in it.

    A real venue's book loses what our taker orders took; the source's book does not (it never
    sees them), so without this a second order, or the SOR's next round, would take the same
    displayed size again at the same price. Each level a paper taker took from is shown
    reduced by what was taken (and gone once all of it was) while the source shows it at the
    size it had then: a new size means the source refreshed the level. Kept ``TAKEN_KEEP_S``
    source seconds at most, for levels whose size never changes. Everything else is the
    wrapped source's."""

    def __init__(self, source: MarketDataSource):
        self.source = source
        self.name, self.needs_network = source.name, source.needs_network    # not the base class's
        # (venue, symbol, outcome, asks?) -> price -> what was taken there; the outcome because
        # an event contract's YES and NO books carry one symbol
        self._taken: dict[tuple[str, str, str | None, bool], dict[Decimal, _Taken]] = {}

    def __getattr__(self, attr):           # seed, runners, stop, ...: the source's own
        return getattr(self.source, attr)

    def now_ns(self) -> int:
        return self.source.now_ns()

    def trades(self, instrument, start_ns, end_ns):
        return self.source.trades(instrument, start_ns, end_ns)

    def label(self) -> str:
        return self.source.label()

    def books(self, instruments, at_ns=None, depth=20):
        if not self._taken:
            return self.source.books(instruments, at_ns, depth)
        # read deeper by as many levels as could be hidden, so a side still shows *depth*
        hidden = max((len(self._taken.get((i.venue, i.symbol, i.outcome, asks), ())) for i in instruments
                      for asks in (False, True)), default=0)
        if not hidden:
            return self.source.books(instruments, at_ns, depth)
        at = self.source.now_ns() if at_ns is None else at_ns
        books = self.source.books(instruments, at_ns, depth + hidden)
        return [self._without_taken(b, outcome, depth, at) for b, outcome in with_outcomes(books, instruments)]

    def _without_taken(self, book: OrderBook, outcome: str | None, depth: int, at: int) -> OrderBook:
        sides = {}
        for asks, levels in ((False, book.bids), (True, book.asks)):
            key = (book.venue, book.symbol, outcome, asks)
            if key in self._taken:
                levels = self._side_without(self._taken[key], levels, at)
                if not self._taken[key]:
                    del self._taken[key]       # all refreshed: this side reads straight through again
            sides["asks" if asks else "bids"] = levels[:depth]
        return msgspec.structs.replace(book, **sides)

    @staticmethod
    def _side_without(taken: dict[Decimal, _Taken], levels, at: int) -> tuple[BookLevel, ...]:
        out = []
        for level in levels:
            t = taken.get(level.price)
            if t is not None and (t.shown != level.size or at - t.at_ns > TAKEN_KEEP_S * 10**9):
                del taken[level.price]     # the source refreshed the level: its size is the venue's again
                t = None
            if t is None:
                out.append(level)
            elif t.taken < t.shown:
                out.append(BookLevel(level.price, t.shown - t.taken))
        for price in [p for p, t in taken.items() if at - t.at_ns > TAKEN_KEEP_S * 10**9]:
            del taken[price]               # levels the source no longer shows
        return tuple(out)

    def take(self, inst: Instrument, asks: bool, level: BookLevel, qty: Decimal, at: int) -> None:
        """A paper taker took *qty* at *level* of *inst*'s book (as this source showed it)."""
        taken = self._taken.setdefault((inst.venue, inst.symbol, inst.outcome, asks), {})
        t = taken.get(level.price)
        if t is None:
            taken[level.price] = _Taken(level.size, qty, at)
        else:
            t.taken += qty


def _draw(seed: int, *parts) -> float:
    h = hashlib.blake2b(f"{seed}|{'|'.join(map(str, parts))}".encode(), digest_size=8).digest()
    return struct.unpack("<Q", h)[0] / 2**64


class PaperSession(ExecutionSession):
    amend_mode = "cancel_replace"

    def __init__(self, venue, exchange: PaperExchange, source: MarketDataSource, seed: int = 42):
        self.venue = venue.name
        self._venue = venue
        self.exchange = exchange
        self.source = source if isinstance(source, PaperMarket) else PaperMarket(source)
        self.seed = seed
        # [venues.<name>] leverage, as the live session keeps it: the margin admission and
        # routing count a paper perp order at (docs/sandbox.md); checked when read
        from sequence_core.config import venue_settings
        from sequence_core.execution import Leverage

        self.leverage = Leverage(self.venue, venue.title or self.venue, venue_settings(self.venue))
        self._config = None                                # FileWatch of config.toml, made on first use
        self._fault_of: str | None = None
        self._resolved: dict[str, str | None] = {}         # event symbol -> the outcome that won (None: open)

    def _winner(self, inst: Instrument) -> str | None:
        """The outcome an event contract's market resolved for (by a redeem), else None: a
        resolved market takes no orders and its resting orders are cancelled, as a venue
        closes a settled market. Read once per market; settle() keeps it current."""
        if inst.kind != "event_contract":
            return None
        if inst.symbol not in self._resolved:
            known = self.exchange.get(self.venue, f"settle:{inst.symbol}")
            self._resolved[inst.symbol] = known.side if known else None
        return self._resolved[inst.symbol]

    def _book(self, inst: Instrument, at_ns: int, depth: int = BOOK_DEPTH) -> OrderBook:
        return self.source.books([inst], at_ns, depth=depth)[0]

    def _book_for(self, order: PaperOrder, inst: Instrument, at_ns: int) -> OrderBook:
        """The book as deep as matching *order* needs: its top, unless it takes more than the
        opposite touch holds, or rests behind its own side's touch (its queue is the size at
        its price, further down). A book's top is the same at any depth, so the answer is
        the one the full book gives; a synthetic 50-level book costs ~13x its top."""
        top = self._book(inst, at_ns, 1)
        buy = order.side == "buy"
        opp, same = (top.best_ask, top.best_bid) if buy else (top.best_bid, top.best_ask)
        crosses = self._crosses(order, top)
        if order.order_type in ("market", "ioc") or (order.order_type == "limit" and crosses):
            # it walks the opposite side: past the touch only if that is within its limit and too small
            within = order.price is None or crosses
            return self._book(inst, at_ns) if opp is not None and within and opp.size < order.qty else top
        if order.order_type == "post_only" and crosses:
            return top                      # rejected: it would take
        behind = same is not None and (order.price < same.price if buy else order.price > same.price)
        return self._book(inst, at_ns) if behind else top

    def _fee(self, inst: Instrument, price: Decimal, qty: Decimal, liquidity: str) -> Decimal:
        fee = self._venue.fee(inst, price, qty, liquidity)
        return Decimal(0) if fee is None else fee

    def _take(self, order: PaperOrder, inst: Instrument, book: OrderBook, ts: int) -> None:
        levels = book.asks if order.side == "buy" else book.bids
        left = order.qty - order.filled
        for i, level in enumerate(levels):
            if left <= 0:
                break
            if order.price is not None and ((order.side == "buy" and level.price > order.price) or
                                            (order.side == "sell" and level.price < order.price)):
                break
            q = min(left, level.size)
            self.source.take(inst, order.side == "buy", level, q, ts)
            n = len(order.fills)
            order.fills.append(VenueFill(f"{order.venue_order_id}-{n}", level.price, q,
                                         self._fee(inst, level.price, q, "taker"), inst.quote, "taker", ts))
            left -= q

    def _crosses(self, order: PaperOrder, book: OrderBook) -> bool:
        opp = book.best_ask if order.side == "buy" else book.best_bid
        return opp is not None and order.price is not None and (
            (order.side == "buy" and opp.price <= order.price) or (order.side == "sell" and opp.price >= order.price))

    def _settle(self, order: PaperOrder) -> None:
        if order.filled >= order.qty:
            order.status = "FILLED"
        elif order.status not in ("CANCELLED", "REJECTED", "EXPIRED"):
            order.status = "PARTIALLY_FILLED" if order.fills else "NEW"

    def _fault(self) -> str | None:
        """``[sandbox.faults] <venue> = "reject" | "timeout" | "ratelimit" | "down" |
        "lost_answer"`` makes a paper venue misbehave on purpose, to rehearse how orders survive
        a bad venue. ``down``: every call fails before the venue sees it; ``lost_answer``: a
        place is received and matched but its answer is lost, and every read fails, until the
        fault is lifted."""
        from sequence_core.config import config_path, load_config
        from sequence_core.home import FileWatch

        if self._config is None:                   # a change applies within 0.1 s (docs/sandbox.md)
            self._config = FileWatch(config_path(), absent=OSError)
        if self._config.changed():                 # re-read only when the file changed
            stamp = self._config.stamp
            self._fault_of = load_config().get("sandbox", {}).get("faults", {}).get(self.venue) if stamp else None
        return self._fault_of

    async def place(self, node: NodeOrder, instrument: Instrument) -> OrderState:
        fault = self._fault()
        if fault == "reject":
            raise InvalidOrder(f"{self.venue} (paper, fault injection) rejected the order")
        if fault == "ratelimit":
            raise RateLimitExceeded(f"{self.venue} (paper, fault injection) answered 429 Too Many Requests", retry_after=1.0)
        if fault == "timeout":
            await asyncio.sleep(3600)
        self._unreachable(fault, "down")
        known = self.exchange.get(self.venue, node.client_order_id)
        if known is not None:        # a retry after a crash: the venue already has it
            return known.state()
        if won := self._winner(instrument):
            raise InvalidOrder(f"{instrument.symbol} has resolved on {self.venue} ({won} won): the market takes no more orders")
        # The order travels to the venue: wait out the entry latency (no CPU; concurrent
        # orders overlap), then match at the venue's clock, which our receipt follows.
        await asyncio.sleep(ENTRY_LATENCY_MS / 1000)
        now = self.source.now_ns()
        vid = "P" + hashlib.blake2b(f"{self.venue}|{node.client_order_id}".encode(), digest_size=6).hexdigest()
        order = PaperOrder(node.client_order_id, vid, instrument.symbol, node.side, node.qty, node.limit_price,
                           node.order_type, "NEW", now, last_poll_ns=now)
        book = self._book_for(order, instrument, now)
        if node.order_type == "post_only" and self._crosses(order, book):
            order.status, order.reason = "REJECTED", "post-only order would take liquidity"
        elif node.order_type in ("market", "ioc"):
            self._take(order, instrument, book, now)
            self._settle(order)
            if order.status != "FILLED":
                order.status = "EXPIRED"
                order.reason = "no more liquidity within the limit price" if order.price is not None else "book exhausted"
        else:   # limit (and post_only that rests)
            if self._crosses(order, book):
                self._take(order, instrument, book, now)
            self._settle(order)
            if order.status != "FILLED":
                same = book.bids if order.side == "buy" else book.asks
                order.queue_ahead = sum((lv.size for lv in same if lv.price == order.price), Decimal(0))
        self.exchange.put(self.venue, order)
        await self.exchange.saved()
        self._unreachable(fault, "lost_answer")
        return order.state()

    def _unreachable(self, fault: str | None, *kinds: str) -> None:
        if fault in kinds:
            raise NetworkError(f"{self.venue} (paper, fault injection: {fault}) did not answer: connection reset")

    async def order_state(self, client_order_id: str, instrument: Instrument | None = None) -> OrderState | None:
        self._unreachable(self._fault(), "down", "lost_answer")
        order = self.exchange.get(self.venue, client_order_id)
        return order.state() if order else None

    async def poll(self, nodes):
        self._unreachable(self._fault(), "down", "lost_answer")
        out = []
        now = self.source.now_ns()
        for node, inst in nodes:
            order = self.exchange.get(self.venue, node.client_order_id)
            if order is None:
                continue
            if order.status in ("NEW", "PARTIALLY_FILLED") and (won := self._winner(inst)):
                order.status, order.reason = "CANCELLED", f"the market resolved ({won} won)"
                self.exchange.put(self.venue, order)
            elif order.status in ("NEW", "PARTIALLY_FILLED") and order.price is not None:
                self._match_resting(order, inst, now)
                self.exchange.put(self.venue, order)
            out.append(order.state())
        await self.exchange.saved()
        return out

    def _match_resting(self, order: PaperOrder, inst: Instrument, now: int) -> None:
        # the touch decides (a cross, or our price at the touch); a deeper read built 50
        # synthetic levels per poll of each resting order, a ms-scale stall of the engine
        book = self._book(inst, now, depth=1)
        left = order.qty - order.filled
        if self._crosses(order, book):   # traded through: the whole rest fills at our price
            self._maker_fill(order, inst, left, now)
        else:
            touch = book.best_bid if order.side == "buy" else book.best_ask
            if touch is not None and touch.price == order.price:
                traded, order.last_poll_ns = self._traded_at(order, inst, touch, now)
                order.queue_ahead -= traded
                if order.queue_ahead < 0:
                    self._maker_fill(order, inst, min(left, -order.queue_ahead), now)
                    order.queue_ahead = Decimal(0)
                self._settle(order)
                return
        order.last_poll_ns = now
        self._settle(order)

    def _traded_at(self, order: PaperOrder, inst: Instrument, touch, now: int) -> tuple[Decimal, int]:
        """(volume traded at our price against our side since the last look, the time it
        covers up to): the source's trade prints where it has them, else the documented
        turnover assumption, counted in whole seconds."""
        start = min(order.last_poll_ns, now)
        trades = self.source.trades(inst, start, now)
        if trades:
            against = -1 if order.side == "buy" else 1     # sells hit a resting bid
            return sum((t.size for t in trades if t.side == against and t.price == order.price), Decimal(0)), now
        seconds = int(min(max(0, (now - start) // 1_000_000_000), 3600))
        volume = sum((touch.size * TOUCH_TURNOVER_PER_S * Decimal(repr(2 * _draw(self.seed, order.venue_order_id, start // 10**9 + s)))
                      for s in range(seconds)), Decimal(0))
        return volume, start + seconds * 1_000_000_000

    def _maker_fill(self, order: PaperOrder, inst: Instrument, qty: Decimal, ts: int) -> None:
        qty = (qty / inst.lot_size).to_integral_value() * inst.lot_size if inst.lot_size else qty
        if qty <= 0:
            return
        n = len(order.fills)
        order.fills.append(VenueFill(f"{order.venue_order_id}-{n}", order.price, qty,
                                     self._fee(inst, order.price, qty, "maker"), inst.quote, "maker", ts))

    async def cancel(self, node: NodeOrder, instrument: Instrument) -> OrderState:
        order = self.exchange.get(self.venue, node.client_order_id)
        if order is None:
            return OrderState(node.client_order_id, None, "REJECTED", Decimal(0), reason="unknown order")
        if order.status in ("NEW", "PARTIALLY_FILLED"):
            # a cancel races fills: match up to now first, so fills that happened before it win
            # (none once the market has resolved)
            if order.price is not None and not self._winner(instrument):
                self._match_resting(order, instrument, self.source.now_ns())
            if order.status != "FILLED":
                order.status = "CANCELLED"
            self.exchange.put(self.venue, order)
            await self.exchange.saved()
        return order.state()

    async def settle(self, instruments):
        """Sandbox resolution: a market resolves when you redeem it, for the outcome the
        synthetic market prices above 50% at that moment (recorded, so it never changes)."""
        yes = next((i for i in instruments if i.outcome in (None, "YES")), instruments[0])
        key = f"settle:{yes.symbol}"
        known = self.exchange.get(self.venue, key)
        if known is None:
            book = self._book(yes, self.source.now_ns(), depth=1)
            mid = (book.best_bid.price + book.best_ask.price) / 2 if book.best_bid and book.best_ask else Decimal("0.5")
            won = "YES" if mid >= Decimal("0.5") else "NO"
            known = PaperOrder(key, "S" + hashlib.blake2b(key.encode(), digest_size=6).hexdigest(), yes.symbol, won,
                               Decimal(0), mid, "settlement", "SETTLED", self.source.now_ns())
            self.exchange.put(self.venue, known)
            await self.exchange.saved()
        self._resolved[yes.symbol] = known.side
        return Settlement(yes.symbol, known.side, Decimal(1), "paper_resolution", known.placed_ns, known.venue_order_id)

    async def amend(self, node, instrument, price, qty):
        raise NotImplementedError("paper venues amend by cancel-replace, as most real venues")
