"""The ``replay`` market-data source: recorded books from the store, at a chosen moment.
Imported lazily inside the hook so CLI start-up stays light."""

from sequence_core.hookspecs import hookimpl


@hookimpl
def register_market_data_sources(register):
    from .source import ReplaySource

    register(ReplaySource())
