"""The journal's group commit (sequence_core/journal.py): what a waiter can rely on."""

from __future__ import annotations

import asyncio
import sqlite3
import time

from conftest import FullDisk

from sequence_core import journal as journal_module
from sequence_core.journal import COMMIT_EVERY_S, Journal
from sequence_core.ledger import ledger_path
from sequence_core.orders import LifecycleEvent


def _on_disk() -> int:
    conn = sqlite3.connect(ledger_path(True))
    try:
        return conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    finally:
        conn.close()


def test_writes_under_load_share_a_commit_and_every_waiter_sees_its_write_durable(home):
    async def run():
        journal = Journal(True)
        commits: list[float] = []                   # when each COMMIT ran
        real = journal.commit

        def counting():
            if journal._open or journal._buffered:
                commits.append(time.monotonic())
            real()

        journal.commit = counting

        async def order(n: int) -> float:
            journal.event(LifecycleEvent(time.time_ns(), f"graph_{n:012x}", None, "sor_admission", {}))
            t = time.monotonic()
            await journal.durable()
            return time.monotonic() - t

        async def trader(n: int) -> list[float]:
            waits = []
            for _ in range(5):                       # orders at different stages, every loop turn
                waits.append(await order(n))
                await asyncio.sleep(0)
            return waits

        # after a pause a write commits on the next loop turn, not after the interval: with
        # an interval of a minute it is still durable at once
        journal_module.COMMIT_EVERY_S = 60.0
        journal._committed_at = time.monotonic() - 61.0      # the last commit: over a minute ago
        await asyncio.wait_for(order(0), 5)
        journal_module.COMMIT_EVERY_S = COMMIT_EVERY_S
        assert _on_disk() == 1
        await asyncio.gather(*(trader(n) for n in range(1, 41)))
        assert _on_disk() == 201                     # every awaited write is on disk
        gaps = [b - a for a, b in zip(commits, commits[1:])]
        assert len(commits) < 201 // 4               # far fewer COMMITs than writes ...
        assert min(gaps) >= COMMIT_EVERY_S * 0.9     # ... at most one per interval under load
        journal.close()

    asyncio.run(run())


def test_graph_ids_grow_and_never_repeat_one_already_journaled(monkeypatch):
    from sequence_core import orders

    ids = [orders.new_graph_id() for _ in range(1000)]
    assert ids == sorted(ids) and len(set(ids)) == 1000
    assert all(orders.GRAPH_ID.match(i) and len(i) == 19 for i in ids)
    # a clock set back (an engine restarted after the clock stepped back) cannot reuse an id
    monkeypatch.setattr(orders.time, "time_ns", lambda: 1_000_000_000_000_000)
    later = "graph_" + format(int(ids[-1][6:], 16) + 500, "013x")
    orders.graph_ids_after(later)
    assert orders.new_graph_id() > later
    orders.graph_ids_after("graph_ffffffffffff")        # an older random id: says nothing about order
    assert orders.new_graph_id() > later


def test_cached_positions_follow_other_connections_and_rollbacks(home):
    """Admission's balance reads come from memory, but never stale: a commit by another
    process (the CLI funding a venue) is seen within FRESH_S, a rolled-back fill at once."""
    from decimal import Decimal

    import pytest

    journal = Journal(True)
    assert journal.positions.get("acme", "USD")[0] == 0
    other = sqlite3.connect(ledger_path(True))
    other.execute("INSERT INTO positions (venue, instrument, kind, qty, cost, updated_ns) VALUES ('acme','USD','fiat','100','100',1)")
    other.commit()
    other.close()
    time.sleep(journal.positions.FRESH_S)
    assert journal.positions.get("acme", "USD")[0] == Decimal(100)
    with pytest.raises(RuntimeError):
        with journal.tx():
            journal.positions.put("acme", "USD", "fiat", Decimal(5), Decimal(5), Decimal(0), Decimal(0))
            assert journal.positions.get("acme", "USD")[0] == Decimal(5)
            raise RuntimeError("a fill that failed half-way")
    assert journal.positions.get("acme", "USD")[0] == Decimal(100)
    journal.close()


