"""`research monitor`: is a bundle still performing as it did in its evaluation?
`research recalibrate`: drift check → re-profile → optional promotion (docs/research.md).

Edge bundles. The baseline is the bundle's evaluation run (``--baseline-eval``, else the eval
run of its latest promotion, else its newest saved backtest). The current performance is the
bundle's module replayed, with the evaluation's configuration (symbols, venues, models, seed,
capital), over the trailing ``--days`` of the store (``--store-root`` to point at another
Parquet root), saved as a backtest run of its own. Compared:
- ``pnl_per_fill``: what each fill realizes (FIFO) net of its fee — PSI, KS and a bootstrap
  of the difference in means; this decides the verdict;
- market context from the store for both windows — 10 s log returns of the last trade price
  (bps) and trade notional — PSI and KS; at most "watch": a changed market alone is not a
  failed bundle.

SOR bundles carry square-root impact models fitted by ``research profile``; their monitor
re-profiles each book over the trailing ``--days`` and compares the refitted coefficient with
the bundled one (a z-test on the fit's standard errors) and the spread and trade-size
distributions (PSI, KS). Assignment bundles carry notional thresholds; their monitor compares
the distribution of order notionals in the journal over the window with the one the
thresholds were set on, and the share of orders each threshold routes.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import msgspec
import numpy as np

from ..errors import UsageError
from .drift import Comparison, Tolerance, compare

TARGET_KINDS = ("edge", "sor", "assignment")


class DriftReport(msgspec.Struct):
    bundle: str
    target_kind: str
    artifact: str
    days: int
    baseline: dict                 # what the comparison is against
    current: dict                  # what was measured now
    comparisons: list[Comparison]
    verdict: str                   # within-tolerance | drift | insufficient
    reasons: list[str]


# -- edge -------------------------------------------------------------------------------------

def _runs(home: Path) -> Path:
    return home / "backtests"


def _summary(run_dir: Path) -> dict:
    return msgspec.json.decode((run_dir / "summary.json").read_bytes())


def eval_run_of(home: Path, bundle, baseline_eval: str | None) -> str:
    """The evaluation run to compare against (see the module docstring)."""
    from .. import bundles

    if baseline_eval:
        d = _runs(home) / baseline_eval
        if "/" in baseline_eval or not (d / "summary.json").exists():
            raise UsageError(f"--baseline-eval '{baseline_eval}' is not a saved backtest run (runs are folders of "
                             f"{_runs(home)})")
        why = bundles.evaluation_mismatch(bundle, d)
        if why:
            raise UsageError(f"--baseline-eval '{baseline_eval}' did not evaluate bundle {bundle.id[:12]} ({why})")
        return baseline_eval
    promoted = bundles.last_promotion(home, bundle.id)
    if promoted is not None:
        return promoted.eval_run
    for d in sorted(_runs(home).glob("bt-*"), reverse=True):
        try:                          # module and params: the same wasm under other params is not this bundle
            if bundles.evaluation_mismatch(bundle, d) is None:
                return d.name
        except (OSError, msgspec.DecodeError):
            continue
    raise UsageError(f"bundle {bundle.id[:12]} has no evaluation run: `sequence backtest <symbol> --start D --end D "
                     f"--bundle {bundle.id[:12]}` makes one (or pass --baseline-eval RUN)")


def run_config(run_dir: Path):
    """The configuration a saved run used (config.json; older runs: rebuilt from summary.json)."""
    from ..sim.engine import BacktestConfig

    if (run_dir / "config.json").exists():
        return msgspec.json.decode((run_dir / "config.json").read_bytes(), type=BacktestConfig)
    s = _summary(run_dir)
    return BacktestConfig(symbols=s["symbols"], start=s["start"], end=s["end"], capital=s["capital"],
                          venues=sorted({v["venue"] for v in s["venues"]}) or None, seed=s["seed"],
                          queue_model=s["queue_model"], latency_model=s["latency_model"], fee_model=s["fee_model"])


def pnl_per_fill(run_dir: Path) -> np.ndarray:
    """Per fill, in time order: the P&L it realizes (FIFO against the open position of its
    instrument; 0 for a fill that opens or adds) minus its fee (each venue's total fee spread
    over its fills by notional). The sum is the run's realized P&L net of fees."""
    import pyarrow.parquet as pq

    f = pq.read_table(run_dir / "fills.parquet").sort_by([("ts", "ascending"), ("order_id", "ascending")])
    summary = _summary(run_dir)
    rate = {f"{v['venue']}:{v['symbol']}": (v["fees"] / v["volume"] if v["volume"] else 0.0) for v in summary["venues"]}
    inst = f.column("instrument").to_pylist()
    side = f.column("side").to_numpy()
    price = f.column("price").to_numpy()
    size = f.column("size").to_numpy()
    out = np.empty(len(inst))
    lots: dict[str, list[list[float]]] = {}        # instrument -> FIFO of [signed qty, price]
    for i in range(len(inst)):
        q, realized = float(size[i]) * int(side[i]), 0.0
        book = lots.setdefault(inst[i], [])
        while q and book and (book[0][0] > 0) != (q > 0):
            lot = book[0]
            take = min(abs(q), abs(lot[0]))
            realized += take * (price[i] - lot[1]) * (1 if lot[0] > 0 else -1)
            lot[0] += take if lot[0] < 0 else -take
            q += take if q < 0 else -take
            if abs(lot[0]) < 1e-12:
                book.pop(0)
        if abs(q) > 1e-12:
            book.append([q, float(price[i])])
        out[i] = realized - rate.get(inst[i], 0.0) * float(price[i]) * float(size[i])
    return out


