"""Transaction cost analysis (docs/tca.md has the formulas).

Vectorised over fills (numpy): the caller supplies fills as arrays and a ``mid(venue_book,
times) -> mids`` function (the active market-data source for the CLI, a recorded mid series
for bulk work). Signs: s = +1 for buys, -1 for sells; every cost is positive when it costs
the trader, and markouts are positive when the price moved the trader's way.

Per fill, with m0 the mid at the fill, m_h the mid h seconds later, p the price:
- effective spread (bps) = 2 s (p - m0) / m0 × 1e4
- realized spread at h (bps) = 2 s (p - m_h) / m0 × 1e4
- markout at h (bps)  = s (m_h - p) / p × 1e4
- fees (bps) = fee / (p q) × 1e4
Per parent order (graph), with A the arrival mid and P the average fill price:
- implementation shortfall (bps) = s (P - A) / A × 1e4, in currency s (P - A) q + fees
- fill rate = filled / requested; a venue's row: filled there / the quantity routed there
Groups (venue, policy, total) weight bps figures by notional.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import msgspec

HORIZONS_S = (1, 10, 60)


def fee_in_quote(fee, fee_asset: str, price, inst) -> float:
    """A fill's fee in its book's quote: as charged when in the quote (or unnamed), at the fill
    price when in the base; a fee paid in a third asset (a BNB or BGB discount) has no price
    here and counts 0 (the ledger takes it from that holding)."""
    if inst is None or fee_asset in ("", inst.quote):
        return float(fee)
    return float(fee * price) if fee_asset == inst.base else 0.0


class TcaRow(msgspec.Struct, frozen=True):
    group: str                       # total | venue:<v> | policy:<p>
    fills: int
    notional: float
    shortfall_bps: float | None
    shortfall_ccy: float | None
    effective_spread_bps: float
    realized_spread_bps: dict[str, float | None]
    markout_bps: dict[str, float | None]
    fees_bps: float
    fees_ccy: float
    fill_rate: float | None


class TcaReport(msgspec.Struct, frozen=True):
    mode: str
    source: str
    symbol: str | None
    graphs: int
    rows: list[TcaRow]
    strategy: str | None = None   # a deployment's name: only its orders


def routed_qty(nodes) -> dict[tuple[str, str], float]:
    """(graph_id, venue) -> the quantity the parent routed to the venue: per child order
    (node), its last version's quantity plus what its replaced versions filled (a
    cancel-replace sends the remainder as the next version)."""
    last, filled = {}, {}
    for n in sorted(nodes, key=lambda n: n.seq):
        key = (n.graph_id, n.node)
        if key in last:
            filled[key] = filled.get(key, 0.0) + float(last[key].filled_qty)
        last[key] = n
    out: dict[tuple[str, str], float] = {}
    for key, n in last.items():
        out[(n.graph_id, n.venue)] = out.get((n.graph_id, n.venue), 0.0) + float(n.qty) + filled.get(key, 0.0)
    return out


def analyse(fills: dict, graphs: dict, mid: Callable, now_ns: int, horizons: Sequence[int] = HORIZONS_S,
            routed: dict[tuple[str, str], float] | None = None) -> list[TcaRow]:
    """``fills``: arrays ts_ns, price, qty, fee, side (+1/-1), venue, book, policy, graph.
    ``graphs``: graph_id -> (arrival_mid or None, requested qty, policy) of every parent order
    analysed: those without fills count in the fill rate of ``total`` and their policy's row.
    ``routed``: (graph_id, venue) -> quantity routed there (:func:`routed_qty`), the
    denominator of a venue row's fill rate (None without it)."""
    import numpy as np

    n = len(fills["price"])
    if n == 0:
        return []
    p = np.asarray(fills["price"], float)
    q = np.asarray(fills["qty"], float)
    fee = np.asarray(fills["fee"], float)
    s = np.asarray(fills["side"], float)
    ts = np.asarray(fills["ts_ns"], np.int64)
    books = np.asarray(fills["book"])
    m0 = np.empty(n)
    later = {h: np.full(n, np.nan) for h in horizons}
    for book in np.unique(books):
        idx = np.flatnonzero(books == book)
        m0[idx] = mid(book, ts[idx])
        for h in horizons:
            t = ts[idx] + h * 1_000_000_000
            ok = t <= now_ns                          # markouts exist only once the horizon has passed
            if ok.any():
                later[h][idx[ok]] = mid(book, t[ok])
    notional = p * q
    eff = 2 * s * (p - m0) / m0 * 1e4
    realized = {h: 2 * s * (p - later[h]) / m0 * 1e4 for h in horizons}
    markout = {h: s * (later[h] - p) / p * 1e4 for h in horizons}
    fees_bps = fee / notional * 1e4
    fill_graphs = np.asarray(fills["graph"])
    graph_ids = np.array(sorted(set(graphs) | set(fill_graphs.tolist())))
    gidx = np.searchsorted(graph_ids, fill_graphs)
    arrival = np.array([graphs[g][0] or np.nan for g in graph_ids], float)
    requested = np.array([graphs[g][1] for g in graph_ids], float)
    parent_policy = np.array([graphs[g][2] for g in graph_ids])
    m = len(graph_ids)

    def wavg(values, mask):
        w = notional[mask]
        v = values[mask]
        ok = ~np.isnan(v)
        return float(np.sum(v[ok] * w[ok]) / np.sum(w[ok])) if ok.any() and np.sum(w[ok]) else None

    def group(name: str, mask, parents=None, sent: float | None = None) -> TcaRow:
        # per parent order, by bincount over the group's fills (no Python loop over orders);
        # *parents*: the orders whose fill rate the row reports, filled or not; else *sent*:
        # the quantity routed to the row's venue
        gi = gidx[mask]
        gq = np.bincount(gi, q[mask], m)
        gn = np.bincount(gi, notional[mask], m)
        gf = np.bincount(gi, fee[mask], m)
        gs = np.sign(np.bincount(gi, s[mask], m))
        present = gq > 0
        has_arrival = present & ~np.isnan(arrival)
        avg = np.divide(gn, gq, out=np.zeros(m), where=present)
        bps = gs * (avg - arrival) / arrival * 1e4
        sf = float(np.sum(bps[has_arrival] * gn[has_arrival]) / np.sum(gn[has_arrival])) if has_arrival.any() else None
        ccy = float(np.sum((gs * (avg - arrival) * gq + gf)[has_arrival])) if has_arrival.any() else None
        if parents is None:
            filled, req = float(gq.sum()), sent
        else:
            counted = parents | present
            filled, req = float(gq[counted].sum()), float(requested[counted].sum())
        return TcaRow(name, int(mask.sum()), float(notional[mask].sum()), sf, ccy,
                      wavg(eff, mask), {f"{h}s": wavg(realized[h], mask) for h in horizons},
                      {f"{h}s": wavg(markout[h], mask) for h in horizons}, wavg(fees_bps, mask), float(fee[mask].sum()),
                      filled / req if req else None)

    everything = np.ones(n, bool)
    rows = [group("total", everything, np.ones(m, bool))]
    venues = np.asarray(fills["venue"])
    ids = set(graph_ids.tolist())
    for v in np.unique(venues):
        sent = None if routed is None else sum(x for (g, vv), x in routed.items() if vv == v and g in ids)
        rows.append(group(f"venue:{v}", venues == v, sent=sent))
    policies = np.asarray(fills["policy"])
    for pol in np.unique(policies):
        rows.append(group(f"policy:{pol}", policies == pol, parent_policy == pol))
    return rows
