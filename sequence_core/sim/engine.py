"""The backtest runner: plans the window, prepares models and the strategy, drives the
compiled loop over streamed event chunks, and turns its logs into outcomes and metrics."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Callable

import msgspec
import numpy as np

from ..errors import UsageError
from . import kernel as K
from .events import COLUMNS, BookCache, cache_key, describe, find_instruments, merged_chunks
from .models import Calibration, get_model

FILL_CAP = 1 << 16
ORDLOG_CAP = 1 << 16
PNL_CAP = 1 << 16
ORDER_CAP = 4096
PNL_INTERVAL_NS = 1_000_000_000
STEP_EVENTS = 2_000_000       # events per call into the loop (progress granularity)


class BacktestConfig(msgspec.Struct, kw_only=True):
    symbols: list[str]
    start: str
    end: str
    capital: float = 100_000.0
    venues: list[str] | None = None
    seed: int = 42
    queue_model: str = "probabilistic"
    latency_model: str = "per-venue"
    fee_model: str = "venue"
    scan_buffer_secs: int = 3600
    dedup: bool = True
    partial_fills: bool = True
    params: dict[str, int] = {}          # strategy parameters, fixed point 1e9
    fuel: int = 50_000_000
    memory_limit: int = 64 * 1024 * 1024


def backtest_config(**fields) -> BacktestConfig:
    """A :class:`BacktestConfig` from a user's values, checked: the one place for the CLI's
    ``backtest`` and the SDK's ``Sequence.backtest``. ``start``/``end`` are YYYY-MM-DD or a
    ``datetime.date`` within 1970-01-01 .. 2262-04-10; numbers may be given as numeric
    strings ("1000"); ``capital`` and ``scan_buffer_secs`` must be positive; symbols and
    venues are each named once; each model must exist and take its parameters (finite
    numbers). Errors are UsageErrors in the CLI's words."""
    unknown = sorted(set(fields) - set(BacktestConfig.__struct_fields__))
    if unknown:
        raise UsageError(f"unknown backtest option '{unknown[0]}'; the options are {', '.join(BacktestConfig.__struct_fields__)}")
    fields["start"], fields["end"] = _day(fields.get("start"), "--start"), _day(fields.get("end"), "--end")
    if fields["start"] > fields["end"]:
        raise UsageError(f"--start {fields['start']} is after --end {fields['end']} (the window would be empty)")
    try:
        cfg = msgspec.convert(fields, BacktestConfig, strict=False)
    except msgspec.ValidationError as exc:
        raise UsageError(f"backtest option: {exc}") from None
    if not (math.isfinite(cfg.capital) and cfg.capital > 0):
        raise UsageError(f"--capital {cfg.capital:g} must be positive")
    if cfg.scan_buffer_secs <= 0:
        raise UsageError(f"--scan-buffer-secs {cfg.scan_buffer_secs} must be positive")
    _names_checked(cfg.symbols, "--symbols", "symbol")
    if cfg.venues is not None:
        _names_checked(cfg.venues, "--venue", "venue")
    for kind in ("queue", "latency", "fee"):
        _model_checked(kind, getattr(cfg, f"{kind}_model"))
    return cfg


# the days a run's nanosecond timestamps (int64, since 1970-01-01 UTC) can hold, whole
FIRST_DAY, LAST_DAY = "1970-01-01", "2262-04-10"


def _names_checked(names: list[str], flag: str, what: str) -> None:
    """Refuse an empty list, an empty name and a name given twice (each would otherwise run
    nothing, or run one instrument twice: twice the events, a second result row)."""
    if not names:
        raise UsageError(f"no {what}: give one (sequence backtest BTC-USDT ...) or {flag} A,B" if what == "symbol"
                         else f"{flag} names no {what}; leave it out to use every venue with data")
    seen = set()
    for name in names:
        if not name.strip():
            raise UsageError(f"{flag} has an empty {what} name")
        if name in seen:
            raise UsageError(f"{flag} names {what} {name} twice; give each {what} once")
        seen.add(name)