def _latest_date(store, symbols: list[str], venues: list[str] | None) -> str:
    dates = [part[2] for table in ("book_deltas", "trades") for s in symbols
             for v in (venues or [None]) for part in store.partitions(table, v, s)]
    if not dates:
        raise UsageError(f"no recorded data for {', '.join(symbols)} in the store at {store.root}")
    return max(dates)


def _books(store, symbols: list[str], venues: list[str] | None) -> list[tuple[str, str]]:
    return [(sym, v) for sym in symbols
            for v in venues or sorted({part[0] for part in store.partitions("trades", symbol=sym)})]


def _market(store, books: list[tuple[str, str]], start: str, end: str, t0: int | None = None,
            t1: int | None = None) -> dict[str, np.ndarray]:
    """Market samples of the books over dates start..end (and, when given, ns t0..t1):
    10 s log returns of the last trade price (bps), trade notionals, quoted spreads (bps)."""
    from ..market import quote_notional
    from .grid import lagged_diff
    from .scan import _series

    rets, notional, spreads = [], [], []
    for sym, v in books:
        if store.files("trades", v, sym, start, end):
            tr = store.arrays("trades", venue=v, symbol=sym, start=start, end=end, columns=["ts_recv", "price", "size"])
            k = (tr["ts_recv"] >= (t0 or 0)) & (tr["ts_recv"] <= (t1 or 2**62))
            ts, px, sz = tr["ts_recv"][k], tr["price"][k] / 1e9, tr["size"][k] / 1e9
            rets.append(lagged_diff(_series(ts, px, 10), 1) * 1e4)      # gaps in the data drop out
            notional.append(quote_notional(v, sym, px, sz))
        if store.files("bbo", v, sym, start, end):
            bb = store.arrays("bbo", venue=v, symbol=sym, start=start, end=end,
                              columns=["ts_recv", "bid_price", "ask_price"])
            k = (bb["ts_recv"] >= (t0 or 0)) & (bb["ts_recv"] <= (t1 or 2**62)) & (bb["bid_price"] > 0) & \
                (bb["ask_price"] > bb["bid_price"])
            bid, ask = bb["bid_price"][k] / 1e9, bb["ask_price"][k] / 1e9
            spreads.append((ask - bid) / ((ask + bid) / 2) * 1e4)
    cat = lambda xs: np.concatenate(xs) if xs else np.zeros(0)  # noqa: E731
    return {"return_10s_bps": cat(rets), "trade_notional": cat(notional), "spread_bps": cat(spreads)}


