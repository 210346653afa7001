"""A deterministic multi-venue market: every price is a pure function of (seed, time).

Why a function of time rather than a simulation: each CLI call is a new process, so two
calls a second apart must see one consistent market without sharing state. Prices use
multi-scale value noise: at each time scale T (1 s to ~3 days) a standard normal is drawn
per grid point from a keyed hash and interpolated linearly; the scales' sum, weighted by
sigma*sqrt(T), behaves like a random walk at every horizon and can be evaluated at any
instant in O(scales). Assets share a common crypto factor (correlated mids); each venue
adds a small basis, its own update cadence and feed latency, its spread and depth profile.
"""

from __future__ import annotations

import hashlib
import math
import random

import msgspec
import struct
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from sequence_core.market import BookLevel, Instrument, MarketDataSource, OrderBook, Trade

from .profiles import (ASSETS, DEFAULT_ASSET, DEFAULT_VENUE, PERP_PREMIUM_BPS, TRADE_NOTIONAL_MEDIAN_USD,
                       TRADE_NOTIONAL_SIGMA, VENUES)

SCALES_S = (1, 8, 64, 512, 4096, 32768, 262144)
SECONDS_PER_DAY = 86_400.0
# Variance of value_noise(t+h) - value_noise(t) per second of h: measured 1.46 (h=1 min),
# 1.39 (1 h), 1.27 (1 day) over 4,000 random t; the daily figure sets the volatility scale.
_DAY_VAR_PER_SIGMA2 = 1.27


def _uniforms(key: bytes, index: int) -> tuple[float, float]:
    h = hashlib.blake2b(key + struct.pack("<q", index), digest_size=16).digest()
    a, b = struct.unpack("<QQ", h)
    return (a + 1) / 18446744073709551617.0, b / 18446744073709551616.0


def _gauss(key: bytes, index: int) -> float:
    u1, u2 = _uniforms(key, index)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


def value_noise(key: bytes, t_s: float, scales=SCALES_S, gauss=_gauss) -> float:
    """Sum over scales of interpolated N(0,1) grid values, weighted by sqrt(T)."""
    total = 0.0
    for scale in scales:
        x = t_s / scale
        i = math.floor(x)
        f = x - i
        k = key + struct.pack("<I", scale)
        a, b = gauss(k, i), gauss(k, i + 1)
        total += (a + (b - a) * f) * math.sqrt(scale)
    return total


