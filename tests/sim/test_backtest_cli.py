"""`sequence backtest` end to end on a small recorded market, with WAT strategies."""

from __future__ import annotations

import json

import pytest
from simtools import DAY, FAILER, GROWER, LOOPER, NO_ABI, QUOTER, SUBSCRIBER, TRAPPER, UNKNOWN_IMPORT, BAD_SIGNATURE, make_market, wasm

MODELS = "sim,queue-models,latency-models,fee-models"


@pytest.fixture
def market(sequence, home):
    from sequence_core.home import ensure_home
    from sequence_core.store import Store

    make_market(Store(ensure_home() / "data"))
    sequence.env["SEQUENCE_LOAD_PLUGINS"] = MODELS
    return sequence


def run_json(sequence, *args):
    proc = sequence("backtest", *args, "--output", "json", timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_quoting_strategy_trades_and_reports(market, tmp_path, home):
    quoter = wasm(tmp_path, "quoter", QUOTER)
    proc = market("backtest", "BTC-USD", "--start", DAY, "--end", DAY, "--wasm", str(quoter), timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for label in ("P&L", "Sharpe", "max drawdown", "fills", "volume", "fees", "maker", "VENUE", "sim", "BTC-USD"):
        assert label in out
    report = run_json(market, "BTC-USD", "--start", DAY, "--end", DAY, "--wasm", str(quoter))
    r = report["result"]
    assert r["fills"] > 0 and r["submits"] > r["fills"] and r["cancels"] > 0
    assert r["maker_share"] == 1.0          # post-only quotes only ever make
    assert r["venues"][0]["venue"] == "sim" and r["venues"][0]["fills"] == r["fills"]
    assert r["queue_model"] == "probabilistic" and r["latency_model"] == "per-venue" and r["capital"] == 100000.0
    saved = report["saved_to"]
    assert saved and saved.startswith(str(home / "backtests"))
    import pyarrow.parquet as pq

    fills = pq.read_table(f"{saved}/fills.parquet")
    assert fills.num_rows == r["fills"]
    assert set(fills.column_names) >= {"ts", "order_id", "instrument", "side", "price", "size", "maker"}
    assert pq.read_table(f"{saved}/orders.parquet").num_rows >= r["fills"]
    assert pq.read_table(f"{saved}/pnl.parquet").num_rows > 10


def test_a_subscribed_strategy_runs_through_updates_received_before_their_exchange_time(market, tmp_path):
    """A recorded receive time before the exchange time held the exchange below the very update
    the subscribed strategy waited for: the replay spun at 100% CPU for ever."""
    from sequence_core.home import ensure_home
    from sequence_core.store import Store

    make_market(Store(ensure_home() / "data"), symbol="ETH-USD", early_every=997)
    proc = market("backtest", "ETH-USD", "--start", DAY, "--end", DAY, "--wasm", str(wasm(tmp_path, "sub", SUBSCRIBER)),
                  "--output", "json", "--no-save", timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["result"]["events"] > 20_000


def test_same_seed_same_bytes_and_the_seed_matters(market, tmp_path):
    quoter = wasm(tmp_path, "quoter", QUOTER)
    args = ["BTC-USD", "--start", DAY, "--end", DAY, "--wasm", str(quoter), "--latency-model", "log-normal"]
    a = run_json(market, *args)
    b = run_json(market, *args)
    from pathlib import Path

    for name in ("fills.parquet", "orders.parquet", "pnl.parquet", "summary.json"):
        assert (Path(a["saved_to"]) / name).read_bytes() == (Path(b["saved_to"]) / name).read_bytes(), name
    c = run_json(market, *args, "--seed", "7")
    assert c["result"]["seed"] == 7
    assert (c["result"]["fills"], c["result"]["pnl"]) != (a["result"]["fills"], a["result"]["pnl"])


def test_no_save_and_no_dedup(market, tmp_path, home):
    quoter = wasm(tmp_path, "quoter", QUOTER)
    base = ["BTC-USD", "--start", DAY, "--end", DAY, "--wasm", str(quoter)]
    r1 = run_json(market, *base, "--no-save", "--no-dedup")
    assert r1["saved_to"] is None and not (home / "backtests").exists()
    assert not (home / "cache" / "books").exists() or not any((home / "cache" / "books").iterdir())
    r2 = run_json(market, *base, "--no-save")          # builds the shared book cache
    assert any((home / "cache" / "books").iterdir())
    r3 = run_json(market, *base, "--no-save")          # reads it
    r4 = run_json(market, *base, "--no-save", "--no-dedup", "--scan-buffer-secs", "1")   # 1 s lookahead
    assert r1["result"] == r2["result"] == r3["result"] == r4["result"]


def test_models_and_flags_change_the_outcome(market, tmp_path):
    quoter = wasm(tmp_path, "quoter", QUOTER)
    base = ["BTC-USD", "--start", DAY, "--end", DAY, "--wasm", str(quoter), "--no-save"]
    none = run_json(market, *base, "--queue-model", "none", "--latency-model", "none")["result"]
    averse = run_json(market, *base, "--queue-model", "risk-averse", "--latency-model", "none")["result"]
    assert none["fills"] > averse["fills"]          # fill-on-touch is the optimistic extreme
    free = run_json(market, *base, "--fee-model", "zero")["result"]
    assert free["fees"] == 0
    rich = run_json(market, *base, "--capital", "250000")["result"]
    assert rich["capital"] == 250000.0


@pytest.mark.parametrize("args, message", [
    (["--start", DAY], "Missing option '--end'"),
    (["--start", "2023-11-15", "--end", DAY], "--start 2023-11-15 is after --end 2023-11-14"),
    (["--start", "2023-13-01", "--end", DAY], "--start '2023-13-01' is not a date (YYYY-MM-DD)"),
    (["--start", "2023-11-20", "--end", "2023-11-21"], "date=2023-11-20, date=2023-11-21 are missing; recorded dates: 2023-11-14"),
    (["--queue-model", "fifo", "--start", DAY, "--end", DAY], "unknown queue model 'fifo'; installed: aggressive, none, probabilistic, risk-averse"),
    (["--latency-model", "constant:entry=fast", "--start", DAY, "--end", DAY], "entry 'fast' is not a duration"),
    (["--queue-model", "probabilistic:k=2", "--start", DAY, "--end", DAY], "has no parameter 'k'"),
    (["--capital", "-5", "--start", DAY, "--end", DAY], "--capital -5 must be positive"),
    (["--scan-buffer-secs", "0", "--start", DAY, "--end", DAY], "--scan-buffer-secs 0 must be positive"),
    (["--bundle", "nope", "--start", DAY, "--end", DAY], "bundle prefix 'nope' is too short"),
    # a venue named that has no data would take no part, silently
    (["--venue", "sim,okx", "--start", DAY, "--end", DAY], "no book data for BTC-USD on okx between 2023-11-14 and 2023-11-14"),
])
def test_bad_input(market, tmp_path, args, message):
    quoter = wasm(tmp_path, "quoter", QUOTER)
    proc = market("backtest", "BTC-USD", "--wasm", str(quoter), *args, timeout=300)
    assert proc.returncode != 0
    assert message in proc.stderr, proc.stderr


@pytest.mark.parametrize("args, message", [
    # every numeric model parameter is a finite number in its range (session 18)
    (["--queue-model", "probabilistic:n=nan"], "--queue-model 'probabilistic:n=nan': n 'nan' must be a finite number"),
    (["--queue-model", "probabilistic:n=1e400"], "n '1e400' must be a finite number"),
    (["--queue-model", "probabilistic:n=0"], "n must be positive"),
    (["--latency-model", "log-normal:sigma=nan"], "--latency-model 'log-normal:sigma=nan': sigma 'nan' must be a finite number"),
    (["--latency-model", "log-normal:sigma=1e400"], "sigma '1e400' must be a finite number"),
    (["--latency-model", "log-normal:sigma=-1"], "sigma must not be negative"),
    (["--latency-model", "log-normal:median=inf"], "median 'inf' must be a finite number"),
    (["--latency-model", "constant:entry=nan"], "--latency-model 'constant:entry=nan': entry 'nan' must be a finite number"),
    (["--latency-model", "constant:entry=1e400s"], "entry '1e400s' must be a finite number"),
    (["--latency-model", "constant:cancel=-1ms"], "cancel '-1ms' is negative"),
    (["--latency-model", "constant:response=2000000s"], "response '2000000s' is more than one day"),
    (["--latency-model", "per-venue:fallback=nan"], "fallback 'nan' must be a finite number"),
    (["--fee-model", "venue:tier=nan"], "--fee-model 'venue:tier=nan': tier 'nan' must be a finite number"),
    (["--fee-model", "venue:fallback_taker=-inf"], "fallback_taker '-inf' must be a finite number"),
    # an empty parameter list, an empty item, a key given twice
    (["--queue-model", "probabilistic:"], "--queue-model 'probabilistic:' has an empty parameter list after ':'"),
    (["--queue-model", "probabilistic:fn=log,,n=2"], "has an empty parameter between commas"),
    (["--queue-model", "probabilistic:fn=log,fn=power"], "--queue-model 'probabilistic:fn=log,fn=power' gives parameter 'fn' twice"),
])
def test_bad_model_parameters_are_refused(market, tmp_path, args, message):
    proc = market("backtest", "BTC-USD", "--wasm", str(wasm(tmp_path, "quoter", QUOTER)), "--start", DAY, "--end", DAY,
                  "--no-save", *args, timeout=300)
    assert proc.returncode == 1 and proc.stderr.startswith("Error: ") and message in proc.stderr, proc.stderr
    assert "internal error" not in proc.stderr


@pytest.mark.parametrize("args, message", [
    # a window beyond what nanosecond timestamps hold: a clear error, not an OverflowError
    (["BTC-USD", "--start", "0001-01-01", "--end", "9999-12-31"],
     "--start 0001-01-01 is outside 1970-01-01 .. 2262-04-10"),
    (["BTC-USD", "--start", DAY, "--end", "9999-12-31"], "--end 9999-12-31 is outside 1970-01-01 .. 2262-04-10"),
    # a symbol or venue named twice would replay twice (double events, a second result row)
    (["--symbols", "BTC-USD,BTC-USD", "--start", DAY, "--end", DAY], "--symbols names symbol BTC-USD twice"),
    (["BTC-USD", "--venue", "sim,sim", "--start", DAY, "--end", DAY], "--venue names venue sim twice"),
    # only separators name nothing (not "the project's symbols" / "every venue")
    (["--symbols", ",", "--start", DAY, "--end", DAY], "an empty name in ','"),
    (["--symbols", " , ", "--start", DAY, "--end", DAY], "an empty name in ' , '"),
    (["BTC-USD", "--venue", ",", "--start", DAY, "--end", DAY], "an empty name in ','"),
    (["BTC-USD", "--venue", "sim,,", "--start", DAY, "--end", DAY], "an empty name in 'sim,,'"),
])
def test_bad_windows_and_repeated_names_are_refused(market, tmp_path, args, message):
    proc = market("backtest", *args, "--wasm", str(wasm(tmp_path, "quoter", QUOTER)), "--no-save", timeout=300)
    assert proc.returncode == 1 and proc.stderr.startswith("Error: ") and message in proc.stderr, proc.stderr
    assert "internal error" not in proc.stderr


def test_pnl_does_not_depend_on_capital(market, tmp_path):
    """P&L comes from the trades' cash flows, not capital + P&L - capital: a huge --capital
    loses no cents, and the summary is the per-venue table's figure (session 18)."""
    base = ["BTC-USD", "--start", DAY, "--end", DAY, "--wasm", str(wasm(tmp_path, "quoter", QUOTER)), "--no-save"]
    small = run_json(market, *base)["result"]
    assert small["fills"] > 0 and small["pnl"] != 0
    for capital in ("1e13", "1e17"):
        r = run_json(market, *base, "--capital", capital)["result"]
        assert r["pnl"] == small["pnl"] == r["venues"][0]["pnl"], (capital, r["pnl"], small["pnl"])
        assert r["return_pct"] == round(r["pnl"] / float(capital) * 100, 6)
    assert small["return_pct"] == round(small["pnl"] / 100_000 * 100, 6)


def test_symbol_with_no_data_names_what_exists(market, tmp_path):
    proc = market("backtest", "ETH-USD", "--start", DAY, "--end", DAY, "--wasm", str(wasm(tmp_path, "q", QUOTER)))
    assert proc.returncode == 1
    assert "Error: no recorded book data for symbol ETH-USD" in proc.stderr and "it has BTC-USD" in proc.stderr


def test_a_symbol_recorded_only_as_quotes_is_said_so_not_an_empty_store(market, tmp_path):
    import numpy as np
    from simtools import T0, TICK

    from sequence_core.home import ensure_home
    from sequence_core.store import Store

    Store(ensure_home() / "data").write("bbo", "sim", "ADA-USD", "q", {
        "ts_exchange": np.array([T0]), "ts_recv": np.array([T0 + 5]), "seq": np.array([1]), "bid_price": np.array([TICK]),
        "bid_size": np.array([1]), "ask_price": np.array([2 * TICK]), "ask_size": np.array([1])})
    proc = market("backtest", "ADA-USD", "--start", DAY, "--end", DAY, "--wasm", str(wasm(tmp_path, "q", QUOTER)))
    assert proc.returncode == 1 and "ADA-USD is recorded only as bbo" in proc.stderr and "empty" not in proc.stderr


def test_a_window_with_trades_but_no_book_is_refused_not_run_empty(market, tmp_path):
    """Trades alone give the sim nothing to post against or fill from: it ran, 0 orders, exit 0."""
    import numpy as np
    from simtools import LOT, T0, TICK

    from sequence_core.home import ensure_home
    from sequence_core.store import Store

    Store(ensure_home() / "data").write("trades", "sim", "SOL-USD", "t", {
        "ts_exchange": np.array([T0, T0 + 1]), "ts_recv": np.array([T0 + 5, T0 + 6]), "trade_id": ["a", "b"],
        "side": np.array([1, -1], np.int8), "price": np.array([100 * TICK, 101 * TICK]), "size": np.array([LOT, LOT])})
    proc = market("backtest", "SOL-USD", "--start", DAY, "--end", DAY, "--wasm", str(wasm(tmp_path, "q", QUOTER)))
    assert proc.returncode == 1 and "SOL-USD on sim between" in proc.stderr and "has trades but no order book" in proc.stderr


@pytest.mark.parametrize("wat, message", [
    (LOOPER, "strategy 'looper' in on_timer: stopped after its fuel budget of 50,000,000 instructions"),
    (TRAPPER, "strategy 'trapper' in on_start: trapped: wasm `unreachable` instruction executed"),
    (FAILER, "strategy 'failer' in on_start: the callback returned error status 7"),
    (GROWER, "strategy 'grower' in on_start: trapped: wasm `unreachable` instruction executed"),
    (NO_ABI, "lacks the export seq_abi_version"),
    (BAD_SIGNATURE, "export on_timer has signature (i) -> (i), ABI v1 needs (I) -> (i)"),
    (UNKNOWN_IMPORT, "imports unknown host function seq.teleport"),
])
def test_broken_strategies_fail_clearly(market, tmp_path, wat, message):
    name = {LOOPER: "looper", TRAPPER: "trapper", FAILER: "failer", GROWER: "grower"}.get(wat, "broken")
    proc = market("backtest", "BTC-USD", "--start", DAY, "--end", DAY, "--wasm", str(wasm(tmp_path, name, wat)),
                  timeout=300)
    assert proc.returncode == 1
    assert proc.stderr.startswith("Error: ") and message in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


def test_not_a_module(market, tmp_path):
    junk = tmp_path / "junk.wasm"
    junk.write_text("hello")
    proc = market("backtest", "BTC-USD", "--start", DAY, "--end", DAY, "--wasm", str(junk))
    assert proc.returncode == 1 and "is not a WebAssembly module" in proc.stderr


@pytest.fixture
def sdk_market(home, monkeypatch):
    """The small recorded market, for ``Sequence.backtest`` in this process."""
    from sequence_core.home import ensure_home
    from sequence_core.plugins import reset_plugins
    from sequence_core.store import Store

    monkeypatch.setenv("SEQUENCE_LOAD_PLUGINS", MODELS)
    reset_plugins()
    make_market(Store(ensure_home() / "data"))
    yield
    reset_plugins()


@pytest.mark.parametrize("start, options, message", [
    ("2023-13-01", {}, "--start '2023-13-01' is not a date (YYYY-MM-DD)"),
    ("2023-11-15", {}, "--start 2023-11-15 is after --end 2023-11-14"),
    (DAY, {"capital": -5}, "--capital -5 must be positive"),
    (DAY, {"capital": "lots"}, "backtest option: Expected `float`, got `str` - at `$.capital`"),
    (DAY, {"seed": "7.5"}, "backtest option: Expected `int`, got `str` - at `$.seed`"),
    (DAY, {"scan_buffer_secs": 0}, "--scan-buffer-secs 0 must be positive"),
    (DAY, {"bogus": 1}, "unknown backtest option 'bogus'"),
    (DAY, {"venues": ["sim", "sim"]}, "--venue names venue sim twice"),
    (DAY, {"latency_model": "log-normal:sigma=nan"}, "sigma 'nan' must be a finite number"),
    ("1600-01-01", {}, "--start 1600-01-01 is outside 1970-01-01 .. 2262-04-10"),
])
def test_sdk_backtest_checks_as_the_cli_does(sdk_market, tmp_path, start, options, message):
    from sequence_core.client import Sequence
    from sequence_core.errors import UsageError

    with pytest.raises(UsageError) as err:
        Sequence().backtest(wasm(tmp_path, "quoter", QUOTER), "BTC-USD", start, DAY, **options)
    assert message in str(err.value)


def test_sdk_backtest_takes_dates_numeric_strings_and_one_venue_as_a_str(sdk_market, tmp_path):
    import datetime as dt

    from sequence_core.client import Sequence

    day = dt.date.fromisoformat(DAY)
    r = Sequence().backtest(wasm(tmp_path, "quoter", QUOTER), "BTC-USD", day, day, venues="sim",
                            capital="250000", seed="7", dedup=False).result
    assert (r.start, r.end, r.capital, r.seed) == (DAY, DAY, 250000.0, 7)
    assert r.fills > 0 and [v.venue for v in r.venues] == ["sim"]


def test_runs_ending_together_keep_their_own_folders(tmp_path):
    """Two runs with the same result in the same second (other params, another module) were
    given one id, and the second's config.json replaced the first's."""
    from sequence_core.sim.engine import new_run_id

    ids = [new_run_id({"fills": 0}, tmp_path) for _ in range(3)]          # microseconds apart
    assert len(set(ids)) == 3 and all((tmp_path / i).is_dir() for i in ids)
    assert new_run_id({"fills": 0}).startswith("bt-")                      # --no-save: no folder