def _context(store, books, base_window, cur_window, tol: Tolerance, base_ns=(None, None)) -> list[Comparison]:
    """Market comparisons as context: a shifted market is at most "watch"."""
    base = _market(store, books, *base_window, *base_ns)
    cur = _market(store, books, *cur_window)
    out = []
    for name in base:
        if not len(base[name]) and not len(cur[name]):
            continue                       # e.g. no quotes recorded for these books
        c = compare(name, base[name], cur[name], tol)
        if c.verdict == "drift":
            c.verdict = "watch"
        if c.verdict == "insufficient" and not len(base[name]):
            c.reasons = [f"the baseline window {base_window[0]}..{base_window[1]} is not in the store at {store.root}"]
        out.append(c)
    return out


def _window(store, books: list[tuple[str, str]], days: int) -> tuple[str, str]:
    end = _latest_date(store, sorted({b[0] for b in books}), sorted({b[1] for b in books}))
    return (dt.date.fromisoformat(end) - dt.timedelta(days=days - 1)).isoformat(), end


def _monitor_edge(home: Path, bundle, days: int, store, baseline_eval: str | None, tol: Tolerance) -> DriftReport:
    from ..sim.engine import new_run_id, run_backtest, save_outcome
    from ..sim.host import StrategyModule

    eval_id = eval_run_of(home, bundle, baseline_eval)
    base_dir = _runs(home) / eval_id
    cfg = run_config(base_dir)
    books = _books(store, cfg.symbols, cfg.venues)
    if not books:
        raise UsageError(f"no recorded trades for {', '.join(cfg.symbols)} in the store at {store.root}")
    start, end = _window(store, books, days)
    module = StrategyModule(Path(f"{bundle.manifest.artifact}.wasm"), bundle.manifest.artifact, data=bundle.payload)
    # the bundle's own params, not the eval run's: what is monitored is what the bundle runs
    shadow = msgspec.structs.replace(cfg, start=start, end=end, params=dict(bundle.manifest.params))
    outcome = run_backtest(store, shadow, module, cache_root=home / "cache" / "books")
    run_id = new_run_id(outcome.result, _runs(home), "mon")     # not "bt-": never mistaken for an evaluation
    save_outcome(outcome, _runs(home) / run_id)
    base_pnl = pnl_per_fill(base_dir)
    cur_pnl = pnl_per_fill(_runs(home) / run_id)
    perf = compare("pnl_per_fill", base_pnl, cur_pnl, tol, bootstrap=True, seed=cfg.seed)
    comparisons = [perf]
    comparisons += _context(store, books, (cfg.start, cfg.end), (start, end), tol)
    verdict = {"drift": "drift", "insufficient": "insufficient"}.get(perf.verdict, "within-tolerance")
    reasons = [f"pnl_per_fill: {r}" for r in perf.reasons] or (
        [f"P&L per fill {perf.mean_current:.6g} now vs {perf.mean_baseline:.6g} in evaluation: no significant change"]
        if perf.verdict in ("ok", "watch") else [])
    return DriftReport(bundle.id, "edge", bundle.manifest.artifact, days,
                       {"eval_run": eval_id, "window": [cfg.start, cfg.end], "fills": len(base_pnl)},
                       {"source": "replay of the bundle over the latest recorded data", "run": run_id,
                        "window": [start, end], "store": str(store.root), "fills": len(cur_pnl)},
                       comparisons, verdict, reasons)


# -- entry points ------------------------------------------------------------------------------

