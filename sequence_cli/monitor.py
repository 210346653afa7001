"""Level 5 — Monitor: trace, tca, intel."""

from __future__ import annotations

import click

from .output import emit, line, sandbox_mode, state, table

MAX_WINDOW_S = 3650 * 86_400     # intel looks back at most ten years: a longer window has no date


def _detail(step) -> str:
    d = step.detail
    if step.kind in ("fill", "first_fill"):
        return f"{d.get('qty')} @ {d.get('price')} fee {d.get('fee')} {d.get('liquidity')}"
    if step.kind == "edge_dispatch":
        return f"{d.get('venue')} {d.get('type')} {d.get('qty')} @ {d.get('limit') or 'market'} cid {d.get('client_order_id')}"
    if step.kind == "sor_decision":
        return "; ".join(f"{leg['venue']} {leg['qty']}" for leg in d.get("legs", []) if leg.get("qty") not in ("0", None)) or "nothing routable"
    if step.kind == "sor_admission":
        bundles = "".join(f", {kind} bundle {d[f'{kind}_bundle'][:16]} ({d.get(f'{kind}_stage')})"
                          for kind in ("sor", "assignment") if d.get(f"{kind}_bundle"))
        return f"policy {d.get('policy')}, venues {', '.join(d.get('venues', []))}, arrival mid {d.get('arrival_mid')}{bundles}"
    if step.kind == "venue_ack":
        return f"venue order {d.get('venue_order_id')} {d.get('status')}"
    return ", ".join(f"{k} {v}" for k, v in d.items() if v not in (None, "", [], {}))


