"""Smart order routing: split a parent across venues by walking their books net of fees.

The decision is a pure function of the books, fees, balances and the request, so it is
testable and explainable: every venue gets a :class:`RouteLeg` saying why it got its
share (or why it got none).

Method (docs/trading.md):
1. Reference: the NBBO touch on our side (best ask across venues for a buy). The slippage
   cap (``--max-slippage`` bps, else the urgency default) bounds the worst price a child may
   take: touch × (1 ± cap); a limit price bounds it further.
2. Every level of every venue inside that bound is priced net of the venue's taker fee
   (price × (1 + fee) for buys, × (1 − fee) for sells). Venues without fee data are never
   routed to ("—" means do-not-route, not free).
3. Levels are taken best net price first (ties: larger size, then venue name) until the
   quantity is met. A venue's share stops growing where the balance available there would
   no longer pay for all of it at the worst price taken so far, fee included (a perp's
   margin at the venue's leverage), so the rest goes to the next best venue instead of
   being lost. Shares grow in whole lots of their venue (what a lot cuts off a level is left
   for the next level or venue). A venue whose share ends under its minimum quantity or
   notional is left out and the walk done again without it (at most once per venue), so that
   piece goes to a venue that can take it; a crumb left where every venue with the lot for it
   would hold it under its minimum takes whole lots from another share (``place_crumb``).
4. Each leg becomes one IOC child limited at the worst level it planned to take.
"""

from __future__ import annotations

import heapq
from decimal import ROUND_CEILING, ROUND_DOWN, Decimal

from .market import Instrument, OrderBook
from .orders import RouteLeg

URGENCY_CAP_BPS = {"low": 10, "medium": 50, "high": 200}
# Routing models a sor bundle can name (`sequence bundle compile-sor --routing-model`).
ROUTING_MODELS = {"book-walk": "visible levels of every venue, best price net of taker fees first"}


def _round_lot(qty: Decimal, lot: Decimal) -> Decimal:
    return (qty / lot).to_integral_value(ROUND_DOWN) * lot if lot > 0 else qty


def _room(have: Decimal, worst: Decimal, fee: Decimal, inst: Instrument, buy: bool, leverage: int) -> Decimal:
    """The most a venue's balance *have* pays for when all of it trades at *worst*: cash over
    price and taker fee for a buy, and for a perp either way (its margin at *leverage*); the
    holding itself for a sell."""
    if have <= 0:
        return Decimal(0)
    if inst.kind == "perp":
        return have * leverage / (worst * (1 + fee))
    return have / (worst * (1 + fee)) if buy else have


def under_minimum(q: Decimal, inst: Instrument, price: Decimal | None) -> bool:
    """Whether *inst*'s venue refuses an order of *q* at *price* as too small: nothing, under its
    minimum quantity, or (priced) under its minimum notional."""
    return q <= 0 or q < inst.min_qty or bool(price and inst.min_notional and q * price < inst.min_notional)


def _net_key(fee: Decimal, buy: bool) -> Decimal:
    """What a level's price is multiplied by to order levels best net price first (ascending):
    the taker fee added for a buy, taken off (and the order reversed) for a sell."""
    return (1 + fee) if buy else -(1 - fee)