def _model_checked(kind: str, text: str) -> None:
    """The model exists and takes its parameters (checked before a project is built or any
    data read): its ``prepare`` is tried on an empty calibration. Only a UsageError counts
    here; anything else a third-party model raises on no instruments waits for the run."""
    from .models import Calibration

    flag = f"--{kind}-model '{text}'"
    try:
        model, spec = get_model(kind, text)
    except UsageError as exc:
        message, said = str(exc), f"{kind} model '{text}' "
        raise UsageError(f"{flag} {message[len(said):]}" if message.startswith(said) else f"{flag}: {message}") from None
    try:
        if kind == "fee":
            model.prepare(spec, [], [])
        else:
            model.prepare(spec, Calibration([], [], []))
    except UsageError as exc:     # "latency model log-normal: sigma ..." → "sigma ..."
        raise UsageError(f"{flag}: {str(exc).removeprefix(f'{kind} model {spec.name}: ')}") from None
    except Exception:
        return


def _day(value, flag: str) -> str:
    import datetime as dt

    if isinstance(value, dt.date):
        value = value.isoformat()[:10]          # a datetime: its day
    try:
        day = dt.date.fromisoformat(value).isoformat()
    except (TypeError, ValueError):
        raise UsageError(f"{flag} '{value}' is not a date (YYYY-MM-DD)") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise UsageError(f"{flag} {day} is outside {FIRST_DAY} .. {LAST_DAY}, the days nanosecond timestamps "
                         "(int64 since 1970) can hold")
    return day


class VenueResult(msgspec.Struct):
    venue: str
    symbol: str
    fills: int
    volume: float
    fees: float
    maker_volume: float
    taker_volume: float
    position: float
    pnl: float


class BacktestResult(msgspec.Struct):
    strategy: str
    strategy_sha256: str
    symbols: list[str]
    start: str
    end: str
    seed: int
    queue_model: str
    latency_model: str
    fee_model: str
    capital: float
    events: int
    pnl: float
    return_pct: float
    sharpe: float | None
    max_drawdown_pct: float
    fills: int
    submits: int
    cancels: int
    amends: int
    rejects: int
    volume: float
    fees: float
    maker_share: float
    taker_share: float
    callbacks: int
    venues: list[VenueResult]
    notes: list[str] = []


class Outcome:
    """What a run produced: the result plus its orders, fills and P&L series (numpy)."""

    def __init__(self, result: BacktestResult, fills: np.ndarray, orders: np.ndarray, pnl: np.ndarray,
                 instruments: list, logs: list, elapsed: float, replay: float = 0.0,
                 config: BacktestConfig | None = None):
        self.replay = replay          # seconds inside the compiled loop
        self.config = config          # what was run (saved as config.json, so a run can be re-run)
        self.result = result
        self.fills = fills
        self.orders = orders
        self.pnl = pnl
        self.instruments = instruments
        self.logs = logs
        self.elapsed = elapsed


