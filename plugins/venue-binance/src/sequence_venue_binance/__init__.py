"""Sequence venue plugin for Binance. See venue.py for the protocol facts it relies on."""

from sequence_core.hookspecs import hookimpl

from .venue import BinanceVenue


@hookimpl
def register_venues(register):
    register(BinanceVenue())
