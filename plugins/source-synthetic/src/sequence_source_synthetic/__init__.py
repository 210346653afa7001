"""The ``synthetic`` market-data source: a seeded market that needs no network."""

from sequence_core.hookspecs import hookimpl

from .source import SyntheticSource


@hookimpl
def register_market_data_sources(register):
    register(SyntheticSource())