def test_the_wal_is_emptied_past_its_limit_under_sustained_writes(home):
    """Group commits that never pause leave a PASSIVE checkpoint always behind, so the WAL
    never starts over: past the limit the checkpointer empties it (TRUNCATE)."""
    limit = 1 << 20

    async def run() -> tuple[int, int, int]:
        journal = Journal(True)
        journal.start_checkpointer(every_s=0.02, wal_limit=limit)
        wal = ledger_path(True).with_name("journal.db-wal")
        biggest, commits, end = 0, 0, time.monotonic() + 2.0

        async def writer(n: int) -> None:
            while time.monotonic() < end:
                journal.event(LifecycleEvent(time.time_ns(), f"graph_{n:013x}", None, "sor_admission", {"pad": "x" * 400}))
                await journal.durable()

        async def watch() -> None:
            nonlocal biggest
            while time.monotonic() < end:
                biggest = max(biggest, wal.stat().st_size if wal.exists() else 0)
                await asyncio.sleep(0.005)

        real = journal.commit

        def counting() -> None:
            nonlocal commits
            commits += 1
            real()

        journal.commit = counting
        await asyncio.gather(watch(), *(writer(n) for n in range(32)))
        journal.close()
        return commits, biggest, wal.stat().st_size if wal.exists() else 0

    commits, biggest, final = asyncio.run(run())
    assert commits * 3 * 4096 > 4 * limit              # far more went through the WAL than the limit ...
    assert biggest < 3 * limit and final < 3 * limit, (commits, biggest, final)   # ... and it stayed near it


def test_writes_a_failing_disk_refuses_are_kept_and_committed_once_when_it_recovers(home):
    """Whether the COMMIT fails (SQLite keeps the transaction) or a row write does (the
    transaction is rolled back), the writes stay, waiters wait until they are durable, and
    each row lands exactly once; a write made meanwhile is not lost either."""
    from decimal import Decimal

    from sequence_core.orders import OrderGraph, OrderRequest

    def rows() -> tuple[int, str | None]:
        conn = sqlite3.connect(ledger_path(True))
        try:
            status = conn.execute("SELECT status FROM graphs WHERE graph_id='graph_0000000000001'").fetchone()
            return conn.execute("SELECT COUNT(*) FROM events").fetchone()[0], status and status[0]
        finally:
            conn.close()

    async def run(prefix: str) -> None:
        journal = Journal(True)
        before = rows()[0]
        disk = journal.db = FullDisk(journal.db, prefix, times=3)
        request = OrderRequest("BTC-USD", "buy", Decimal(1))
        graph = OrderGraph("graph_0000000000001", "sandbox", request, "WORKING", 1, 1)
        journal.save(graph, events=tuple(LifecycleEvent(1, graph.graph_id, None, f"e{k}", {}) for k in range(3)))
        waiter = asyncio.ensure_future(journal.durable())
        await asyncio.sleep(0)
        graph.status = "FILLED"                       # saved again while the disk refuses
        journal.save(graph, events=(LifecycleEvent(2, graph.graph_id, None, "terminal", {}),))
        await asyncio.wait_for(waiter, 5)
        assert disk.left == 0                         # durable only once the disk took them
        assert rows() == (before + 4, "FILLED")
        journal.commit()
        assert rows() == (before + 4, "FILLED")       # nothing written twice
        journal.close()

    for prefix in ("COMMIT", "INSERT INTO EVENTS"):
        asyncio.run(run(prefix))

    # outside an event loop (the CLI's journal) the writer gets the error, and the write stays
    import pytest

    journal = Journal(True)
    before = rows()[0]
    journal.db = FullDisk(journal.db, "INSERT INTO EVENTS", times=1)
    with pytest.raises(sqlite3.OperationalError, match="disk is full"):
        journal.event(LifecycleEvent(3, "graph_0000000000002", None, "sor_admission", {}))
    journal.commit()
    assert rows()[0] == before + 1
    journal.close()


def test_sql_of_ones_own_is_kept_or_reported_lost_when_its_commit_fails(home):
    """tx() commits at once: a failed COMMIT that SQLite kept open is retried with the
    caller's SQL in it; one that rolled back raises to the caller, whose SQL is gone, while
    the buffered rows written before it are committed on the retry."""
    import pytest

    from sequence_core.errors import ConfigError

    def on_disk(key: str) -> bool:
        conn = sqlite3.connect(ledger_path(True))
        try:
            return conn.execute("SELECT 1 FROM meta WHERE key=?", (key,)).fetchone() is not None
        finally:
            conn.close()

    async def run(rolls_back: bool, buffered: bool) -> None:
        journal = Journal(True)
        before = _on_disk()
        if buffered:
            journal.event(LifecycleEvent(1, "graph_0000000000003", None, "sor_admission", {}))
        journal.db = FullDisk(journal.db, "COMMIT", times=2, rolls_back=rolls_back)
        key = f"mine-{rolls_back}-{buffered}"
        if rolls_back:
            with pytest.raises(ConfigError, match="disk is full.*not kept"):
                with journal.tx() as db:
                    db.execute("INSERT INTO meta (key, value) VALUES (?, '1')", (key,))
        else:
            with journal.tx() as db:
                db.execute("INSERT INTO meta (key, value) VALUES (?, '1')", (key,))
        await asyncio.wait_for(journal.durable(), 5)
        assert _on_disk() == before + buffered          # the buffered event, once
        assert on_disk(key) is not rolls_back
        journal.close()

    for buffered in (True, False):      # (alone, a lost commit leaves nothing uncommitted behind)
        asyncio.run(run(False, buffered))
        asyncio.run(run(True, buffered))


