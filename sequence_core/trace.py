"""`sequence trace`: the nanosecond lifecycle of a graph or one node order, from the journal.

Reads the journal directly (SQLite, read-only use), so it works while the engine is down.
Each step carries the time since the previous step and since the first, and, where the
venue gave one, the venue's own timestamp and, where that is on our clock, the gap between
it and ours.
"""

from __future__ import annotations

import msgspec

from .errors import OrderNotFound
from .journal import Journal
from .orders import parse_order_id


class TraceStep(msgspec.Struct, frozen=True):
    ts_ns: int
    kind: str
    node_order_id: str | None
    since_prev_ns: int
    since_start_ns: int
    venue_ts_ns: int | None
    venue_gap_ns: int | None      # our time minus the venue's (feed/ack latency + clock offset)
    detail: dict


class Trace(msgspec.Struct, frozen=True):
    id: str
    graph_id: str
    mode: str
    symbol: str
    side: str
    status: str
    steps: list[TraceStep]


def trace(order_id: str, sandbox: bool) -> Trace:
    graph_id, node_id = parse_order_id(order_id)
    journal = Journal(sandbox)
    try:
        graph = journal.graph(graph_id)
        if graph is None:
            other = "live" if sandbox else "sandbox"
            raise OrderNotFound(f"unknown order '{order_id}' in the {'sandbox' if sandbox else 'live'} journal (is it a {other} order?)")
        if node_id and journal.node(node_id) is None:
            raise OrderNotFound(f"unknown node order '{node_id}'")
        events = journal.events(graph_id, node_id)
    finally:
        journal.close()
    steps, prev = [], None
    start = events[0].ts_ns if events else 0
    one_clock = graph.mode == "live" or _source_on_wall_clock(_admission_source(events))
    for ev in events:
        gap = ev.ts_ns - ev.venue_ts_ns if ev.venue_ts_ns and one_clock else None
        steps.append(TraceStep(ev.ts_ns, ev.kind, ev.node_order_id, ev.ts_ns - prev if prev is not None else 0,
                               ev.ts_ns - start, ev.venue_ts_ns, gap, ev.detail))
        prev = ev.ts_ns
    return Trace(order_id, graph_id, graph.mode, graph.request.symbol, graph.request.side, graph.status, steps)


def _admission_source(events) -> str | None:
    """The market-data source the order was admitted on, by name (its admission step's label)."""
    for ev in events:
        label = ev.detail.get("source") if ev.kind == "sor_admission" else None
        if isinstance(label, str) and label:
            return label.split(" ", 1)[0]
    return None


def _source_on_wall_clock(name: str | None) -> bool:
    """Whether a sandbox order's venue times are on our clock: the paper venues stamp them with
    the market-data source's clock, which is ours unless the source keeps its own (replay
    keeps the recording's). An unknown source: we cannot tell, so no."""
    from .market import MarketDataSource
    from .plugins import get_plugins

    source = get_plugins().registry("register_market_data_sources").get(name) if name else None
    return source is not None and type(source).now_ns is MarketDataSource.now_ns


def human_ns(ns: int | None) -> str | None:
    """1.234 s, 12.345 ms, 523.1 µs, 812 ns — precise to the nanosecond where it matters."""
    if ns is None:
        return None
    sign, ns = ("-" if ns < 0 else ""), abs(ns)
    if ns >= 1_000_000_000:
        return f"{sign}{ns / 1e9:.3f} s"
    if ns >= 1_000_000:
        return f"{sign}{ns / 1e6:.3f} ms"
    if ns >= 1_000:
        return f"{sign}{ns / 1e3:.1f} µs"
    return f"{sign}{ns} ns"
