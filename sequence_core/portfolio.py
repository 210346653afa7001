"""The unified positions view: ledger rows valued at marks from the market-data source.

Live, each connected venue's own word replaces the ledger's where it gives one: its perps and
event contracts (``ExecutionSession.positions``) and its cash and spot holdings, the total it
holds of each asset (``ExecutionSession.holdings``: free plus locked in open orders). The ledger
knows only Sequence's own fills; the venue also knows deposits, withdrawals, trades made
elsewhere and its own netting (Kalshi pays $1 back for each YES+NO pair at once). Realized P&L
and fees stay the ledger's. Sandbox shows its ledger, which is the paper account itself."""

from __future__ import annotations

from decimal import Decimal

import msgspec

from .ledger import Position, cash_kind
from .market import USD_FAMILY, Instrument, MarketDataSource, with_outcomes


class PositionRow(msgspec.Struct, frozen=True):
    instrument: str
    venue: str
    kind: str
    qty: Decimal
    entry: Decimal
    mark: Decimal | None         # None: no price available for this instrument
    unrealized_pnl: Decimal
    value_usd: Decimal
    status: str
    label: str = ""              # where the holding is, as the venue names it (dex:arb); default venue
    entry_known: bool = True     # False: the venue's holding, whose cost basis the ledger cannot tell (entry = mark)


class PortfolioSummary(msgspec.Struct, frozen=True):
    nav: Decimal
    cash: Decimal
    unrealized_pnl: Decimal
    realized_pnl: Decimal
    fees: Decimal


class Positions(msgspec.Struct, frozen=True):
    mode: str                    # live | sandbox
    source: str
    rows: list[PositionRow]
    summary: PortfolioSummary
    notes: list[str] = []        # live: venues whose rows (or part of them) are the ledger's, and why


def _mark_instrument(pos: Position, instruments: list[Instrument]) -> Instrument | None:
    """The book that prices a holding: the contract itself, else the asset's USD-family book
    on the same venue, else on any venue (deterministic order)."""
    if pos.kind in ("perp", "event_contract"):
        from .journal import position_key

        return next((i for i in instruments if i.venue == pos.venue and position_key(i) == pos.instrument), None)
    candidates = [i for i in instruments if i.kind == "crypto" and i.base == pos.instrument and i.quote in USD_FAMILY]
    same = [i for i in candidates if i.venue == pos.venue]
    return (same or sorted(candidates, key=lambda i: (i.venue, i.symbol)) or [None])[0]


def asset_price(source: MarketDataSource, instruments: list[Instrument], venue: str, asset: str) -> Decimal | None:
    """Mid of ``asset`` against the USD family on ``venue`` (else on any venue), from the first
    such book the source serves (a replay source serves only the books it recorded)."""
    books = [i for i in instruments if i.kind == "crypto" and i.base == asset and i.quote in USD_FAMILY]
    ordered = sorted(books, key=lambda i: (i.venue != venue, i.venue, i.symbol))
    for book in source.books(ordered, source.now_ns(), 1) if ordered else ():
        if book.best_bid is not None and book.best_ask is not None:
            return (book.best_bid.price + book.best_ask.price) / 2
    return None


class VenueReport(msgspec.Struct, frozen=True):
    """What one connected venue said for ``positions`` (live): its perps and event contracts,
    and its holdings (total per asset: cash and spot); None where it cannot tell or did not
    answer, and then *note* says why the ledger's rows stand."""

    positions: list[Position] | None = None
    holdings: dict[str, Decimal] | None = None
    note: str = ""


def reported_positions(venues: dict, store, timeout_s: float = 5.0) -> dict[str, VenueReport]:
    """Live: what each connected venue reports, read concurrently: its positions (perps, event
    contracts) and its holdings (``ExecutionSession.holdings``). A venue whose session cannot
    tell, or does not answer in time, keeps the ledger's rows for that part; the report's note
    says so (and the log, with the error)."""
    import asyncio
    import logging

    from .feeds import _run_sync
    from .journal import position_key
    from .venues import live_session

    log = logging.getLogger("sequence.positions")

    async def read(name, what, call, stands):
        try:
            return await asyncio.wait_for(call(), timeout_s), ""
        except Exception as exc:  # noqa: BLE001 - the ledger's view stands; say why
            log.warning("%s %s: %s", name, what, exc)
            return None, f"{what} not read ({str(exc) or type(exc).__name__}): {stands} are the ledger's"

    async def one(name, v):
        session = live_session(name, v, store)
        if session is None:
            return name, None, None, "no live session: every row is the ledger's"
        try:
            (found, why), (held, held_why) = await asyncio.gather(
                read(name, "positions", session.positions, "perps and event contracts"),
                read(name, "holdings", session.holdings, "cash and spot"))
        finally:
            await session.close()
        if held is None and not held_why:
            held_why = "the venue's holdings are not read by this adapter: cash and spot are the ledger's"
        return name, found, held, "; ".join(w for w in (why, held_why) if w)

    async def every():
        return await asyncio.gather(*(one(n, v) for n, v in venues.items()))

    out: dict[str, VenueReport] = {}
    for name, reported, held, why in _run_sync(every, timeout_s + 2):
        rows = None
        if reported is not None:
            by_symbol = {i.venue_symbol: i for i in venues[name].instruments()}
            rows = [Position(name, position_key(inst), inst.kind, p.qty, (p.entry_price or Decimal(0)) * p.qty,
                             Decimal(0), Decimal(0), "open")
                    for p in reported if p.qty and (inst := by_symbol.get(p.venue_symbol)) is not None]
        out[name] = VenueReport(rows, held, why)
    return out


