"""Sim-engine model plugins: queue position, latency and fees.

Models are plugins (hooks ``register_queue_models``, ``register_latency_models``,
``register_fee_models``) so any third party can add one. The hot loop calls queue and latency
models through C function pointers, so a model is any C-ABI function: usually a numba
``@cfunc(cache=True)``, but C, Rust or Zig work as well. The ABI (docs/backtest-assumptions.md):

Queue model (state ``q[0]`` = quantity ahead of the order at its level, ``q[1]`` = quantity
traded at that level since the last depth update; quantities in units, not fixed point)::

    void depth(double* q, double prev_qty, double new_qty, const double* params)
    void trade(double* q, double trade_qty, double unused, const double* params)

The engine starts ``q[0]`` at the level's size when the order arrives, caps it at the level's
size after every depth update, and fills the order once ``round(q[0] / lot) < 0`` (a model
that sets ``q[0]`` below -1e18 fills the whole order at once).

Latency model (``kind``: 0 feed, 1 order entry, 2 modify, 3 cancel, 4 response; returns
nanoseconds; ``rng`` is the run's seeded xorshift128+ state, two uint64 words)::

    int64 latency(int64 kind, int64 ts, int64 instrument, uint64* rng, const double* params)

A latency model with ``feed_recorded = True`` is never asked for kind 0: the strategy sees
each event at its recorded receive time.

Models take parameters from the model spec on the command line: ``name`` or
``name:key=value,key=value`` (e.g. ``probabilistic:fn=log`` or ``constant:entry=2ms``).
"""

from __future__ import annotations

import math
from typing import Any

import msgspec

from ..errors import UsageError


class ModelSpec(msgspec.Struct, frozen=True):
    kind: str                          # queue | latency | fee
    name: str
    params: dict[str, str] = {}

    def __str__(self) -> str:
        if not self.params:
            return self.name
        return self.name + ":" + ",".join(f"{k}={v}" for k, v in sorted(self.params.items()))


class Calibration(msgspec.Struct):
    """What a model may look at before the run: the instruments and a sample of the recorded
    exchange-to-receive gaps (ns) of each, from the window's data."""

    venues: list[str]                  # venue of each instrument index
    symbols: list[str]
    gaps_ns: list[Any]                 # numpy int64 arrays, one per instrument (may be empty)


def parse_spec(kind: str, text: str) -> ModelSpec:
    """``name`` or ``name:key=value,key=value``. A ':' with no parameters after it, an empty
    item (``a=1,,b=2``) and a key given twice are refused: each would be silently dropped."""
    name, colon, rest = text.partition(":")
    name = name.strip()
    params: dict[str, str] = {}
    if colon and not rest.strip():
        raise UsageError(f"{kind} model '{text}' has an empty parameter list after ':'; "
                         f"give '{name}' or '{name}:key=value,...'")
    for item in (p.strip() for p in rest.split(",")) if colon else ():
        if not item:
            raise UsageError(f"{kind} model '{text}' has an empty parameter between commas")
        key, eq, value = item.partition("=")
        if not eq or not key.strip() or not value.strip():
            raise UsageError(f"{kind} model parameter '{item}' in '{text}' is not key=value")
        if key.strip() in params:
            raise UsageError(f"{kind} model '{text}' gives parameter '{key.strip()}' twice")
        params[key.strip()] = value.strip()
    return ModelSpec(kind, name, params)


MAX_DURATION_NS = 86_400 * 1_000_000_000     # a model's duration: at most one day


def duration_ns(value: str, what: str) -> int:
    """'1ms', '250us', '3ns', '0.5s' or a bare number of nanoseconds: finite, from 0 to one
    day (a latency beyond the whole window only overflows the clocks)."""
    units = (("ns", 1), ("us", 1_000), ("µs", 1_000), ("ms", 1_000_000), ("s", 1_000_000_000))
    text = value.strip()
    for suffix, scale in sorted(units, key=lambda u: -len(u[0])):
        if text.endswith(suffix):
            number = text[: -len(suffix)]
            break
    else:
        number, scale = text, 1
    try:
        out = float(number.replace("_", "")) * scale
    except ValueError:
        raise UsageError(f"{what} '{value}' is not a duration (e.g. 1ms, 250us, 0.5s)") from None
    if not math.isfinite(out):
        raise UsageError(f"{what} '{value}' must be a finite number (a duration such as 1ms, 250us, 0.5s)")
    if out < 0:
        raise UsageError(f"{what} '{value}' is negative")
    if out > MAX_DURATION_NS:
        raise UsageError(f"{what} '{value}' is more than one day (at most 86400s)")
    return int(round(out))


def number(value: str, what: str) -> float:
    """A model parameter's number: finite (nan, inf and overflowing values such as 1e400
    are refused)."""
    try:
        out = float(value.replace("_", ""))
    except ValueError:
        raise UsageError(f"{what} '{value}' is not a number") from None
    if not math.isfinite(out):
        raise UsageError(f"{what} '{value}' must be a finite number")
    return out


def check_params(spec: ModelSpec, allowed: dict[str, str]) -> None:
    unknown = sorted(set(spec.params) - set(allowed))
    if unknown:
        accepted = ", ".join(f"{k} ({v})" for k, v in allowed.items()) or "none"
        raise UsageError(f"{spec.kind} model '{spec.name}' has no parameter '{unknown[0]}'; accepted: {accepted}")


def _registry(hook: str) -> dict:
    from ..plugins import get_plugins

    return get_plugins().registry(hook)


def queue_models() -> dict:
    return _registry("register_queue_models")


def latency_models() -> dict:
    return _registry("register_latency_models")


def fee_models() -> dict:
    return _registry("register_fee_models")


def get_model(kind: str, text: str):
    """(model object, ModelSpec) for a spec string, or a UsageError listing what exists."""
    spec = parse_spec(kind, text)
    found = {"queue": queue_models, "latency": latency_models, "fee": fee_models}[kind]()
    if spec.name not in found:
        names = ", ".join(sorted(found)) or "none installed (pip install the sequence-models-* plugins)"
        raise UsageError(f"unknown {kind} model '{spec.name}'; installed: {names}")
    return found[spec.name], spec