class _Walk:
    """One k-way merge of the venues' books by net price: only the levels actually consumed
    are priced (Decimal arithmetic, exact), which keeps a decision well under 200 us.
    Shares grow in whole lots of their venue, and stop where its balance would no longer pay
    for all of the share at its worst level (fee included)."""

    def __init__(self, buy, qty, bound, by_venue, available, leverage, skip):
        self.plan: dict[str, list[tuple[Decimal, Decimal]]] = {}   # venue -> (price, qty) per level
        self.planned: dict[str, Decimal] = {}
        self.capped: set[str] = set()       # venues whose balance ran out before their levels did
        self.rounded: set[str] = set()      # venues whose lot size cut a take short
        within = (lambda p: p <= bound) if buy else (lambda p: p >= bound)
        mults, heap = {}, []
        for venue, (book, inst, fee) in by_venue.items():
            if fee is None or venue in skip:
                continue
            mults[venue] = _net_key(fee, buy)
            levels = book.asks if buy else book.bids
            if levels and within(levels[0].price):
                heap.append((levels[0].price * mults[venue], -levels[0].size, venue, 0))
        heapq.heapify(heap)
        left = qty
        while left > 0 and heap:
            _, _, venue, i = heapq.heappop(heap)
            book, inst, fee = by_venue[venue]
            levels = book.asks if buy else book.bids
            level = levels[i]
            take = level.size if level.size < left else left
            lot, had = inst.lot_size, self.planned.get(venue, Decimal(0))
            whole = _round_lot(had + take, lot) - had
            if whole < take:
                # shares stay in whole lots as they grow, so what a venue's lot cuts off is
                # left for the next level or venue instead of being lost when it is rounded
                self.rounded.add(venue)
                take = whole
            if available is not None and venue in available:
                room = _round_lot(_room(available[venue], level.price, fee, inst, buy, leverage.get(venue, 1)), lot) - had
                if room < take:
                    take = max(room, Decimal(0))
                    self.capped.add(venue)
            if take > 0:
                self.plan.setdefault(venue, []).append((level.price, take))
                self.planned[venue] = had + take
                left -= take
            j = i + 1
            if left < lot:
                continue                     # this venue cannot take what is left in whole lots
            if venue not in self.capped and j < len(levels) and within(levels[j].price):
                heapq.heappush(heap, (levels[j].price * mults[venue], -levels[j].size, venue, j))
        self.left, self.buy, self.within = left, buy, within

    def place_crumb(self, by_venue, available, leverage) -> tuple[str, str, Decimal] | None:
        """What the walk could not place, when every venue with the lot for it would hold it as
        a share under its minimum (a crumb a coarser venue's lot cut off): move whole lots from
        a share that stays above its own minimum to a venue with a finer lot, so that venue's
        share (the crumb and those lots) passes its minimum, and the order fills whole, a few
        lots at that venue's price. Returns (that venue, the donor, the lots' quantity) or None."""
        crumb, buy = self.left, self.buy
        if crumb <= 0:
            return None

        def touch(venue):               # candidates best net price first
            book, _, fee = by_venue[venue]
            return (book.asks if buy else book.bids)[0].price * _net_key(fee, buy)

        fresh = [v for v, (b, _, fee) in by_venue.items() if fee is not None and v not in self.planned and (b.asks if buy else b.bids)]
        for venue in sorted(fresh, key=touch):
            book, inst, fee = by_venue[venue]
            levels = [lv for lv in (book.asks if buy else book.bids) if self.within(lv.price)]
            if not levels or _round_lot(crumb, inst.lot_size) != crumb:
                continue
            for donor in sorted(self.planned, key=lambda v: self.plan[v][-1][0], reverse=buy):   # worst price first
                lot = by_venue[donor][1].lot_size
                if _round_lot(lot, inst.lot_size) != lot:
                    continue                                   # its lots are not whole lots here
                least = max(inst.min_qty, inst.min_notional / levels[0].price if inst.min_notional else 0)
                moved = max(((least - crumb) / lot).to_integral_value(ROUND_CEILING), 0) * lot   # whole donor lots
                share = crumb + moved
                takes = _take_levels(levels, share)
                if takes is None or under_minimum(share, inst, takes[-1][0]) or \
                        under_minimum(self.planned[donor] - moved, by_venue[donor][1], self.plan[donor][-1][0]):
                    continue
                if available is not None and venue in available and _round_lot(
                        _room(available[venue], takes[-1][0], fee, inst, buy, leverage.get(venue, 1)), inst.lot_size) < share:
                    continue
                self._give_back(donor, moved)
                self.plan[venue], self.planned[venue], self.left = takes, share, Decimal(0)
                return venue, donor, moved
        return None

    def _give_back(self, venue: str, qty: Decimal) -> None:
        """Take *qty* off *venue*'s share, from its worst levels."""
        takes = self.plan[venue]
        self.planned[venue] -= qty
        while qty > 0:
            price, take = takes[-1]
            if take > qty:
                takes[-1] = (price, take - qty)
                return
            takes.pop()
            qty -= take


def _take_levels(levels, qty: Decimal) -> list[tuple[Decimal, Decimal]] | None:
    """(price, qty) per level to take *qty* from *levels* best first, or None if they hold less."""
    out = []
    for lv in levels:
        take = min(lv.size, qty)
        out.append((lv.price, take))
        qty -= take
        if qty <= 0:
            return out
    return None


def slippage_bound(side: str, books: list[OrderBook], limit: Decimal | None = None,
                   max_slippage_bps: int | None = None, urgency: str = "medium") -> Decimal | None:
    """The worst price a child may take: the touch on our side across *books* moved by the
    slippage cap (``--max-slippage`` bps, else the urgency's default), a limit price bounding
    it further; None when no book has our side."""
    buy = side == "buy"
    cap_bps = max_slippage_bps if max_slippage_bps is not None else URGENCY_CAP_BPS[urgency]
    touches = [t.price for t in ((b.best_ask if buy else b.best_bid) for b in books) if t is not None]
    if not touches:
        return None
    touch = min(touches) if buy else max(touches)
    bound = touch * (1 + Decimal(cap_bps) / 10_000) if buy else touch * (1 - Decimal(cap_bps) / 10_000)
    if limit is not None:
        bound = min(bound, limit) if buy else max(bound, limit)
    return bound


