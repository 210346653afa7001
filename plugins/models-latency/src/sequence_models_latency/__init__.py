"""Sequence latency models (hook ``register_latency_models``); implementations in models.py
are numba C callbacks loaded only when a backtest asks for one."""

from sequence_core.hookspecs import hookimpl


@hookimpl
def register_latency_models(register):
    from .models import MODELS

    for model in MODELS:
        register(model)
