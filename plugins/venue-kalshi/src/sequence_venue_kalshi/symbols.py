"""Kalshi: the instruments this plugin declares, and the symbol map.

A Kalshi market (ticker ``KXBTCZ-26DEC31-T99000``) is one binary contract with two outcomes;
each is an instrument here: YES with the ticker as venue symbol, NO as ``<ticker>:NO``. The
canonical symbol is the ticker, ``:YES``/``:NO`` picks the outcome. Prices are dollars in
(0, 1); tick from the market's ``price_ranges`` (``linear_cent`` $0.01; ``deci_cent``
$0.001; ``tapered_deci_cent`` $0.001 only at the tails, so the coarser $0.01 is declared:
every price on it is valid everywhere), lot $0.01 contracts where
``fractional_trading_enabled`` else 1
(https://docs.kalshi.com/getting_started/fixed_point_migration). The sandbox trades exactly
these declarations.
"""

from decimal import Decimal

from sequence_core.market import SymbolMap, event

V = "kalshi"
NO_SUFFIX = ":NO"


def event_pair(venue, ticker, title, tick="0.01", lot="1"):
    """Both outcomes of a binary market: YES and NO are separate books on Kalshi."""
    return (event(venue, ticker, "YES", ticker, "USD", tick, lot, title, min_qty=lot),
            event(venue, ticker, "NO", ticker + NO_SUFFIX, "USD", tick, lot, title, min_qty=lot))


INSTRUMENTS = (
    *event_pair(V, "KXBTCZ-26DEC31-T99000", "Bitcoin above $99,000 at the end of 2026?"),
    *event_pair(V, "KXETHZ-26DEC31-T4000", "Ether above $4,000 at the end of 2026?"),
    *event_pair(V, "KXMLBHR-26APR292140KCATH-ATHLBUTLER4-1", "Lawrence Butler to hit a home run (KC at ATH, Apr 29)?"),
)

SYMBOLS = SymbolMap(INSTRUMENTS)


def ticker_of(inst) -> str:
    """The Kalshi market ticker behind either outcome's instrument."""
    return inst.venue_symbol.removesuffix(NO_SUFFIX)


def tick_of(market: dict) -> str:
    """The coarsest step of ``price_ranges``: valid across the whole range."""
    steps = [Decimal(r["step"]) for r in market.get("price_ranges") or [] if r.get("step")]
    return format(max(steps).normalize(), "f") if steps else "0.01"


def from_markets(markets: list) -> list:
    """Both outcomes of each binary market from ``GET /markets`` (or ``/markets/{ticker}``)."""
    import msgspec

    out = []
    for m in markets:
        if m.get("market_type", "binary") != "binary":
            continue
        lot = "0.01" if m.get("fractional_trading_enabled") else "1"
        status = "trading" if m.get("status") in ("active", "open") else "halted"
        for inst in event_pair(V, m["ticker"], m.get("title", ""), tick_of(m), lot):
            out.append(msgspec.structs.replace(inst, status=status))
    return out
