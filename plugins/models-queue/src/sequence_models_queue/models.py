"""Queue-position models for resting orders (the ABI is in sequence_core/sim/models.py).

``q[0]``: quantity ahead of our order at its price level; ``q[1]``: quantity traded at that
level since the last depth update, so a depth update that merely reflects a trade already
counted does not advance the queue twice (the same bookkeeping as hftbacktest's models).

- ``none``: no queue at all; the order fills in full as soon as a trade prints at its price
  (or the book trades through it). The most optimistic fill assumption.
- ``probabilistic`` (default): on a decrease of the level not explained by trades, the part
  cancelled in front of us is estimated with a probability ``p(front, back)`` of where the
  cancellation happened (Moallemi & Yuan's queue-position estimate, as in hftbacktest's
  ProbQueueModel): ``front' = front - (1 - p)·chg + min(back - p·chg, 0)``, capped at the
  new level size. Functions (param ``fn``, exponent ``n``, default ``power`` with n = 3):
  ``power``  p = back^n / (back^n + front^n)
  ``log``    p = ln(1+back) / (ln(1+back) + ln(1+front))
  ``power2`` p = back^n / (back + front)^n
  ``log2``   p = ln(1+back) / ln(1+back+front)
  ``power3`` p = 1 - (front / (front + back))^n
- ``aggressive``: every decrease of the level not explained by trades is a cancellation in
  front of us (optimistic).
- ``risk-averse``: only trades advance the queue; cancellations are all behind us (the
  queue ahead only shrinks when the level itself becomes smaller than it).
"""

import math

import numpy as np
from numba import cfunc, types

from sequence_core.sim.models import check_params, number

_SIG = types.void(types.CPointer(types.float64), types.float64, types.float64, types.CPointer(types.float64))

FNS = {"power": 0, "log": 1, "power2": 2, "log2": 3, "power3": 4}


@cfunc(_SIG, cache=True, error_model="numpy")
def _trade(q, qty, _unused, params):
    q[0] -= qty
    q[1] += qty


@cfunc(_SIG, cache=True, error_model="numpy")
def _none_trade(q, qty, _unused, params):
    q[0] = -1e300


@cfunc(_SIG, cache=True, error_model="numpy")
def _none_depth(q, prev_qty, new_qty, params):
    q[0] = 0.0


@cfunc(_SIG, cache=True, error_model="numpy")
def _prob_depth(q, prev_qty, new_qty, params):
    chg = prev_qty - new_qty - q[1]
    q[1] = 0.0
    if chg < 0.0:
        q[0] = min(q[0], new_qty)
        return
    front = q[0]
    back = prev_qty - front
    fn = int(params[0])
    n = params[1]
    if fn == 0:
        prob = back ** n / (back ** n + front ** n)
    elif fn == 1:
        prob = np.log(1.0 + back) / (np.log(1.0 + back) + np.log(1.0 + front))
    elif fn == 2:
        prob = back ** n / (back + front) ** n
    elif fn == 3:
        prob = np.log(1.0 + back) / np.log(1.0 + back + front)
    else:
        prob = 1.0 - (front / (front + back)) ** n
    if math.isinf(prob):
        prob = 1.0
    if math.isnan(prob):
        # 0/0 (nothing ahead, nothing behind): no estimate, keep within the level
        q[0] = min(q[0], new_qty)
        return
    est = front - (1.0 - prob) * chg + min(back - prob * chg, 0.0)
    q[0] = min(est, new_qty)


@cfunc(_SIG, cache=True, error_model="numpy")
def _aggressive_depth(q, prev_qty, new_qty, params):
    chg = prev_qty - new_qty - q[1]
    q[1] = 0.0
    if chg > 0.0:
        q[0] -= chg
    q[0] = min(q[0], new_qty)


@cfunc(_SIG, cache=True, error_model="numpy")
def _risk_averse_depth(q, prev_qty, new_qty, params):
    q[1] = 0.0
    q[0] = min(q[0], new_qty)


class QueueModel:
    """A queue model: its two C entry points and how its parameters become a vector."""

    params_help: dict = {}

    def __init__(self, name, description, depth, trade):
        self.name = name
        self.description = description
        self._depth = depth
        self._trade = trade

    def prepare(self, spec, calibration=None):
        """(depth address, trade address, float64 parameter vector)."""
        check_params(spec, self.params_help)
        return self._depth.address, self._trade.address, np.zeros(4)


class Probabilistic(QueueModel):
    params_help = {"fn": "power | log | power2 | log2 | power3, default power", "n": "exponent, default 3"}

    def __init__(self):
        super().__init__("probabilistic", "queue advanced by the probability that a cancel was ahead "
                         "(power/log family, default power n=3)", _prob_depth, _trade)

    def prepare(self, spec, calibration=None):
        from sequence_core.errors import UsageError

        check_params(spec, self.params_help)
        fn = spec.params.get("fn", "power")
        if fn not in FNS:
            raise UsageError(f"queue model probabilistic: fn '{fn}' is not one of {', '.join(FNS)}")
        n = number(spec.params.get("n", "3"), "queue model probabilistic: n")
        if n <= 0:
            raise UsageError("queue model probabilistic: n must be positive")
        return self._depth.address, self._trade.address, np.array([FNS[fn], n, 0.0, 0.0])


MODELS = [
    QueueModel("none", "no queue: fills in full when a trade touches the order's price", _none_depth, _none_trade),
    Probabilistic(),
    QueueModel("aggressive", "optimistic: every cancel at the level was ahead of the order", _aggressive_depth, _trade),
    QueueModel("risk-averse", "pessimistic: only trades advance the queue", _risk_averse_depth, _trade),
]
