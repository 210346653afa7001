"""The order journal: graphs, node orders, fills and lifecycle events in SQLite (WAL).

It shares the database file of the mode's ledger (``<home>/journal.db`` live,
``<home>/sandbox/journal.db`` sandbox) so that a fill, the node and graph it belongs to and
the positions it moves are committed in one transaction: a crash can never record a
fill without its position change, or the other way round. Rows keep a few indexed
columns plus the full record as msgspec JSON (decimals as strings, exact).

Write order (the engine's contract): a node order is inserted with status PENDING_NEW and
committed before it is sent; the venue then learns it under a client order id derived
from the node id, so after a crash the engine can ask the venue whether it arrived.
"""

from __future__ import annotations

import functools
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import msgspec

from . import ledger
from .errors import ConfigError
from .execution import FundingPayment
from .market import outcome_symbol
from .orders import NODE_TERMINAL, TIMED_GRAPH_ID_LEN, Fill, LifecycleEvent, NodeOrder, OrderGraph, add_fill

SCHEMA = """
CREATE TABLE IF NOT EXISTS graphs (
    graph_id   TEXT PRIMARY KEY,
    symbol     TEXT NOT NULL,
    side       TEXT NOT NULL,
    policy     TEXT NOT NULL,
    status     TEXT NOT NULL,
    created_ns INTEGER NOT NULL,
    updated_ns INTEGER NOT NULL,
    data       TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS graphs_status ON graphs (status);
CREATE TABLE IF NOT EXISTS nodes (
    node_order_id   TEXT PRIMARY KEY,
    graph_id        TEXT NOT NULL REFERENCES graphs (graph_id),
    client_order_id TEXT NOT NULL UNIQUE,
    venue           TEXT NOT NULL,
    symbol          TEXT NOT NULL,
    status          TEXT NOT NULL,
    created_ns      INTEGER NOT NULL,
    updated_ns      INTEGER NOT NULL,
    data            TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS nodes_graph ON nodes (graph_id);
CREATE INDEX IF NOT EXISTS nodes_status ON nodes (status);
CREATE TABLE IF NOT EXISTS fills (
    venue         TEXT NOT NULL,
    fill_id       TEXT NOT NULL,
    node_order_id TEXT NOT NULL,
    graph_id      TEXT NOT NULL,
    symbol        TEXT NOT NULL,
    ts_ns         INTEGER NOT NULL,
    data          TEXT NOT NULL,
    PRIMARY KEY (venue, fill_id)
);
CREATE INDEX IF NOT EXISTS fills_graph ON fills (graph_id);
CREATE TABLE IF NOT EXISTS events (
    id            INTEGER PRIMARY KEY,   -- grows: events are never deleted (no AUTOINCREMENT:
                                         -- its counter row was one more write per event)
    ts_ns         INTEGER NOT NULL,
    graph_id      TEXT NOT NULL,
    node_order_id TEXT,
    kind          TEXT NOT NULL,
    venue_ts_ns   INTEGER,
    detail        TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_graph ON events (graph_id, ts_ns);
CREATE TABLE IF NOT EXISTS funding (
    venue      TEXT NOT NULL,
    payment_id TEXT NOT NULL,
    instrument TEXT NOT NULL,            -- the perp, as positions name it
    asset      TEXT NOT NULL,            -- the coin it moved
    amount     TEXT NOT NULL,            -- signed decimal: received > 0, paid < 0
    ts_ns      INTEGER NOT NULL,         -- when the venue booked it
    PRIMARY KEY (venue, payment_id)
);
"""

_enc = msgspec.json.Encoder()
log = logging.getLogger("sequence.journal")
COMMIT_EVERY_S = 0.002   # group commit: at most one COMMIT per 2 ms under load (the first after a pause: at once)
COMMIT_RETRY_MAX_S = 1.0  # a failed commit is tried again after 4 ms, 8 ms, ... up to this (Journal._failed)
WAL_LIMIT_BYTES = 64 << 20  # the engine's checkpointer empties a WAL grown past this (start_checkpointer)
ROWS_PER_STATEMENT = 64  # buffered rows are written as multi-row INSERTs of at most this many

GRAPH_UPSERT = ("INSERT INTO graphs VALUES {} ON CONFLICT (graph_id) DO UPDATE SET "
                "status=excluded.status, updated_ns=excluded.updated_ns, data=excluded.data", 8)
NODE_UPSERT = ("INSERT INTO nodes VALUES {} ON CONFLICT (node_order_id) DO UPDATE SET "
               "status=excluded.status, updated_ns=excluded.updated_ns, data=excluded.data", 9)
