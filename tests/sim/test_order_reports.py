"""Every report of an order reaches the strategy, in the order the exchange produced them.

Each report (ack, fill, cancel) draws its own response latency; before they were ordered per
order, a completing fill that overtook the earlier ones freed the order's slot and the partial
fills and the ack behind it were dropped: on_fill missed fills and the strategy's own
position drifted from the fill log's."""

from __future__ import annotations

from collections import defaultdict

import pytest
from simtools import DAY, T0, make_market

ACK, REJECTED, CANCELLED, CANCEL_REFUSED = 1, 2, 4, 6
FILLED_ST, CANCELLED_ST, REJECTED_ST = 4, 5, 6


@pytest.fixture
def jittery_market(home, monkeypatch):
    """make_market's market with receive gaps of 2 to 22 ms: the default per-venue latency
    model then draws a different latency for each report."""
    monkeypatch.setenv("SEQUENCE_LOAD_PLUGINS", "sim,queue-models,latency-models,fee-models")
    from sequence_core.home import ensure_home
    from sequence_core.plugins import reset_plugins
    from sequence_core.store import Store

    reset_plugins()
    make_market(Store(ensure_home() / "data"), recv_jitter_ns=20_000_000)
    yield
    reset_plugins()


def _sweeper():
    from sequence_core.sim.pystrategy import Strategy

    class Sweeper(Strategy):
        """Every 50 ms: a limit order through three levels of the book (several fills at once,
        the rest resting), alternately buying and selling, and a post-only quote at the touch;
        what is still open is cancelled the next time. Stops trading 12 s in and cancels all,
        so that every report has arrived when the replay ends."""

        def __init__(self):
            self.events = defaultdict(list)     # order id -> its reports, as the strategy got them
            self.filled = defaultdict(int)
            self.open: list[int] = []
            self.finished: list[tuple[int, int]] = []   # (order id, final status), as seen
            self.status_checks = self.forgotten_checks = 0
            self.wrong: list[tuple[int, int, int]] = []   # (order id, status read, expected)
            self.side = 1
            self.position = None

        def on_start(self, ctx):
            ctx.set_timer(50_000_000)

        def on_timer(self, ctx, now):
            self._check_finished(ctx)
            for oid in self.open:
                if ctx.live(oid):
                    ctx.cancel(oid)
            self.open = []
            if now > T0 + 12_000_000_000:
                return
            bid, bq, ask, aq = ctx.top(0)
            if not bid or not ask:
                return
            tick, lot = ctx.tick(0), ctx.lot(0)
            if self.side > 0:
                px, size = ask + 2 * tick, (aq // lot) * lot * 3
            else:
                px, size = bid - 2 * tick, (bq // lot) * lot * 3
            self.open.append(ctx.place(0, self.side, px, max(size, lot)))
            self.open.append(ctx.place(0, -self.side, bid if self.side < 0 else ask, 10 * lot, post_only=True))
            self.side = -self.side

        def _check_finished(self, ctx):
            # the last 256 finished orders answer their final status; long done ones read 0
            for oid, final in self.finished[-200:]:
                if ctx.status(oid) != final:
                    self.wrong.append((oid, ctx.status(oid), final))
                self.status_checks += 1
            for oid, _ in self.finished[:-400][-50:]:
                if ctx.status(oid) != 0:
                    self.wrong.append((oid, ctx.status(oid), 0))
                self.forgotten_checks += 1

        def on_fill(self, ctx, order_id, inst, side, price, size, maker, done):
            self.events[order_id].append(("fill", done))
            self.filled[order_id] += size
            if done:
                self.finished.append((order_id, FILLED_ST))

        def on_order(self, ctx, order_id, event, status):
            self.events[order_id].append((event, status))
            if event in (REJECTED, CANCELLED):
                self.finished.append((order_id, CANCELLED_ST if event == CANCELLED else REJECTED_ST))

        def on_stop(self, ctx):
            self.position = ctx.position(0)

    return Sweeper()


def test_every_fill_report_reaches_the_strategy_in_order(jittery_market):
    from sequence_core.client import Sequence

    s = _sweeper()
    out = Sequence().backtest(s, "BTC-USD", DAY, DAY, dedup=False)
    log = defaultdict(int)
    rows = defaultdict(int)
    for r in out.fills:
        log[int(r[1])] += int(r[5])
        rows[int(r[1])] += 1
    several = sum(1 for n in rows.values() if n > 1)
    assert out.result.fills == len(out.fills) > 300 and several > 50     # many orders fill in pieces
    # every fill was reported, and the strategy's position is the fill log's
    assert sum(1 for ev in s.events.values() for e in ev if e[0] == "fill") == len(out.fills)
    assert dict(s.filled) == dict(log)
    assert s.position == sum(int(r[3]) * int(r[5]) for r in out.fills)
    _in_order(s.events)
    # order() answers a finished order's final status among the last 256 finished, as the
    # deployed edge does (KEEP_DONE), and 0 ("long done") for older ones
    assert s.status_checks > 1000 and s.forgotten_checks > 100 and s.wrong[:5] == []


def _in_order(events):
    """One order's reports come as the exchange produced them: the ack (or a reject) first,
    then its fills, then its end; nothing but a refused cancel after the end. (A cancel sent
    while the order was pending reaches the exchange after it: never refused as unknown.)"""
    for oid, ev in events.items():
        assert ev[0][0] in (ACK, REJECTED), (oid, ev)
        ended = False
        for e in ev:
            assert not ended or e[0] == CANCEL_REFUSED, (oid, ev)
            ended = ended or e == ("fill", True) or e[0] in (REJECTED, CANCELLED)
            assert e[0] != ACK or e is ev[0], (oid, ev)
        assert ended, (oid, ev)


def test_reports_keep_per_order_order_with_every_latency_model(jittery_market):
    """log-normal latencies too: every fill of every order reaches on_fill, in order."""
    from sequence_core.client import Sequence

    s = _sweeper()
    out = Sequence().backtest(s, "BTC-USD", DAY, DAY, dedup=False, latency_model="log-normal:median=5ms,sigma=1")
    log = defaultdict(int)
    for r in out.fills:
        log[int(r[1])] += int(r[5])
    assert len(out.fills) > 300 and dict(s.filled) == dict(log)
    assert s.position == sum(int(r[3]) * int(r[5]) for r in out.fills)
    _in_order(s.events)
