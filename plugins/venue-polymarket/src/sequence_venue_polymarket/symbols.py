"""Polymarket: the instruments this plugin declares, and the symbol map.

Ticks, lots and minimums follow the venue's instrument endpoint (see venue.py); the
sandbox trades exactly these. The token ids are illustrative 77-digit ids for the sandbox
(the first market's YES id is the one Polymarket's API docs use in their examples); the
live adapter resolves real ids from a slug through the Gamma API.
"""

from sequence_core.market import SymbolMap, event

V = "polymarket"


def market(venue, slug, title, yes_token, no_token):
    """A binary market: one CLOB token per outcome; the token id resolves too."""
    return (event(venue, slug, "YES", yes_token, "USDC", "0.01", "0.01", title, (yes_token,), "5"),
            event(venue, slug, "NO", no_token, "USDC", "0.01", "0.01", title, (no_token,), "5"))

INSTRUMENTS = (
    *market(V, "fed-decision-in-october", "Fed decision in October: rate cut?",
            "21742633143463906290569050155826241533067272736897614950488156847949938836455",
            "48331043336612883890938759509493159234755048973500640148014422747788308965732"),
    *market(V, "will-bitcoin-reach-150k-in-2026", "Will Bitcoin reach $150,000 in 2026?",
            "71321045679252212594626385532706912750332728571942532289631379312455583992563",
            "52114319501245915516055106046884209969926127482827954674443846427813813222426"),
)

SYMBOLS = SymbolMap(INSTRUMENTS)
