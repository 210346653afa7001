"""Sequence execution policy ``iceberg``. See policy.py; imported lazily inside the hook."""

from sequence_core.hookspecs import hookimpl


@hookimpl
def register_policies(register):
    from .policy import IcebergPolicy

    register(IcebergPolicy())