def _render(t) -> None:
    from datetime import datetime, timezone

    from sequence_core.trace import human_ns

    def clock(ns):
        if ns is None:
            return None
        return datetime.fromtimestamp(ns // 1_000_000_000, timezone.utc).strftime("%H:%M:%S") + f".{ns % 1_000_000_000:09d}"

    line(f"trace {t.id}  ({t.mode}, {t.side.upper()} {t.symbol}, {t.status})")
    table(["STEP", "TIME (UTC)", "Δ PREV", "Δ START", "VENUE TIME", "VENUE GAP", "NODE", "DETAIL"],
          [(s.kind, clock(s.ts_ns), human_ns(s.since_prev_ns), human_ns(s.since_start_ns), clock(s.venue_ts_ns),
            human_ns(s.venue_gap_ns), (s.node_order_id or "").split(":", 1)[-1] or None, _detail(s)) for s in t.steps],
          right=["Δ PREV", "Δ START", "VENUE GAP"])


@click.command()
@click.argument("order_id", metavar="ID")
def trace(order_id):
    """Nanosecond lifecycle of a node order (or every node of a graph): SOR admission, edge
    dispatch, venue ACK, first fill, each fill, terminal state, with deltas between steps."""
    from sequence_core.trace import trace as build

    emit(build(order_id, sandbox_mode()), _render)


def _render_tca(report) -> None:
    def bps(v):
        return None if v is None else f"{v:+.2f}"

    whose = f"deployment {report.strategy}, " if report.strategy else ""
    if not report.rows:
        line(f"No fills to analyse ({whose}{report.mode}).")
        return
    line(f"TCA ({whose}{report.mode}, {report.graphs} order(s){', ' + report.symbol if report.symbol else ''}; "
         f"mids from {report.source}); bps, + = cost")
    table(["GROUP", "FILLS", "NOTIONAL", "SHORTFALL", "EFF.SPREAD", "REAL.1s", "REAL.10s", "REAL.60s",
           "MARKOUT.1s", "MARKOUT.10s", "MARKOUT.60s", "FEES", "FEES $", "FILL RATE"],
          [(r.group, r.fills, f"{r.notional:,.2f}", bps(r.shortfall_bps), bps(r.effective_spread_bps),
            bps(r.realized_spread_bps["1s"]), bps(r.realized_spread_bps["10s"]), bps(r.realized_spread_bps["60s"]),
            bps(r.markout_bps["1s"]), bps(r.markout_bps["10s"]), bps(r.markout_bps["60s"]), bps(r.fees_bps),
            f"{r.fees_ccy:,.2f}", f"{r.fill_rate:.0%}" if r.fill_rate is not None else None) for r in report.rows],
          right=["FILLS", "NOTIONAL", "SHORTFALL", "EFF.SPREAD", "REAL.1s", "REAL.10s", "REAL.60s", "MARKOUT.1s",
                 "MARKOUT.10s", "MARKOUT.60s", "FEES", "FEES $", "FILL RATE"])
    line("Markouts appear once their horizon has passed; shortfall in currency: "
         + ", ".join(f"{r.group} {r.shortfall_ccy:,.2f}" for r in report.rows if r.shortfall_ccy is not None))


@click.command()
@click.argument("name", required=False)
@click.option("--symbol", help="Only fills in this symbol (USD matches the USD family).")
@click.option("--source", metavar="NAME", help="Market-data source for the mids (default: the mode's).")
def tca(name, symbol, source):
    """Transaction cost analysis: shortfall vs arrival mid, spreads, markouts, fees, fill rate,
    per venue and per policy; cross-desk, or one deployment's orders with NAME."""
    from sequence_core.client import Sequence

    emit(Sequence(sandbox=state().sandbox).tca(name, symbol, source), _render_tca)


def _render_intel(r) -> None:
    from datetime import datetime, timezone

    def ts(ns):
        return datetime.fromtimestamp(ns / 1e9, timezone.utc).strftime("%Y-%m-%d %H:%M") if ns else "—"

    line(f"{r.symbol}: window {ts(r.window_start_ns)} → {ts(r.window_end_ns)} UTC (recorded data)")
    table(["VENUE", "BOOK", "SHARE", "NOTIONAL", "TRADES", "QUOTE UPDATES", "QUOTE/TRADE"],
          [(v.venue, v.book, f"{v.share:.1%}", f"{v.notional:,.0f}", f"{v.trades:,}", f"{v.quote_updates:,}",
            f"{v.quote_to_trade:.1f}" if v.quote_to_trade is not None else None) for v in r.venues],
          right=["SHARE", "NOTIONAL", "TRADES", "QUOTE UPDATES", "QUOTE/TRADE"])
    s = r.spread
    fmt = lambda x: "—" if x is None else f"{x:.4f}"  # noqa: E731
    line(f"spread regime: {s.regime.upper()} — current {fmt(s.current_bps)} bps ({s.current_from}), "
         f"at the {'—' if s.percentile is None else f'{s.percentile:.1f}'}th percentile of the window; window p25/p50/p75 {fmt(s.p25_bps)}/{fmt(s.p50_bps)}/{fmt(s.p75_bps)} bps")
    t = r.toxicity
    line(f"toxicity: {t.measure} = {fmt(t.value)} over {t.trades:,} trades (bucket volume {fmt(t.bucket_volume)})")


@click.command()
@click.argument("symbol")
@click.option("--window", default="24h", show_default=True, help="Trailing window ending at the last recorded trade (30m, 6h, 24h).")
@click.option("--source", metavar="NAME", help="Market-data source for the current spread.")
def intel(symbol, window, source):
    """Market structure of SYMBOL: venue market share, spread regime, toxicity (VPIN), quote-to-trade."""
    from sequence_core.client import Sequence
    from sequence_core.errors import UsageError
    from sequence_core.orders import parse_horizon

    try:
        seconds = int(parse_horizon(window))
    except UsageError:
        raise UsageError(f"--window must be a duration like 30m, 6h or 24h, got '{window}'") from None
    if seconds > MAX_WINDOW_S:
        raise UsageError(f"--window {window} is longer than {MAX_WINDOW_S // 86_400:,} days")
    emit(Sequence(sandbox=state().sandbox).intel(symbol, seconds, source), _render_intel)
