"""Level 1 — See: quote, symbols, fees, positions."""

from __future__ import annotations

from decimal import Decimal

import click

from .output import emit, line, note, state, table


def _client():
    from sequence_core.client import Sequence

    from .connect import _prompt_passphrase

    return Sequence(sandbox=state().sandbox, passphrase=_prompt_passphrase)


def places(step: Decimal) -> int:
    return max(0, -step.normalize().as_tuple().exponent)


def price(value: Decimal | None, tick: Decimal) -> str | None:
    """Thousands separators and the tick's decimals (2,325.53)."""
    if value is None:
        return None
    return f"{value:,.{max(2, places(tick))}f}"


def qty(value: Decimal | None) -> str | None:
    if value is None:
        return None
    text = f"{value.normalize():f}"
    if "." not in text or len(text) < 12:
        return text
    short = f"{value:.{max(1, 10 - len(text.split('.')[0]))}f}"
    return text if value and not Decimal(short) else short      # a tick of 1e-10 is not 0.000000000


def _source_option(f):
    return click.option("--source", metavar="NAME", help="Market-data source (synthetic, replay, live); default: synthetic in sandbox, live otherwise.")(f)


def _render_quote(q) -> None:
    from datetime import datetime, timezone

    when = datetime.fromtimestamp(q.at_ns / 1e9, timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%fZ")[:-4] + "Z"
    line(f"{q.symbol} · source: {q.source} · {when}")
    n = q.nbbo
    table(["NBBO", "BID", "ASK", "SPREAD"],
          [("best", price(n.bid, q.tick), price(n.ask, q.tick), f"{n.spread_bps:.2f} bps" if n.spread_bps is not None else None)],
          right=["BID", "ASK", "SPREAD"])
    table(["VENUE", "BID", "ASK", "BID_SZ", "ASK_SZ", "AGE", "BOOK"],
          [(r.venue, price(r.bid, q.tick), price(r.ask, q.tick), qty(r.bid_size), qty(r.ask_size), f"{r.age_ms:.0f}ms", r.book)
           for r in q.venues],
          right=["BID", "ASK", "BID_SZ", "ASK_SZ", "AGE"])
    if n.spread_bps is not None and n.spread_bps < 0:
        # say so: a negative spread reads as a broken quote
        line(f"crossed: {n.bid_venue}'s bid is above {n.ask_venue}'s ask (each book is as of its AGE: "
             "venues that updated at different moments disagree by what the price moved between)")


@click.command()
@click.argument("symbol")
@_source_option
def quote(symbol, source):
    """Real-time NBBO plus per-venue BBO (CEX pairs, Polymarket slugs, Kalshi tickers, token ids).

    A USD pair (BTC-USD) merges the venues' USD, USDT and USDC books; BOOK names the real
    book of each row. AGE is how old each venue's state is.
    """
    emit(_client().quote(symbol, source), _render_quote)


def _render_symbols(rows) -> None:
    from sequence_core.market import outcome_symbol

    if not rows:
        line("No instruments: connect a venue (`sequence connect <venue>`) or use --sandbox.")
        return
    table(["SYMBOL", "VENUE", "VENUE_SYMBOL", "KIND", "TICK", "LOT", "MIN_NOTIONAL", "STATUS"],
          [(outcome_symbol(i.symbol, i.outcome), i.venue, i.venue_symbol, i.kind, qty(i.tick_size),
            qty(i.lot_size), qty(i.min_notional), i.status) for i in rows],
          right=["TICK", "LOT", "MIN_NOTIONAL"])


@click.command()
@click.option("--venue", "venue_filter", multiple=True, metavar="NAME", help="Only these venues (repeatable or comma-separated).")
def symbols(venue_filter):
    """Every tradable instrument: canonical symbol, venue symbol, kind, tick, lot, min notional."""
    from sequence_core.market import parse_names

    emit(_client().symbols(parse_names(venue_filter) or None), _render_symbols)


def _bps(rate: Decimal | None) -> str | None:
    if rate is None:
        return None
    return f"{rate * 10_000:.2f} bps"


def _render_fees(rows) -> None:
    def rate(r, value):
        return r.curve if r.curve and value else ("0" if r.curve else _bps(value))

    table(["VENUE", "BOOK", "MAKER", "TAKER", "MODEL", "SOURCE"],
          [(r.venue, r.book, rate(r, r.maker), rate(r, r.taker), r.model, r.source) for r in rows],
          right=["MAKER", "TAKER"])
    for note_line in dict.fromkeys(f"{r.venue}: {r.notes}" for r in rows if r.notes):
        line(note_line)


@click.command()
@click.argument("ticker")
@click.option("--venues", "venue_filter", multiple=True, metavar="A,B", help="Only these venues (comma-separated or repeated).")
def fees(ticker, venue_filter):
    """Maker/taker fees per venue for one ticker (tier 0). — means no fee data: do not route.

    Rates are in bps of notional (negative = rebate). Venues with a fee curve (Kalshi's
    binary-contract formula) say so in MODEL; the SDK's preview() evaluates it at an exact
    price and quantity.
    """
    from sequence_core.market import parse_names

    emit(_client().fees(ticker, parse_names(venue_filter) or None), _render_fees)


def _cents(value: Decimal) -> Decimal:
    """*value* as shown, to the cent; what rounds to zero is zero (never -0.00)."""
    cents = Decimal(value).quantize(Decimal("0.01"))
    return cents if cents else abs(cents)


def _money(value: Decimal, signed: bool = False) -> str:
    cents = _cents(value)
    text = f"${abs(cents):,.2f}"
    if not cents:
        return text
    if signed:
        return ("+" if cents > 0 else "-") + text
    return ("-" if cents < 0 else "") + text


def _render_positions(p) -> None:
    rows = [(r.instrument, r.label or r.venue, r.kind, qty(r.qty), f"{r.entry:,.2f}" + ("" if r.entry_known else "*"),
             f"{r.mark:,.2f}" if r.mark is not None else None, _money(r.unrealized_pnl, signed=True)) for r in p.rows]
    if not rows:
        line(f"No positions ({p.mode}).")
    else:
        table(["INSTRUMENT", "VENUE", "KIND", "QTY", "ENTRY", "MARK", "UNREAL. P&L"], rows,
              right=["QTY", "ENTRY", "MARK", "UNREAL. P&L"])
    s = p.summary
    line("─" * 80)
    for label, amount, signed in (("NAV", s.nav, False), ("Cash", s.cash, False), ("Unrealized P&L", s.unrealized_pnl, True),
                                  ("Realized P&L", s.realized_pnl, True), ("Fees", s.fees, True)):
        text = _money(amount, signed) if signed else "$ " + f"{_cents(amount):,.2f}"
        line(f"{label:<16}{text}")
    line(f"({p.mode}; marks from {p.source})")
    if any(not r.entry_known for r in p.rows):
        line("* entry unknown (the venue holds more or less than Sequence's fills account for): shown at the mark")
    for text in p.notes:
        line(text)


def _render_legacy(p) -> None:
    """The pre-unified output: one row per symbol, summed across venues."""
    totals: dict[str, list] = {}
    for r in p.rows:
        t = totals.setdefault(r.instrument, [Decimal(0), Decimal(0)])
        t[0] += r.qty
        t[1] += r.value_usd
    table(["SYMBOL", "QTY", "VALUE"], [(k, qty(v[0]), _money(v[1])) for k, v in sorted(totals.items())], right=["QTY", "VALUE"])


@click.command()
@click.option("--venue", "venue_filter", multiple=True, metavar="NAME", help="Filter by venue (repeatable or comma-separated).")
@click.option("--kind", "kind_filter", multiple=True, metavar="KIND", help="fiat, crypto, perp, event_contract (repeatable or comma-separated).")
@click.option("--include-closed", is_flag=True, help="Include terminal closed/redeemed rows (resolved event contracts show by default).")
@click.option("--legacy", is_flag=True, help="Temporary: the old per-symbol output (removed in the next release).")
@_source_option
def positions(venue_filter, kind_filter, include_closed, legacy, source):
    """Everything you hold — fiat, crypto, perps, event contracts — across venues, with NAV."""
    from sequence_core.market import parse_names

    result = _client().positions(parse_names(venue_filter) or None, kind_filter, include_closed, source)   # checks the kinds
    if legacy:
        note("Warning: --legacy is deprecated and will be removed in the next release.")
        emit(result, _render_legacy)
    else:
        emit(result, _render_positions)
