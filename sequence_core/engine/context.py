"""The runtime a policy drives: every action is journaled before it reaches a venue."""

from __future__ import annotations

import asyncio
import time
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, Decimal
from typing import TYPE_CHECKING

from ..bundles import Routing
from ..errors import SequenceError
from ..orders import NODE_TERMINAL, Fill, LifecycleEvent, NodeOrder, OrderGraph, node_order_id
from ..router import route, slippage_bound

if TYPE_CHECKING:
    from .desk import Desk


class GraphRuntime:
    """Implements :class:`sequence_core.policy.PolicyContext` for one graph."""

    def __init__(self, desk: "Desk", graph: OrderGraph, instruments: dict, routing: Routing | None = None,
                 nodes: list[NodeOrder] | None = None):
        self.desk = desk
        self.routing = routing or Routing()     # the sor / assignment bundles for this order
        self.graph = graph
        self.request = graph.request
        self.instruments = instruments          # venue -> Instrument of this graph's book
        nodes = desk.journal.nodes(graph.graph_id) if nodes is None else nodes   # [] for a new graph
        # the graph's child orders, in creation order; the desk keeps them in step with the journal
        self.nodes: dict[str, NodeOrder] = {n.node_order_id: n for n in nodes}
        # fills recorded by this runtime; a graph resumed after a restart has older ones
        # in the journal only, so `fills_known` says whether this list is all of them
        self.fills: list[Fill] = []
        self.fills_known = not nodes
        self._next_node = 1 + max((n.node for n in nodes), default=-1)
        # Replaces in progress: between the cancel and the new child the graph has no open
        # node, and must not be finalized in that gap.
        self.busy = 0
        # Venues that rejected or failed a child of this graph are not routed to again.
        self.excluded: dict[str, str] = {n.venue: n.reason for n in nodes if n.status == "REJECTED"}
        self.last_bound: Decimal | None = None   # the worst price the last take's routing allowed
        # Cancels, amends and replaces of this graph run one at a time, in the order asked:
        # two at once cancelled one order twice and sent one replacement id twice, or left a
        # replacement working that a cancel had missed.
        self.ops = asyncio.Lock()
        self.stopping = False                   # cancelled as a whole: nothing new is sent

    # -- state -------------------------------------------------------------------------------
    @property
    def remaining(self) -> Decimal:
        reserved = sum((n.remaining for n in self.open_nodes()), Decimal(0))
        return self.graph.request.qty - self.graph.filled_qty - reserved

    @property
    def started_ns(self) -> int:
        return self.graph.created_ns

    def now_ns(self) -> int:
        return self.desk.source.now_ns()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) * self.desk.time_scale)

    def open_nodes(self) -> list[NodeOrder]:
        return [n for n in self.nodes.values() if n.status not in NODE_TERMINAL]

    def tick_size(self, venue: str) -> Decimal:
        return self.instruments[venue].tick_size

    def lot_size(self, venue: str) -> Decimal:
        return self.instruments[venue].lot_size

    def books(self, depth: int = 20):
        return self.desk.source.books(list(self.instruments.values()), self.now_ns(), depth)

    def note(self, kind: str, detail: dict) -> None:
        self.desk.journal.event(LifecycleEvent(time.time_ns(), self.graph.graph_id, None, kind, detail))

    def can_fund(self, venue: str, qty: Decimal, price: Decimal | None = None) -> bool:
        """Whether *venue*'s balance (as admission sees it: sandbox less what open orders hold,
        live the venue's free balance) pays for *qty* at *price* (None: the touch)."""
        inst = self.instruments[venue]
        need = self.desk.cost(inst, self.request.side, qty, price)
        return need is not None and need <= self.desk.available(self.request.side, {venue: inst})[venue]

    def volume_profile(self):
        return self.desk.volume_profile(self.instruments)

    # -- actions -----------------------------------------------------------------------------
    async def take(self, qty: Decimal, limit: Decimal | None = None, urgency: str | None = None,
                   max_slippage_bps: int | None = None) -> Decimal:
        """Route ``qty`` across venues as IOC children; returns the quantity filled.

        A venue that rejects or fails a child is excluded from this graph and the part it
        did not take is routed again at once among the remaining venues.
        """
        filled, cap = Decimal(0), None
        for _ in range(len(self.instruments) + 1):
            got, rejected, bound = await self._take_once(qty - filled, limit if cap is None else cap, urgency,
                                                         max_slippage_bps)
            filled += got
            # the first decision's cap (from the touch before any venue was excluded) holds for
            # the re-routes: the remaining venues' touch would move it each time
            cap = bound if cap is None else cap
            if not rejected or filled >= qty:
                break
            self.note("reroute", {"remaining": str(qty - filled), "excluded": sorted(self.excluded)})
        self.last_bound = cap
        return filled

    async def _take_once(self, qty, limit, urgency, max_slippage_bps) -> tuple[Decimal, bool, Decimal | None]:
        """One routing decision and its children: (filled, whether a venue rejected, the worst
        price the decision allowed)."""
        side, r = self.request.side, self.request
        await self.desk.fresh_balances(self.instruments)
        books = [b for b in self.books(depth=50) if b.venue not in self.excluded]
        if not books:
            self.note("sor_decision", {"qty": str(qty), "legs": [], "excluded": self.excluded})
            return Decimal(0), False, None
        held = {b.venue: b for b in books}
        fees = {v: self.desk.taker_rate(v, self.instruments[v], qty, held.get(v)) for v in self.instruments}
        max_slippage_bps = max_slippage_bps if max_slippage_bps is not None else r.max_slippage_bps
        urgency = urgency or r.urgency
        bound = slippage_bound(side, books, limit, max_slippage_bps, urgency)     # what route() bounds this decision by

        def decide(books):
            return route(side, qty, [(b, self.instruments[b.venue], fees[b.venue]) for b in books], limit=limit,
                         max_slippage_bps=max_slippage_bps, urgency=urgency, available=self.desk.available(side, self.instruments),
                         leverage={v: self.desk.leverage_for(v) for v, i in self.instruments.items() if i.kind == "perp"})

        legs = decide(books)
        extra = {}
        policy = self.routing.assignment
        if policy is not None:          # the assignment bundle's thresholds shape the fan-out
            shares = {l.venue: float(l.qty * l.expected_avg) for l in legs if l.qty > 0}
            kept = policy.fan_out(shares)
            if not kept and shares:
                kept = [max(shares, key=lambda v: (shares[v], v))]
                why = f"fewer than {policy.min_venues} venues at or above the SOR threshold: no SOR, best venue only"
            else:
                why = "venues under the SOR threshold left the fan-out" if set(kept) != set(shares) else "fan-out kept"
            if set(kept) != set(shares):
                legs = decide([b for b in books if b.venue in kept])
            extra["assignment"] = {"bundle": self.routing.assignment_bundle, "stage": self.routing.assignment_stage,
                                   "sor_threshold_usd": policy.sor_threshold / policy.scale,
                                   "min_venues": policy.min_venues, "shares_usd": shares, "kept": kept, "why": why}
        if self.routing.sor is not None:
            extra["sor_bundle"] = {"bundle": self.routing.sor_bundle, "stage": self.routing.sor_stage,
                                   "routing_model": self.routing.sor.routing_model,
                                   "impact_bps": {l.venue: self._impact(l.venue, l.qty) for l in legs if l.qty > 0}}
        children = [self._new_node(l.venue, l.qty, l.limit_price, "ioc") for l in legs if l.qty > 0]
        with self.desk.journal.group():     # the decision and its children in one write
            self._note_decision(qty, legs, extra)
            for n in children:
                self.desk.dispatch(self, n)
        if len(children) == 1:          # most takes: no gather, no task
            results = [await self.desk.send(self, children[0], journaled=True)]
        else:
            results = await asyncio.gather(*(self.desk.send(self, n, journaled=True) for n in children))
        rejected = False
        for n in results:
            if n.status == "REJECTED":
                self.excluded[n.venue] = n.reason or "rejected"
                rejected = True
        return sum((n.filled_qty for n in results), Decimal(0)), rejected, bound

    def _impact(self, venue: str, qty: Decimal) -> float | None:
        """Predicted impact (bps) of taking *qty* on *venue* by the sor bundle's model of its book."""
        inst = self.instruments.get(venue)
        for m in self.routing.sor.impact if self.routing.sor and inst else ():
            if (m.symbol, m.venue) == (inst.symbol, venue):
                return round(m.impact_bps(float(qty)), 4)
        return None

    def impact_estimate_bps(self, qty: Decimal) -> float | None:
        """The lowest single-venue predicted impact of taking *qty* (None without a model)."""
        found = [x for v in self.instruments if (x := self._impact(v, qty)) is not None]
        return min(found) if found else None

    def _note_decision(self, qty: Decimal, legs, extra: dict | None = None) -> None:
        self.note("sor_decision", {**(extra or {}), "qty": str(qty), "legs": [
            {"venue": l.venue, "book": l.book, "qty": str(l.qty), "limit": str(l.limit_price) if l.limit_price else None,
             "expected_avg": str(l.expected_avg) if l.expected_avg else None, "reason": l.reason} for l in legs]
            + [{"venue": v, "book": self.instruments[v].symbol, "qty": "0", "limit": None, "expected_avg": None,
                "reason": f"excluded after it failed a child of this order: {why}"} for v, why in sorted(self.excluded.items())]})

    async def post(self, venue: str, qty: Decimal, price: Decimal, post_only: bool = True) -> NodeOrder:
        node = self._new_node(venue, qty, price, "post_only" if post_only else "limit")
        return await self.desk.send(self, node)

    async def replace(self, node: NodeOrder, price: Decimal | None = None, qty: Decimal | None = None) -> NodeOrder:
        """Cancel-replace: the new order is the same node with the next seq."""
        async with self.ops:
            return await self.replace_now(node, price, qty)

    async def replace_now(self, node: NodeOrder, price: Decimal | None = None, qty: Decimal | None = None) -> NodeOrder:
        """:meth:`replace` for a caller holding :attr:`ops`."""
        self.busy += 1
        try:
            return await self._replace(node, price, qty)
        finally:
            self.busy -= 1

    async def _replace(self, node: NodeOrder, price: Decimal | None, qty: Decimal | None) -> NodeOrder:
        await self.desk.placed(node)     # a place still on its way is answered first
        if node.status in NODE_TERMINAL:
            return node                  # filled, refused or ended before the cancel: nothing to replace
        done = await self.desk.cancel_node(self, node)
        left = (qty if qty is not None else node.qty) - done.filled_qty
        if done.status not in NODE_TERMINAL or left <= 0:
            # FILLED, or a cancel the venue has not confirmed (a DEX swap already broadcast can
            # still land): a replacement sent now could fill beside it, so none is sent
            return done
        return await self.desk.send(self, self.next_version(node, left, price))

    def next_version(self, node: NodeOrder, qty: Decimal, price: Decimal | None) -> NodeOrder:
        """*node*'s replacement: the same node at the next seq (a client order id is never sent
        twice), for *qty* at *price* (None: the same price)."""
        seq = 1 + max(n.seq for n in self.nodes.values() if n.node == node.node)
        now = time.time_ns()
        return NodeOrder(node_order_id(self.graph.graph_id, node.node, seq), self.graph.graph_id, node.node,
                         seq, node.venue, node.symbol, node.side, qty, price if price is not None else node.limit_price,
                         node.order_type, "PENDING_NEW", now, now, outcome=node.outcome)

    async def cancel(self, node: NodeOrder) -> NodeOrder:
        async with self.ops:
            return await self.desk.cancel_node(self, node)

    async def refresh(self, node: NodeOrder) -> NodeOrder:
        return await self.desk.refresh_node(self, node)

    def _new_node(self, venue: str, qty: Decimal, price: Decimal | None, order_type: str) -> NodeOrder:
        inst = self.instruments.get(venue)
        if inst is None:
            raise SequenceError(f"{venue} does not list {self.request.symbol}")
        qty = (qty / inst.lot_size).to_integral_value(ROUND_DOWN) * inst.lot_size
        if price is not None:
            # a routed order's limit need only be on some venue's tick (Desk.validate): on a
            # coarser one it rests at the nearest tick no worse for the order
            price = (price / inst.tick_size).to_integral_value(ROUND_FLOOR if self.request.side == "buy" else ROUND_CEILING) * inst.tick_size
        n = self._next_node
        self._next_node += 1
        now = time.time_ns()
        return NodeOrder(node_order_id(self.graph.graph_id, n, 0), self.graph.graph_id, n, 0, venue, inst.symbol,
                         self.request.side, qty, price, order_type, "PENDING_NEW", now, now, outcome=inst.outcome)