EVENT_INSERT = ("INSERT INTO events (ts_ns, graph_id, node_order_id, kind, venue_ts_ns, detail) VALUES {}", 6)
FILL_INSERT = ("INSERT OR IGNORE INTO fills VALUES {}", 7)
POSITION_UPSERT = ("INSERT INTO positions (venue, instrument, kind, qty, cost, realized, fees, status, updated_ns) VALUES {} "
                   "ON CONFLICT (venue, instrument) DO UPDATE SET qty=excluded.qty, cost=excluded.cost, "
                   "realized=excluded.realized, fees=excluded.fees, status=excluded.status, updated_ns=excluded.updated_ns", 9)


@functools.lru_cache(maxsize=512)
def _sql(template: str, width: int, rows: int) -> str:
    one = "(" + ",".join("?" * width) + ")"
    return template.format(",".join([one] * rows))


def _statements(kind: tuple[str, int], rows: list[tuple]) -> list[tuple[str, list]]:
    """*rows* as multi-row INSERTs: one statement executed per ROWS_PER_STATEMENT rows
    instead of one per row."""
    template, width = kind
    out = []
    for i in range(0, len(rows), ROWS_PER_STATEMENT):
        part = rows[i:i + ROWS_PER_STATEMENT]
        out.append((_sql(template, width, len(part)), [v for r in part for v in r]))
    return out


def checkpoint_in_background(db: sqlite3.Connection, every_s: float = 1.0,
                             wal_limit: int = WAL_LIMIT_BYTES) -> threading.Event:
    """Copy *db*'s WAL into its database from a thread with a connection of its own
    (``PASSIVE``: it never blocks a commit) instead of inside whichever commit crosses
    SQLite's 1,000-page mark: that checkpoint syncs the database file in the committing
    thread, which took half of the journal's commit time under load and stalled the engine
    3-20 ms at a time when the paper venue's store did it. Returns the event that stops it.

    A PASSIVE checkpoint lets the next commit start the WAL over only when it caught up
    with every commit; under sustained load it never does, and the journal's WAL grew by
    ~19 KB per order (78 MB after 4,000 orders at full speed). Past *wal_limit* bytes the
    thread checkpoints with ``TRUNCATE`` instead: it waits for the commit under way, holds
    the next one back while it copies what the PASSIVE rounds left (a few ms) and empties
    the file."""
    path = db.execute("PRAGMA database_list").fetchone()[2]
    db.execute("PRAGMA wal_autocheckpoint=0")
    stop = threading.Event()

    def run() -> None:
        conn = sqlite3.connect(path, timeout=10, isolation_level=None, check_same_thread=False)
        try:
            while not stop.wait(every_s):
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                    if os.path.getsize(path + "-wal") > wal_limit:
                        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                except (sqlite3.Error, OSError):
                    pass            # busy or closing: the next round catches up
        finally:
            conn.close()

    threading.Thread(target=run, name="sqlite-checkpoint", daemon=True).start()
    return stop


def rollback_quietly(db: sqlite3.Connection) -> None:
    """Roll back the open transaction after a failed write, if SQLite has not already."""
    try:
        if db.in_transaction:
            db.execute("ROLLBACK")
    except sqlite3.Error:
        pass                               # SQLite rolled back itself


def retry_commit_later(exc: sqlite3.Error, failures: int, commit, what: str, logger: logging.Logger = log) -> None:
    """After a commit the disk refused (*failures* in a row): in an event loop, call *commit*
    again after 4 ms, 8 ms, ... up to COMMIT_RETRY_MAX_S, logging the first failure and every
    20th; outside one, raise *exc* to the caller. The journal and the paper venues' store
    keep the refused writes in memory meanwhile."""
    import asyncio

    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        raise exc from None
    delay = min(COMMIT_RETRY_MAX_S, COMMIT_EVERY_S * 2 ** failures)
    if failures == 1 or failures % 20 == 0:
        logger.error("%s could not commit (%s, %d time(s)); its writes are kept and tried again in %.3f s",
                     what, exc, failures, delay)
    loop.call_later(delay, commit)


