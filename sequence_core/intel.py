"""`sequence intel <symbol>`: a market-structure snapshot from the store (docs/intel.md).

Window: the trailing ``window_s`` (default 24 h) ending at the latest recorded trade of the
symbol, over every venue and real book the symbol names (USD = the USD family).
- market share: each venue's share of traded notional in the window;
- spread regime: the current spread as a percentile of its venue-book's spreads in the window
  (from the best bid/ask rows), ranked in whole ticks: below the 25th percentile "tight",
  above the 75th "wide", else "normal"; the current spread comes from the live or sandbox
  source when it has the book (the tightest), else the most recently quoted book's last one;
- toxicity: VPIN (Easley, López de Prado, O'Hara 2012) over trades with known aggressor
  side: volume buckets of V = window volume / 50, VPIN = mean |buy − sell| / V over the last
  50 buckets (0 = balanced flow, 1 = one-sided);
- quote-to-trade: book updates (best bid/ask rows plus complete depth messages) per trade,
  per venue.
"""

from __future__ import annotations

import msgspec

DEFAULT_WINDOW_S = 86_400
BUCKETS = 50


class VenueShare(msgspec.Struct, frozen=True):
    venue: str
    book: str
    notional: float
    share: float
    trades: int
    quote_updates: int
    quote_to_trade: float | None


class SpreadRegime(msgspec.Struct, frozen=True):
    current_bps: float | None
    percentile: float | None
    p25_bps: float | None
    p50_bps: float | None
    p75_bps: float | None
    regime: str                      # tight | normal | wide | unknown
    current_from: str


class Toxicity(msgspec.Struct, frozen=True):
    measure: str
    value: float | None
    bucket_volume: float | None
    buckets: int
    trades: int


class Intel(msgspec.Struct, frozen=True):
    symbol: str
    window_start_ns: int | None
    window_end_ns: int | None
    venues: list[VenueShare]
    spread: SpreadRegime
    toxicity: Toxicity


def vpin(sizes, sides, buckets: int = BUCKETS) -> tuple[float | None, float | None, int]:
    """(VPIN, bucket volume, buckets used): volume buckets of total/buckets, each VPIN term
    |buy - sell| / V. Signed volume accumulates linearly within each trade, so sampling the
    cumulative signed-volume curve at the bucket edges (np.interp) splits trades across
    buckets exactly, in one pass."""
    import numpy as np

    sizes = np.asarray(sizes, float)
    sides = np.asarray(sides, float)
    total = sizes.sum()
    if total <= 0 or len(sizes) < 2:
        return None, None, 0
    v = total / buckets
    volume = np.concatenate([[0.0], np.cumsum(sizes)])
    signed = np.concatenate([[0.0], np.cumsum(sizes * sides)])
    at_edges = np.interp(np.arange(buckets + 1) * v, volume, signed)
    return float(np.mean(np.abs(np.diff(at_edges)) / v)), float(v), buckets


def percentile_of(value: float, sample) -> float:
    import numpy as np

    # mid-rank of ties: spreads are mostly exactly one tick, and a value equal to the mode
    # must land in the middle of its ties, not at their top (counts, no sort: O(n))
    sample = np.asarray(sample, float)
    below, equal = np.count_nonzero(sample < value), np.count_nonzero(sample == value)
    return float((below + equal / 2) / len(sample) * 100)


def regime(pct: float | None) -> str:
    if pct is None:
        return "unknown"
    return "tight" if pct < 25 else ("wide" if pct > 75 else "normal")


def _spread_regime(bbos: dict, window, books: dict, source) -> "SpreadRegime":
    """The current spread against its own venue-book's window (a venue with a coarser tick is
    wider by construction), ranked in whole ticks: a book quoted one tick wide all day is one
    tick every time, while the same tick in bps grows as the price falls, and ranked in bps
    the day's lowest price made a one-tick spread "wide"."""
    import numpy as np

    samples, last = {}, {}
    for key, arr in bbos.items():
        w = window(arr)
        bid, ask, ts = arr["bid_price"][w], arr["ask_price"][w], arr["ts_recv"][w]
        ok = (bid > 0) & (ask > bid)
        bid, ask = bid[ok].astype(float), ask[ok].astype(float)
        if len(bid):
            samples[key] = ((ask - bid) / (ask + bid) * 2e4, _ticks(ask - bid, books.get(key)))
            last[key] = int(ts[ok][-1])
    key = now_bps = now_ticks = None                       # the current spread's book, in bps and ticks
    origin = "last recorded"
    if source is not None:
        live = [b for b in source.books(list(books.values()), None, 1) if b.best_bid and b.best_ask]
        if live:
            b = min(live, key=lambda x: x.best_ask.price - x.best_bid.price)
            width = b.best_ask.price - b.best_bid.price
            key, origin = (b.venue, b.symbol), source.label()
            now_bps = float(width / ((b.best_bid.price + b.best_ask.price) / 2) * 10_000)
            ticks = _ticks([float(width) * 1e9], books.get(key))
            now_ticks = float(ticks[0]) if ticks is not None else None
    if key is None and last:
        key = max(last, key=lambda k: (last[k], k))          # the most recently quoted book
        bps, ticks = samples[key]
        now_bps, now_ticks = float(bps[-1]), float(ticks[-1]) if ticks is not None else None
    if key not in samples:                                 # nothing recorded for the current book
        return SpreadRegime(now_bps, None, None, None, None, "unknown", origin)
    bps, ticks = samples[key]
    pct = percentile_of(now_ticks, ticks) if ticks is not None and now_ticks is not None else percentile_of(now_bps, bps)
    q25, q50, q75 = (float(x) for x in np.percentile(bps, [25, 50, 75]))
    return SpreadRegime(now_bps, pct, q25, q50, q75, regime(pct), origin)