def _splitmix(seed: int) -> tuple[int, int]:
    out = []
    x = seed & 0xFFFFFFFFFFFFFFFF
    for _ in range(2):
        x = (x + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
        z = x
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
        z ^= z >> 31
        out.append(np.int64(np.uint64(z).view(np.int64)) if z else np.int64(1))
    return out[0], out[1]


class _State:
    """Every array the compiled loop works on (see kernel.py for the layouts)."""

    def __init__(self, instruments, cfg: BacktestConfig):
        m = len(instruments)
        self.S = np.zeros(K.S_SIZE, np.int64)
        self.F = np.zeros(K.F_SIZE, np.float64)
        self.I = np.zeros((m, K.I_SIZE), np.int64)
        off = 0
        for i, inst in enumerate(instruments):
            self.I[i, K.I_TICK] = inst.tick
            self.I[i, K.I_LOT] = inst.lot
            self.I[i, K.I_MIN_NOTIONAL] = inst.min_notional
            self.I[i, K.I_BASE] = inst.base
            self.I[i, K.I_NLEV] = inst.levels
            self.I[i, K.I_OFF] = off
            off += inst.levels
        self.B = np.full((m, K.B_SIZE), -1, np.int64)
        self.B[:, K.B_LBIDQ:] = -2
        self.IS = np.zeros((m, K.IS_SIZE), np.float64)
        self.IFEE = np.zeros((m, 2), np.float64)
        self.IPOS = np.zeros((m, 2), np.int64)
        self.O = np.zeros((ORDER_CAP, K.O_SIZE), np.int64)
        self.OQ = np.zeros((ORDER_CAP, 2), np.float64)
        self.A = np.zeros((256, K.A_SIZE), np.int64)
        self.R = np.zeros((1024, K.R_SIZE), np.int64)
        self.P = np.zeros((4096, K.P_SIZE), np.int64)
        self.RL = np.zeros(ORDER_CAP, np.int64)
        self.FL = np.zeros((FILL_CAP, K.FL_SIZE), np.int64)
        self.OL = np.zeros((ORDLOG_CAP, K.OL_SIZE), np.int64)
        self.PL = np.zeros((PNL_CAP, 3), np.float64)
        self.C = np.zeros(K.C_SIZE, np.int64)
        self.FN = np.zeros(K.N_CALLBACKS, np.int64)
        self.raw = np.zeros(16, np.int64)
        self.books = [np.zeros(max(off, 1), np.int64) for _ in range(4)]
        S = self.S
        S[K.S_NEXT_ID] = 1
        S[K.S_NEXT_REQ] = K.INF
        S[K.S_NEXT_RSP] = K.INF
        S[K.S_CAP] = ORDER_CAP
        S[K.S_FUEL] = cfg.fuel
        S[K.S_PNL_INTERVAL] = PNL_INTERVAL_NS
        S[K.S_PARTIAL] = 1 if cfg.partial_fills else 0
        S[K.S_FILLCAP] = FILL_CAP
        S[K.S_ORDLOGCAP] = ORDLOG_CAP
        S[K.S_PNLCAP] = PNL_CAP
        S[K.S_ACTCAP] = self.A.shape[0]
        S[K.S_REQCAP] = self.R.shape[0]
        S[K.S_NINST] = m
        S[K.S_RNG], S[K.S_RNG + 1] = _splitmix(cfg.seed)
        self.C[K.C_RAW] = self.raw.ctypes.data
        self.C[K.C_RNG] = self.S.ctypes.data + K.S_RNG * 8
        self.E = np.zeros(K.E_SIZE, np.int64)
        for idx, arr in ((K.E_S, self.S), (K.E_I, self.I), (K.E_B, self.B), (K.E_LBID, self.books[2]),
                         (K.E_LASK, self.books[3]), (K.E_O, self.O), (K.E_A, self.A), (K.E_IPOS, self.IPOS),
                         (K.E_OQ, self.OQ)):
            self.E[idx] = arr.ctypes.data
        self.replay_s = 0.0
        self.fills: list[np.ndarray] = []
        self.orders: list[np.ndarray] = []
        self.pnl: list[np.ndarray] = []

    def flush(self) -> None:
        S = self.S
        for name, arr, idx in (("fills", self.FL, K.S_NFILLS), ("orders", self.OL, K.S_NORDLOG), ("pnl", self.PL, K.S_NPNL)):
            n = int(S[idx])
            if n:
                getattr(self, name).append(arr[:n].copy())
                S[idx] = 0

    def levels(self, chunk: dict) -> np.ndarray:
        """Each event's book level (index into its instrument's levels), -1 outside the
        tracked range; computed once per chunk so the loop never divides."""
        price, inst = chunk["price"], chunk["inst"]
        m = self.I.shape[0]
        out = np.empty(len(price), np.int64)
        for i in range(m):
            sel = slice(None) if m == 1 else (inst == i)
            idx = price[sel] // self.I[i, K.I_TICK] - self.I[i, K.I_BASE]
            idx[(idx < 0) | (idx >= self.I[i, K.I_NLEV])] = -1
            out[sel] = idx
        self.S[K.S_OUT_OF_RANGE] += int((out < 0).sum())
        return out

    def run(self, ev: dict, n: int, final: int, limit: int) -> int:
        b = self.books
        started = time.perf_counter()
        try:
            return self._run(ev, n, final, limit, b)
        finally:
            self.replay_s += time.perf_counter() - started

    def _run(self, ev, n, final, limit, b) -> int:
        return K.run(self.S, self.F, self.I, self.B, self.IS, self.IFEE, self.IPOS, self.O, self.OQ, self.A, self.R,
                     self.P, self.RL, self.FL, self.OL, self.PL, self.C, self.FN, b[0], b[1], b[2], b[3],
                     ev["ts_exch"], ev["ts_recv"], ev["inst"], ev["kind"], ev["side"], ev["pidx"], ev["size"],
                     ev["flags"], n, final, limit)


def plan(store, cfg: BacktestConfig):
    """The instruments of a run (with tick, lot, tracked range), or a UsageError."""
    if cfg.start > cfg.end:
        raise UsageError(f"--start {cfg.start} is after --end {cfg.end}")
    refs = find_instruments(store, cfg.symbols, cfg.venues, cfg.start, cfg.end)
    return [_venue_minimum(describe(store, v, s, cfg.start, cfg.end)) for v, s in refs]


def _venue_minimum(inst):
    """*inst* with its venue's minimum order notional where the venue's plugin lists the book:
    an order under it filled in a backtest and was refused deployed."""
    from ..plugins import venues

    venue = venues().get(inst.venue)
    listed = [i for i in venue.instruments() if i.symbol == inst.symbol] if venue is not None else []
    minimum = max((i.min_notional for i in listed), default=0)
    return msgspec.structs.replace(inst, min_notional=int(minimum * 1_000_000_000)) if minimum else inst


def total_events(instruments) -> int:
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(f).metadata.num_rows for inst in instruments for f in inst.files)


