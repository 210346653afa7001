"""Regular time grids over recorded data that has gaps (docs/research.md, "Grids and gaps").

A value (the last quote, the last trade price) is carried forward on a grid only while it is
at most ``stale`` old: a point with no fresh value is undefined (NaN) and left out of every
statistic, so a recorder's silence of hours is never read as hours of a flat market.

The grid is laid out over the recorded stretches only: its points are the ones within reach
of a sample, stretches closer than ``pad`` points are joined (the points between are NaN, so
offsets still line up with time), and farther stretches are separated by ``pad`` NaN spacer
points. Any difference or lag of up to ``pad`` points is therefore either between real grid
points ``h`` steps apart or undefined, and memory follows the data covered, not the calendar.
"""

from __future__ import annotations

import numpy as np

SECOND = 1_000_000_000
QUOTE_STALE_S = 5        # a best bid/ask is carried forward at most this long
TRADE_STALE_S = 60       # a last trade price (the mid's stand-in) at most this long
PAD = 300                # spacer between recorded stretches: the longest lag taken on a grid (300 s)


def timeline(ts: np.ndarray, t0: int, step: int, stale: int, pad: int = PAD) -> np.ndarray:
    """Grid indices k (grid point ``t0 + k·step``) to lay a series of sample times *ts*
    (sorted) on; -1 marks a spacer point between recorded stretches."""
    if not len(ts):
        return np.zeros(0, np.int64)
    lo = -((t0 - ts) // step)                      # first grid point at or after each sample
    hi = (ts + stale - t0) // step                 # last grid point it is fresh for
    keep = lo <= hi
    lo, hi = lo[keep], hi[keep]
    if not len(lo):
        return np.zeros(0, np.int64)
    reach = np.maximum.accumulate(hi)
    new = np.ones(len(lo), bool)
    new[1:] = lo[1:] > reach[:-1] + pad + 1        # a gap wider than pad starts a new stretch
    starts = lo[new]
    ends = np.append(reach[np.flatnonzero(new)[1:] - 1], reach[-1])
    size = ends - starts + 1
    offset = np.concatenate([[0], np.cumsum(size + pad)[:-1]])     # each stretch, then its spacer
    out = np.full(int(size.sum() + pad * (len(size) - 1)), -1, np.int64)
    within = np.arange(int(size.sum())) - np.repeat(np.cumsum(size) - size, size)
    out[np.repeat(offset, size) + within] = np.repeat(starts, size) + within
    return out


def last_at(ts: np.ndarray, values: np.ndarray, k: np.ndarray, t0: int, step: int, stale: int,
            strictly_before: bool = False) -> np.ndarray:
    """The last of *values* (at sorted times *ts*) at or before each grid point of *k* (before
    it, with *strictly_before*), NaN where that value is older than *stale* or k is a spacer."""
    grid = t0 + k * step
    idx = np.searchsorted(ts, grid, side="left" if strictly_before else "right") - 1
    j = np.maximum(idx, 0)
    ok = (k >= 0) & (idx >= 0)
    if len(ts):
        ok &= grid - ts[j] <= stale
    out = np.full(len(k), np.nan)
    out[ok] = np.asarray(values, float)[j[ok]]
    return out


def positions(k: np.ndarray, index: np.ndarray) -> np.ndarray:
    """The position in the grid *k* of each grid index in *index*, -1 where it is not laid out."""
    at = np.flatnonzero(k >= 0)
    if not len(at):
        return np.full(len(index), -1, np.int64)
    p = np.minimum(np.searchsorted(k[at], index), len(at) - 1)
    return np.where(k[at][p] == index, at[p], -1)


def lagged_diff(x: np.ndarray, h: int) -> np.ndarray:
    """x[t+h] - x[t] over the grid, finite values only (gaps and spacers drop out)."""
    d = x[h:] - x[:-h] if h < len(x) else np.zeros(0)
    return d[np.isfinite(d)]
