"""The ``synthetic`` market-data source: a seeded market that needs no network.
Imported lazily inside the hook so CLI start-up stays light."""

from sequence_core.hookspecs import hookimpl


@hookimpl
def register_market_data_sources(register):
    from .source import SyntheticSource

    register(SyntheticSource())