class SyntheticSource(MarketDataSource):
    name = "synthetic"
    description = "deterministic seeded multi-venue market (offline default)"

    def __init__(self, seed: int = 42):
        self.seed = seed
        # A venue's book only changes when its update clock ticks, so books are cached per
        # (instrument, venue update time); a cached deeper book serves shallower requests.
        # Only the levels asked for are built: each level costs two hashes and Decimal
        # rounding, and most readers (quotes, admission, deployed strategies) want the top.
        self._cache: dict = {}
        self._clock: dict[str, tuple[int, int, int]] = {}   # venue -> (slot, its update time, the previous slot's)
        # Every draw is a pure function of (key, index), and most repeat from one book to the
        # next: a price's coarser noise scales move every 8 s to 3 days, a level's size every
        # 0.25 s, while a venue's book changes every few ms. Remembered, a 50-level book costs
        # ~0.2 ms instead of ~0.6 ms (the paper venue builds one per order it matches).
        self._draws: dict[tuple[bytes, int], float] = {}
        self._depth_keys: dict[tuple[str, str, str], list[bytes]] = {}

    def configure(self, settings: dict) -> "SyntheticSource":
        """``[market_data.synthetic]``: ``seed``, a whole number (default 42); nothing else."""
        from sequence_core.config import setting_error, show

        for key in settings:
            if key != "seed":
                raise setting_error(f"[market_data.synthetic] {key}", "unknown key; expected seed")
        seed = settings.get("seed", self.seed)
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise setting_error("[market_data.synthetic] seed", f"{show(seed)} is not a whole number: write e.g. seed = 42")
        return SyntheticSource(seed)

    def label(self) -> str:
        return f"synthetic (seed {self.seed})"

    def _key(self, *parts: str) -> bytes:
        return f"{self.seed}|{'|'.join(parts)}".encode()

    def _gauss(self, key: bytes, index: int) -> float:
        """_gauss(key, index), remembered (bounded: forgotten wholesale past 100,000)."""
        found = self._draws.get((key, index))
        if found is None:
            if len(self._draws) > 100_000:
                self._draws.clear()
            found = self._draws[(key, index)] = _gauss(key, index)
        return found

    def _level_keys(self, venue: str, symbol: str, side: str, depth: int) -> list[bytes]:
        keys = self._depth_keys.setdefault((venue, symbol, side), [])
        while len(keys) < depth:
            keys.append(self._key("depth", venue, symbol, side, str(len(keys))))
        return keys

    # -- prices --------------------------------------------------------------------------
    def _sigma(self, vol_daily: float) -> float:
        return vol_daily / math.sqrt(SECONDS_PER_DAY * _DAY_VAR_PER_SIGMA2)

    def log_price(self, base: str, t_s: float) -> float:
        asset = ASSETS.get(base, DEFAULT_ASSET)
        market = value_noise(self._key("crypto-market"), t_s, gauss=self._gauss)
        own = value_noise(self._key("asset", base), t_s, gauss=self._gauss)
        sigma = self._sigma(asset.vol_daily)
        # common factor and idiosyncratic part weighted so the total variance is vol_daily^2
        w_market = asset.beta / math.sqrt(1 + asset.beta**2)
        w_own = 1 / math.sqrt(1 + asset.beta**2)
        anchor = asset.anchor if base in ASSETS else 0.5 + (int.from_bytes(hashlib.blake2b(self._key("anchor", base), digest_size=4).digest(), "little") % 1000) / 100
        return math.log(anchor) + sigma * (w_market * market + w_own * own)

    def probability(self, inst: Instrument, t_s: float) -> float:
        """Event contracts: a logistic random walk around a contract-specific start."""
        start = 0.1 + 0.8 * _uniforms(self._key("event0", inst.symbol), 0)[0]
        x = math.log(start / (1 - start)) + 0.8 * self._sigma(0.3) * value_noise(self._key("event", inst.symbol), t_s, gauss=self._gauss)
        p = 1 / (1 + math.exp(-x))
        return p if inst.outcome != "NO" else 1 - p

    def mid(self, inst: Instrument, t_s: float) -> float:
        if inst.kind == "event_contract":
            return self.probability(inst, t_s)
        profile = VENUES.get(inst.venue, DEFAULT_VENUE)
        log_p = self.log_price(inst.base, t_s)
        # A venue's deviation from the common price stays well inside its half-spread most of
        # the time (arbitrage keeps venues aligned), so a merged NBBO crosses only rarely, as
        # in real markets. Stablecoins are priced at par, as quotes and the SOR merge them
        # (docs/decisions.md): a USDT/USDC basis wider than a one-tick Binance spread would
        # show the same venue's USDT and USDC books crossing each other.
        basis = profile.basis_bps * 1e-4 * value_noise(self._key("basis", inst.venue, inst.base), t_s, SCALES_S[:2], self._gauss) / 6.0
        if inst.kind == "perp":
            basis += PERP_PREMIUM_BPS * 1e-4
        return math.exp(log_p + basis)

    # -- venue clock ---------------------------------------------------------------------
    def last_update_ns(self, venue: str, at_ns: int) -> int:
        """The venue's latest book update not after ``at_ns`` minus its feed latency."""
        profile = VENUES.get(venue, DEFAULT_VENUE)
        cadence = int(profile.cadence_ms * 1e6)
        seen = at_ns - int(profile.latency_ms * 1e6)
        slot = seen // cadence
        known = self._clock.get(venue)
        if known is not None and known[0] == slot:
            # the same slot as the last answer: its tick, or, before it, the previous one
            return known[1] if seen >= known[1] else known[2]
        key = self._key("clock", venue)
        ts = slot * cadence + int(_uniforms(key, slot)[0] * cadence)
        before = (slot - 1) * cadence + int(_uniforms(key, slot - 1)[0] * cadence)
        self._clock[venue] = (slot, ts, before)
        return ts if ts <= seen else before

    # -- books ---------------------------------------------------------------------------
    def book(self, inst: Instrument, at_ns: int, depth: int = 20) -> OrderBook:
        ts = self.last_update_ns(inst.venue, at_ns)
        key = (inst.venue, inst.symbol, inst.outcome, inst.tick_size, inst.lot_size)
        hit = self._cache.get(key)
        if hit is not None and hit[0] == ts and hit[1] >= depth:
            b = hit[2]
            return msgspec.structs.replace(b, received_ns=at_ns, bids=b.bids[:depth], asks=b.asks[:depth])
        book = self._make_book(inst, ts, at_ns, depth)
        if len(self._cache) > 4096:
            self._cache.clear()
        self._cache[key] = (ts, depth, book)
        return msgspec.structs.replace(book, bids=book.bids[:depth], asks=book.asks[:depth])

    def _make_book(self, inst: Instrument, ts: int, at_ns: int, depth: int) -> OrderBook:
        t_s = ts / 1e9
        profile = VENUES.get(inst.venue, DEFAULT_VENUE)
        tick, lot = inst.tick_size, inst.lot_size
        mid = self.mid(inst, t_s)
        tick_f = float(tick)
        # spread: the venue's median, widened at times (lognormal), never under one tick
        u = self._gauss(self._key("spread", inst.venue, inst.symbol), int(t_s * 2))
        spread_ticks = max(1, round(mid * profile.spread_bps * 1e-4 * math.exp(0.5 * u) / tick_f))
        bid0 = (Decimal(repr(mid - spread_ticks * tick_f / 2)) / tick).to_integral_value(ROUND_FLOOR) * tick
        ask0 = bid0 + spread_ticks * tick
        if inst.kind == "event_contract":
            bid0, ask0 = max(bid0, tick), min(ask0, Decimal(1) - tick)
        gap_ticks = max(1, round(mid * profile.level_gap_bps * 1e-4 / tick_f))
        top_qty = profile.top_notional_usd / max(mid, 1e-9)
        bids, asks = [], []
        quarter = int(t_s * 4)
        for side, start, sign, out in (("b", bid0, -1, bids), ("a", ask0, 1, asks)):
            price = start
            keys = self._level_keys(inst.venue, inst.symbol, side, depth)
            for level in range(depth):
                if inst.kind == "event_contract" and not (Decimal(0) < price < Decimal(1)):
                    break
                g = self._gauss(keys[level], quarter)
                qty = top_qty * (1 + 0.6 * level) * math.exp(0.5 * g)
                size = (Decimal(repr(qty)) / lot).to_integral_value(ROUND_CEILING) * lot
                out.append(BookLevel(price, size))
                step = gap_ticks * (1 + level // 5)
                price = price + sign * step * tick
        return OrderBook(inst.venue, inst.symbol, ts, at_ns, tuple(bids), tuple(asks), self.label())

    # -- trades ----------------------------------------------------------------------------
    def trades(self, inst: Instrument, start_ns: int, end_ns: int) -> list[Trade]:
        """Trades printed on ``inst`` in [start_ns, end_ns): Poisson arrivals at the venue's
        rate (drawn per whole second, so any window gives the same prints), lognormal
        notional sizes, the aggressor's side leaning with the price's drift, each at the
        touch of the book at that moment. Deterministic for the seed."""
        profile = VENUES.get(inst.venue, DEFAULT_VENUE)
        out = []
        for second in range(start_ns // 1_000_000_000, -(-end_ns // 1_000_000_000)):
            rnd = random.Random(f"{self.seed}|trades|{inst.venue}|{inst.symbol}|{inst.outcome}|{second}")
            t = float(second)
            while True:
                t += rnd.expovariate(profile.trades_per_s)
                if t >= second + 1:
                    break
                ts = int(t * 1e9)
                # every arrival consumes its draws, in or out of the window, so any window
                # over the same seconds prints the same trades
                side_draw = rnd.random()
                notional = rnd.lognormvariate(math.log(TRADE_NOTIONAL_MEDIAN_USD), TRADE_NOTIONAL_SIGMA)
                if not start_ns <= ts < end_ns:
                    continue
                book = self.book(inst, ts, depth=1)
                drift = self.mid(inst, t) - self.mid(inst, t - 1.0)
                buy = side_draw < (0.6 if drift > 0 else 0.4)
                level = book.best_ask if buy else book.best_bid
                if level is None:
                    continue
                qty = (Decimal(repr(notional / max(float(level.price), 1e-9))) / inst.lot_size).to_integral_value(ROUND_CEILING) * inst.lot_size
                out.append(Trade(inst.venue, inst.symbol, ts, 1 if buy else -1, level.price, qty))
        return out

    def books(self, instruments, at_ns=None, depth=20):
        at = self.now_ns() if at_ns is None else at_ns
        return [self.book(i, at, depth) for i in instruments]