class Journal:
    """Group commit: writes join one open transaction (SQL of a caller's own in a SAVEPOINT,
    see tx()) that is committed on the next event-loop iteration, or, under load, COMMIT_EVERY_S after the
    previous commit (a commit cost ~30% of the engine's time when every loop turn had one),
    so the writes of many concurrent orders share one commit. Whoever must not go on before
    its writes are durable (the engine, before it sends an order) awaits :meth:`durable`. Outside an event loop each write
    commits at once. A commit in WAL mode survives a process crash (SIGKILL).

    Graph and node rows and events are written at commit time, in batches: a graph saved
    five times before a commit is one row write of its last state. Every read flushes them
    first, so reads see every write, as if each had been executed at once. Fills and
    positions are buffered the same way (record_fill), so applying a venue's answer runs no
    SQL at all; tx() writes the buffer first for callers with SQL of their own."""

    def __init__(self, sandbox: bool):
        self.sandbox = sandbox
        self.db = ledger.connect(sandbox)
        self.db.executescript(SCHEMA)
        self._open = False
        self._depth = 0
        self._commit_scheduled = False
        self._committed_at = 0.0                      # monotonic time of the last COMMIT
        self.committed_ns = 0                         # wall-clock time (ns) the last COMMIT returned
        self._waiters: list = []
        self._graphs: dict[str, OrderGraph] = {}      # written at the next flush
        self._nodes: dict[str, NodeOrder] = {}
        self._events: list[LifecycleEvent] = []
        self._fills: dict[tuple[str, str], tuple] = {}  # (venue, fill id) -> row
        self._fill_ids: dict[str, set[str]] = {}     # node id -> its fill ids taken for commit, for
                                                      # nodes whose every fill this journal has seen
        self._checkpointer = None                     # threading.Event that stops it
        self._uncommitted: list[tuple] = []           # buffers written in the open transaction (_flush)
        self._failures = 0                            # commits failed in a row (_failed)
        self._error: sqlite3.Error | None = None      # the last one's error
        self._closed = False
        self.positions = Positions(self)

    def close(self) -> None:
        self.commit()
        if self._buffered or self._open:
            log.error("the journal closed with writes it could not commit (see the errors above)")
        self._closed = True
        if self._checkpointer is not None:
            self._checkpointer.set()
        self.db.close()

    def start_checkpointer(self, every_s: float = 1.0, wal_limit: int = WAL_LIMIT_BYTES) -> None:
        """For the engine: checkpoints on a thread of their own (checkpoint_in_background)."""
        self._checkpointer = checkpoint_in_background(self.db, every_s, wal_limit)

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        if not self._open:
            self.db.execute("BEGIN IMMEDIATE")
            self._open = True
        self._depth += 1
        outer = self._depth == 1      # nested writes ride on the outermost savepoint
        if outer:
            self._flush()             # SQL of the caller's own comes after the buffered rows
            self.db.execute("SAVEPOINT w")
            kept = self._kept()
        try:
            yield self.db
            if outer:
                self.db.execute("RELEASE w")
        except BaseException:
            if outer:
                self.db.execute("ROLLBACK TO w")
                self.db.execute("RELEASE w")
                self._restore(kept)           # (and forgets the positions it may have cached)
            raise
        finally:
            self._depth -= 1
        if self._depth == 0:
            # committed at once, not at the next group commit: if that commit fails and SQLite
            # rolls it back, the caller's own SQL is gone and the caller must hear so (the
            # buffered rows go back to the buffer and are written again: _failed). Told by the
            # failure count, not by what is left uncommitted: with nothing buffered before it,
            # a rolled-back commit of the caller's SQL alone leaves nothing behind
            failures = self._failures
            self.commit()
            if self._failures > failures and not self.db.in_transaction:
                raise ConfigError(f"the journal could not commit ({self._error}); this change was not kept")

    @contextmanager
    def group(self) -> Iterator[None]:
        """Saves that belong together and run no SQL (graphs, nodes, events, fills and
        positions: they only buffer): committed together like tx(), dropped together on an
        error, without tx()'s savepoint (two statements per use, ~3% of the engine's CPU per
        order)."""
        kept = self._kept()
        try:
            yield
        except BaseException:
            self._restore(kept)
            raise

    def _kept(self) -> tuple:
        """The write buffer as it stands, for _restore when what follows fails."""
        return dict(self._graphs), dict(self._nodes), len(self._events), dict(self._fills), dict(self.positions.pending)

    def _restore(self, kept: tuple) -> None:
        self._graphs, self._nodes, self._fills, self.positions.pending = kept[0], kept[1], kept[3], kept[4]
        del self._events[kept[2]:]
        self.positions.forget()       # it may hold rows written since

    def _schedule_commit(self) -> None:
        if self._commit_scheduled:        # the common case under load: one is on its way
            return
        import asyncio

        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.commit()
            return
        self._commit_scheduled = True
        wait = self._committed_at + COMMIT_EVERY_S - time.monotonic()
        if wait > 0:
            loop.call_later(wait, self.commit)
        else:
            loop.call_soon(self.commit)

    @property
    def _buffered(self) -> bool:
        return bool(self._graphs or self._nodes or self._events or self._fills or self.positions.pending)

    def _take_rows(self) -> list[tuple[str, list]]:
        """The buffered graph, node and event rows as INSERT statements; the buffer is emptied.
        Graphs and nodes are upserted: the row is rewritten in place (REPLACE deleted and
        re-inserted it, with every index entry; the ids' indexes never change)."""
        out = []
        if self._fills:
            for venue_fill, row in self._fills.items():
                ids = self._fill_ids.get(row[2])
                if ids is not None:
                    ids.add(venue_fill[1])
            out += _statements(FILL_INSERT, list(self._fills.values()))
            self._fills = {}
        if self.positions.pending:
            out += _statements(POSITION_UPSERT, list(self.positions.pending.values()))
            self.positions.pending = {}
        if self._graphs:
            out += _statements(GRAPH_UPSERT, [
                (g.graph_id, g.request.symbol, g.request.side, g.request.policy, g.status, g.created_ns, g.updated_ns,
                 _enc.encode(g).decode()) for g in self._graphs.values()])
            self._graphs = {}
        if self._nodes:
            for n in self._nodes.values():
                if n.status in NODE_TERMINAL:
                    self._fill_ids.pop(n.node_order_id, None)   # a late repeat is checked in SQL
            out += _statements(NODE_UPSERT, [
                (n.node_order_id, n.graph_id, n.client_order_id, n.venue, n.symbol, n.status, n.created_ns, n.updated_ns,
                 _enc.encode(n).decode()) for n in self._nodes.values()])
            self._nodes = {}
        if self._events:
            out += _statements(EVENT_INSERT, [
                (e.ts_ns, e.graph_id, e.node_order_id, e.kind, e.venue_ts_ns, _enc.encode(e.detail).decode())
                for e in self._events])
            self._events = []
        return out

    def _flush(self) -> None:
        """Write the buffered rows here, opening the transaction they commit in when none is
        (their commit is already scheduled: see save). What they were is kept until that
        commit: should it fail, they go back to the buffer (_failed)."""
        if not self._buffered:
            return
        if not self._open:
            self.db.execute("BEGIN IMMEDIATE")
            self._open = True
        self._uncommitted.append(self._buffers())
        for sql, params in self._take_rows():
            self.db.execute(sql, params)

    def commit(self) -> None:
        self._commit_scheduled = False
        if self._closed:
            return                         # a retry of a failed commit, after close()
        if self._depth == 0:
            written = False
            try:
                self._flush()
                written = True
                if self._open:
                    self.db.execute("COMMIT")
                    self._open = False
                    self._committed_at = time.monotonic()
                    self.committed_ns = time.time_ns()
            except sqlite3.Error as exc:
                self._failed(exc, kept_open=written)
                return
            self._uncommitted.clear()
            self._failures = 0
        waiters, self._waiters = self._waiters, []
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)

    def _failed(self, exc: sqlite3.Error, kept_open: bool) -> None:
        """A write or COMMIT failed (disk full, an I/O error): nothing is dropped. A COMMIT
        that failed while SQLite kept the transaction is tried again as it stands; otherwise
        the transaction is rolled back and its rows return to the buffer, to be written again.
        Waiters keep waiting, so nothing is sent that is not journaled; in the engine the
        commit is retried with backoff (the orders resume when the disk does), elsewhere the
        caller gets the error."""
        self._failures += 1
        self._error = exc
        if not (kept_open and self.db.in_transaction):
            rollback_quietly(self.db)
            self._open = False
            batches, self._uncommitted = self._uncommitted + [self._buffers()], []
            self._graphs, self._nodes, self._fills, self.positions.pending = {}, {}, {}, {}
            self._events = []
            for graphs, nodes, events, fills, positions in batches:      # oldest first: newer rows win
                self._graphs.update(graphs)
                self._nodes.update(nodes)
                self._events += events
                self._fills.update(fills)
                self.positions.pending.update(positions)
        retry_commit_later(exc, self._failures, self.commit, "the journal (orders wait: none is sent unjournaled)")
        self._commit_scheduled = True

    def _buffers(self) -> tuple:
        """The write buffer's containers (_take_rows replaces them, so these stay as they are)."""
        return self._graphs, self._nodes, self._events, self._fills, self.positions.pending

    @property
    def health(self) -> dict:
        """Whether commits go through (``sequence engine status``): failed commits in a row
        and the last one's error."""
        return {"committing": self._failures == 0, "failed_commits": self._failures,
                "error": str(self._error) if self._failures else None}

    @property
    def committed(self) -> bool:
        """Whether everything written so far is committed (a failed commit leaves writes
        waiting for its retry)."""
        return not (self._open or self._buffered)

    async def durable(self) -> None:
        """Return once everything written so far is committed."""
        import asyncio

        if self.committed:
            return
        fut = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        self._schedule_commit()
        await fut

    # -- writes ----------------------------------------------------------------------------
    # Buffered: written by the next commit (_take_rows).
    def _event(self, ev: LifecycleEvent) -> None:
        self._events.append(ev)

    def _put_graph(self, g: OrderGraph) -> None:
        self._graphs[g.graph_id] = msgspec.structs.replace(g)     # this state, not a later one

    def _put_node(self, n: NodeOrder) -> None:
        self._nodes[n.node_order_id] = msgspec.structs.replace(n)

    def save(self, *records: OrderGraph | NodeOrder, events: tuple[LifecycleEvent, ...] = ()) -> None:
        """Insert or update graphs and nodes, with their events, in one transaction. Only
        buffers (no SQL, so no savepoint): an enclosing tx() that fails drops them with its
        own rows; alone, they are written and committed together at the next commit."""
        for r in records:
            (self._put_graph if isinstance(r, OrderGraph) else self._put_node)(r)
        for ev in events:
            self._event(ev)
        if self._depth == 0:
            self._schedule_commit()

    def event(self, ev: LifecycleEvent) -> None:
        self.save(events=(ev,))

    def record_fill(self, fill: Fill, node: NodeOrder, graph: OrderGraph, inst) -> bool:
        """Store a fill once (venue + fill id), move node, graph and positions with it.

        Returns False, changing nothing, when the fill was already recorded (a replayed
        venue message or a reconciliation after restart). Buffered like the rows save()
        writes: no SQL, unless the fill may be a repeat this journal has not seen.
        """
        if self._recorded(fill, node):
            return False                       # (venue, fill id) is known: already counted
        with self.group():
            self._fills[(fill.venue, fill.fill_id)] = (fill.venue, fill.fill_id, fill.node_order_id, fill.graph_id,
                                                      fill.symbol, fill.ts_ns, _enc.encode(fill).decode())
            first = node.filled_qty == 0
            add_fill(node, fill)
            node.status = "FILLED" if node.filled_qty >= node.qty else "PARTIALLY_FILLED"
            add_fill(graph, fill)
            apply_fill_to_positions(self.positions, fill, inst)
            detail = {"price": str(fill.price), "qty": str(fill.qty), "fee": str(fill.fee), "liquidity": fill.liquidity, "fill_id": fill.fill_id}
            self.save(node, graph, events=tuple(LifecycleEvent(fill.ts_ns, graph.graph_id, node.node_order_id, kind, detail, fill.venue_ts_ns)
                                                for kind in (("first_fill", "fill") if first else ("fill",))))
        return True

    def _recorded(self, fill: Fill, node: NodeOrder) -> bool:
        """Whether this fill is journaled already. A node with nothing filled has no fill
        recorded (its filled quantity moves with each, in the same commit): from then on
        this journal knows all of them; others are looked up."""
        if (fill.venue, fill.fill_id) in self._fills:
            return True
        ids = self._fill_ids.get(node.node_order_id)
        if ids is not None:
            return fill.fill_id in ids
        if node.filled_qty == 0:
            self._fill_ids[node.node_order_id] = set()
            return False
        return self.db.execute("SELECT 1 FROM fills WHERE venue=? AND fill_id=?", (fill.venue, fill.fill_id)).fetchone() is not None

    # -- perp funding (the engine's funding poll, docs/trading.md) ------------------------------
    FUNDING_OVERLAP_NS = 3_600 * 10**9   # each read starts this far before the last payment kept

    def record_funding(self, venue: str, payments: list[tuple[FundingPayment, str]]) -> list[FundingPayment]:
        """Keep each (payment, the perp it was paid on) once, by venue and payment id, and move
        that perp's realized P&L and the coin's cash by it; committed at once, payment and
        positions together (a failed commit keeps neither: ConfigError, read again later).
        The payments that were new."""
        new = []
        with self.tx() as db:                  # (which writes the buffered positions first)
            for p, instrument in payments:
                if not db.execute("INSERT OR IGNORE INTO funding VALUES (?,?,?,?,?,?)",
                                  (venue, p.payment_id, instrument, p.asset, str(p.amount), p.venue_ts_ns)).rowcount:
                    continue
                qty, cost, realized, fees = self._position_sql(venue, instrument)
                db.execute(_sql(*POSITION_UPSERT, 1), position_row(venue, instrument, "perp", qty, cost, realized + p.amount, fees))
                qty, cost, realized, fees = self._position_sql(venue, p.asset)
                db.execute(_sql(*POSITION_UPSERT, 1), position_row(venue, p.asset, ledger.cash_kind(p.asset) or "crypto",
                                                                   qty + p.amount, cost + p.amount, realized, fees))
                new.append(p)
        self.positions.forget()                # written with SQL of its own above
        return new

    def _position_sql(self, venue: str, instrument: str) -> tuple[Decimal, Decimal, Decimal, Decimal]:
        row = self.db.execute("SELECT qty, cost, realized, fees FROM positions WHERE venue=? AND instrument=?",
                              (venue, instrument)).fetchone()
        return tuple(Decimal(x) for x in row) if row else (Decimal(0),) * 4

    def funding_due(self, held_since_ns: int) -> dict[str, list[str]]:
        """Per venue, the perps whose funding is read: open in the ledger, or closed at or
        after *held_since_ns* (a payment for the last interval held may be booked late)."""
        self._flush()
        out: dict[str, list[str]] = {}
        for venue, instrument in self.db.execute("SELECT venue, instrument FROM positions WHERE kind='perp' AND "
                                                 "(status='open' OR updated_ns >= ?) ORDER BY venue, instrument",
                                                 (held_since_ns,)):
            out.setdefault(venue, []).append(instrument)
        return out

    def funding_since(self, venue: str, perps: list[str]) -> int | None:
        """Where the next funding read on *venue* starts (ns): a little before the last payment
        kept, else at the first fill of one of *perps* journaled (funding before the ledger
        held a perp there is not its own); None when there is none."""
        last = self.db.execute("SELECT MAX(ts_ns) FROM funding WHERE venue=?", (venue,)).fetchone()[0]
        if last is not None:
            return max(0, last - self.FUNDING_OVERLAP_NS)
        return self.db.execute(f"SELECT MIN(ts_ns) FROM fills WHERE venue=? AND symbol IN ({','.join('?' * len(perps))})",
                               (venue, *perps)).fetchone()[0]

    def funding(self, venue: str | None = None) -> list[tuple[str, str, str, str, Decimal, int]]:
        """Kept payments, oldest first: (venue, payment id, perp, asset, amount, ts_ns)."""
        sql = "SELECT venue, payment_id, instrument, asset, amount, ts_ns FROM funding"
        rows = self.db.execute(sql + (" WHERE venue=?" if venue else "") + " ORDER BY ts_ns, payment_id", (venue,) if venue else ())
        return [(v, pid, i, a, Decimal(amt), ts) for v, pid, i, a, amt, ts in rows]

    def latest_graph_id(self) -> str | None:
        """The highest time-ordered graph id journaled (orders.new_graph_id; older random
        ids, of another length, are skipped)."""
        row = self.db.execute("SELECT graph_id FROM graphs WHERE length(graph_id) = ? ORDER BY graph_id DESC LIMIT 1",
                              (TIMED_GRAPH_ID_LEN,)).fetchone()
        return row[0] if row else None

    # -- reads -----------------------------------------------------------------------------
    # The per-order reads (graph, node, nodes and events of one graph) answer from the write
    # buffer where it holds newer rows instead of flushing it: a flush per read split the
    # group commit into many small writes under load.
    def graph(self, graph_id: str) -> OrderGraph | None:
        if graph_id in self._graphs:
            return msgspec.structs.replace(self._graphs[graph_id])
        row = self.db.execute("SELECT data FROM graphs WHERE graph_id=?", (graph_id,)).fetchone()
        return msgspec.json.decode(row[0], type=OrderGraph) if row else None

    def _select(self, table: str, type_, where: dict, statuses=None, order: str = "created_ns DESC", limit: int | None = None,
                sql_where: tuple[str, list] | None = None, keep=None):
        """Rows of *table* matching *where* (column = value), *statuses* and *sql_where* (SQL of
        its own and its arguments), in *order*; with *keep*, only the records it accepts. *limit*
        (None or 0: every one) counts what is returned, so it applies after every filter."""
        sql = f"SELECT data FROM {table} WHERE 1=1" + "".join(f" AND {col}=?" for col, v in where.items() if v is not None)
        args = [v for v in where.values() if v is not None]
        if statuses:
            sql += f" AND status IN ({','.join('?' * len(statuses))})"
            args.extend(statuses)
        if sql_where is not None:
            sql += f" AND {sql_where[0]}"
            args.extend(sql_where[1])
        sql += f" ORDER BY {order}" + (" LIMIT ?" if limit and keep is None else "")
        args += [limit] if limit and keep is None else []
        self._flush()
        out = []
        for (data,) in self.db.execute(sql, args):
            record = msgspec.json.decode(data, type=type_)
            if keep is None or keep(record):
                out.append(record)
                if limit and len(out) >= limit:
                    break
        return out

    def graphs(self, symbol: str | None = None, statuses: tuple[str, ...] | None = None, limit: int | None = None,
               origin: str | None = None, handler: str | None = None, keep=None) -> list[OrderGraph]:
        """Graphs, newest first: all of them unless *limit* (applied after the filters). *origin*:
        the orders of one deployed edge (``deploy:<name>/<edge>``); *handler*: the parents
        handed to one. Not indexed (an index on the JSON cost ~9 µs per graph write, on the
        order path): *statuses* narrows them by the status index first where it can."""
        return self._select("graphs", OrderGraph, {"symbol": symbol}, statuses, limit=limit,
                            sql_where=_json_fields({"$.request.origin": origin, "$.handler": handler}), keep=keep)

    def origin_totals(self, origin: str) -> dict:
        """Every order of *origin* (a deployed edge, ``deploy:<name>/<edge>``) in the journal,
        summed without a cap: per (venue, book) the signed filled quantity, the signed notional
        (buys positive) and the fees, as decimal strings; how many orders and fills there are."""
        self._flush()
        books: dict[tuple[str, str], list[Decimal]] = {}
        orders = fills = 0
        for venue, symbol, side, filled, notional, fees, n_fills in self.db.execute(
                "SELECT json_extract(data, '$.request.venue'), symbol, side, json_extract(data, '$.filled_qty'), "
                "json_extract(data, '$.notional'), json_extract(data, '$.fees'), "
                "(SELECT COUNT(*) FROM fills WHERE fills.graph_id = graphs.graph_id) "
                "FROM graphs WHERE json_extract(data, '$.request.origin') = ?", (origin,)):
            orders += 1
            fills += n_fills
            if Decimal(filled) == 0 and Decimal(fees) == 0:
                continue
            sign = 1 if side == "buy" else -1
            total = books.setdefault((venue or "", symbol), [Decimal(0)] * 3)
            total[0] += sign * Decimal(filled)
            total[1] += sign * Decimal(notional)
            total[2] += Decimal(fees)
        return {"orders": orders, "fills": fills,
                "books": [{"venue": v, "symbol": s, "qty": str(q), "notional": str(n), "fees": str(f)}
                          for (v, s), (q, n, f) in sorted(books.items())]}

    def node(self, node_order_id: str) -> NodeOrder | None:
        if node_order_id in self._nodes:
            return msgspec.structs.replace(self._nodes[node_order_id])
        row = self.db.execute("SELECT data FROM nodes WHERE node_order_id=?", (node_order_id,)).fetchone()
        return msgspec.json.decode(row[0], type=NodeOrder) if row else None

    def nodes(self, graph_id: str | None = None, statuses: tuple[str, ...] | None = None) -> list[NodeOrder]:
        if graph_id is None:
            return self._select("nodes", NodeOrder, {}, statuses, order="created_ns, node_order_id")
        rows = self.db.execute("SELECT node_order_id, data FROM nodes WHERE graph_id=?", (graph_id,))
        found = {nid: msgspec.json.decode(data, type=NodeOrder) for nid, data in rows}
        found.update((n.node_order_id, msgspec.structs.replace(n)) for n in self._nodes.values() if n.graph_id == graph_id)
        return sorted((n for n in found.values() if not statuses or n.status in statuses),
                      key=lambda n: (n.created_ns, n.node_order_id))

    def fills(self, symbol: str | None = None, graph_id: str | None = None, limit: int | None = None,
              origin: str | None = None, keep=None) -> list[Fill]:
        """Fills, newest first: all of them unless *limit* (applied after the filters); *origin*:
        those of one deployed edge's orders."""
        where = None
        if origin is not None:
            where = ("graph_id IN (SELECT graph_id FROM graphs WHERE json_extract(data, '$.request.origin') = ?)", [origin])
        return self._select("fills", Fill, {"symbol": symbol, "graph_id": graph_id}, order="ts_ns DESC", limit=limit,
                            sql_where=where, keep=keep)

    def events_after(self, after_id: int, limit: int = 1000) -> list[tuple[int, LifecycleEvent]]:
        """Every lifecycle event with an id above ``after_id``, oldest first (the stream)."""
        self._flush()
        rows = self.db.execute("SELECT id, ts_ns, graph_id, node_order_id, kind, detail, venue_ts_ns FROM events "
                               "WHERE id > ? ORDER BY id LIMIT ?", (after_id, limit))
        return [(i, LifecycleEvent(ts, g, n, k, msgspec.json.decode(d), v)) for i, ts, g, n, k, d, v in rows]

    def events(self, graph_id: str, node_order_id: str | None = None) -> list[LifecycleEvent]:
        sql, args = "SELECT ts_ns, graph_id, node_order_id, kind, detail, venue_ts_ns FROM events WHERE graph_id=?", [graph_id]
        if node_order_id:
            sql += " AND (node_order_id=? OR node_order_id IS NULL)"
            args.append(node_order_id)
        sql += " ORDER BY ts_ns, id"
        stored = [LifecycleEvent(ts, g, n, k, msgspec.json.decode(d), v) for ts, g, n, k, d, v in self.db.execute(sql, args)]
        pending = [e for e in self._events if e.graph_id == graph_id
                   and (not node_order_id or e.node_order_id in (node_order_id, None))]
        return sorted(stored + pending, key=lambda e: e.ts_ns) if pending else stored    # stable: ties keep write order


