"""An edge: one process running one deployment's module near a set of venues.

    python -m sequence_core.deploy.edge <mode> <deployment> <edge label>

Started and restarted by the engine's supervisor (sequence_core/engine/supervisor.py). The
module's instruments are the deployment's symbols on the edge's venues (symbols in order,
then venues by name, as in a backtest). The edge
- watches the top of each book through the mode's market-data source (every 20 ms) and calls
  ``on_book`` when it changes (after ``subscribe`` bit 0), ``on_trade`` for each print since
  the last poll (bit 1), ``on_timer`` on its interval;
- sends every ``place``/``cancel``/``amend`` to the engine as an ``edge`` order (journaled and
  risk-checked like any other) over the edge channel (sequence_core/engine/channel.py: written
  when the callback returns, replies not awaited in line), and turns the changes of its
  orders that the engine pushes on that channel, once committed, into ``on_order``/``on_fill``
  (after a reconnect it reads the open ones over HTTP once);
- checks the deployment's risk limits before an order leaves (``place`` returns -6 when one
  refuses it: kill switch, max order rate, max notional per order, max position);
- on start, adopts its deployment's open orders and fills from the journal, so a restarted
  edge knows its position and never re-sends what was sent (client order ids derive from the
  journal's node ids);
- joins its deployment's mesh (sequence_core/deploy/mesh.py): ``mesh_send`` to peers,
  ``on_message`` for what arrives, per-peer latency and counts in its status;
- takes parent orders handed to it (``on_parent``; children via ``place_for``);
- writes ``<label>.status.json`` every second and appends to ``<label>.log``;
- on SIGTERM calls ``on_stop`` (which may cancel its resting orders), sends what it queued,
  and exits 0. A trap or an error status exits 3 with the reason in its status.
"""

from __future__ import annotations

import asyncio
import functools
import os
import signal
import sys
import time
from collections import deque
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import msgspec

from ..errors import NetworkError, SequenceError
from ..orders import GRAPH_ACTIVE, GRAPH_TERMINAL
from . import registry

SCALE = 1_000_000_000
MD_POLL_S = 0.02
STATUS_EVERY_S = 1.0
QUEUE_MAX = 1_000
# order(id, 0) status codes (docs/wasm-abi.md)
UNKNOWN, PENDING, OPEN, PARTIAL, FILLED, CANCELLED, REJECTED = range(7)
_FROM_ENGINE = {"PENDING_NEW": PENDING, "NEW": OPEN, "PARTIALLY_FILLED": PARTIAL, "FILLED": FILLED,
                "CANCELLED": CANCELLED, "REJECTED": REJECTED, "EXPIRED": CANCELLED}
EXIT_STRATEGY_FAILED = 3
PARENT_ENDED = 7                     # on_order event: a parent order ended
NO_PARENT, NOT_IN_PARENT = -7, -8    # place_for errors (docs/wasm-abi.md)
RECONNECT_S = 60.0                   # how long reads wait for a restarting engine
EARLY_MAX = 1_000                    # graph ids whose events came before they were known
KEEP_DONE = 256                      # finished orders order() still answers for ("long done": 0)
REFUSAL_LOG_S = 10.0                 # a refusal of one kind is logged at most once per this, with a count
# on_order events (docs/wasm-abi.md)
EV_ACK, EV_REJECTED, EV_CANCELLED, EV_AMENDED, EV_REFUSED = 1, 2, 4, 5, 6


class LocalOrder(msgspec.Struct):
    id: int
    inst: int
    side: int
    price: int
    size: int
    order_type: str
    graph_id: str | None = None
    status: int = PENDING
    filled: int = 0
    fills_seen: list[str] = []
    cancel_wanted: bool = False
    deferred: list = []                # cancel/amend asked for while pending: sent, in order, after the ack
    md_ns: int = 0                     # the market event that led to it (0: not from on_book)
    parent: int = 0                    # the local id of the parent it works (place_for)


class LocalParent(msgspec.Struct):
    """A parent order the engine handed to this edge (docs/deployments.md, parent orders)."""
    id: int
    graph_id: str
    insts: list[int]                   # this edge's instruments among the parent's books
    side: int
    size: int                          # the parent's whole quantity, fixed point
    limit: int                         # 0: none
    filled: int = 0
    status: int = OPEN                 # OPEN, then FILLED or CANCELLED (ended with quantity left)
    ending: bool = False               # parent_done sent