def run_backtest(store, cfg: BacktestConfig, strategy=None, cache_root: Path | None = None,
                 progress: Callable[[int], None] | None = None, log=None) -> Outcome:
    """Run *strategy* (a :class:`~sequence_core.sim.host.StrategyModule`, a Python
    :class:`~sequence_core.sim.pystrategy.Strategy`, or None for a bare replay) over the
    window; ``progress(events_done)`` is called as the replay advances."""
    started = time.perf_counter()
    instruments = plan(store, cfg)
    queue, qspec = get_model("queue", cfg.queue_model)
    latency, lspec = get_model("latency", cfg.latency_model)
    fees, fspec = get_model("fee", cfg.fee_model)
    calibration = Calibration([i.venue for i in instruments], [i.symbol for i in instruments],
                              [np.asarray(i.gaps_ns, np.int64) for i in instruments])
    q_depth, q_trade, q_params = queue.prepare(qspec, calibration)
    lat_fn, lat_params = latency.prepare(lspec, calibration)
    rates, notes = fees.prepare(fspec, calibration.venues, calibration.symbols)

    st = _State(instruments, cfg)
    q_params = np.ascontiguousarray(q_params, np.float64)
    lat_params = np.ascontiguousarray(lat_params, np.float64)
    st.C[K.C_Q_DEPTH], st.C[K.C_Q_TRADE], st.C[K.C_Q_PARAMS] = q_depth, q_trade, q_params.ctypes.data
    st.C[K.C_LAT], st.C[K.C_LAT_PARAMS] = lat_fn, lat_params.ctypes.data
    st.S[K.S_FEED_RECORDED] = 1 if latency.feed_recorded else 0
    for i, (maker, taker) in enumerate(rates):
        st.IFEE[i] = (maker, taker)
    from .events import _window_ns

    st.S[K.S_END_TS] = _window_ns(cfg.start, cfg.end)[1]

    instance = None
    if strategy is not None:
        from .host import StrategyInstance
        from .pystrategy import PythonHost, Strategy

        if isinstance(strategy, Strategy):
            instance = PythonHost(strategy, int(st.E.ctypes.data))
        else:
            instance = StrategyInstance(strategy, int(st.E.ctypes.data), cfg.params, cfg.fuel, cfg.memory_limit, log=log)
        st.C[K.C_CALL] = instance.call_address
        st.C[K.C_SET_FUEL] = instance.set_fuel_address
        st.C[K.C_CTX] = instance.context_address
        st.FN[:] = instance.function_addresses()
    keep_alive = (q_params, lat_params, instance)

    chunks = _chunks(store, instruments, cfg, cache_root)
    events = 0
    ev = None
    n = 0
    try:
        for chunk in chunks:
            chunk = {c: np.asarray(chunk[c]) for c in COLUMNS}
            chunk["pidx"] = st.levels(chunk)
            if ev is None:
                ev, n = chunk, len(chunk["ts_recv"])
            else:
                lo = int(st.S[K.S_L])
                ev = {c: np.concatenate([ev[c][lo:n], chunk[c]]) for c in chunk}
                st.S[K.S_E] -= lo
                st.S[K.S_L] = 0
                n = len(ev["ts_recv"])
            done_before = int(st.S[K.S_E])
            code = _drive(st, ev, n, 0, instance, progress, events - done_before)
            events += int(st.S[K.S_E]) - done_before
            if code != K.RUN_NEED_DATA:
                break
        if ev is None:
            raise UsageError(f"no market events for {', '.join(cfg.symbols)} between {cfg.start} and {cfg.end}")
        done_before = int(st.S[K.S_E])
        _drive(st, ev, n, 1, instance, progress, events - done_before)
        events += int(st.S[K.S_E]) - done_before
    finally:
        if hasattr(chunks, "close"):
            chunks.close()
    st.flush()
    del keep_alive
    logs = instance.logs if instance else []
    if instance:
        instance.close()
    result = _result(st, instruments, cfg, strategy, events, notes + _notes(st, instruments))
    return Outcome(result, _stack(st.fills, K.FL_SIZE, np.int64), _stack(st.orders, K.OL_SIZE, np.int64),
                   _stack(st.pnl, 3, np.float64), instruments, logs, time.perf_counter() - started, st.replay_s,
                   config=cfg)


