"""Latency models (the ABI is in sequence_core/sim/models.py).

Kinds: 0 feed, 1 order entry, 2 modify, 3 cancel, 4 response (exchange → strategy).

- ``none``: zero everywhere; the strategy even sees each event at its exchange time.
- ``constant``: fixed order latencies (params ``entry``, ``modify``, ``cancel``,
  ``response``, default 1ms each); the feed is what was recorded.
- ``log-normal``: each order-path latency drawn from a log-normal distribution with median
  ``median`` (default 5ms) and shape ``sigma`` (default 0.5, so p99 ≈ 3.2 × median); per-kind
  medians may be set with ``entry``, ``modify``, ``cancel``, ``response``. Feed: recorded.
- ``per-venue`` (default): calibrated from the data itself. For each instrument the recorded
  exchange-to-receive gaps (``ts_recv - ts_exchange``) of the window are taken as the venue's
  one-way network latency; every order-path latency is a draw from that empirical
  distribution (1,024 quantiles), so a venue recorded far away is slow to trade on, too.
  Feed: recorded. Instruments without usable gaps (no exchange time recorded) fall back to
  ``fallback`` (default 5ms).
"""

import math

import numpy as np
from numba import cfunc, njit, types

from sequence_core.errors import UsageError
from sequence_core.sim.models import check_params, duration_ns, number

_SIG = types.int64(types.int64, types.int64, types.int64, types.CPointer(types.uint64), types.CPointer(types.float64))
QUANTILES = 1024


@njit(cache=True, error_model="numpy")
def _next(rng):
    """xorshift128+ on the run's two state words (deterministic for a --seed)."""
    s1 = rng[0]
    s0 = rng[1]
    rng[0] = s0
    s1 ^= s1 << np.uint64(23)
    s1 = s1 ^ s0 ^ (s1 >> np.uint64(17)) ^ (s0 >> np.uint64(26))
    rng[1] = s1
    return s1 + s0


@njit(cache=True, error_model="numpy")
def _uniform(rng):
    return ((_next(rng) >> np.uint64(11)) + 0.5) * (1.0 / 9007199254740992.0)


@cfunc(_SIG, cache=True, error_model="numpy")
def _constant(kind, ts, inst, rng, params):
    if kind <= 0 or kind > 4:
        return 0
    return np.int64(params[kind])


@cfunc(_SIG, cache=True, error_model="numpy")
def _lognormal(kind, ts, inst, rng, params):
    if kind <= 0 or kind > 4:
        return 0
    u1 = _uniform(rng)
    u2 = _uniform(rng)
    z = math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)
    return np.int64(params[kind] * math.exp(params[0] * z))


@cfunc(_SIG, cache=True, error_model="numpy")
def _empirical(kind, ts, inst, rng, params):
    if kind <= 0 or kind > 4:
        return 0
    k = np.int64(params[0])
    j = np.int64(_next(rng) % np.uint64(k))
    return np.int64(params[1 + inst * k + j])


class LatencyModel:
    params_help: dict = {}
    feed_recorded = True

    def __init__(self, name, description, fn=None, feed_recorded=True):
        self.name = name
        self.description = description
        self._fn = fn
        self.feed_recorded = feed_recorded

    def prepare(self, spec, calibration):
        """(function address or 0 for always-zero, float64 parameter vector)."""
        check_params(spec, self.params_help)
        return 0, np.zeros(1)


class Constant(LatencyModel):
    params_help = {k: "duration, default 1ms" for k in ("entry", "modify", "cancel", "response")}

    def __init__(self):
        super().__init__("constant", "fixed order-path latencies (default 1ms each), recorded feed", _constant)

    def prepare(self, spec, calibration):
        check_params(spec, self.params_help)
        vec = np.zeros(5)
        for kind, key in enumerate(("entry", "modify", "cancel", "response"), start=1):
            vec[kind] = duration_ns(spec.params.get(key, "1ms"), f"latency model constant: {key}")
        return self._fn.address, vec


class LogNormal(LatencyModel):
    params_help = {"median": "duration, default 5ms", "sigma": "shape, default 0.5",
                   **{k: "median for that path (duration)" for k in ("entry", "modify", "cancel", "response")}}

    def __init__(self):
        super().__init__("log-normal", "order-path latencies ~ log-normal (median 5ms, sigma 0.5), recorded feed",
                         _lognormal)

    def prepare(self, spec, calibration):
        check_params(spec, self.params_help)
        sigma = number(spec.params.get("sigma", "0.5"), "latency model log-normal: sigma")
        if sigma < 0:
            raise UsageError("latency model log-normal: sigma must not be negative")
        median = duration_ns(spec.params.get("median", "5ms"), "latency model log-normal: median")
        vec = np.zeros(5)
        vec[0] = sigma
        for kind, key in enumerate(("entry", "modify", "cancel", "response"), start=1):
            vec[kind] = duration_ns(spec.params[key], f"latency model log-normal: {key}") if key in spec.params else median
        return self._fn.address, vec


class PerVenue(LatencyModel):
    params_help = {"fallback": "duration for instruments with no recorded gaps, default 5ms"}

    def __init__(self):
        super().__init__("per-venue", "order-path latencies drawn from each venue's recorded "
                         "exchange-to-receive gaps; recorded feed", _empirical)

    def prepare(self, spec, calibration):
        check_params(spec, self.params_help)
        fallback = duration_ns(spec.params.get("fallback", "5ms"), "latency model per-venue: fallback")
        vec = np.zeros(1 + QUANTILES * len(calibration.gaps_ns))
        vec[0] = QUANTILES
        for i, gaps in enumerate(calibration.gaps_ns):
            gaps = np.asarray(gaps, dtype=np.int64)
            gaps = gaps[(gaps >= 0) & (gaps < 60_000_000_000)]
            if len(gaps) == 0:
                row = np.full(QUANTILES, float(fallback))
            else:
                row = np.quantile(gaps, (np.arange(QUANTILES) + 0.5) / QUANTILES, method="inverted_cdf")
            vec[1 + i * QUANTILES: 1 + (i + 1) * QUANTILES] = row
        return self._fn.address, vec


MODELS = [
    LatencyModel("none", "no latency anywhere; the strategy sees events at exchange time", None, feed_recorded=False),
    Constant(),
    LogNormal(),
    PerVenue(),
]
