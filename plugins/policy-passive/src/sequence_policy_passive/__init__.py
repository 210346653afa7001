"""Sequence execution policy ``passive``. See policy.py; imported lazily inside the hook."""

from sequence_core.hookspecs import hookimpl


@hookimpl
def register_policies(register):
    from .policy import PassivePolicy

    register(PassivePolicy())
