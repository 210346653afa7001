"""Level 4 — Automate: ``init``, ``build``, ``backtest``."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import msgspec

from sequence_core.errors import UsageError

from .output import emit, line, note, state, table


@click.command()
@click.argument("name")
def init(name):
    """Scaffold a new algo project: Cargo.toml, src/lib.rs, Sequence.toml, .gitignore."""
    from sequence_core.sim.project import init_project

    root = init_project(name, Path.cwd())
    emit({"project": str(root), "files": ["Cargo.toml", "src/lib.rs", "Sequence.toml", ".gitignore",
                                         "vendor/sequence-sdk"]},
         lambda d: (line(f"Created {d['project']}"),
                    line("  Cargo.toml  src/lib.rs  Sequence.toml  .gitignore  vendor/sequence-sdk (the strategy SDK)"),
                    line(f"Next: cd {name} && sequence build && sequence backtest --start <date> --end <date>")))


@click.command()
def build():
    """Compile the current project to wasm32-unknown-unknown and strip it."""
    from sequence_core.sim.project import build_project, find_project

    out = build_project(find_project())
    size = out.stat().st_size
    emit({"wasm": str(out), "bytes": size}, lambda d: line(f"Built {d['wasm']} ({d['bytes']:,} bytes)"))


def _names(value: str | None) -> list[str]:
    from sequence_core.market import parse_names

    return parse_names([value], unique=False) if value else []      # a repeat: backtest_config refuses it


class BacktestReport(msgspec.Struct):
    run_id: str
    saved_to: str | None
    elapsed_s: float               # the whole run in this process
    replay_s: float                # inside the compiled replay loop
    result: object


@click.command()
@click.argument("symbol", required=False)
@click.option("--symbols", help="Comma-separated symbols (instead of the positional one).")
@click.option("--start", required=True, help="Window start, YYYY-MM-DD (UTC).")
@click.option("--end", required=True, help="Window end, YYYY-MM-DD (inclusive).")
@click.option("--capital", type=float, default=100_000, show_default=True, help="Initial capital in USD.")
@click.option("--venue", help="Limit to one or more venues, comma-separated.")
@click.option("--seed", type=int, default=42, show_default=True, help="PRNG seed for deterministic replay.")
@click.option("--skip-build", is_flag=True, help="Reuse the existing .wasm.")
@click.option("--bundle", metavar="ID", help="Replay using a registered bundle.")
@click.option("--queue-model", default="probabilistic", show_default=True,
              help="none, probabilistic, aggressive, risk-averse (name[:key=value,...]).")
@click.option("--latency-model", default="per-venue", show_default=True,
              help="none, log-normal, per-venue, constant (name[:key=value,...]).")
@click.option("--fee-model", default="venue", show_default=True, help="venue (published schedules) or zero.")
@click.option("--no-save", is_flag=True, help="Don't persist outcomes to Parquet.")
@click.option("--scan-buffer-secs", type=int, default=3600, show_default=True, help="Partition-scan lookahead.")
@click.option("--no-dedup", is_flag=True, help="Disable cross-run book dedup.")
@click.option("--wasm", "wasm_path", type=click.Path(dir_okay=False), help="Backtest this module (no project needed).")
def backtest(symbol, symbols, start, end, capital, venue, seed, skip_build, bundle, queue_model, latency_model,
             fee_model, no_save, scan_buffer_secs, no_dedup, wasm_path):
    """Run against the sim-engine with recorded Parquet market data."""
    from sequence_core.home import ensure_home
    from sequence_core.sim.engine import backtest_config, new_run_id, run_backtest, save_outcome
    from sequence_core.sim.host import StrategyModule
    from sequence_core.store import Store

    if symbol and symbols:
        raise UsageError("give one symbol as an argument or several with --symbols, not both")
    # a flag with an empty name (--symbols , / --venue binance,,) is refused by _names, not
    # taken as "the project's symbols" or "every venue"
    if symbol is not None and not symbol.strip():
        raise UsageError(f"no symbol in '{symbol}': give one (sequence backtest BTC-USDT ...) or --symbols A,B")
    home = ensure_home()
    project = root = name = module = wasm = None
    if bundle:
        from sequence_core import bundles

        b = bundles.load(home, bundle)          # verified: id, payload hash, signature, trusted key
        if b.manifest.kind != "edge":
            raise UsageError(f"bundle {b.id[:12]} is a {b.manifest.kind} bundle; backtests replay edge bundles")
        module = StrategyModule(Path(f"{b.manifest.artifact}.wasm"), b.manifest.artifact, data=b.payload)
    elif wasm_path:
        wasm = Path(wasm_path)
    else:
        from sequence_core.sim.project import find_project, load_project

        root = find_project()
        project = load_project(root)
        name = project.name
    if bundle and wasm_path:            # after the bundle is read: an unknown one is said first
        raise UsageError("give --bundle or --wasm, not both")
    chosen = [symbol.strip()] if symbol else _names(symbols)
    if not chosen and project:
        chosen = list(project.config.strategy.symbols)
    if not chosen:
        raise UsageError("no symbol: give one (sequence backtest BTC-USDT ...) or --symbols A,B")
    venues = _names(venue) or (list(project.config.strategy.venues) if project and project.config.strategy.venues else None)
    extra = dict(project.config.backtest) if project else {}
    # checked (dates, capital, ...) before a project is built
    cfg = backtest_config(symbols=chosen, start=start, end=end, capital=capital, venues=venues, seed=seed,
                          queue_model=queue_model, latency_model=latency_model, fee_model=fee_model,
                          scan_buffer_secs=scan_buffer_secs, dedup=not no_dedup,
                          partial_fills=bool(extra.get("partial_fills", True)),
                          params=project.fixed_params() if project else (dict(b.manifest.params) if bundle else {}),
                          fuel=int(extra.get("fuel", 50_000_000)))
    if project:
        from sequence_core.sim.project import project_module

        wasm = project_module(root, skip_build)
    module = module or StrategyModule(wasm, name)
    store = Store()
    progress, finish = _progress(store, cfg)
    try:
        outcome = run_backtest(store, cfg, module, cache_root=home / "cache" / "books", progress=progress)
    finally:
        finish()
    result = outcome.result
    run_id = new_run_id(result, None if no_save else home / "backtests")
    saved = None
    if not no_save:
        saved = str(save_outcome(outcome, home / "backtests" / run_id))
    emit(BacktestReport(run_id, saved, round(outcome.elapsed, 3), round(outcome.replay, 3), result), _render)


def _progress(store, cfg):
    """A rich progress bar over the replay when stderr is a terminal; silent otherwise."""
    if not sys.stderr.isatty() or state().output == "json":
        return None, lambda: None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from sequence_core.sim.engine import plan, total_events

    total = total_events(plan(store, cfg))
    bar = Progress(TextColumn("replay"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                   transient=True, console=__import__("sequence_cli.output", fromlist=["console"]).console(stderr=True))
    task = bar.add_task("replay", total=total)
    bar.start()
    return (lambda done: bar.update(task, completed=done)), bar.stop


def _money(v: float) -> str:
    return f"{'-' if v < 0 else ''}${abs(v):,.2f}"


def _render(report: BacktestReport) -> None:
    r = report.result
    line(f"Backtest {r.strategy}  {', '.join(r.symbols)}  {r.start} → {r.end}  seed {r.seed}")
    line(f"  models: queue {r.queue_model}, latency {r.latency_model}, fees {r.fee_model}; "
         f"{r.events:,} events in {report.elapsed_s:.2f}s "
         f"({r.events / report.replay_s / 1e6 if report.replay_s else 0:.1f} M events/s replayed)")
    line(f"  P&L        {_money(r.pnl)}  ({r.return_pct:+.4f}% of {_money(r.capital)})")
    line(f"  Sharpe     {'—' if r.sharpe is None else f'{r.sharpe:.2f}'}   max drawdown {r.max_drawdown_pct:.4f}%")
    line(f"  fills      {r.fills:,}  (orders {r.submits:,}, cancels {r.cancels:,}, amends {r.amends:,}, rejects {r.rejects:,})")
    line(f"  volume     {_money(r.volume)}   fees {_money(r.fees)}   maker {r.maker_share * 100:.1f}% / taker {r.taker_share * 100:.1f}%")
    line("")
    table(["VENUE", "SYMBOL", "FILLS", "VOLUME", "FEES", "MAKER %", "POSITION", "P&L"],
          [[v.venue, v.symbol, f"{v.fills:,}", _money(v.volume), _money(v.fees),
            f"{(v.maker_volume / v.volume * 100) if v.volume else 0:.1f}", f"{v.position:g}", _money(v.pnl)]
           for v in r.venues], right=["FILLS", "VOLUME", "FEES", "MAKER %", "POSITION", "P&L"])
    for n in r.notes:
        note(f"note: {n}")
    if report.saved_to:
        note(f"outcomes: {report.saved_to}")
