"""Sequence queue models (hook ``register_queue_models``). Implementations in models.py are
numba C callbacks, imported (and compiled or loaded from numba's cache) only when a backtest
asks for a model."""

from sequence_core.hookspecs import hookimpl


@hookimpl
def register_queue_models(register):
    from .models import MODELS

    for model in MODELS:
        register(model)
