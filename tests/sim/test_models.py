"""Model plugins: the documented formulas, calibration, and a third party's own model."""

from __future__ import annotations

import ctypes

import numpy as np
import pytest
from simtools import DAY, QUOTER, make_market, wasm


def queue(name, spec=""):
    from sequence_core.sim.models import get_model

    model, parsed = get_model("queue", name + (":" + spec if spec else ""))
    depth, trade, params = model.prepare(parsed)
    proto = ctypes.CFUNCTYPE(None, ctypes.POINTER(ctypes.c_double), ctypes.c_double, ctypes.c_double,
                             ctypes.POINTER(ctypes.c_double))
    p = (ctypes.c_double * len(params))(*params)

    def d(q, prev, new):
        proto(depth)(q, prev, new, p)

    def t(q, qty):
        proto(trade)(q, qty, 0.0, p)
    return d, t


def q(front, traded=0.0):
    return (ctypes.c_double * 2)(front, traded)


@pytest.fixture
def models_world(home, monkeypatch):
    monkeypatch.setenv("SEQUENCE_LOAD_PLUGINS", "sim,queue-models,latency-models,fee-models")
    from sequence_core.plugins import reset_plugins

    reset_plugins()
    yield
    reset_plugins()


def test_probabilistic_power_and_log(models_world):
    depth, trade = queue("probabilistic")        # default: power, n = 3
    s = q(2.0)
    depth(s, 10.0, 5.0)                          # 5 cancelled: front 2, back 8
    p = 8 ** 3 / (8 ** 3 + 2 ** 3)
    assert s[0] == pytest.approx(2 - (1 - p) * 5)
    depth, trade = queue("probabilistic", "fn=log")
    s = q(2.0)
    depth(s, 10.0, 5.0)
    p = np.log(9) / (np.log(9) + np.log(3))
    assert s[0] == pytest.approx(2 - (1 - p) * 5 + min(8 - p * 5, 0))


def test_trades_are_not_counted_twice(models_world):
    depth, trade = queue("probabilistic")
    s = q(4.0)
    trade(s, 3.0)                                # 3 traded ahead of us
    assert (s[0], s[1]) == (1.0, 3.0)
    depth(s, 10.0, 7.0)                          # ... and the level shows that same decrease
    assert (s[0], s[1]) == (1.0, 0.0)


def test_risk_averse_aggressive_and_none(models_world):
    depth, trade = queue("risk-averse")
    s = q(2.0)
    depth(s, 10.0, 5.0)
    assert s[0] == 2.0                           # cancels are all behind us
    depth(s, 5.0, 1.0)
    assert s[0] == 1.0                           # ... but never more ahead than the level
    depth, trade = queue("aggressive")
    s = q(8.0)
    depth(s, 10.0, 5.0)
    assert s[0] == 3.0                           # cancels are all ahead of us
    depth, trade = queue("none")
    s = q(8.0)
    trade(s, 0.001)
    assert s[0] < -1e18                          # touched: filled in full


def test_latency_models(models_world):
    from sequence_core.sim.models import Calibration, get_model

    proto = ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_int64, ctypes.c_int64, ctypes.c_int64,
                             ctypes.POINTER(ctypes.c_uint64), ctypes.POINTER(ctypes.c_double))
    rng = (ctypes.c_uint64 * 2)(12345, 67890)
    cal = Calibration(["sim"], ["BTC-USD"], [np.array([1_000_000, 2_000_000, 3_000_000] * 100)])

    def draws(spec, kind, n=2000):
        model, parsed = get_model("latency", spec)
        addr, params = model.prepare(parsed, cal)
        p = (ctypes.c_double * len(params))(*params)
        return model, np.array([proto(addr)(kind, 0, 0, rng, p) for _ in range(n)])

    model, d = draws("constant:entry=2ms,cancel=250us", 1)
    assert set(d) == {2_000_000} and model.feed_recorded
    assert set(draws("constant:entry=2ms,cancel=250us", 3)[1]) == {250_000}
    _, d = draws("per-venue", 1)
    assert set(d) <= {1_000_000, 2_000_000, 3_000_000} and len(set(d)) == 3   # the venue's own gaps
    _, d = draws("log-normal:median=4ms,sigma=0.5", 4, 5000)
    assert 3_600_000 < np.median(d) < 4_400_000 and d.max() > 2 * np.median(d)
    none, _ = get_model("latency", "none")
    assert not none.feed_recorded and none.prepare(_, cal)[0] == 0


def test_a_third_party_queue_model_plugs_in(models_world, home, tmp_path):
    """A model from outside this project: a plugin object with its own C callback."""
    from numba import cfunc, types

    from sequence_core.hookspecs import hookimpl
    from sequence_core.home import ensure_home
    from sequence_core.plugins import get_plugins
    from sequence_core.sim.engine import BacktestConfig, run_backtest
    from sequence_core.sim.host import StrategyModule
    from sequence_core.store import Store

    sig = types.void(types.CPointer(types.float64), types.float64, types.float64, types.CPointer(types.float64))

    @cfunc(sig)
    def front_of_queue(q, a, b, params):      # we are always first in line
        q[0] = -1.0

    class FrontModel:
        name = "front"
        description = "always first in the queue"

        def prepare(self, spec, calibration=None):
            return front_of_queue.address, front_of_queue.address, np.zeros(1)

    class Plugin:
        @hookimpl
        def register_queue_models(self, register):
            register(FrontModel())

    get_plugins().register(Plugin(), "my-models")
    store = Store(ensure_home() / "data")
    make_market(store)
    module = StrategyModule(wasm(tmp_path, "quoter", QUOTER))
    results = {}
    for model in ("front", "risk-averse"):
        cfg = BacktestConfig(symbols=["BTC-USD"], start=DAY, end=DAY, queue_model=model, dedup=False)
        results[model] = run_backtest(store, cfg, module).result
    assert results["front"].queue_model == "front"
    assert results["front"].fills > results["risk-averse"].fills


