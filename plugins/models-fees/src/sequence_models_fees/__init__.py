"""Sequence fee models (hook ``register_fee_models``)."""

from sequence_core.hookspecs import hookimpl


@hookimpl
def register_fee_models(register):
    from .models import MODELS

    for model in MODELS:
        register(model)