def monitor(home: Path, ref: str, target_kind: str = "edge", days: int = 7, store_root: Path | None = None,
            baseline_eval: str | None = None, tol: Tolerance = Tolerance()) -> DriftReport:
    from .. import bundles
    from ..store import Store

    if target_kind not in TARGET_KINDS:
        raise UsageError(f"--target-kind '{target_kind}' is not one of {', '.join(TARGET_KINDS)}")
    if days <= 0:
        raise UsageError(f"--days {days} must be positive")
    if store_root is not None and not Path(store_root).is_dir():
        raise UsageError(f"--store-root {store_root} is not a folder")
    bundle = bundles.load(home, ref)
    if bundle.manifest.kind != target_kind:
        raise UsageError(f"bundle {bundle.id[:12]} is {bundles.a_kind(bundle.manifest.kind)} bundle, not {target_kind} "
                         f"(pass --target-kind {bundle.manifest.kind})")
    store = Store(Path(store_root) if store_root else None)
    if target_kind == "edge":
        return _monitor_edge(home, bundle, days, store, baseline_eval, tol)
    if target_kind == "sor":
        return _monitor_sor(home, bundle, days, store, baseline_eval, tol)
    if baseline_eval:
        raise UsageError("--baseline-eval applies to edge bundles (a backtest run) and sor bundles (a profile "
                         "artifact); an assignment bundle's baseline is the order flow it was compiled on")
    return _monitor_assignment(home, bundle, days, tol)


def save_report(home: Path, report: DriftReport):
    from . import artifacts

    return artifacts.save(home, "drift", f"{report.target_kind}:{report.bundle[:16]}",
                          {"bundle": report.bundle, "days": report.days, "baseline": report.baseline},
                          report)


def _z(a: float, sa: float, b: float, sb: float) -> float | None:
    se = math.hypot(sa, sb)
    return (b - a) / se if se > 0 else None


# -- sor ---------------------------------------------------------------------------------------

Z_DRIFT = 3.0                      # |z| of the refitted impact coefficient beyond this is drift


def _monitor_sor(home: Path, bundle, days: int, store, baseline_eval: str | None, tol: Tolerance) -> DriftReport:
    from .. import bundles
    from . import artifacts
    from .profile import profile

    model = bundles.payload_of(bundle)
    baseline = {(m.symbol, m.venue): m for m in model.impact}
    pinned = None
    if baseline_eval:
        art = artifacts.get(home, baseline_eval)
        key = (art.body.get("symbol"), art.body.get("venue"))
        if art.type != "profile" or key not in baseline or art.body["impact"].get("y") is None:
            raise UsageError(f"--baseline-eval '{baseline_eval}' must be a profile artifact with an impact fit of a "
                             f"book in bundle {bundle.id[:12]}: {', '.join(f'{s}@{v}' for s, v in baseline)}")
        baseline[key] = bundles.ImpactModel.from_profile(art)
        pinned = baseline_eval
    comparisons, reasons, worst, refits = [], [], "within-tolerance", {}
    for (sym, venue), m in sorted(baseline.items()):
        start, end = _window(store, [(sym, venue)], days)
        now = profile(store, sym, venue, start_date=start, end_date=end)
        refits[f"{sym}@{venue}"] = msgspec.to_builtins(now.impact)
        c = Comparison(f"impact_y {sym}@{venue}", m.buckets, now.impact.buckets, m.y, now.impact.y, None, None, None)
        z = _z(m.y, m.y_stderr, now.impact.y, now.impact.y_stderr) if now.impact.y is not None else None
        if z is None:
            c.verdict, c.reasons = "insufficient", ["no impact fit over the window (under 20 one-second buckets)"]
            worst = worst if worst == "drift" else "insufficient"
        elif abs(z) > Z_DRIFT:
            c.verdict = "drift"
            c.reasons = [f"Y {m.y:.4g} bundled vs {now.impact.y:.4g} refitted (z = {z:+.2f}, beyond ±{Z_DRIFT:g})"]
            worst = "drift"
        else:
            c.reasons = [f"Y {m.y:.4g} bundled vs {now.impact.y:.4g} refitted (z = {z:+.2f})"]
        reasons += [f"{c.metric}: {r}" for r in c.reasons if c.verdict != "ok"]
        comparisons.append(c)
        d0 = dt.datetime.fromtimestamp(m.start_ns / 1e9, dt.timezone.utc).date().isoformat()
        d1 = dt.datetime.fromtimestamp(m.end_ns / 1e9, dt.timezone.utc).date().isoformat()
        for ctx in _context(store, [(sym, venue)], (d0, d1), (start, end), tol, (m.start_ns, m.end_ns)):
            ctx.metric = f"{ctx.metric} {sym}@{venue}"
            if ctx.metric.startswith("spread_bps") and ctx.verdict == "watch" and (ctx.psi or 0) >= tol.psi_drift:
                ctx.verdict = "drift"           # the SOR prices every level off the spread: this one counts
                worst = "drift"
                reasons.append(f"{ctx.metric}: " + "; ".join(ctx.reasons))
            comparisons.append(ctx)
    if worst == "within-tolerance":
        reasons = ["every book's refitted impact coefficient and spread are within tolerance of the bundle's"]
    return DriftReport(bundle.id, "sor", bundle.manifest.artifact, days,
                       {"impact_models": [m.source for m in baseline.values()], "pinned": pinned},
                       {"source": "research profile of each book over the latest recorded data", "refits": refits,
                        "store": str(store.root)},
                       comparisons, worst, reasons)