def _chunks(store, instruments, cfg: BacktestConfig, cache_root: Path | None):
    if cfg.dedup and cache_root is not None:
        cache = BookCache(cache_root)
        key = cache_key(instruments, cfg.start, cfg.end)
        cached = cache.get(key)
        if cached is not None:
            for load in cached:
                yield load()
            return
        writer = cache.writer(key)
        try:
            for chunk in merged_chunks(instruments, cfg.start, cfg.end, cfg.scan_buffer_secs):
                writer.add(chunk)
                yield chunk
        except BaseException:
            writer.abort()
            raise
        writer.commit()
        return
    yield from merged_chunks(instruments, cfg.start, cfg.end, cfg.scan_buffer_secs)


def _drive(st: _State, ev: dict, n: int, final: int, instance, progress, offset: int) -> int:
    from .host import StrategyError

    while True:
        code = st.run(ev, n, final, STEP_EVENTS)
        if progress is not None:
            progress(offset + int(st.S[K.S_E]))
        if code == K.RUN_FLUSH:
            st.flush()
            continue
        if code == K.RUN_LIMIT:
            continue
        if code == K.RUN_ERROR:
            message = instance.describe(int(st.S[K.S_ERR]), int(st.S[K.S_ERR_PTR]), int(st.S[K.S_ERR_CB])) \
                if instance else "the replay failed"
            raise StrategyError(message)
        return code


def _stack(parts, width, dtype):
    return np.concatenate(parts) if parts else np.zeros((0, width), dtype)