def _ticks(width_fp, inst):
    """Spread widths (fixed point 1e9) in whole ticks of *inst*, or None without its tick."""
    import numpy as np

    tick = int(inst.tick_size.scaleb(9)) if inst is not None and inst.tick_size > 0 else 0
    return np.rint(np.asarray(width_fp, float) / tick) if tick else None


def _recorded_books(store) -> list:
    """The store's books (trades or quotes) as instruments, terms unknown (tick 0): a book no
    venue plugin lists (Binance COIN-M BTC-USD-PERP, a Bybit XRP perp) is still the symbol's
    market (docs/intel.md: every venue and real book the symbol names)."""
    from .market import _PAIR, perp, spot

    found = {(venue, book) for table in ("trades", "bbo", "book_deltas") for venue, book, _ in store.partitions(table)}
    out = []
    for venue, book in sorted(found):
        m = _PAIR.match(book)
        if m:
            make = perp if m.group(3) else spot
            out.append(make(venue, m.group(1), m.group(2), book, "0", "0"))
    return out


def snapshot(symbol: str, store, instruments, source=None, window_s: int = DEFAULT_WINDOW_S) -> Intel:
    import numpy as np

    from .errors import UsageError
    from .market import matches, quote_notional, resolve

    listed = [i for i in instruments if matches(symbol, i)]
    recorded = [i for i in _recorded_books(store) if matches(symbol, i)]
    if not listed and not recorded:
        resolve(symbol, instruments)                # the unknown-symbol error, with suggestions
    books = {(i.venue, i.symbol): i for i in recorded + listed}     # a listed book's own terms win
    trades, bbos, deltas = {}, {}, {}
    columns = {"trades": ["ts_recv", "price", "size", "side"], "bbo": ["ts_recv", "bid_price", "ask_price"],
               "book_deltas": ["ts_recv", "flags"]}
    for (venue, book) in books:
        for table, into in (("trades", trades), ("bbo", bbos), ("book_deltas", deltas)):
            try:
                into[(venue, book)] = store.arrays(table, venue=venue, symbol=book, columns=columns[table])
            except UsageError:
                pass
    if not trades and not bbos:
        raise UsageError(f"no recorded trades or quotes for '{symbol}' in the store ({store.root}); "
                         + ("only its order-book updates are recorded" if deltas else "ingest some with `sequence data ingest`"))
    end = max((int(t["ts_recv"].max()) for t in list(trades.values()) + list(bbos.values()) if len(t["ts_recv"])), default=None)
    start = end - window_s * 1_000_000_000 if end is not None else None

    def window(arr) -> slice:
        # rows are sorted by ts_recv (the store guarantees it): a slice is a view, not a copy
        lo, hi = np.searchsorted(arr["ts_recv"], [start, end], side="left")[0], np.searchsorted(arr["ts_recv"], end, side="right")
        return slice(int(lo), int(hi))

    rows, all_sizes, all_sides, all_ts = [], [], [], []
    for key in sorted(set(trades) | set(bbos)):
        t = trades.get(key)
        n_trades, notional = 0, 0.0
        if t is not None:
            w = window(t)
            price = t["price"][w] * 1e-9
            value = quote_notional(key[0], key[1], price, t["size"][w] * 1e-9)   # inverse perps: contracts x value
            notional = float(value.sum())
            n_trades = w.stop - w.start
            # VPIN buckets volume in base units: an inverse perp's contracts converted first
            all_sizes.append(np.divide(value, price, out=np.zeros_like(value), where=price > 0))
            all_sides.append(t["side"][w]); all_ts.append(t["ts_recv"][w])
        quotes = 0
        if key in bbos:
            w = window(bbos[key])
            quotes += w.stop - w.start
        if key in deltas:
            d = deltas[key]
            quotes += int(np.count_nonzero(d["flags"][window(d)] & 1))
        if n_trades or quotes:          # a venue with nothing in the window is not part of its market
            rows.append((key, notional, n_trades, quotes))
    total = sum(r[1] for r in rows)
    venues = [VenueShare(v, b, n, n / total if total else 0.0, k, q, q / k if k else None) for (v, b), n, k, q in rows]
    spread = _spread_regime(bbos, window, books, source)
    if all_sizes:
        order = np.argsort(np.concatenate(all_ts), kind="stable")
        value, bucket, used = vpin(np.concatenate(all_sizes)[order], np.concatenate(all_sides)[order])
        tox = Toxicity("VPIN (50 volume buckets)", value, bucket, used, int(sum(len(s) for s in all_sizes)))
    else:
        tox = Toxicity("VPIN (50 volume buckets)", None, None, 0, 0)
    return Intel(symbol, start, end, sorted(venues, key=lambda v: -v.share), spread, tox)
