"""Kalshi: the instruments this plugin declares, and the symbol map.

Ticks, lots and minimums follow the venue's instrument endpoint (see venue.py); the
sandbox trades exactly these.
"""

from sequence_core.market import SymbolMap, event

V = "kalshi"


def event_pair(venue, ticker, title):
    """Both outcomes of a binary market: YES and NO are separate books on Kalshi."""
    return (event(venue, ticker, "YES", ticker, "USD", "0.01", "1", title),
            event(venue, ticker, "NO", ticker + ":NO", "USD", "0.01", "1", title))

INSTRUMENTS = (
    *event_pair(V, "KXBTCZ-26DEC31-T99000", "Bitcoin above $99,000 at the end of 2026?"),
    *event_pair(V, "KXETHZ-26DEC31-T4000", "Ether above $4,000 at the end of 2026?"),
    *event_pair(V, "KXMLBHR-26APR292140KCATH-ATHLBUTLER4-1", "Lawrence Butler to hit a home run (KC at ATH, Apr 29)?"),
)

SYMBOLS = SymbolMap(INSTRUMENTS)