def test_chunk_boundaries_never_change_the_outcome(models_world, tmp_path, monkeypatch):
    """The replay streams the window in chunks; where they are cut must not matter."""
    import sequence_core.sim.events as events
    from sequence_core.home import ensure_home
    from sequence_core.sim.engine import BacktestConfig, run_backtest
    from sequence_core.sim.host import StrategyModule
    from sequence_core.store import Store

    store = Store(ensure_home() / "data")
    make_market(store, steps=30_000)
    module = StrategyModule(wasm(tmp_path, "quoter", QUOTER))
    cfg = BacktestConfig(symbols=["BTC-USD"], start=DAY, end=DAY, latency_model="log-normal", dedup=False)
    whole = run_backtest(store, cfg, module)
    monkeypatch.setattr(events, "MAX_CHUNK_ROWS", 997)
    cut = run_backtest(store, cfg, module)
    assert cut.result == whole.result and whole.result.fills > 0
    assert (cut.fills == whole.fills).all()


def test_python_strategy_through_the_same_engine(models_world, tmp_path):
    """A research strategy in Python runs on the same loop and host functions as wasm: the
    same quoting logic gives the same fills, and its exceptions become clear errors."""
    from sequence_core.client import Sequence
    from sequence_core.errors import SequenceError
    from sequence_core.home import ensure_home
    from sequence_core.sim.pystrategy import Strategy
    from sequence_core.store import Store

    make_market(Store(ensure_home() / "data"))

    class Quoter(Strategy):             # QUOTER's logic (tests/simtools.py), in Python
        name = "py-quoter"

        def __init__(self):
            self.bid = self.ask = 0

        def on_start(self, ctx):
            ctx.set_timer(100_000_000)

        def on_timer(self, ctx, now):
            if self.bid:
                ctx.cancel(self.bid)
            if self.ask:
                ctx.cancel(self.ask)
            bid, _, ask, _ = ctx.top(0)
            if bid > 0 and ask > 0:
                self.bid = ctx.place(0, 1, bid, 10_000_000, post_only=True)
                self.ask = ctx.place(0, -1, ask, 10_000_000, post_only=True)

    sq = Sequence()
    py = sq.backtest(Quoter(), "BTC-USD", DAY, DAY, dedup=False).result
    wa = sq.backtest(wasm(tmp_path, "quoter", QUOTER), "BTC-USD", DAY, DAY, dedup=False).result
    assert py.strategy == "py-quoter" and py.fills > 0
    assert (py.fills, py.submits, py.cancels, py.pnl) == (wa.fills, wa.submits, wa.cancels, wa.pnl)

    class Broken(Strategy):
        def on_start(self, ctx):
            ctx.set_timer(100_000_000)

        def on_timer(self, ctx, now):
            raise ValueError("no idea what to do")

    with pytest.raises(SequenceError) as err:
        sq.backtest(Broken(), "BTC-USD", DAY, DAY, dedup=False)
    assert "strategy 'Broken' in on_timer: ValueError: no idea what to do" in str(err.value)


def _snapshot(store, at_ns: int, mid_tick: int = 5_000_000) -> None:
    """A ten-level-a-side book snapshot of the make_market instrument, received at *at_ns*."""
    from simtools import LOT, TICK

    prices = [(mid_tick - i) * TICK for i in range(10)] + [(mid_tick + 1 + i) * TICK for i in range(10)]
    store.write("book_snapshots", "sim", "BTC-USD", "snap", {
        "ts_exchange": np.full(20, at_ns), "ts_recv": np.full(20, at_ns), "seq": np.full(20, 1),
        "side": np.array([1] * 10 + [-1] * 10, np.int8), "level": np.array(list(range(10)) * 2, np.int16),
        "price": np.array(prices), "size": np.full(20, 100 * LOT)})


def test_a_window_without_the_snapshot_its_book_started_from_is_refused(models_world):
    """Updates to a book snapshotted on an earlier day replayed as if the levels they touched
    were the whole book, silently (a capture crossing midnight, backtested from its second day)."""
    from simtools import T0

    from sequence_core.errors import UsageError
    from sequence_core.home import ensure_home
    from sequence_core.sim.engine import BacktestConfig, run_backtest
    from sequence_core.store import Store

    store = Store(ensure_home() / "data")
    make_market(store, steps=2_000)
    _snapshot(store, T0 - 86_400 * 10**9)                         # the day before DAY
    with pytest.raises(UsageError, match="only updates to the book snapshotted on 2023-11-13: start the backtest on 2023-11-13"):
        run_backtest(store, BacktestConfig(symbols=["BTC-USD"], start=DAY, end=DAY, dedup=False))


def test_updates_before_the_windows_first_snapshot_are_skipped_and_said(models_world):
    from simtools import T0

    from sequence_core.home import ensure_home
    from sequence_core.sim.engine import BacktestConfig, run_backtest
    from sequence_core.store import Store

    store = Store(ensure_home() / "data")
    events = make_market(store, steps=2_000)
    cfg = BacktestConfig(symbols=["BTC-USD"], start=DAY, end=DAY, dedup=False)
    plain = run_backtest(store, cfg).result                          # deltas alone, from an empty book: as recorded
    assert not any("snapshot" in n for n in plain.notes) and plain.events == events
    _snapshot(store, T0 + 600_000_000)                              # 0.6 s in: after the first updates
    out = run_backtest(store, cfg)
    assert any("book updates before the window's first snapshot" in n for n in out.result.notes), out.result.notes
    assert out.result.events < events + 20                          # the updates before it were not replayed