def _is_holding(p: Position) -> bool:
    return p.kind in ("fiat", "crypto")


def merge_reported(rows: list[Position], reported: dict[str, VenueReport]) -> tuple[list[Position], set, list[str]]:
    """The venue's word replaces the ledger's (live): for its perps and event contracts where it
    reports positions, for its cash and spot where it reports holdings (zero balances left out,
    a ledger row the venue holds none of kept at zero, closed). Realized P&L and fees stay the
    ledger's: the journal saw every fill. A spot holding keeps the ledger's cost basis when the
    ledger holds exactly what the venue does; otherwise its basis is unknown: the (venue, asset)
    is in the returned set, which ``value`` shows at entry = mark. Returns (rows, that set, notes:
    one per venue whose ledger rows stand, saying why)."""
    ledger = {(p.venue, p.instrument): p for p in rows}

    def superseded(p: Position) -> bool:
        r = reported.get(p.venue)
        if r is None:
            return False
        return (r.positions is not None and p.kind in ("perp", "event_contract")) or (r.holdings is not None and _is_holding(p))

    kept = [p for p in rows if not superseded(p)]
    unknown: set[tuple[str, str]] = set()
    notes = []
    for venue, r in sorted(reported.items()):
        if r.note:
            notes.append(f"{venue}: {r.note}")
        for p in r.positions or ():
            known = ledger.get((p.venue, p.instrument))
            kept.append(msgspec.structs.replace(p, realized=known.realized, fees=known.fees) if known else p)
        if r.positions is not None:
            # one the venue no longer reports is closed there: kept at zero, with the realized
            # P&L and fees of its fills (they vanished with the row once a perp was closed)
            listed = {p.instrument for p in r.positions}
            kept.extend(msgspec.structs.replace(p, qty=Decimal(0), cost=Decimal(0),
                                                status=p.status if p.status in ("redeemed", "resolved") else "closed")
                        for (v, i), p in sorted(ledger.items())
                        if v == venue and p.kind in ("perp", "event_contract") and i not in listed)
        if r.holdings is None:
            continue
        held = {a: q for a, q in r.holdings.items() if q and ":" not in a}
        assets = set(held) | {i for (v, i), p in ledger.items() if v == venue and _is_holding(p)}
        for asset in sorted(assets):
            qty, known = held.get(asset, Decimal(0)), ledger.get((venue, asset))
            if not qty and known is None:
                continue
            cash = cash_kind(asset)
            if cash or not qty:
                cost = qty
            elif known is not None and known.qty == qty:
                cost = known.cost
            else:
                cost = Decimal(0)
                unknown.add((venue, asset))
            kept.append(Position(venue, asset, cash or "crypto", qty, cost,
                                 known.realized if known else Decimal(0), known.fees if known else Decimal(0),
                                 "open" if qty else "closed"))
    return kept, unknown, notes


def value(positions: list[Position], instruments: list[Instrument], source: MarketDataSource, mode: str,
          unknown_basis: set | frozenset = frozenset(), notes: list[str] | None = None) -> Positions:
    """Rows at marks from *source*. A (venue, instrument) in *unknown_basis* has no cost basis
    (a venue's holding the ledger does not account for): its entry is the mark, so its
    unrealized P&L is 0 (and 0 as well without a mark)."""
    at = source.now_ns()
    wanted = {id(p): _mark_instrument(p, instruments) for p in positions if cash_kind(p.instrument) is None}
    unique = {(i.venue, i.symbol, i.outcome): i for i in wanted.values() if i is not None}
    marks = {}
    for book, outcome in with_outcomes(source.books(list(unique.values()), at, depth=1), unique.values()):
        if book.best_bid and book.best_ask:
            marks[(book.venue, book.symbol, outcome)] = (book.best_bid.price + book.best_ask.price) / 2
    rows = []
    cash = unreal = realized = fees = nav = Decimal(0)
    for p in positions:
        realized += p.realized
        fees += p.fees
        if cash_kind(p.instrument):
            rows.append(PositionRow(p.instrument, p.venue, p.kind, p.qty, Decimal(1), Decimal(1), Decimal(0), p.qty, p.status))
            cash += p.qty
            nav += p.qty
            continue
        inst = wanted.get(id(p))
        mark = marks.get((inst.venue, inst.symbol, inst.outcome)) if inst else None
        known = (p.venue, p.instrument) not in unknown_basis
        entry = p.entry if known else (mark if mark is not None else Decimal(0))
        pnl = (mark - entry) * p.qty if mark is not None and p.qty else Decimal(0)
        worth = mark * p.qty if mark is not None and p.kind != "perp" else pnl
        rows.append(PositionRow(p.instrument, p.venue, p.kind, p.qty, entry, mark, pnl, worth, p.status, entry_known=known))
        unreal += pnl
        nav += worth
    return Positions(mode, source.label(), rows, PortfolioSummary(nav, cash, unreal, realized, fees), list(notes or ()))
