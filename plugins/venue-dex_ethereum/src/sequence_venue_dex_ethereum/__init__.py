"""Sequence venue plugin for DEX (Ethereum, Arbitrum). See venue.py for the protocol facts it relies on.

The implementation is imported inside the hook, not here: every CLI start imports this
module, and only commands that need venues call the hook.
"""

from sequence_core.hookspecs import hookimpl


@hookimpl
def register_venues(register):
    from .venue import DexEthereumVenue

    register(DexEthereumVenue())