class EdgeRuntime:
    def __init__(self, home: Path, mode: str, name: str, label: str):
        from ..client import Sequence
        from ..sim.host import StrategyModule

        self.home, self.mode, self.name, self.label = home, mode, name, label
        self.dep = registry.load(home, mode, name)
        edge = next((e for e in self.dep.edges if e.label == label), None)
        if edge is None:
            raise SequenceError(f"deployment {name} has no edge '{label}'")
        self.origin = f"deploy:{name}/{label}"
        self.labels = [e.label for e in self.dep.edges]     # mesh members, in [[edges]] order
        self.mesh = None
        self._message: bytes | None = None                  # the one on_message is reading
        client = Sequence(sandbox=mode == "sandbox")
        # the books preflight resolved when it was deployed, in their order (symbols, then venues)
        listed = {(i.venue, i.symbol): i for v in client.trading_venues(edge.venues).values() for i in v.instruments()}
        self.instruments = [listed[tuple(b)] for b in self.dep.books if b[0] in edge.venues and tuple(b) in listed]
        if not self.instruments:
            raise SequenceError(f"none of {', '.join(self.dep.symbols)} is listed on {', '.join(edge.venues)}")
        self.source = client.source()
        folder = registry.folder(home, mode, name)
        self.module = StrategyModule(folder / "module.wasm", name)
        self.log_path = registry.log_path(home, mode, name, label)
        self.orders: dict[int, LocalOrder] = {}      # open ones and the last KEEP_DONE finished (_prune)
        self.working: dict[int, LocalOrder] = {}     # those not known finished: what the risk checks sum (_working)
        self.placed = 0                                # orders the engine journaled (or adopted), ever
        self.outside: dict[str, float] = {}            # "venue:symbol" -> position on books this version does not trade
        self.outside_cost = 0.0                        # their net cost (what they are marked at)
        self.by_graph: dict[str, int] = {}
        self.parents: dict[int, LocalParent] = {}
        self.parent_by_graph: dict[str, int] = {}
        self._adopted_parents: list[int] = []               # re-offered to on_parent after on_start
        self.next_id = 1
        self.positions = [0] * len(self.instruments)        # fixed point
        self.cash = 0.0
        self.fills = 0
        self.sent_times: deque[float] = deque()             # order rate window: the last second
        self._refused: dict[str, list] = {}                 # refusal kind -> [when last logged, refused since]
        self.md_latency_us: deque[float] = deque(maxlen=registry.STATUS_SAMPLES)
        self.tops: list[tuple] = [()] * len(self.instruments)
        self.timer_ns = 0
        self.next_timer = 0
        self.mask = 0
        self.trades_from = 0                           # on_trade: prints after this (subscribe bit 1)
        self.queue: asyncio.Queue = asyncio.Queue(QUEUE_MAX)
        self.current_md_ns = 0
        self.stopping = False
        self.error: str | None = None
        self.status = registry.EdgeStatus(label, "starting", os.getpid(), self.dep.version, time.time_ns(),
                                          instruments=[f"{i.venue}:{i.symbol}" for i in self.instruments])
        self.strategy = None
        from ..engine.channel import ChannelClient

        self.channel = ChannelClient(mode)
        self.channel.on_update = self._pushed
        self._early: dict[str, dict] = {}                  # pushed before the place reply: insertion-ordered, bounded
        self._adopting: set[str] = set()                    # parents being read (their push may repeat)
        self._not_ours: set[str] = set()                    # parents handed here for books this edge lacks
        self._connected_once = False
        self._failed = asyncio.Event()                      # a reply handler's callback failed
        self._failure: BaseException | None = None
        self.replies: set[asyncio.Future] = set()           # requests sent, replies not yet handled (and tasks)

    # -- the module's imports (called from inside a callback) ---------------------------------
    def now(self) -> int:
        return time.time_ns()

    def log(self, level: str, text: str) -> None:
        self._write_log(f"{level}: {text}")

    def set_timer(self, interval_ns: int) -> None:
        self.timer_ns = max(0, int(interval_ns))
        self.next_timer = time.time_ns() + self.timer_ns if self.timer_ns else 0

    def subscribe(self, mask: int) -> None:
        if mask & 2 and not self.mask & 2:
            self.trades_from = self.source.now_ns()     # prints from now on, none from before
        self.mask = mask

    def book(self, inst: int, field: int) -> int:
        if not 0 <= inst < len(self.instruments):
            return 0
        i = self.instruments[inst]
        if field == 4:
            return int(i.tick_size * SCALE)
        if field == 5:
            return int(i.lot_size * SCALE)
        top = self.tops[inst]
        return top[field] if top and 0 <= field < 4 else 0

    def position(self, inst: int) -> int:
        return self.positions[inst] if 0 <= inst < len(self.positions) else 0

    def order(self, order_id: int, field: int) -> int:
        o = self.orders.get(order_id)
        if o is not None:
            return (o.status, o.price, o.size, o.filled)[field] if 0 <= field < 4 else 0
        p = self.parents.get(order_id)
        if p is not None:
            return (p.status, p.limit, p.size, p.filled)[field] if 0 <= field < 4 else 0
        return 0

    def _working(self):
        """The orders still pending, open or partly filled. Finished ones leave this table as
        they are met (an order never reopens): the order table keeps KEEP_DONE finished orders
        for order(), and summing over those on every place was ~45 µs of the latency path."""
        for oid in [oid for oid, o in self.working.items() if o.status not in (PENDING, OPEN, PARTIAL)]:
            del self.working[oid]
        return self.working.values()

    def _risk(self, inst: int, side: int, price: int, size: int) -> str | None:
        r = self.dep.risk
        if r.kill_switch:
            return "kill switch is on"
        now = time.monotonic()
        while self.sent_times and now - self.sent_times[0] >= 1.0:
            self.sent_times.popleft()
        if r.max_order_rate is not None and len(self.sent_times) >= r.max_order_rate:
            return f"max order rate {r.max_order_rate:g}/s"
        if r.max_notional is not None and price and price / SCALE * size / SCALE > r.max_notional:
            return f"max notional {r.max_notional:g} per order"
        if r.max_position is not None:
            pending = sum(o.side * (o.size - o.filled) for o in self._working() if o.inst == inst and o.side == side)
            if abs(self.positions[inst] + pending + side * size) / SCALE > r.max_position:
                return f"max position {r.max_position:g}"
        return None

    def place(self, inst: int, side: int, price: int, size: int, flags: int, parent: int = 0) -> int:
        if not 0 <= inst < len(self.instruments):
            return -1
        if side not in (1, -1):
            return -2
        market = bool(flags & 4)
        if code := self._unfit(inst, price, size, market):
            return code
        why = self._risk(inst, side, price, size)
        if why:
            self._log_refusal(f"risk:{why}", f"order refused by the risk limits ({why}); -6 to the strategy")
            return -6
        oid = self.next_id
        self.next_id += 1
        kind = "market" if market else "ioc" if flags & 2 else "post_only" if flags & 1 else "limit"
        self.orders[oid] = self.working[oid] = LocalOrder(oid, inst, side, price, size, kind, md_ns=self.current_md_ns,
                                                          parent=parent)
        if flags & 1 and flags & 6:
            # post-only (never take) with IOC or market (never rest) can never trade: the backtest
            # (sim/kernel.py _arrive_new) rejects it when it would cross (market always does) and
            # otherwise acknowledges and expires it; nothing is sent to the engine
            top = self.tops[inst] or (0, 0, 0, 0)
            crosses = market or (top[2] and price >= top[2] if side > 0 else top[0] and price <= top[0])
            self._log_refusal("post-only", f"order {oid}: post-only with {'market' if market else 'IOC'} can never trade; "
                              + ("rejected (it would cross)" if crosses else "expired unsent"))
            asyncio.get_running_loop().call_soon(self._end_locally, oid, bool(crosses))
            return oid
        self.sent_times.append(time.monotonic())
        self._submit(("place", oid))
        return oid

    def _unfit(self, inst: int, price: int, size: int, market: bool = False) -> int:
        """What ``place`` and ``amend`` return for a size off the lot (-3), a price off the tick
        (-4; a market order has none) or a full queue (-5); 0 when none of these."""
        i = self.instruments[inst]
        lot, tick = int(i.lot_size * SCALE), int(i.tick_size * SCALE)
        if size <= 0 or (lot and size % lot):
            return -3
        if not market and (price <= 0 or (tick and price % tick)):
            return -4
        if self.queue.full() or len(self.replies) >= QUEUE_MAX:
            return -5
        return 0

    def _end_locally(self, oid: int, rejected: bool) -> None:
        """A post-only IOC or market order, as the backtest ends it (a loop turn after place)."""
        o = self.orders.get(oid)
        if o is None or o.status != PENDING:
            return
        try:
            if rejected:
                o.status = REJECTED
                self._call("on_order", o.id, EV_REJECTED, REJECTED)
            else:
                o.status = OPEN
                self._call("on_order", o.id, EV_ACK, OPEN)
                if o.status == OPEN:
                    o.status = CANCELLED
                    self._call("on_order", o.id, EV_CANCELLED, CANCELLED)
            self._refuse_deferred(o)
        except Exception as exc:  # noqa: BLE001 - a trapping callback ends the edge (run() raises it)
            self._fail(exc)

    def _log_refusal(self, kind: str, line: str) -> None:
        """Log a refusal at most once per REFUSAL_LOG_S per kind, with how many were not logged."""
        now = time.monotonic()
        seen = self._refused.setdefault(kind, [-REFUSAL_LOG_S - 1, 0])
        if now - seen[0] < REFUSAL_LOG_S:
            seen[1] += 1
            return
        more = f" ({seen[1]} more refusal(s) of this kind in the last {REFUSAL_LOG_S:g} s not logged)" if seen[1] else ""
        seen[0], seen[1] = now, 0
        self._write_log(f"host: {line}{more}")

    def _flush_refusals(self) -> None:
        """Log the count of refusals held back when none came after them (the status loop)."""
        now = time.monotonic()
        for kind, seen in self._refused.items():
            if seen[1] and now - seen[0] >= REFUSAL_LOG_S:
                self._write_log(f"host: {seen[1]} more refusal(s) ({kind}) in the last {REFUSAL_LOG_S:g} s not logged")
                seen[0], seen[1] = now, 0

    def place_for(self, parent_id: int, inst: int, side: int, price: int, size: int, flags: int) -> int:
        p = self.parents.get(parent_id)
        if p is None or p.status != OPEN or p.ending:
            return NO_PARENT
        working = sum(o.size - o.filled for o in self._working() if o.parent == parent_id)
        if side != p.side or inst not in p.insts or size > p.size - p.filled - working:
            return NOT_IN_PARENT
        return self.place(inst, side, price, size, flags, parent_id)

    def parent_done(self, parent_id: int) -> int:
        p = self.parents.get(parent_id)
        if p is None or p.status != OPEN or p.ending:
            return -1
        p.ending = True
        self._submit(("end", parent_id))
        return 0

    def mesh_send(self, peer: int, data: bytes) -> int:
        return self.mesh.send(peer, data) if self.mesh is not None else -1

    def mesh_message(self) -> bytes | None:
        return self._message

    def mesh_self(self) -> int:
        return self.labels.index(self.label)

    def mesh_size(self) -> int:
        return len(self.labels)

    def cancel(self, order_id: int) -> int:
        o = self.orders.get(order_id)
        if o is None:
            return -1
        if o.status not in (PENDING, OPEN, PARTIAL) or o.cancel_wanted:
            return -2
        o.cancel_wanted = True
        if o.graph_id is not None:
            self._submit(("cancel", order_id))
        else:
            o.deferred = [*o.deferred, ("cancel", order_id)]      # sent after the ack (_done)
        return 0

    def amend(self, order_id: int, price: int, size: int) -> int:
        """As the backtest's amend: -1 unknown, -2 done or being cancelled, -3 size, -4 price
        (checked before anything is sent), -5 queue full. An order not acknowledged yet takes
        it too: it is sent after the ack."""
        o = self.orders.get(order_id)
        if o is None:
            return -1
        if o.status not in (PENDING, OPEN, PARTIAL) or o.cancel_wanted:
            return -2
        if code := self._unfit(o.inst, price, size):
            return code
        if o.graph_id is None:
            o.deferred = [*o.deferred, ("amend", order_id, price, size)]
        else:
            self._submit(("amend", order_id, price, size))
        return 0

    # -- running ---------------------------------------------------------------------------------
    def _write_log(self, line: str) -> None:
        try:
            if self.log_path.exists() and self.log_path.stat().st_size > registry.LOG_ROTATE_BYTES:
                os.replace(self.log_path, self.log_path.with_name(self.log_path.name + ".1"))
            with open(self.log_path, "a") as fh:
                fh.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime())} {self.label} {line}\n")
        except OSError:
            pass

    def _call(self, callback: str, *args: int) -> None:
        with self.channel.batch():          # what the callback sends leaves in one write
            self.strategy.call(callback, *args)

    async def _connect(self) -> None:
        """(Re)open the HTTP session (reads) and the edge channel (orders, pushed changes)
        to the running engine; a restarted engine has a new port, socket and token."""
        import aiohttp

        from ..engine_client import engine_info

        info = engine_info()
        if info is None:
            raise NetworkError("the engine is not running")
        if getattr(self, "http", None) is not None:
            await self.http.close()
        self.http = aiohttp.ClientSession(base_url=f"http://127.0.0.1:{info.port}",
                                          headers={"Authorization": f"Bearer {info.token}"})
        await self.channel.connect(info, watch=self.origin)
        if self._connected_once:                # pushes sent while it was down are lost: read them
            self._background(self._resync())
        self._connected_once = True

    async def _api(self, method: str, path: str, body=None):
        """One engine call. Reads are retried while the engine is away (it may be restarting,
        up to RECONNECT_S); writes are not (a place must never be sent twice): they fail with
        NetworkError, which the strategy sees as a rejected order."""
        import aiohttp

        deadline = time.monotonic() + RECONNECT_S
        while True:
            try:
                async with self.http.request(method, f"/v1/{self.mode}{path}", json=body, timeout=self._timeout) as resp:
                    data = await resp.json(content_type=None)
                    if resp.status >= 400:
                        raise SequenceError(data.get("error", f"HTTP {resp.status}") if isinstance(data, dict) else str(data))
                    return data
            except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as exc:
                if method != "GET" or time.monotonic() > deadline:
                    raise NetworkError(f"engine unreachable ({type(exc).__name__})") from None
                await asyncio.sleep(0.5)
                try:
                    await self._connect()           # a restarted engine has a new port and token
                except NetworkError:
                    pass

    async def _reconcile(self) -> None:
        """Adopt this edge's orders from the journal (every one, however many): position, cash
        and the fill and order counts from all of its orders, the open ones back into the order
        table (the module sees them through order()), the working parents handed to it."""
        found = await self._api("GET", f"/deployments/{self.name}/edges/{self.label}/journal")
        for g in found["parents"]:
            pid = await self._take_parent(g["graph_id"])
            if pid:
                self._adopted_parents.append(pid)
        key = {(i.venue, i.symbol): n for n, i in enumerate(self.instruments)}
        # a fresh deployment's orders are those since it was deployed: the totals of an
        # undeployed namesake's orders (same origin) are taken off (docs/decisions.md)
        base = self.dep.baseline.get(self.label) or {"orders": 0, "fills": 0, "books": []}
        books: dict[tuple[str, str], list[Decimal]] = {}
        for sign, rows in ((1, found["books"]), (-1, base["books"])):
            for b in rows:
                t = books.setdefault((b["venue"], b["symbol"]), [Decimal(0)] * 3)
                for n, f in enumerate(("qty", "notional", "fees")):
                    t[n] += sign * Decimal(b[f])
        self.outside_cost = 0.0
        for (venue, symbol), (qty, notional, fees) in sorted(books.items()):
            self.cash -= float(notional) + float(fees)
            inst = key.get((venue, symbol))
            if inst is not None:
                self.positions[inst] += int(qty * SCALE)
            elif qty:
                # a book an earlier version traded and this one does not: its inventory and P&L
                # stay this deployment's (shown in status, marked at cost)
                self.outside[f"{venue}:{symbol}"] = float(qty)
                self.outside_cost += float(notional)
        if self.outside:
            self._write_log("host: positions on books this version does not trade (kept in status and P&L, at cost): "
                            + ", ".join(f"{k} {q:g}" for k, q in self.outside.items()))
        self.fills, self.placed = found["fills"] - base["fills"], found["orders"] - base["orders"]
        since = self.dep.since_ns
        for v in found["working"]:
            g = v["graph"]
            if g.get("created_ns", since) < since:
                continue                        # left resting by an undeployed namesake: not this deployment's
            node = v["nodes"][0] if v["nodes"] else None
            inst = key.get((g["request"]["venue"], node["symbol"] if node else g["request"]["symbol"]))
            if inst is None:
                continue
            side = 1 if g["request"]["side"] == "buy" else -1
            filled = int(Decimal(g["filled_qty"]) * SCALE)
            oid = self.next_id
            self.next_id += 1
            price = int(Decimal(g["request"]["limit_price"] or 0) * SCALE)
            o = LocalOrder(oid, inst, side, price, int(Decimal(g["request"]["qty"]) * SCALE),
                           g["request"].get("order_type") or "limit", g["graph_id"], OPEN, filled,
                           parent=self.parent_by_graph.get(g["request"].get("parent_id") or "", 0))
            # its fills so far are in the position above: later pushes must not count them again
            o.fills_seen = [f["fill_id"] for f in (await self._api("GET", f"/orders/{g['graph_id']}"))["fills"]] if filled else []
            self.orders[oid] = self.working[oid] = o
            self.by_graph[g["graph_id"]] = oid
        if self.by_graph or any(self.positions):
            self._write_log(f"host: adopted {len(self.by_graph)} open order(s), {len(self.parents)} parent(s); positions "
                            + ", ".join(f"{self.instruments[n].venue}:{self.instruments[n].symbol} {p / SCALE:g}"
                                        for n, p in enumerate(self.positions))
                            + f" (from {self.placed} order(s), {self.fills} fill(s) in the journal)")

    async def _take_parent(self, graph_id: str) -> int:
        """Track a parent handed to this edge; its local id (0 when it is not ours to work)."""
        detail = await self._api("GET", f"/orders/{graph_id}")
        g = detail["graph"]
        books = next((e["detail"]["books"] for e in detail["events"] if e["kind"] == "parent_dispatch"), {})
        insts = [n for n, i in enumerate(self.instruments) if books.get(i.venue) == i.symbol]
        if g["status"] not in GRAPH_ACTIVE or graph_id in self.parent_by_graph or not insts:
            return 0
        pid = self.next_id
        self.next_id += 1
        r = g["request"]
        self.parents[pid] = LocalParent(pid, graph_id, insts, 1 if r["side"] == "buy" else -1, int(Decimal(r["qty"]) * SCALE),
                                        int(Decimal(r["limit_price"] or 0) * SCALE), int(Decimal(g["filled_qty"]) * SCALE))
        self.parent_by_graph[graph_id] = pid
        self._write_log(f"host: parent {graph_id} ({r['side']} {r['qty']} {r['symbol']}) handed to this edge as {pid}")
        return pid

    def _offer_parent(self, pid: int) -> None:
        p = self.parents[pid]
        if p.status == OPEN:
            self._call("on_parent", p.id, p.insts[0], p.side, p.size - p.filled, p.limit)

    def _parent_ended(self, graph_id: str, status: str) -> None:
        p = self.parents[self.parent_by_graph[graph_id]]
        if p.status == OPEN:
            p.status = FILLED if status == "FILLED" else CANCELLED
            self._write_log(f"host: parent {graph_id} ended {status}")
            self._call("on_order", p.id, PARENT_ENDED, p.status)

    def _submit(self, action) -> None:
        """Send *action* to the engine now when the channel is up and nothing queued waits
        before it (the latency path: straight from the strategy's callback); else queue it
        for _sender, which connects first. Either way actions leave in the order made."""
        if self.queue.empty() and self.channel.connected:
            self._dispatch(action)
        else:
            self.queue.put_nowait(action)

    async def _sender(self) -> None:
        while True:
            action = await self.queue.get()
            try:
                if not self.channel.connected:
                    try:
                        await self._connect()
                    except SequenceError:
                        pass                        # _dispatch fails the action with the reason
                self._dispatch(action)
            finally:
                self.queue.task_done()

    def _dispatch(self, action) -> None:
        """Write *action*'s request (frames leave in call order) without waiting for the
        reply: _answered takes it, a callback of the reply's future (a task per request was
        two tasks on every re-quote's latency path). A done future runs its callbacks on the
        next loop turn, so a failure never re-enters the strategy from inside its callback."""
        try:
            reply = self.channel.send(self._request(action))
        except SequenceError as exc:
            reply = asyncio.get_running_loop().create_future()
            reply.set_exception(exc)
        self.replies.add(reply)
        reply.add_done_callback(functools.partial(self._answered, action))

    def _request(self, action):
        from ..engine.channel import Amend, Cancel, EndParent, Place
        from ..orders import OrderRequest

        if action[0] == "end":
            return EndParent(0, self.parents[action[1]].graph_id, self.origin)
        o = self.orders[action[1]]
        if action[0] == "place":
            i = self.instruments[o.inst]
            bid, _, ask, _ = self.tops[o.inst] or (0, 0, 0, 0)
            return Place(0, OrderRequest(
                i.symbol, "buy" if o.side > 0 else "sell", Decimal(o.size) / SCALE, i.venue,
                Decimal(o.price) / SCALE if o.order_type != "market" else None, urgency="high", policy="edge",
                order_type=o.order_type, origin=self.origin, parent_id=self.parents[o.parent].graph_id if o.parent else ""),
                Decimal(bid + ask) / (2 * SCALE) if bid and ask else None)
        if action[0] == "cancel":
            return Cancel(0, o.graph_id)
        _, _, price, size = action
        return Amend(0, o.graph_id, Decimal(price) / SCALE, Decimal(size) / SCALE)

    def _answered(self, action, future: asyncio.Future) -> None:
        self.replies.discard(future)
        if future.cancelled():
            return
        try:
            try:
                reply = self.channel.answer(future)
            except SequenceError as exc:
                self._refused_action(action, str(exc))
            else:
                self._done(action, reply)
        except Exception as exc:  # noqa: BLE001 - a trapping callback ends the edge (run() raises it)
            self._fail(exc)

    def _refused_action(self, action, why: str) -> None:
        o = self.orders.get(action[1]) if action[0] != "end" else None
        self._log_refusal(f"engine:{action[0]}", f"{action[0]} of {'parent' if action[0] == 'end' else 'order'} "
                                                 f"{action[1]} failed: {why}")
        if o is not None and action[0] == "place":
            o.status = REJECTED
            self._call("on_order", o.id, EV_REJECTED, REJECTED)
            self._refuse_deferred(o)
        elif o is not None:
            self._call("on_order", o.id, EV_REFUSED, o.status)

    def _refuse_deferred(self, o: LocalOrder) -> None:
        """The order ended before its ack: each cancel/amend that waited for it is refused (ev 6),
        as the backtest answers one that reaches an order already gone."""
        deferred, o.deferred = o.deferred, []
        for _ in deferred:
            self._call("on_order", o.id, EV_REFUSED, o.status)

    def _fail(self, exc: BaseException) -> None:
        """End the edge with *exc* (run() raises it): a callback trapped outside run()'s reach."""
        self._failure = exc
        self._failed.set()

    async def _watch_failures(self) -> None:
        await self._failed.wait()
        raise self._failure

    def _done(self, action, reply) -> None:
        o = self.orders.get(action[1])
        if o is None:
            return                          # finished and forgotten (_prune) before this reply
        if action[0] == "place":
            if o.md_ns:
                self.md_latency_us.append((reply.journaled_ns - o.md_ns) / 1e3)
            o.graph_id = reply.graph_id
            self.by_graph[o.graph_id] = o.id
            self.placed += 1                        # journaled (a refused place is not)
            if o.status == PENDING:
                o.status = OPEN                     # order(id, 0) inside the ack's callback says so
            self._call("on_order", o.id, EV_ACK, o.status)
            deferred, o.deferred = o.deferred, []
            for a in deferred:                      # what the strategy asked while it was pending, in order
                self._submit(a)
            self._catch_up(o.graph_id)              # its change may have been pushed before this reply
        elif action[0] == "amend":
            o.price, o.size = action[2], action[3]
            self._call("on_order", o.id, EV_AMENDED, o.status)

    async def _update(self, graph_id: str) -> None:
        """Read one order over HTTP and apply it (a resync after the channel was down)."""
        if graph_id in self.by_graph:
            self._apply_detail(graph_id, await self._api("GET", f"/orders/{graph_id}"))

    def _catch_up(self, graph_id: str) -> None:
        """Apply what was pushed for *graph_id* before it was in the order table."""
        early = self._early.pop(graph_id, None)
        if early is not None:
            self._apply_detail(graph_id, early)

    def _apply_detail(self, graph_id: str, detail: dict) -> None:
        """Bring an order up to the engine's word (``GET /orders/<id>``'s shape): new fills
        to on_fill, the end of the order to on_order."""
        oid = self.by_graph.get(graph_id)
        if oid is None:
            return
        o = self.orders[oid]
        for f in detail.get("fills", []):
            if f["fill_id"] in o.fills_seen:
                continue
            o.fills_seen.append(f["fill_id"])
            size = int(Decimal(f["qty"]) * SCALE)
            price = int(Decimal(f["price"]) * SCALE)
            o.filled += size
            if o.parent:
                self.parents[o.parent].filled += size
            self.positions[o.inst] += o.side * size
            self.cash -= o.side * float(Decimal(f["price"]) * Decimal(f["qty"])) + float(Decimal(f.get("fee") or 0))
            self.fills += 1
            done = o.filled >= o.size
            if done:
                o.status = FILLED
            elif o.status in (PENDING, OPEN):
                o.status = PARTIAL                  # order(id, 0) inside on_fill says so (as in the backtest)
            self._call("on_fill", o.id, o.inst, o.side, price, size,
                       (1 if f.get("liquidity") == "maker" else 0) | (2 if done else 0))
        graph = detail["graph"]["status"]
        if o.status not in (PENDING, OPEN, PARTIAL):
            return                                  # the strategy was told its end already
        if graph in GRAPH_TERMINAL:
            # the graph's status is the order's end (its last node may be REJECTED when a cancel
            # beat the venue, or absent when an IOC expired before any was sent)
            if graph == "FILLED":
                o.status = FILLED                   # its fills told the strategy
            elif graph in ("REJECTED", "FAILED") and not o.filled:
                o.status = REJECTED
                self._call("on_order", o.id, EV_REJECTED, REJECTED)
            else:                                   # CANCELLED, EXPIRED, PARTIALLY_FILLED: ended with quantity left
                o.status = CANCELLED
                self._call("on_order", o.id, EV_CANCELLED, CANCELLED)
            return
        status = _FROM_ENGINE.get(detail["nodes"][-1]["status"]) if detail.get("nodes") else None
        if status in (OPEN, PARTIAL) and o.status == PENDING:
            o.status = status

    def _pushed(self, update) -> None:
        """The engine channel's push: one of this edge's orders, or a parent handed to it,
        changed, and the change is committed (sequence_core/engine/channel.py)."""
        try:
            g = update.graph
            if g.handler == self.origin:
                self._parent_changed(g.graph_id, g.status)
            elif g.graph_id in self.by_graph:
                self._apply_detail(g.graph_id, msgspec.to_builtins(update))
            else:                                   # its place reply is still on its way
                self._early[g.graph_id] = msgspec.to_builtins(update)
                while len(self._early) > EARLY_MAX:
                    del self._early[next(iter(self._early))]
        except Exception as exc:  # noqa: BLE001 - a trapping callback ends the edge (run() raises it)
            self._fail(exc)

    def _parent_changed(self, graph_id: str, status: str) -> None:
        if graph_id in self.parent_by_graph:
            if status not in GRAPH_ACTIVE:
                self._parent_ended(graph_id, status)
        elif status in GRAPH_ACTIVE and graph_id not in self._adopting and graph_id not in self._not_ours:
            self._adopting.add(graph_id)
            self._background(self._adopt_parent(graph_id))

    async def _adopt_parent(self, graph_id: str) -> None:
        try:
            pid = await self._take_parent(graph_id)
        except SequenceError as exc:
            self._write_log(f"host: cannot take parent {graph_id}: {exc}")
            return
        finally:
            self._adopting.discard(graph_id)
        if pid:
            self._offer_parent(pid)
        elif graph_id not in self.parent_by_graph:
            self._not_ours.add(graph_id)

    async def _resync(self) -> None:
        """After the channel reconnected: read the open orders and this edge's parents once."""
        try:
            for graph_id, oid in list(self.by_graph.items()):
                if self.orders[oid].status in (PENDING, OPEN, PARTIAL):
                    await self._update(graph_id)
            for v in await self._api("GET", f"/orders?handler={quote(self.origin)}"):
                self._parent_changed(v["graph"]["graph_id"], v["graph"]["status"])
        except SequenceError as exc:
            self._write_log(f"host: resync after reconnecting failed: {exc}")

    def _background(self, coro) -> None:
        """Run *coro* as a task awaited at stop; an error other than the engine's (a trapping
        strategy callback) ends the edge."""
        task = asyncio.get_running_loop().create_task(coro)
        self.replies.add(task)

        def done(t: asyncio.Task) -> None:
            self.replies.discard(t)
            if not t.cancelled() and t.exception() is not None:
                self._fail(t.exception())

        task.add_done_callback(done)

    async def _market(self) -> None:
        while True:
            at = self.source.now_ns()
            if self.mask & 2:
                self._prints(at)
            books = self.source.books(self.instruments, at, 1)
            by = {(b.venue, b.symbol): b for b in books}
            for n, i in enumerate(self.instruments):
                b = by.get((i.venue, i.symbol))
                if b is None:
                    continue
                bid, ask = b.best_bid, b.best_ask
                top = (int(bid.price * SCALE) if bid else 0, int(bid.size * SCALE) if bid else 0,
                       int(ask.price * SCALE) if ask else 0, int(ask.size * SCALE) if ask else 0)
                if top != self.tops[n]:
                    self.tops[n] = top
                    if self.mask & 1:
                        self.current_md_ns = time.time_ns()
                        try:
                            self._call("on_book", n)
                        finally:
                            self.current_md_ns = 0
            now = time.time_ns()
            if self.timer_ns and now >= self.next_timer:
                self.next_timer = now + self.timer_ns
                self._call("on_timer", now)
            await asyncio.sleep(MD_POLL_S)

    def _prints(self, until_ns: int) -> None:
        """``on_trade`` for each trade printed on the edge's books since the last poll, oldest
        first (the source's prints: a source without them gives none)."""
        prints = sorted(((n, t) for n, i in enumerate(self.instruments)
                         for t in self.source.trades(i, self.trades_from, until_ns)), key=lambda p: (p[1].ts_ns, p[0]))
        self.trades_from = until_ns
        for n, t in prints:
            self._call("on_trade", n, t.side, int(t.price * SCALE), int(t.size * SCALE))

    async def _deliver(self) -> None:
        """Hand the mesh's messages to on_message, one at a time, in arrival order."""
        while True:
            await self.mesh.arrived.wait()
            self.mesh.arrived.clear()
            while self.mesh.inbox:
                sender, self._message = self.mesh.inbox.popleft()
                try:
                    self._call("on_message", sender, len(self._message))
                finally:
                    self._message = None

    def _mark(self) -> float:
        value = self.cash + self.outside_cost     # books not traded now: at cost
        for n, pos in enumerate(self.positions):
            bid, _, ask, _ = self.tops[n] or (0, 0, 0, 0)
            if pos and bid and ask:
                value += pos / SCALE * (bid + ask) / 2 / SCALE
        return value

    def _snapshot(self, state: str) -> None:
        s = self.status
        s.state, s.updated_ns, s.fills = state, time.time_ns(), self.fills
        s.positions = {f"{i.venue}:{i.symbol}": self.positions[n] / SCALE for n, i in enumerate(self.instruments)}
        s.positions.update(self.outside)
        s.not_traded = list(self.outside)
        s.pnl = round(self._mark(), 6)
        s.orders = self.placed
        s.open_orders = sum(o.status in (PENDING, OPEN, PARTIAL) for o in self.orders.values())
        if self.strategy is not None:
            d = self.strategy.durations_us
            s.callbacks, s.callback_p50_us, s.callback_p99_us = self.strategy.callbacks, registry.percentile(d, 0.5), registry.percentile(d, 0.99)
        s.md_to_journal_p50_us, s.md_to_journal_p99_us = registry.percentile(self.md_latency_us, 0.5), registry.percentile(self.md_latency_us, 0.99)
        s.error = self.error
        if self.mesh is not None:
            s.mesh_address, s.mesh, s.mesh_dropped = self.mesh.address, self.mesh.stats(), self.mesh.dropped
        registry.write_status(self.home, self.mode, self.name, s)

    def _prune(self) -> None:
        """Forget finished orders beyond the last KEEP_DONE: every place walks this table
        (risk limits, a parent's working size), and a long-running deployment's grew
        without end. A late update for a forgotten order changes nothing."""
        done = [oid for oid, o in self.orders.items() if o.status in (FILLED, CANCELLED, REJECTED)]
        for oid in done[:-KEEP_DONE] if len(done) > KEEP_DONE else ():
            o = self.orders.pop(oid)
            if o.graph_id is not None:
                self.by_graph.pop(o.graph_id, None)

    async def _status_loop(self) -> None:
        while True:
            self._prune()
            self._flush_refusals()
            self._snapshot("running")
            await asyncio.sleep(STATUS_EVERY_S)

    async def run(self) -> int:
        import aiohttp

        from ..engine import promote_startup_objects
        from ..engine_client import engine_info
        from .livehost import LiveStrategy

        if engine_info() is None:
            raise SequenceError("the engine is not running; edges run under it (`sequence deploy` starts it)")
        self._timeout = aiohttp.ClientTimeout(total=30)
        self.http = None
        await self._connect()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.add_signal_handler(signal.SIGINT, stop.set)
        tasks = []
        code = 0
        try:
            from .mesh import Mesh

            self.mesh = Mesh(self.home, self.mode, self.name, self.labels, self.label, self.dep.mesh_transport)
            await self.mesh.start()
            self.strategy = LiveStrategy(self.module, self, self.dep.params)
            await self._reconcile()
            self._write_log(f"host: edge {self.label} of {self.name} v{self.dep.version} started (pid {os.getpid()}), "
                            f"instruments {', '.join(self.status.instruments)}")
            self._call("on_start")
            for pid in self._adopted_parents:
                self._offer_parent(pid)
            for graph_id in list(self.by_graph):   # adopted orders that changed during the adoption
                self._catch_up(graph_id)
            promote_startup_objects()
            tasks = [loop.create_task(t) for t in (self._sender(), self._market(), self._status_loop(),
                                                   self.mesh.ping_loop(), self._deliver(), self._watch_failures())]
            waiter = loop.create_task(stop.wait())
            done, _ = await asyncio.wait([waiter, *tasks], return_when=asyncio.FIRST_COMPLETED)
            for t in done:
                if t is not waiter and t.exception() is not None:
                    raise t.exception()
            self._call("on_stop")                      # the strategy cancels what it wants cancelled
            await asyncio.wait_for(self.queue.join(), 10)
            if self.replies:
                await asyncio.wait(self.replies, timeout=10)
            self._write_log("host: stopped")
            self._snapshot("stopped")
        except SequenceError as exc:
            self.error = str(exc)
            self._write_log(f"host: {exc}")
            self._snapshot("trapped" if "strategy '" in str(exc) else "failed")
            code = EXIT_STRATEGY_FAILED
        finally:
            for t in tasks:
                t.cancel()
            await self.http.close()
            self.channel.close()
            if self.mesh is not None:
                self.mesh.close()
            if self.strategy is not None:
                self.strategy.close()
        return code


def main(argv: list[str]) -> int:
    from ..home import ensure_home

    mode, name, label = argv
    try:
        runtime = EdgeRuntime(ensure_home(), mode, name, label)
    except SequenceError as exc:
        path = registry.log_path(ensure_home(), mode, name, label)
        with open(path, "a") as fh:
            fh.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime())} {label} host: cannot start: {exc}\n")
        registry.write_status(ensure_home(), mode, name, registry.EdgeStatus(label, "failed", os.getpid(), error=str(exc)))
        return EXIT_STRATEGY_FAILED
    return asyncio.run(runtime.run())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
