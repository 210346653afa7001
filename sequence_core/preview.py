"""Size-aware pre-trade estimate: walk each venue's visible depth, apply its fee curve."""

from __future__ import annotations

from decimal import Decimal

import msgspec

from .errors import UsageError
from .market import OrderBook, outcome_symbol, plain

SHOWN_PLACES = 12


class PreviewRow(msgspec.Struct, frozen=True):
    venue: str
    book: str
    side: str                    # buy | sell
    qty: Decimal                 # requested
    fill_qty: Decimal            # what visible depth (and the limit) allows
    avg_price: Decimal | None
    worst_price: Decimal | None
    notional: Decimal
    fee: Decimal | None          # None: the venue has no fee data (do not route)
    slippage_bps: Decimal | None   # average price vs the touch
    impact_bps: Decimal | None     # average price vs the mid
    total_cost: Decimal | None     # buy: notional + fee; sell: proceeds - fee
    complete: bool


class Preview(msgspec.Struct, frozen=True):
    symbol: str
    side: str
    qty: Decimal
    limit_price: Decimal | None
    source: str
    rows: list[PreviewRow]       # best first (cheapest buy, richest sell)


def _bps(x: Decimal, ref: Decimal) -> Decimal:
    return (x / ref * 10_000).quantize(Decimal("0.01")) if ref else Decimal(0)


def walk(book: OrderBook, side: str, qty: Decimal, limit: Decimal | None) -> tuple[Decimal, Decimal, Decimal | None]:
    """(filled qty, notional, worst price) taking liquidity up to ``qty`` and ``limit``."""
    levels = book.asks if side == "buy" else book.bids
    left, notional, worst = qty, Decimal(0), None
    for level in levels:
        if left <= 0:
            break
        if limit is not None and ((side == "buy" and level.price > limit) or (side == "sell" and level.price < limit)):
            break
        take = min(left, level.size)
        notional += take * level.price
        left -= take
        worst = level.price
    return qty - left, notional, worst


def preview_books(symbol: str, side: str, qty: Decimal, limit: Decimal | None, books: list[OrderBook],
                  instruments: dict, venues: dict, source_label: str) -> Preview:
    """Rows best first; *qty* and *limit* are checked by the caller (``orders.parse_decimal``)."""
    if side not in ("buy", "sell"):
        raise UsageError(f"side must be buy or sell, got '{side}'")
    ranked = []
    for book in books:
        inst = instruments[(book.venue, book.symbol)]
        filled, notional, worst = walk(book, side, qty, limit)
        touch = (book.best_ask if side == "buy" else book.best_bid)
        avg = (notional / filled) if filled else None
        mid = (book.best_bid.price + book.best_ask.price) / 2 if book.best_bid and book.best_ask else None
        fee = venues[book.venue].fee(inst, avg, filled, "taker") if avg is not None else Decimal(0)
        sign = 1 if side == "buy" else -1
        slip = _bps(sign * (avg - touch.price), touch.price) if avg is not None and touch else None
        impact = _bps(sign * (avg - mid), mid) if avg is not None and mid else None
        total = None if fee is None else (notional + fee if side == "buy" else notional - fee)
        unit = (total / filled) if total is not None and filled else None          # ranked on exact values
        row = PreviewRow(book.venue, outcome_symbol(book.symbol, inst.outcome), side, qty, _shown(filled), _shown(avg),
                         worst, _shown(notional), _shown(fee), slip, impact, _shown(total), filled == qty)
        ranked.append(((not row.complete, unit is None, (unit if side == "buy" else -unit) if unit is not None else 0), row))
    return Preview(symbol, side, qty, limit, source_label, [row for _, row in sorted(ranked, key=lambda kr: kr[0])])


def _shown(x: Decimal | None) -> Decimal | None:
    """An amount as the result carries it: at most 12 decimal places (an average price is a
    quotient: 0.2931466666666666666666666667 -> 0.293146666667), written plainly (21.76, not
    21.7600000000000000000000000)."""
    if x is None:
        return None
    if x.as_tuple().exponent < -SHOWN_PLACES:
        x = x.quantize(Decimal(1).scaleb(-SHOWN_PLACES))
    return Decimal(plain(x))