def _json_fields(wanted: dict[str, str | None]) -> tuple[str, list] | None:
    """SQL matching the graphs whose JSON *data* holds each given value at its path."""
    given = {path: v for path, v in wanted.items() if v is not None}
    if not given:
        return None
    return " AND ".join(f"json_extract(data, '{path}') = ?" for path in given), list(given.values())


class Positions:
    """The positions rows this connection has read or written, kept in memory: admission
    reads a holding per order and every fill reads and writes two (four SELECTs per order
    were ~10% of the engine's CPU). Forgotten when another connection has committed (``PRAGMA
    data_version``, read at most every FRESH_S: the CLI funding a new paper venue), when a
    transaction rolls back, and by :meth:`forget` after writing positions with SQL of one's
    own (redeem)."""

    FRESH_S = 0.02

    def __init__(self, journal: Journal):
        self.journal = journal
        self.pending: dict[tuple[str, str], tuple] = {}   # rows written, not yet taken for commit
        self.rows: dict[tuple[str, str], tuple[Decimal, Decimal, Decimal, Decimal]] = {}
        self.version = None
        self.checked = float("-inf")                 # monotonic time data_version was last read

    def get(self, venue: str, instrument: str) -> tuple[Decimal, Decimal, Decimal, Decimal]:
        """(qty, cost, realized, fees); zeros when there is no row. Another connection's
        commit is noticed within FRESH_S (asking SQLite on every read cost half the saving)."""
        now = time.monotonic()
        if now - self.checked > self.FRESH_S:
            self.checked = now
            version = self.journal.db.execute("PRAGMA data_version").fetchone()[0]
            if version != self.version:
                self.rows.clear()
                self.version = version
        key = (venue, instrument)
        found = self.rows.get(key)
        if found is None and key in self.pending:
            found = self.rows[key] = tuple(Decimal(x) for x in self.pending[key][3:7])
        if found is None:
            row = self.journal.db.execute("SELECT qty, cost, realized, fees FROM positions WHERE venue=? AND instrument=?", key).fetchone()
            found = self.rows[key] = tuple(Decimal(x) for x in row) if row else (Decimal(0),) * 4
        return found

    def put(self, venue: str, instrument: str, kind: str, qty, cost, realized, fees) -> None:
        """Buffer a row (written with the journal's next commit, see Journal.group) and remember it."""
        self.pending[(venue, instrument)] = position_row(venue, instrument, kind, qty, cost, realized, fees)
        self.rows[(venue, instrument)] = (qty, cost, realized, fees)

    def forget(self) -> None:
        self.rows.clear()