# -- assignment --------------------------------------------------------------------------------

def order_notionals(since_ns: int = 0, limit: int = 10_000) -> np.ndarray:
    """USD notional of journaled parent orders (sandbox and live) created since *since_ns*:
    the filled notional, else quantity × limit price; the newest *limit* orders."""
    import sqlite3

    from ..ledger import ledger_path
    from ..orders import OrderGraph

    out = []
    for sandbox in (True, False):
        path = ledger_path(sandbox)
        if not path.exists():
            continue
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
        try:
            rows = db.execute("SELECT data FROM graphs WHERE created_ns >= ? ORDER BY created_ns DESC LIMIT ?",
                              (since_ns, limit)).fetchall()
        except sqlite3.DatabaseError:
            rows = []
        finally:
            db.close()
        for (data,) in rows:
            g = msgspec.json.decode(data, type=OrderGraph)
            value = g.notional if g.notional else (g.request.qty * g.request.limit_price
                                                   if g.request.limit_price is not None else 0)
            if value:
                out.append(float(value))
    return np.asarray(out[:limit], np.float64)


def _monitor_assignment(home: Path, bundle, days: int, tol: Tolerance) -> DriftReport:
    import time

    from .. import bundles

    pol = bundles.payload_of(bundle)
    base = np.asarray(pol.baseline_notionals, np.float64)
    now = order_notionals(time.time_ns() - days * 86_400 * 1_000_000_000)
    c = compare("order_notional_usd", base, now, tol)
    comparisons = [c]
    for name, threshold in (("share_at_or_above_edge_threshold", pol.edge_threshold),
                            ("share_at_or_above_sor_threshold", pol.sor_threshold)):
        usd = threshold / pol.scale
        share = lambda x: round(float((x >= usd).mean()), 6) if len(x) else None  # noqa: E731
        comparisons.append(Comparison(f"{name} (${usd:,.2f})", len(base), len(now), share(base), share(now),
                                      None, None, None, verdict="ok"))
    verdict = {"drift": "drift", "insufficient": "insufficient"}.get(c.verdict, "within-tolerance")
    reasons = [f"order_notional_usd: {r}" for r in c.reasons] or [
        "the order flow's notional distribution is within tolerance of the one the thresholds were set on"]
    return DriftReport(bundle.id, "assignment", bundle.manifest.artifact, days,
                       {"orders": len(base), "source": "journaled orders when the bundle was compiled"},
                       {"orders": len(now), "source": f"journaled orders of the last {days} day(s)"},
                       comparisons, verdict, reasons)


# -- recalibrate -------------------------------------------------------------------------------

AUTO_APPROVER = "recalibrate@sequence.local"


