"""The edge channel (sequence_core/engine/channel.py) and the live strategy host's raw
imports (sequence_core/deploy/livehost.py): what a deployed strategy's orders ride on."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path

import pytest

from sequence_core.errors import AuthenticationError, InvalidOrder, NetworkError, OrderNotFound


class _Info:
    """The two fields of engine.json the client reads."""

    def __init__(self, channel: str, token: str):
        self.channel, self.token = channel, token


@asynccontextmanager
async def _engine(home: Path, token: str | None = None):
    """An engine's sandbox desk and edge channel in this process, and a client connected
    with *token* (default: the engine's own)."""
    from sequence_core.engine import channel
    from sequence_core.engine.server import Engine

    engine = Engine("seq_test_token")
    desk = await engine.desk("sandbox")
    server, address = await channel.serve(engine, home)
    client = channel.ChannelClient("sandbox")
    try:
        await client.connect(_Info(address, token or engine.token))
        yield desk, client, server, address
    finally:
        client.close()
        server.close()
        await desk.stop()


def _edge_order(desk, price_offset_ticks: int = -10_000, **kw):
    # a post-only bid 1% under the touch rests: at 100 ticks (1 bp) the synthetic market
    # crossed it before the paper venue matched about one time in a hundred (REJECTED)
    from sequence_core.orders import OrderRequest

    inst = next(i for i in desk.venues["binance"].instruments() if i.symbol == "BTC-USDT")
    book = desk.source.books([inst], desk.source.now_ns(), 1)[0]
    price = book.best_bid.price + price_offset_ticks * inst.tick_size
    return OrderRequest("BTC-USDT", "buy", Decimal("0.001"), "binance", price, urgency="high", policy="edge",
                        order_type="post_only", origin="deploy:test/edge-1", **kw), inst


def _committed_graphs(home: Path) -> set[str]:
    """Graph ids a separate connection can read: what is durably in the journal."""
    from sequence_core.ledger import ledger_path

    conn = sqlite3.connect(ledger_path(True))
    try:
        return {r[0] for r in conn.execute("SELECT graph_id FROM graphs")}
    finally:
        conn.close()


def test_a_place_is_answered_once_durable_and_cancel_rides_behind_it(home):
    from sequence_core.engine.channel import Cancel, Place

    async def run():
        async with _engine(home) as (desk, client, _, address):
            assert address == f"unix:{home / 'engine.sock'}"
            assert (home / "engine.sock").stat().st_mode & 0o777 == 0o600
            request, _ = _edge_order(desk)
            reply = await client.request(Place(0, request, Decimal("65000")))
            assert reply.graph_id and reply.journaled_ns > 0
            assert reply.graph_id in _committed_graphs(home)          # durable when answered
            graph = desk.journal.graph(reply.graph_id)
            assert graph.arrival_mid == Decimal("65000")               # the mid the strategy saw
            # a batch: the cancel of the first and a second place leave in one write
            second, _ = _edge_order(desk, -20_000)
            with client.batch():
                cancelled = client.send(Cancel(0, reply.graph_id))
                placed = client.send(Place(0, second))
            done = await asyncio.wait_for(asyncio.gather(cancelled, placed), 10)
            assert [r.error for r in done] == ["", ""]
            assert desk.journal.graph(reply.graph_id).status == "CANCELLED"
            assert done[1].graph_id in _committed_graphs(home)
            assert not client.pending and not client._deadlines       # answered: nothing left to expire

    asyncio.run(run())


def test_refusals_come_back_as_the_engines_errors(home):
    from sequence_core.engine.channel import Cancel, Place

    async def run():
        async with _engine(home) as (desk, client, _, _):
            request, inst = _edge_order(desk)
            off_tick = Place(0, type(request)(**{**{f: getattr(request, f) for f in request.__struct_fields__},
                                                 "limit_price": request.limit_price + inst.tick_size / 2}))
            with pytest.raises(InvalidOrder, match="off binance's tick size"):
                await client.request(off_tick)
            with pytest.raises(OrderNotFound, match="unknown order"):
                await client.request(Cancel(0, "graph_00000000000000000000"))
            # the channel is still up after refusals
            assert (await client.request(Place(0, request))).graph_id

    asyncio.run(run())


def test_a_submit_is_answered_with_the_order_its_children_and_fills_as_journaled(home):
    from sequence_core.engine.channel import Submit
    from sequence_core.orders import OrderRequest

    async def run():
        async with _engine(home) as (desk, client, _, _):
            ioc = OrderRequest("BTC-USDT", "buy", Decimal("0.001"), "binance", urgency="high")
            replies = await asyncio.wait_for(asyncio.gather(*(client.submit(ioc) for _ in range(8))), 30)
            for reply in replies:
                assert reply.graph.status == "FILLED" and reply.graph.filled_qty == Decimal("0.001")
                assert sum(f.qty for f in reply.fills) == Decimal("0.001") and reply.fills[0].venue == "binance"
                # what the engine answered from memory is what its journal holds, committed
                assert reply.graph.graph_id in _committed_graphs(home)
                assert [n.node_order_id for n in reply.nodes] == [n.node_order_id for n in desk.journal.nodes(reply.graph_id)]
                assert {f.fill_id for f in reply.fills} == {f.fill_id for f in desk.journal.fills(graph_id=reply.graph_id)}
                assert desk.journal.graph(reply.graph_id).filled_qty == reply.graph.filled_qty
            assert len({r.graph_id for r in replies}) == 8
            ids = [r.graph_id for r in sorted(replies, key=lambda r: r.graph.created_ns)]
            assert ids == sorted(ids)                          # graph ids grow with time
            with pytest.raises(InvalidOrder, match="not a multiple of binance's lot size"):
                await client.request(Submit(0, OrderRequest("BTC-USDT", "buy", Decimal("0.0000001"), "binance")))

    asyncio.run(run())


def test_a_watching_edge_is_pushed_its_own_orders_changes_once_committed(home):
    """What replaced the edge's HTTP long-poll: the engine pushes each change of the watched
    origin's orders, after its commit, and nothing of anyone else's."""
    from sequence_core.engine.channel import Cancel, ChannelClient, Place

    async def run():
        async with _engine(home) as (desk, client, _, address):
            pushed = []
            edge = ChannelClient("sandbox")
            edge.on_update = lambda u: pushed.append((u, u.graph.graph_id in _committed_graphs(home)))
            with pytest.raises(AuthenticationError):               # a watching hello is answered
                await ChannelClient("sandbox").connect(_Info(address, "seq_wrong"), watch="deploy:test/edge-1")
            await edge.connect(_Info(address, "seq_test_token"), watch="deploy:test/edge-1")
            assert desk.watchers                                    # watching once connect returns
            mine, _ = _edge_order(desk)
            theirs = type(mine)(**{**{f: getattr(mine, f) for f in mine.__struct_fields__}, "origin": "deploy:other/edge-1"})
            placed = await client.request(Place(0, mine))
            await client.request(Place(0, theirs))

            async def until(status):
                for _ in range(500):
                    if any(u.graph.graph_id == placed.graph_id and u.nodes and u.nodes[-1].status == status for u, _ in pushed):
                        return
                    await asyncio.sleep(0.01)
                raise AssertionError(f"no push with the node {status}: {[(u.graph.status, [n.status for n in u.nodes]) for u, _ in pushed]}")

            await until("NEW")                                   # resting at the paper venue
            await client.request(Cancel(0, placed.graph_id))
            await until("CANCELLED")
            assert {u.graph.request.origin for u, _ in pushed} == {"deploy:test/edge-1"}
            assert all(committed for _, committed in pushed)
            edge.close()
            for _ in range(200):                                 # the engine forgets a closed watcher
                if not desk.watchers:
                    break
                await asyncio.sleep(0.01)
            assert not desk.watchers

    asyncio.run(run())


def test_the_sdk_places_orders_over_the_engine_channel(home, monkeypatch):
    from conftest import stop_engine

    from sequence_core.client import Sequence
    from sequence_core.errors import UsageError

    async def run():
        async with Sequence(sandbox=True).channel() as ch:
            placed = await asyncio.gather(*(ch.order(side, "BTC-USDT", "0.001", venue="binance", urgency="high")
                                            for side in ("buy", "sell", "buy")))
            with pytest.raises(UsageError, match="quantity must be greater than zero"):
                await ch.order("buy", "BTC-USDT", "-1")
        return placed

    try:
        placed = asyncio.run(run())
    finally:
        stop_engine(home)
    assert [p.graph.status for p in placed] == ["FILLED"] * 3
    assert [p.graph.request.side for p in placed] == ["buy", "sell", "buy"]
    assert all(sum(f.qty for f in p.fills) == Decimal("0.001") for p in placed)
    assert all(n.status in ("FILLED", "EXPIRED") for p in placed for n in p.nodes)


def test_a_wrong_token_is_refused_and_nothing_is_admitted(home):
    from sequence_core.engine.channel import Place

    async def run():
        async with _engine(home, "seq_wrong") as (desk, client, _, _):
            request, _ = _edge_order(desk)
            with pytest.raises(NetworkError, match="authentication failed"):
                await client.request(Place(0, request))
            assert not client.connected
            assert _committed_graphs(home) == set()

    asyncio.run(run())


def test_an_oversized_frame_closes_the_connection(home):
    async def run():
        async with _engine(home) as (_, _, _, address):
            reader, writer = await asyncio.open_unix_connection(address.removeprefix("unix:"))
            writer.write((2 << 20).to_bytes(4, "little") + b"x" * 16)
            assert await asyncio.wait_for(reader.read(), 5) != b"x"    # a refusal, then EOF
            assert reader.at_eof()
            writer.close()

    asyncio.run(run())


def test_requests_an_engine_never_answers_fail_after_the_reply_timeout(tmp_path, monkeypatch):
    from sequence_core.engine import channel

    monkeypatch.setattr(channel, "REPLY_TIMEOUT_S", 0.3)

    async def run():
        heard = []

        async def mute(reader, writer):     # takes every frame, answers none
            while chunk := await reader.read(4096):
                heard.append(chunk)

        server = await asyncio.start_unix_server(mute, str(tmp_path / "mute.sock"))
        client = channel.ChannelClient("sandbox")
        try:
            await client.connect(_Info(f"unix:{tmp_path / 'mute.sock'}", "seq_x"))
            first = client.send(channel.Cancel(0, "graph_a"))
            await asyncio.sleep(0.2)
            second = client.send(channel.Cancel(0, "graph_b"))
            with pytest.raises(NetworkError, match="did not answer within 0.3 s"):
                await asyncio.wait_for(client.reply(first), 5)
            assert not second.done()            # each request has its own 0.3 s
            with pytest.raises(NetworkError, match="did not answer"):
                await asyncio.wait_for(client.reply(second), 5)
            assert heard and client.pending == {}
        finally:
            client.close()
            server.close()

    asyncio.run(run())


def test_a_home_too_deep_for_a_unix_socket_uses_loopback_tcp(tmp_path, monkeypatch):
    from sequence_core.engine.channel import socket_path
    from sequence_core.plugins import reset_plugins

    deep = tmp_path / ("d" * 60) / ("e" * 60) / "home"
    monkeypatch.setenv("SEQUENCE_HOME", str(deep))
    reset_plugins()
    assert socket_path(deep) is None
    from sequence_core.engine.channel import Place

    async def run():
        async with _engine(deep) as (desk, client, server, address):
            assert address.startswith("tcp:")
            assert server.sockets[0].getsockname()[0] == "127.0.0.1"
            request, _ = _edge_order(desk)
            assert (await client.request(Place(0, request))).journaled_ns

    try:
        asyncio.run(run())
    finally:
        reset_plugins()


# -- the live host's raw imports ------------------------------------------------------------
WAT = """(module
  (import "seq" "place" (func $place (param i32 i32 i64 i64 i32) (result i64)))
  (import "seq" "book" (func $book (param i32 i32) (result i64)))
  (memory (export "memory") 1)
  (func (export "seq_abi_version") (result i32) (i32.const 1))
  (func (export "on_book") (param $inst i32) (result i32)
    (drop (call $place (local.get $inst) (i32.const -1) (call $book (i32.const 0) (i32.const 2)) (i64.const 5) (i32.const 2)))
    (i32.const 0))
  (func (export "on_timer") (param i64) (result i32) (loop $l (br $l)) (i32.const 0))
  (func (export "on_fill") (param i64 i32 i32 i64 i64 i32) (result i32) unreachable)
  (func (export "on_order") (param i64 i32 i32) (result i32) (local.get 2)))"""


class _Api:
    def __init__(self):
        self.placed = []

    def place(self, inst, side, price, size, flags):
        if inst == 9:
            raise KeyError("no instrument 9")
        self.placed.append((inst, side, price, size, flags))
        return 41

    def book(self, inst, field):
        return 6_500_000_000_000 + field

    def __getattr__(self, name):
        return lambda *a: 0


def _strategy(tmp_path, fuel=100_000):
    import wasmtime

    from sequence_core.deploy.livehost import LiveStrategy
    from sequence_core.sim.host import StrategyModule

    path = tmp_path / "s.wasm"
    path.write_bytes(wasmtime.wat2wasm(WAT))
    api = _Api()
    return LiveStrategy(StrategyModule(path, "probe"), api, fuel=fuel), api


def test_live_host_passes_signed_values_and_returns_results(tmp_path):
    s, api = _strategy(tmp_path)
    assert s.call("on_book", 3) is True
    assert api.placed == [(3, -1, 6_500_000_000_002, 5, 2)]     # i32 -1 stays -1; i64 intact
    assert s.call("on_start") is False                           # not exported
    assert s.call("on_order", 1, 2, 0) is True


def test_live_host_reports_traps_fuel_status_and_host_exceptions(tmp_path):
    from sequence_core.sim.host import StrategyError

    s, api = _strategy(tmp_path)
    with pytest.raises(KeyError, match="no instrument 9"):       # the import's own exception
        s.call("on_book", 9)
    with pytest.raises(StrategyError, match="in on_timer: stopped after its fuel budget of 100,000"):
        s.call("on_timer", 1)
    with pytest.raises(StrategyError, match="in on_fill: trapped: .*unreachable.*a Rust panic"):
        s.call("on_fill", 1, 0, 1, 2, 3, 0)
    with pytest.raises(StrategyError, match="in on_order: the callback returned error status 4"):
        s.call("on_order", 1, 2, 4)
    assert s.call("on_book", 0) is True                          # still usable afterwards
    assert s.callbacks == 5


def test_a_place_the_journal_cannot_commit_yet_is_answered_once_it_is_durable(home):
    from conftest import FullDisk

    from sequence_core.engine.channel import Place

    async def run():
        async with _engine(home) as (desk, client, _, _):
            request, _ = _edge_order(desk)
            disk = desk.journal.db = FullDisk(desk.journal.db, "COMMIT", times=2)
            reply = await asyncio.wait_for(client.request(Place(0, request)), 10)
            assert disk.left == 0 and reply.graph_id in _committed_graphs(home)

    asyncio.run(run())


# -- order management racing a place, and itself (sweep V18) ------------------------------------
def _untracked(home: Path) -> list[tuple[str, str]]:
    """Orders resting at the paper venue that the journal does not show working: orders the
    engine forgot (their fills would never be recorded)."""
    from sequence_core.ledger import ledger_path

    journal = sqlite3.connect(ledger_path(True))
    try:
        resting = list(_resting(home))
        working = {r[0] for r in journal.execute("SELECT client_order_id FROM nodes WHERE status IN ('PENDING_NEW', 'NEW', 'PARTIALLY_FILLED')")}
        return [(c, "untracked") for c in resting if c not in working]
    finally:
        journal.close()


def _resting(home: Path) -> dict[str, Decimal]:
    if not (home / "sandbox" / "paper.db").exists():
        return {}                                    # nothing ever reached the paper venues
    paper = sqlite3.connect(home / "sandbox" / "paper.db")
    try:
        if not paper.execute("SELECT 1 FROM sqlite_master WHERE name='orders'").fetchone():
            return {}
        return {r[0]: Decimal(str(r[1])) for r in paper.execute(
            "SELECT client_order_id, json_extract(data, '$.price') FROM orders WHERE status IN ('NEW', 'PARTIALLY_FILLED')")}
    finally:
        paper.close()


async def _placing(desk, request, slow_ms: int, monkeypatch):
    """Admit *request* on a paper venue that takes *slow_ms* to receive a place; return once
    its child order is on its way (journaled, sent, not answered)."""
    import sequence_venue_sim.paper as paper

    monkeypatch.setattr(paper, "ENTRY_LATENCY_MS", slow_ms)
    rt = await desk.place(request, 0)
    for _ in range(200):
        if rt.nodes:
            break
        await asyncio.sleep(0.005)
    node = next(iter(rt.nodes.values()))
    assert node.status == "PENDING_NEW"          # the venue has not answered yet
    return rt, node


@pytest.mark.parametrize("what", ["amend", "cancel_node", "cancel_graph"])
def test_managing_an_order_whose_place_is_unanswered_leaves_nothing_resting_untracked(home, monkeypatch, what):
    """A cancel (or the cancel of an amend's cancel-replace) sent while the order's own place
    is still on its way: the venue's 'unknown order' is no proof the order does not exist.
    The engine waits for the place's answer, then cancels it: no order rests at the venue
    that the journal does not show working (its fills would never be recorded)."""
    from sequence_core.engine.channel import Amend, Cancel

    async def run():
        async with _engine(home) as (desk, client, _, _):
            request, inst = _edge_order(desk)
            rt, node = await _placing(desk, request, 300, monkeypatch)
            gid = rt.graph.graph_id
            lower = request.limit_price - 10 * inst.tick_size
            if what == "amend":
                reply = await asyncio.wait_for(client.request(Amend(0, gid, lower)), 10)
            else:
                reply = await asyncio.wait_for(client.request(Cancel(0, node.node_order_id if what == "cancel_node" else gid)), 10)
            assert reply.error == ""
            await asyncio.sleep(0.5)                  # the place has long landed
            assert _untracked(home) == []
            nodes = desk.journal.nodes(gid)
            assert nodes[0].status == "CANCELLED"     # cancelled (at the venue, or before it was sent), not 'unknown'
            if what == "amend":
                assert [n.status for n in nodes] == ["CANCELLED", "NEW"]
                assert _resting(home) == {nodes[1].client_order_id: lower}
                await asyncio.wait_for(client.request(Cancel(0, gid)), 10)
            assert _resting(home) == {} and _untracked(home) == []
            assert desk.journal.graph(gid).status == ("EXPIRED" if what == "cancel_node" else "CANCELLED")

    asyncio.run(run())


@pytest.mark.parametrize("ops", ["amend+cancel", "amend+amend", "amend+amend+cancel", "cancel+amend"])
def test_operations_sent_together_on_one_order_run_in_the_order_sent(home, ops):
    """Amends and cancels on one order sent together (one strategy callback, two SDK
    threads) run one after the other, in the order sent: a cancel after an amend cancels the
    replacement, the last amend's price wins, and no client order id is sent twice."""
    from sequence_core.engine.channel import Amend, Cancel

    async def run():
        async with _engine(home) as (desk, client, _, _):
            request, inst = _edge_order(desk)
            rt = await desk.place(request, 5)
            gid = rt.graph.graph_id
            for _ in range(200):
                if rt.nodes and next(iter(rt.nodes.values())).status == "NEW":
                    break
                await asyncio.sleep(0.005)
            prices = []
            with client.batch():
                sent = []
                for i, op in enumerate(ops.split("+")):
                    if op == "amend":
                        prices.append(request.limit_price - (10 + i) * inst.tick_size)
                        sent.append(client.send(Amend(0, gid, prices[-1])))
                    else:
                        sent.append(client.send(Cancel(0, gid)))
            replies = await asyncio.wait_for(asyncio.gather(*sent), 20)
            await asyncio.sleep(0.2)
            assert _untracked(home) == []
            ids = [e.detail["client_order_id"] for e in desk.journal.events(gid) if e.kind == "edge_dispatch"]
            assert len(ids) == len(set(ids))                 # no client order id sent twice
            nodes = desk.journal.nodes(gid)
            working = [n for n in nodes if n.status in ("NEW", "PARTIALLY_FILLED")]
            if ops.endswith("cancel"):
                assert [r.error for r in replies] == [""] * len(replies)
                assert working == [] and _resting(home) == {}
                assert desk.journal.graph(gid).status == "CANCELLED"
            elif ops == "cancel+amend":
                assert replies[0].error == "" and replies[1].error      # nothing left to amend
                assert working == [] and _resting(home) == {}
            else:
                assert [r.error for r in replies] == [""] * len(replies)
                assert len(working) == 1 and working[0].limit_price == prices[-1]     # the last amend wins
                assert _resting(home) == {working[0].client_order_id: prices[-1]}
                await asyncio.wait_for(client.request(Cancel(0, gid)), 10)
                assert _resting(home) == {} and _untracked(home) == []

    asyncio.run(run())


def test_an_unconfirmed_native_amend_takes_the_venues_price_and_size(home):
    """A crash (or a timeout) between a native amend's journaled intent and the venue's answer
    left the journal at the old price and size for good: the venue rested at the new price,
    and an amended 0.001 -> 0.002 that filled read FILLED 0.002 of 0.001. The venue's next word
    on the order now decides, also after a restart (recover reads the intent back)."""
    from sequence_core.engine.channel import Place
    from sequence_core.engine.context import GraphRuntime
    from sequence_core.execution import OrderState
    from sequence_core.orders import LifecycleEvent

    async def run():
        async with _engine(home) as (desk, client, _, _):
            request, inst = _edge_order(desk)
            reply = await client.request(Place(0, request))
            rt = desk.runtimes[reply.graph_id]
            node = next(iter(rt.nodes.values()))
            old = (node.limit_price, node.qty)
            price, qty = node.limit_price - inst.tick_size, node.qty * 2
            desk.journal.event(LifecycleEvent(0, node.graph_id, node.node_order_id, "amend_requested",
                                              {"price": str(price), "qty": str(qty), "mode": "native_atomic"}))
            # as after a restart: a runtime from the journal finds the amend unconfirmed
            again = GraphRuntime(desk, desk.journal.graph(reply.graph_id), rt.instruments)
            desk._unconfirmed_amends(again, desk.journal.events(reply.graph_id))
            assert node.node_order_id in desk.amending
            # a push of fills alone says nothing of it; the venue's state does
            desk.apply(rt, node.node_order_id, OrderState(node.client_order_id, "v1", "NEW", Decimal(0)), inst)
            assert (node.limit_price, node.qty) == old and node.node_order_id in desk.amending
            desk.apply(rt, node.node_order_id, OrderState(node.client_order_id, "v1", "NEW", Decimal(0),
                                                          price=price, qty=qty), inst)
            assert (node.limit_price, node.qty) == (price, qty) and rt.graph.request.qty == qty
            assert node.node_order_id not in desk.amending
            kinds = [e.kind for e in desk.journal.events(node.graph_id, node.node_order_id)]
            assert kinds[-1] == "amend"

    asyncio.run(run())