def route(side: str, qty: Decimal, books: list[tuple[OrderBook, Instrument, Decimal | None]],
          limit: Decimal | None = None, max_slippage_bps: int | None = None, urgency: str = "medium",
          available: dict[str, Decimal] | None = None, leverage: dict[str, int] | None = None) -> list[RouteLeg]:
    """Allocate ``qty`` across venues. ``books`` holds (book, instrument, taker fee rate);
    ``available`` is, per venue, the quote cash (buys, and perps either way) or the held
    quantity (sells) on hand; ``leverage``, per venue, what a perp's margin is counted at
    (1 where absent)."""
    buy = side == "buy"
    bound = slippage_bound(side, [b for b, _, _ in books], limit, max_slippage_bps, urgency)
    legs: list[RouteLeg] = []
    if bound is None:
        return [RouteLeg(b.venue, b.symbol, Decimal(0), None, None, f, "empty book") for b, _, f in books]

    by_venue = {}
    for book, inst, fee in books:
        by_venue[book.venue] = (book, inst, fee)
        if fee is None:
            legs.append(RouteLeg(book.venue, book.symbol, Decimal(0), None, None, None, "no fee data: never routed"))
    # A share under its venue's minimum would be dropped with its quantity: walk again without
    # that venue, so the quantity goes to venues that can take it (at most once per venue)
    small: dict[str, Decimal] = {}
    while True:
        walk = _Walk(buy, qty, bound, by_venue, available, leverage or {}, set(small))
        under = {v: q for v, q in walk.planned.items() if under_minimum(q, by_venue[v][1], walk.plan[v][-1][0])}
        if not under:
            break
        small.update(under)
    crumb, moved = walk.left, walk.place_crumb(by_venue, available, leverage or {})
    notes: dict[str, str] = {}
    if moved is not None:
        taker, donor, lots = moved
        small.pop(taker, None)
        notes[taker] = f"takes the last {crumb:f} no venue had the lot or minimum for, with {lots:f} moved from {donor}"
        notes[donor] = f"{lots:f} moved to {taker} so the last {crumb:f} could be filled"
    plan, planned, capped, rounded = walk.plan, walk.planned, walk.capped, walk.rounded

    for venue in sorted(by_venue):
        book, inst, fee = by_venue[venue]
        if fee is None:
            continue
        takes = plan.get(venue, [])
        short = f"capped by balance {available[venue]}" if venue in capped else None
        if venue in small:
            legs.append(RouteLeg(venue, book.symbol, Decimal(0), None, None, fee, f"share {small[venue]} under the venue "
                                 f"minimum ({inst.min_qty} qty / {inst.min_notional} notional): left to the other venues"))
            continue
        if not takes:
            best = (book.best_ask if buy else book.best_bid)
            why = "empty book" if best is None else (
                f"touch {best.price} is beyond the bound {bound:.8g}" if ((buy and best.price > bound) or (not buy and best.price < bound))
                else short or f"{'cheaper' if buy else 'better-paid'} liquidity elsewhere covered the order")
            legs.append(RouteLeg(venue, book.symbol, Decimal(0), None, None, fee, why))
            continue
        notes_here = [f"rounded to lot {inst.lot_size}"] if venue in rounded else []
        notes_here += [notes[venue]] if venue in notes else []
        q = planned[venue]
        worst = takes[-1][0]
        if short:
            notes_here.append(short)
        notional, rest = Decimal(0), q
        for price, take in takes:
            t = min(take, rest)
            notional += t * price
            rest -= t
        avg = notional / q
        if avg.as_tuple().exponent > 0:
            avg = avg.quantize(Decimal(1))          # 91000, not 9.1E+4 (a whole quotient's exponent form)
        reason = (f"{q} at avg {avg:.8g} ({'≤' if buy else '≥'} {worst}), net {avg * ((1 + fee) if buy else (1 - fee)):.8g} after "
                  f"{fee * 10_000:.2f} bps taker; {len(takes)} level(s) best-net-price-first")
        legs.append(RouteLeg(venue, book.symbol, q, worst, avg, fee, "; ".join([reason] + notes_here)))
    return legs