def test_engine_status_says_when_the_journal_cannot_commit(home, monkeypatch):
    import json

    from click.testing import CliRunner

    from sequence_core.engine.server import Engine

    async def run() -> tuple[dict, dict, dict]:
        engine = Engine("seq_test_token")
        desk = await engine.desk("sandbox")

        async def journal_status() -> dict:
            return json.loads((await engine.status(None)).body)["desks"]["sandbox"]["journal"]

        try:
            healthy = await journal_status()
            disk = desk.journal.db = FullDisk(desk.journal.db, "COMMIT", times=10**6)
            desk.journal.event(LifecycleEvent(1, "graph_0000000000004", None, "sor_admission", {}))
            await asyncio.sleep(0.05)
            failing = await journal_status()
            desk.journal.db = disk._db                      # the disk has room again
            await asyncio.wait_for(desk.journal.durable(), 5)
            return healthy, failing, await journal_status()
        finally:
            await desk.stop()

    healthy, failing, recovered = asyncio.run(run())
    assert healthy == recovered == {"committing": True, "failed_commits": 0, "error": None}
    assert not failing["committing"] and failing["failed_commits"] >= 2 and "disk is full" in failing["error"]

    # what `sequence engine status` prints from it
    from sequence_cli import trade
    from sequence_core import engine_client

    monkeypatch.setattr(engine_client, "engine_info", lambda: type("Info", (), {"port": 1})())
    monkeypatch.setattr(engine_client, "call", lambda *a: {"version": "x", "pid": 1, "uptime_s": 1, "desks": {
        "sandbox": {"working_graphs": 2, "source": "synthetic", "venues": ["acme"], "journal": failing}}})
    out = CliRunner().invoke(trade.engine, ["status"]).output
    assert "sandbox: the journal cannot commit (database or disk is full;" in out and "orders wait until it can" in out


def test_a_redemption_the_journal_cannot_record_says_so_and_the_next_one_catches_up(home):
    """The venue settles before the ledger is written: when that write is lost (its COMMIT
    rolled back on a full disk) the error says the venue settled and to redeem again, and
    the second redeem credits the payout exactly once."""
    from decimal import Decimal

    import pytest

    from sequence_core.engine.server import Engine
    from sequence_core.errors import SequenceError
    from sequence_core.orders import OrderRequest

    ticker = "KXBTCZ-26DEC31-T99000"

    def held() -> dict:
        conn = sqlite3.connect(ledger_path(True))
        try:
            return {i: (Decimal(q), s) for i, q, s in conn.execute(
                "SELECT instrument, qty, status FROM positions WHERE venue='kalshi'")}
        finally:
            conn.close()

    async def run() -> tuple[dict, dict, str, dict, dict]:
        engine = Engine("seq_test_token")
        desk = await engine.desk("sandbox")
        try:
            rt = await desk.place(OrderRequest(f"{ticker}:YES", "buy", Decimal(10), venue="kalshi",
                                               limit_price=Decimal("0.99")), 5)
            assert rt.graph.status == "FILLED"
            await desk.journal.durable()
            before = held()
            disk = desk.journal.db = FullDisk(desk.journal.db, "COMMIT", times=10**6, rolls_back=True)
            with pytest.raises(SequenceError) as lost:
                await desk.redeem(ticker, "kalshi")
            after_failure = held()
            desk.journal.db = disk._db
            second = await desk.redeem(ticker, "kalshi")
            return before, after_failure, str(lost.value), second, held()
        finally:
            await desk.stop()

    before, after_failure, message, second, after = asyncio.run(run())
    assert "kalshi settled" in message and "disk is full" in message and "run the same redeem again" in message
    assert after_failure == before                      # nothing recorded, nothing half-recorded
    paid = Decimal(second["paid"])
    assert paid == (10 if second["winning_outcome"] == "YES" else 0)
    assert after[f"{ticker}:YES"] == (0, "redeemed")
    assert after["USD"][0] == before["USD"][0] + paid   # credited once
