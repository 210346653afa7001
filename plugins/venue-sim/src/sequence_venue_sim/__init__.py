"""Sequence venue plugin ``sim``: the paper venues behind sandbox mode.

In sandbox, every order goes to paper accounts kept under ``<home>/sandbox/`` instead of
a real venue; ``paper.py`` matches them against the active market-data source. The
implementation is imported inside the hook so CLI start-up stays light.
"""

from sequence_core.hookspecs import hookimpl


@hookimpl
def register_venues(register):
    from .venue import SimVenue

    register(SimVenue())