class Recalibration(msgspec.Struct):
    bundle: str
    target_kind: str
    drift_report: str                  # artifact id of the drift check
    verdict: str
    reasons: list[str]
    profiles: list[str]                # profile artifacts made by the re-profile
    recalibrated_bundle: str           # sor/assignment: a new bundle; edge: the same module
    eval_run: str                      # the recalibrated bundle's evaluation (run id or drift report id)
    promoted: dict | None = None       # {target, stage, audit_seq, break_glass}
    not_promoted: str | None = None


def recalibrate(home: Path, ref: str, target_kind: str = "edge", days: int = 7, store_root: Path | None = None,
                auto_promote_to: str | None = None, force: bool = False, baseline_eval: str | None = None,
                approver: str = AUTO_APPROVER) -> Recalibration:
    """Drift check, then re-profile every book the bundle depends on (a sor bundle gets new
    impact models, an assignment bundle the current order flow, an edge bundle a fresh
    evaluation on the latest data), then with ``auto_promote_to`` promote the result on the
    target the bundle was last promoted on, if the check is within tolerance (``force``:
    regardless, recorded as break-glass)."""
    from .. import bundles
    from ..store import Store
    from . import artifacts
    from .profile import profile

    if auto_promote_to is not None and auto_promote_to not in bundles.STAGES:
        raise UsageError(f"--auto-promote-to '{auto_promote_to}' is not one of {', '.join(bundles.STAGES)}")
    if auto_promote_to:
        bundles.check_approver(approver)           # before the replay, not after it
    bundle = bundles.load(home, ref)
    target = None
    if auto_promote_to:
        promoted = bundles.last_promotion(home, bundle.id)
        if promoted is None:
            raise UsageError(f"--auto-promote-to: bundle {bundle.id[:12]} has never been promoted, so there is no "
                             "target to promote its recalibration on; promote it once with `sequence bundle promote`")
        target = promoted.target
    report = monitor(home, bundle.id, target_kind, days, store_root, baseline_eval)
    check = save_report(home, report)
    store = Store(Path(store_root) if store_root else None)
    made: list[str] = []

    def reprofile(books):
        for sym, venue in books:
            start, end = _window(store, [(sym, venue)], days)
            p = profile(store, sym, venue, start_date=start, end_date=end)
            made.append(artifacts.save(home, "profile", f"{sym}@{venue}", {"start": start, "end": end}, p).id)

    if target_kind == "edge":
        cfg = run_config(_runs(home) / report.baseline["eval_run"])
        reprofile(_books(store, cfg.symbols, cfg.venues))
        new, eval_run = bundle, report.current["run"]
    elif target_kind == "sor":
        model = bundles.payload_of(bundle)
        reprofile([(m.symbol, m.venue) for m in model.impact])
        new = bundles.compile_sor(home, model.routing_model, ",".join(made), model.slicing_policy,
                                  bundle.manifest.artifact)
        eval_run = save_report(home, monitor(home, new.id, "sor", days, store_root)).id
    else:
        import time

        pol = bundles.payload_of(bundle)
        flow = order_notionals(time.time_ns() - days * 86_400 * 1_000_000_000)
        new = bundles.compile_assignment(home, bundle.manifest.artifact, pol.edge_threshold, pol.sor_threshold,
                                         pol.min_venues, flow)
        eval_run = save_report(home, monitor(home, new.id, "assignment", days)).id
    out = Recalibration(bundle.id, target_kind, check.id, report.verdict, report.reasons, made, new.id, eval_run)
    if auto_promote_to:
        if report.verdict != "within-tolerance" and not force:
            out.not_promoted = (f"the drift check is {report.verdict}, not within tolerance (drift report "
                                f"{check.id}); --force promotes anyway, recorded as break-glass")
            return out
        glass = report.verdict != "within-tolerance"
        try:
            rec = bundles.promote(home, new.id, target, auto_promote_to, eval_run, approver, break_glass=glass,
                                  notes=f"research recalibrate{' --force' if glass else ''}: drift report {check.id} "
                                        f"({report.verdict})")
        except UsageError as exc:
            out.not_promoted = str(exc)
            return out
        out.promoted = {"target": rec.target, "stage": rec.to_stage, "audit_seq": rec.seq, "break_glass": glass}
    return out