def position_row(venue: str, instrument: str, kind: str, qty, cost, realized, fees) -> tuple:
    """A positions row as POSITION_UPSERT writes it: cash stays open at zero, a holding closes."""
    status = "open" if qty != 0 or kind in ("fiat",) or ledger.cash_kind(instrument) else "closed"
    return venue, instrument, kind, str(qty), str(cost), str(realized), str(fees), status, time.time_ns()


def position_key(inst) -> str:
    """What a fill in ``inst`` moves: the base asset for spot, the contract for perps, the
    contract *and outcome* for event contracts (YES and NO are different holdings)."""
    if inst.kind == "event_contract":
        return outcome_symbol(inst.symbol, inst.outcome)
    return inst.symbol if inst.kind == "perp" else inst.base


def apply_fill_to_positions(positions: Positions, fill: Fill, inst) -> None:
    """Move the traded instrument and the cash it was paid with, exactly.

    Spot and event contracts exchange the instrument for quote cash; perps keep a signed
    contract position and move cash only by realized P&L and fees. Average-cost basis. A fee
    charged in another asset (a BNB or BGB discount, a fee in the base) is taken from that
    holding instead of the quote cash.
    """
    kind, quote = inst.kind, inst.quote
    fee = fill.fee if fill.fee_asset in ("", quote) else Decimal(0)     # in quote; else paid below
    signed = fill.qty if fill.side == "buy" else -fill.qty
    held = position_key(inst)
    qty, cost, realized, fees = positions.get(fill.venue, held)
    if qty == 0 or (qty > 0) == (signed > 0):            # opening or adding
        cost += signed * fill.price
        qty += signed
        pnl = Decimal(0)
    else:                                                # reducing (maybe flipping)
        closing = min(abs(signed), abs(qty)) * (1 if signed > 0 else -1)
        avg = cost / qty
        pnl = (fill.price - avg) * (-closing)
        cost += closing * avg
        qty += closing
        rest = signed - closing
        if rest:
            qty += rest
            cost += rest * fill.price
        realized += pnl
    fees += fee
    positions.put(fill.venue, held, kind, qty, cost, realized, fees)
    cash_qty, cash_cost, cash_real, cash_fees = positions.get(fill.venue, quote)
    if kind == "perp":
        delta = pnl - fee
    else:
        delta = -signed * fill.price - fee
    cash_kind = ledger.cash_kind(quote) or "crypto"
    positions.put(fill.venue, quote, cash_kind, cash_qty + delta, cash_cost + delta, cash_real, cash_fees)
    if fill.fee and not fee:
        _pay_fee_from(positions, fill.venue, fill.fee_asset, fill.fee)


def _pay_fee_from(positions: Positions, venue: str, asset: str, amount: Decimal) -> None:
    """A fee paid out of a holding: its quantity and, at its average cost, its cost fall; its
    fees column counts it at that cost, in the quote currency every fees column is kept in (it
    counted the asset's quantity, so 0.00001 BTC added 0.00001 to a summary in dollars)."""
    qty, cost, realized, fees = positions.get(venue, asset)
    avg = cost / qty if qty else Decimal(0)
    kind = ledger.cash_kind(asset) or "crypto"
    positions.put(venue, asset, kind, qty - amount, cost - avg * amount, realized, fees + avg * amount)
