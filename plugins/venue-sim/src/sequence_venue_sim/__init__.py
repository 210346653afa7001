"""Sequence venue plugin ``sim``: the paper venues behind sandbox mode.

In sandbox, every order goes to paper accounts kept under ``<home>/sandbox/`` instead of
a real venue. This distribution owns that paper exchange; later levels add its matching
against the active market-data source.
"""

from sequence_core.hookspecs import hookimpl

from .venue import SimVenue


@hookimpl
def register_venues(register):
    register(SimVenue())
