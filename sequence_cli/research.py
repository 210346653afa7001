"""`sequence research`: the research engine over the recorded store."""

from __future__ import annotations

import datetime as dt
import math

import click

from .output import emit, line, table


@click.group()
def research():
    """Research over recorded Parquet data (lives alongside the sim-engine)."""


def _ts(ns: int) -> str | None:
    return dt.datetime.fromtimestamp(ns / 1e9, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S") if ns else None


@research.command()
@click.option("--symbol", help="Only this symbol.")
def coverage(symbol):
    """Recorded-data coverage: partition density, gaps, last-ingest timestamp."""
    from sequence_core.research.coverage import coverage as run
    from sequence_core.store import Store

    rows = run(Store(), symbol)

    def render(rs):
        if not rs:
            line("No recorded data" + (f" for {symbol}" if symbol else "") + "; ingest some with `sequence data ingest <path>`.")
            return
        table(["VENUE", "SYMBOL", "TABLE", "DAYS", "MISSING", "ROWS/DAY", "GAPS>60S", "LONGEST GAP", "FIRST", "LAST",
               "LAST INGEST"],
              [(r.venue, r.symbol, r.table, f"{r.days} ({r.first_day}..{r.last_day})",
                ", ".join(r.missing_days[:3]) + (f" ... ({len(r.missing_days)} days)" if len(r.missing_days) > 3 else "")
                if r.missing_days else "none",
                f"{r.rows_per_day:,.0f}", r.gaps, f"{r.longest_gap_s:,.0f}s" if r.gaps else "—", _ts(r.first_ts_recv),
                _ts(r.last_ts_recv), _ts(r.last_ingest_ns)) for r in rs],
              right=["ROWS/DAY", "GAPS>60S", "LONGEST GAP"])

    emit(rows, render)


def _fmt(v, unit=""):
    """Four significant digits, written plainly (112,900, not 1.129e+05; 0.00001235); below
    1e-6, three in exponent form (a KS p-value of 6.53e-224, not 224 zeros)."""
    if v is None:
        return "—"
    if not v or not math.isfinite(v):
        return f"{v:g}{unit}"
    if abs(v) < 1e-6:
        return f"{v:.3g}{unit}"
    return f"{v:,.{max(0, 3 - math.floor(math.log10(abs(v))))}f}{unit}"


@research.command()
@click.argument("symbol")
@click.option("--venue", help="The venue's book (default: the venue with the most trades).")
@click.option("--days", type=int, default=7, show_default=True, help="Trailing window, ending at the last trade.")
def profile(symbol, venue, days):
    """Deep single-pair profile: microstructure, cost model, regime classification."""
    from sequence_core.home import ensure_home
    from sequence_core.research import artifacts
    from sequence_core.research.profile import profile as run
    from sequence_core.store import Store

    p = run(Store(), symbol, venue, days)
    art = artifacts.save(ensure_home(), "profile", f"{p.symbol}@{p.venue}", {"days": days}, p)

    def render(a):
        b = a.body
        line(f"Profile {b['symbol']} on {b['venue']}  {_ts(b['start_ns'])} → {_ts(b['end_ns'])}  (artifact {a.id})")
        line(f"  trades      {b['trades']:,}  notional ${b['notional']:,.0f}  ADV ${b['adv_usd']:,.0f} "
             f"(per day with trades: {b['trade_days']} day(s))")
        span = (b["end_ns"] - b["start_ns"]) / 1e9
        line(f"  coverage    {b['covered_s'] / 3600:,.2f} h of quotes (or trades) over a {span / 86_400:,.2f}-day span"
             + ("; gaps left out of every figure" if b["covered_s"] < span * 0.99 else ""))
        tn = b["trade_notional"]
        line(f"  trade size  mean ${tn['mean']:,.2f}  median ${tn['median']:,.2f}  p90 ${tn['p90']:,.2f}  p99 ${tn['p99']:,.2f}")
        s = b["spread_bps"]
        line(f"  spread      median {_fmt(s['median'], ' bps')}  (p25 {_fmt(s['p25'])}, p75 {_fmt(s['p75'])})")
        d = b["depth"]
        line(f"  touch depth bid {_fmt(d['bid_size'])} (${_fmt(d['bid_notional'])})  ask {_fmt(d['ask_size'])} (${_fmt(d['ask_notional'])})")
        v = b["volatility_bps"]
        line("  volatility  " + "  ".join(f"{h} {_fmt(x, ' bps')}" for h, x in v.items())
             + f"  (annualised {_fmt(b['volatility_annual_pct'], '%')})")
        line(f"  autocorr    1 s returns {_fmt(b['autocorr_returns_1s'])}  trade signs {_fmt(b['autocorr_trade_signs'])}"
             f"  quote-to-trade {_fmt(b['quote_to_trade'])}")
        i = b["impact"]
        line(f"  impact      sqrt model: Y = {_fmt(i['y'])} ± {_fmt(i['y_stderr'])}  R² {_fmt(i['r2'])}  "
             f"({i['buckets']} one-second buckets; σ_day {_fmt(i['sigma_day_bps'], ' bps')})")
        line(f"  regime      {b['regime']}  ({b['regime_detail']})")

    emit(art, render)


@research.command()
@click.option("--type", "type_", help="profile, feature-eval, drift or materialize.")
def artifacts(type_):
    """List research artifacts (profiles, feature evaluations, drift reports)."""
    from sequence_core.home import ensure_home
    from sequence_core.research import artifacts as store

    rows = store.list_artifacts(ensure_home(), type_)

    def render(items):
        if not items:
            line("No research artifacts yet: `sequence research profile <symbol>` makes one.")
            return
        table(["ID", "TYPE", "SUBJECT", "CREATED", "PARAMS"],
              [(a.id, a.type, a.subject, a.created_at, " ".join(f"{k}={v}" for k, v in a.params.items())) for a in items])

    emit(rows, render)


@research.command()
@click.option("--start", required=True, help="First date, YYYY-MM-DD.")
@click.option("--end", required=True, help="Last date, YYYY-MM-DD (inclusive).")
@click.option("--symbol", "symbols", multiple=True, help="Only these symbols (repeatable; default: all).")
@click.option("--workers", type=int, default=None, help="Parallel workers (default: the machine's cores).")
@click.option("--executor", type=click.Choice(["processes", "dask"]), default="processes", show_default=True,
              help="Local worker processes, or a Dask cluster (the sequence[dask] extra).")
@click.option("--scheduler", metavar="ADDRESS", help="A running Dask scheduler (default: a local cluster).")
@click.option("--force", is_flag=True, help="Re-materialize partitions that are already up to date.")
def materialize(start, end, symbols, workers, executor, scheduler, force):
    """Batch-materialize profiles for a historical window. Writes back to the research store."""
    import os
    import sys

    from sequence_core.home import ensure_home
    from sequence_core.research import artifacts
    from sequence_core.research.materialize import materialize as run
    from sequence_core.research.materialize import research_root
    from sequence_core.store import Store

    from .output import state

    workers = (os.cpu_count() or 1) if workers is None else workers
    bar = task = None
    hooks = {}
    if sys.stderr.isatty() and state().output != "json":
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        bar = Progress(TextColumn("materialize"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                       console=Console(stderr=True), transient=True)

        def on_plan(n):
            nonlocal task
            bar.start()
            task = bar.add_task("materialize", total=n)

        hooks = {"on_plan": on_plan, "on_result": lambda r: bar.advance(task)}
    try:
        summary = run(Store(), research_root(ensure_home()), start, end, workers=workers, executor=executor,
                      scheduler=scheduler, symbols=symbols, force=force, **hooks)
    finally:
        if bar is not None:
            bar.stop()

    art = artifacts.save(ensure_home(), "materialize", f"{start}..{end}",
                         {"start": start, "end": end, "symbols": list(symbols), "force": force}, summary)

    def render(a):
        s = summary
        line(f"Materialized {s.written} of {s.tasks} book-days {s.start} → {s.end} "
             f"({s.skipped} already up to date, {s.failed} failed) with {s.workers} {'worker process(es)' if s.executor == 'processes' else s.executor + ' worker(s)'}")
        line(f"  {s.rows:,} input rows in {s.seconds:.2f} s: {s.rows_per_s:,.0f} rows/s  →  {s.root}")
        for f in s.failures:
            line(f"  FAILED {f.venue} {f.symbol} {f.date}: {f.error}")
        line(f"  artifact {a.id}")

    emit(art, render)
    if summary.failed:
        from sequence_core.errors import SequenceError

        raise SequenceError(f"{summary.failed} book-day(s) failed (listed above); the others are written, and a "
                            "re-run redoes only what is missing")


@research.command()
@click.argument("artifact_id")
def artifact(artifact_id):
    """Inspect one research artifact (its full content as JSON)."""
    import msgspec

    from sequence_core.home import ensure_home
    from sequence_core.research import artifacts as store

    art = store.get(ensure_home(), artifact_id)
    emit(art, lambda a: line(msgspec.json.format(msgspec.json.encode(a)).decode()))


@research.command()
@click.option("--where", "where", multiple=True, metavar="EXPR", help="A predicate; repeat for AND.")
@click.option("--rank-by", metavar="FIELD", help="A numeric field to rank by (highest first).")
@click.option("--top", type=int, metavar="N", help="Keep the first N.")
@click.option("--evidence", is_flag=True, help="Show the numbers behind each row.")
@click.option("--days", type=int, default=7, show_default=True, help="Trailing window of each pair's data.")
def scan(where, rank_by, top, evidence, days):
    """Predicate-based pair scanning. Repeat --where for AND-composed clauses."""
    from sequence_core.research.scan import scan as run
    from sequence_core.store import Store

    rows = run(Store(), list(where), rank_by, top, days)

    def render(rs):
        if not rs:
            line("No pair matches.")
            return
        if not evidence:
            table(["#", "SYMBOL"] + ([rank_by.upper()] if rank_by else []),
                  [[i + 1, r.symbol] + ([r.rank_value] if rank_by else []) for i, r in enumerate(rs)],
                  right=["#"] + ([rank_by.upper()] if rank_by else []))
            return
        keys = [k for k in rs[0].fields if k != "symbol"]
        table(["#", "SYMBOL"] + [k.upper() for k in keys],
              [[i + 1, r.symbol] + [",".join(v) if isinstance(v, list) else v for v in (r.fields.get(k) for k in keys)]
               for i, r in enumerate(rs)], right=["#"] + [k.upper() for k in keys if k != "venues"])

    emit(rows, render)


@research.command("feature-eval")
@click.option("--feature", "features", multiple=True, metavar="NAME", help="A feature (repeatable).")
@click.option("--label", "labels", multiple=True, metavar="NAME", help="A label (repeatable).")
@click.option("--start", required=True, help="Window start, YYYY-MM-DD.")
@click.option("--end", required=True, help="Window end, YYYY-MM-DD (inclusive).")
@click.option("--symbol", "symbols", multiple=True, help="Only these symbols (default: every symbol traded).")
@click.option("--folds", type=int, default=5, show_default=True, help="Walk-forward folds.")
def feature_eval(features, labels, start, end, symbols, folds):
    """Walk-forward IC evaluation. Repeat --feature and --label for multi-feature/label runs."""
    from sequence_core.home import ensure_home
    from sequence_core.research import artifacts
    from sequence_core.research.features import evaluate
    from sequence_core.store import Store

    result = evaluate(Store(), list(features), list(labels), start, end, folds, list(symbols) or None)
    art = artifacts.save(ensure_home(), "feature-eval", ",".join(symbols) or "all",
                         {"features": list(features), "labels": list(labels), "start": start, "end": end,
                          "folds": folds}, result)

    def render(a):
        rows = a.body
        line(f"Feature evaluation {start} → {end}, {folds} walk-forward folds (artifact {a.id})")
        table(["FEATURE", "LABEL", "IC MEAN", "IC IR", "T-STAT", "FOLD ICS", "DECAY 1s/5s/10s/30s/60s"],
              [(e["feature"], e["label"], _fmt(e["ic_mean"]), _fmt(e["ic_ir"]), _fmt(e["t_stat"]),
                " ".join(_fmt(f["ic"]) for f in e["folds"]), " ".join(_fmt(v) for v in e["decay"].values()))
               for e in rows], right=["IC MEAN", "IC IR", "T-STAT"])

    emit(art, render)


def _drift_render(art) -> None:
    r = art.body
    line(f"Drift check of {r['target_kind']} bundle {r['bundle'][:16]} ({r['artifact']}), last {r['days']} day(s): "
         f"{r['verdict'].upper()}  (drift report {art.id})")
    line("  baseline: " + ", ".join(f"{k} {v}" for k, v in r["baseline"].items() if v is not None))
    line("  current:  " + ", ".join(f"{k} {v}" for k, v in r["current"].items() if k != "refits" and v is not None))
    table(["METRIC", "N BASE", "N NOW", "MEAN BASE", "MEAN NOW", "PSI", "KS D", "KS P", "VERDICT"],
          [(c["metric"], c["n_baseline"], c["n_current"], _fmt(c["mean_baseline"]), _fmt(c["mean_current"]),
            _fmt(c["psi"]), _fmt(c["ks_stat"]), _fmt(c["ks_pvalue"]), c["verdict"]) for c in r["comparisons"]],
          right=["N BASE", "N NOW", "MEAN BASE", "MEAN NOW", "PSI", "KS D", "KS P"])
    for c in r["comparisons"]:
        if c.get("mean_diff_ci"):
            lo, hi = c["mean_diff_ci"]
            line(f"  {c['metric']}: mean difference {_fmt(c['mean_diff'])}, bootstrap 99% CI {_fmt(lo)} … {_fmt(hi)}")
    for reason in r["reasons"]:
        line(f"  - {reason}")


_KIND = click.Choice(["edge", "sor", "assignment"])


@research.command()
@click.option("--bundle", "ref", required=True, metavar="ID", help="The bundle (id or unique prefix).")
@click.option("--target-kind", type=_KIND, default="edge", show_default=True, help="edge, sor, or assignment.")
@click.option("--days", type=int, default=7, show_default=True, help="Lookback window.")
@click.option("--store-root", type=click.Path(file_okay=False), help="Override Parquet root (local testing).")
@click.option("--baseline-eval", metavar="ID", help="Pin the comparison baseline (edge: a run; sor: a profile).")
def monitor(ref, target_kind, days, store_root, baseline_eval):
    """Performance drift check for a live bundle."""
    from pathlib import Path

    from sequence_core.home import ensure_home
    from sequence_core.research.monitor import monitor as run
    from sequence_core.research.monitor import save_report

    home = ensure_home()
    report = run(home, ref, target_kind, days, Path(store_root) if store_root else None, baseline_eval)
    emit(save_report(home, report), _drift_render)


@research.command()
@click.option("--bundle", "ref", required=True, metavar="ID", help="The bundle (id or unique prefix).")
@click.option("--target-kind", type=_KIND, default="edge", show_default=True, help="edge, sor, or assignment.")
@click.option("--days", type=int, default=7, show_default=True, help="Lookback.")
@click.option("--store-root", type=click.Path(file_okay=False), help="Override Parquet root.")
@click.option("--auto-promote-to", type=click.Choice(["canary", "pilot", "production"]),
              help="Auto-promote if drift within tolerance.")
@click.option("--force", is_flag=True, help="Skip the drift-check gate (a promotion is then recorded as break-glass).")
@click.option("--baseline-eval", metavar="ID", help="Pin the drift comparison baseline.")
@click.option("--approver", default="recalibrate@sequence.local", show_default=True, metavar="EMAIL",
              help="Who an auto-promotion is recorded as approved by.")
def recalibrate(ref, target_kind, days, store_root, auto_promote_to, force, baseline_eval, approver):
    """Drift check → re-profile → optional auto-promote."""
    from pathlib import Path

    from sequence_core.home import ensure_home
    from sequence_core.research.monitor import recalibrate as run

    out = run(ensure_home(), ref, target_kind, days, Path(store_root) if store_root else None, auto_promote_to,
              force, baseline_eval, approver)

    def render(r):
        line(f"Recalibrated {r.target_kind} bundle {r.bundle[:16]}: drift check {r.verdict.upper()} "
             f"(report {r.drift_report})")
        for reason in r.reasons:
            line(f"  - {reason}")
        line(f"  re-profiled: {', '.join(r.profiles) or 'nothing'}")
        same = r.recalibrated_bundle == r.bundle
        line(f"  recalibrated bundle: {r.recalibrated_bundle[:16]}{' (same module)' if same else ' (new)'}; "
             f"evaluation {r.eval_run}")
        if r.promoted:
            line(f"  promoted to {r.promoted['stage']} on {r.promoted['target']} (audit record "
                 f"{r.promoted['audit_seq']}{', BREAK-GLASS' if r.promoted['break_glass'] else ''})")
        elif r.not_promoted:
            line(f"  not promoted: {r.not_promoted}")

    emit(out, render)
