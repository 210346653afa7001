"""Level 5 — Monitor: trace, tca."""

from __future__ import annotations

import click

from .output import emit, line, state, table


def _client_sandbox() -> bool:
    from sequence_core.client import Sequence

    return Sequence(sandbox=state().sandbox).sandbox


def _detail(step) -> str:
    d = step.detail
    if step.kind in ("fill", "first_fill"):
        return f"{d.get('qty')} @ {d.get('price')} fee {d.get('fee')} {d.get('liquidity')}"
    if step.kind == "edge_dispatch":
        return f"{d.get('venue')} {d.get('type')} {d.get('qty')} @ {d.get('limit') or 'market'} cid {d.get('client_order_id')}"
    if step.kind == "sor_decision":
        return "; ".join(f"{leg['venue']} {leg['qty']}" for leg in d.get("legs", []) if leg.get("qty") not in ("0", None)) or "nothing routable"
    if step.kind == "sor_admission":
        return f"policy {d.get('policy')}, venues {', '.join(d.get('venues', []))}, arrival mid {d.get('arrival_mid')}"
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

    emit(build(order_id, _client_sandbox()), _render)


def _render_tca(report) -> None:
    def bps(v):
        return None if v is None else f"{v:+.2f}"

    if not report.rows:
        line(f"No fills to analyse ({report.mode}).")
        return
    line(f"TCA ({report.mode}, {report.graphs} order(s){', ' + report.symbol if report.symbol else ''}; mids from {report.source}); bps, + = cost")
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
    per venue and per policy (cross-desk; per strategy once deployments exist)."""
    from sequence_core.client import Sequence

    emit(Sequence(sandbox=state().sandbox).tca(name, symbol, source), _render_tca)