def _notes(st: _State, instruments) -> list[str]:
    out = []
    for inst in instruments:
        if inst.book_from_ns:
            at = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(inst.book_from_ns / 1e9))
            out.append(f"{inst.venue} {inst.symbol}: book updates before the window's first snapshot ({at} UTC) were "
                       "skipped (the book they change starts before the window); trades before it still replay")
    if st.S[K.S_OUT_OF_RANGE]:
        out.append(f"{int(st.S[K.S_OUT_OF_RANGE]):,} book updates far outside the traded price range were not tracked")
    return out


def _result(st: _State, instruments, cfg: BacktestConfig, strategy, events: int, notes) -> BacktestResult:
    S, F = st.S, st.F
    # P&L from the trades' cash flows (each instrument's cash, fees included, plus its
    # position at the final mid): never capital + P&L - capital, which loses the cents of a
    # large --capital to float rounding. The summary is the sum of the per-venue rows.
    per, venue_pnl = [], []
    for i, inst in enumerate(instruments):
        pos = int(st.IPOS[i, 0])
        mid = _mid(st, i)
        cash = float(st.IS[i, K.IS_CASH])
        venue_pnl.append(cash + (pos / 1e9 * mid if mid else 0.0))
        per.append(VenueResult(inst.venue, inst.symbol, int(st.IS[i, K.IS_FILLS]), round(float(st.IS[i, K.IS_VOLUME]), 6),
                               round(float(st.IS[i, K.IS_FEES]), 6), round(float(st.IS[i, K.IS_MAKER]), 6),
                               round(float(st.IS[i, K.IS_TAKER]), 6), pos / 1e9, round(venue_pnl[-1], 6)))
    final_pnl = math.fsum(venue_pnl)
    series = _stack(st.pnl, 3, np.float64)
    pnl = series[:, 1] if len(series) else np.zeros(1)
    # drawdown and returns relative to equity (capital + P&L), computed on the P&L itself
    peak = np.maximum.accumulate(pnl)
    drawdown = float(((peak - pnl) / (cfg.capital + peak)).max())
    sharpe = None
    minute = pnl[::60]
    if len(minute) >= 31:          # at least 30 one-minute returns, or the figure is noise
        rets = np.diff(minute) / (cfg.capital + minute[:-1])
        sd = float(rets.std(ddof=1))
        if sd > 0:
            sharpe = round(float(rets.mean()) / sd * math.sqrt(525_600), 4)
    volume = float(F[K.F_VOLUME])
    return BacktestResult(
        strategy=getattr(strategy, "name", type(strategy).__name__) if strategy else "(none)",
        strategy_sha256=strategy.sha256() if hasattr(strategy, "sha256") else "",
        symbols=list(cfg.symbols), start=cfg.start, end=cfg.end, seed=cfg.seed,
        queue_model=cfg.queue_model, latency_model=cfg.latency_model, fee_model=cfg.fee_model,
        capital=cfg.capital, events=events,
        pnl=round(final_pnl, 6), return_pct=round(final_pnl / cfg.capital * 100, 6) if cfg.capital else 0.0,
        sharpe=sharpe, max_drawdown_pct=round(drawdown * 100, 6),
        fills=int(S[K.S_FILLS]), submits=int(S[K.S_SUBMITS]), cancels=int(S[K.S_CANCELS]), amends=int(S[K.S_AMENDS]),
        rejects=int(S[K.S_REJECTS]), volume=round(volume, 6), fees=round(float(F[K.F_FEES]), 6),
        maker_share=round(float(F[K.F_MAKER_VOLUME]) / volume, 6) if volume else 0.0,
        taker_share=round(float(F[K.F_TAKER_VOLUME]) / volume, 6) if volume else 0.0,
        callbacks=int(S[K.S_CALLS]), venues=per, notes=list(notes))


def _mid(st: _State, i: int) -> float:
    b, a = st.B[i, K.B_XBID], st.B[i, K.B_XASK]
    if b < 0 or a < 0:
        return 0.0
    return float((st.I[i, K.I_BASE] * 2 + a + b) * st.I[i, K.I_TICK] / 2e9)


# -- outcomes on disk -------------------------------------------------------------------------

def new_run_id(result: BacktestResult, root: Path | None = None, prefix: str = "bt") -> str:
    """``<prefix>-<UTC time>-<digest of the result>``: sorts by time. With *root*, the run's
    folder is made there and is a new one (``-2``, ``-3`` ... after the id when taken): two
    runs ending in the same second with the same result (other params, another module) shared
    a folder, and the last one's config.json replaced the first's."""
    import datetime as dt
    import hashlib
    import itertools

    digest = hashlib.sha256(msgspec.json.encode(result)).hexdigest()[:6]
    stamp = f"{prefix}-{dt.datetime.now(dt.timezone.utc):%Y%m%d-%H%M%S}-{digest}"
    if root is None:
        return stamp
    root.mkdir(parents=True, exist_ok=True)
    for n in itertools.count(1):
        run_id = stamp if n == 1 else f"{stamp}-{n}"
        try:
            (root / run_id).mkdir()
            return run_id
        except FileExistsError:
            continue


def save_outcome(outcome: Outcome, directory: Path) -> Path:
    """orders.parquet, fills.parquet, pnl.parquet, summary.json, config.json and strategy.log;
    the same run (seed, data, strategy) writes byte-identical files."""
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    from ..home import atomic_write

    names = [f"{i.venue}:{i.symbol}" for i in outcome.instruments]
    f = outcome.fills
    fills = pa.table({
        "ts": pa.array(f[:, K.FL_TS]), "order_id": pa.array(f[:, K.FL_ID]),
        "instrument": pa.array([names[i] for i in f[:, K.FL_INST]], pa.string()),
        "side": pa.array(f[:, K.FL_SIDE].astype(np.int8)),
        "price": pa.array(f[:, K.FL_PRICE] / 1e9), "size": pa.array(f[:, K.FL_QTY] / 1e9),
        "maker": pa.array(f[:, K.FL_MAKER].astype(bool)),
    })
    o = outcome.orders
    status = {K.ST_FILLED: "filled", K.ST_CANCELED: "canceled", K.ST_REJECTED: "rejected"}
    orders = pa.table({
        "order_id": pa.array(o[:, K.OL_ID]),
        "instrument": pa.array([names[i] for i in o[:, K.OL_INST]], pa.string()),
        "side": pa.array(o[:, K.OL_SIDE].astype(np.int8)),
        "price": pa.array(o[:, K.OL_PRICE] / 1e9), "size": pa.array(o[:, K.OL_QTY] / 1e9),
        "filled": pa.array(o[:, K.OL_FILLED] / 1e9),
        "status": pa.array([status.get(int(s), str(s)) for s in o[:, K.OL_STATUS]], pa.string()),
        "ts_sent": pa.array(o[:, K.OL_TS_SENT]), "ts_done": pa.array(o[:, K.OL_TS_DONE]),
    })
    p = outcome.pnl
    pnl = pa.table({"ts": pa.array(p[:, 0].astype(np.int64)), "pnl": pa.array(p[:, 1]), "gross_exposure": pa.array(p[:, 2])})
    directory = Path(directory)
    for name, table in (("fills", fills), ("orders", orders), ("pnl", pnl)):
        buf = io.BytesIO()
        pq.write_table(table, buf, compression="zstd")
        atomic_write(directory / f"{name}.parquet", buf.getvalue(), mode=0o644)
    atomic_write(directory / "summary.json", msgspec.json.format(msgspec.json.encode(outcome.result)) + b"\n", mode=0o644)
    if outcome.config is not None:
        atomic_write(directory / "config.json", msgspec.json.format(msgspec.json.encode(outcome.config)) + b"\n",
                     mode=0o644)
    atomic_write(directory / "strategy.log", "".join(f"{lvl}: {text}\n" for lvl, text in outcome.logs).encode(), mode=0o644)
    return directory
