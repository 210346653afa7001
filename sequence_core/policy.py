"""Execution policies: how a parent order is worked over time.

A policy is a small object registered through ``register_policies``; the engine runs its
``run(ctx)`` coroutine for each graph. Policies never talk to venues or the journal
directly: everything goes through :class:`PolicyContext`, which journals before sending,
routes through the SOR and records every fill. A policy must be *resumable*: after an
engine restart ``run`` is called again with the graph's journaled state (filled quantity,
start time, open children), so it derives what is left to do from ``ctx`` rather than
from variables it kept in memory.
"""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar, Protocol

from .errors import UsageError
from .market import OrderBook
from .orders import NodeOrder, OrderGraph, OrderRequest


class PolicyContext(Protocol):
    """What a running policy can do (implemented by the engine)."""

    graph: OrderGraph
    request: OrderRequest

    @property
    def remaining(self) -> Decimal: ...
    @property
    def started_ns(self) -> int: ...
    def now_ns(self) -> int: ...
    async def sleep(self, seconds: float) -> None: ...
    def books(self, depth: int = 20) -> list[OrderBook]: ...
    async def take(self, qty: Decimal, limit: Decimal | None = None, urgency: str | None = None,
                   max_slippage_bps: int | None = None) -> Decimal: ...
    async def post(self, venue: str, qty: Decimal, price: Decimal, post_only: bool = True) -> NodeOrder: ...
    async def replace(self, node: NodeOrder, price: Decimal | None = None, qty: Decimal | None = None) -> NodeOrder: ...
    async def cancel(self, node: NodeOrder) -> NodeOrder: ...
    async def refresh(self, node: NodeOrder) -> NodeOrder: ...
    def open_nodes(self) -> list[NodeOrder]: ...
    def tick_size(self, venue: str) -> Decimal: ...
    def lot_size(self, venue: str) -> Decimal: ...
    def note(self, kind: str, detail: dict) -> None: ...
    def volume_profile(self) -> list[float] | None: ...


class Policy:
    name: ClassVar[str]
    description: ClassVar[str] = ""
    long_running: ClassVar[bool] = False      # the CLI returns after admission
    default_horizon_s: ClassVar[float | None] = None

    def validate(self, request: OrderRequest) -> None:
        """Refuse a request this policy cannot work (raise UsageError)."""

    async def run(self, ctx: PolicyContext) -> None:
        raise NotImplementedError


class SorPolicy(Policy):
    """Take liquidity across venues now: route, then re-route what a child did not fill.

    Up to three routing rounds, each on fresh books: an IOC child can miss because the
    venue's book moved between the decision and the order's arrival, and the next round
    prices that in. With a limit price, whatever cannot be taken within it rests as a limit
    order on the venue with the best price after fees.
    """

    name = "sor"
    description = "smart order routing: take the best net prices across venues now"
    rounds = 3

    async def run(self, ctx: PolicyContext) -> None:
        for attempt in range(self.rounds):
            if ctx.remaining <= 0:
                return
            await ctx.take(ctx.remaining, ctx.request.limit_price)
            if attempt < self.rounds - 1 and ctx.remaining > 0:
                ctx.note("reroute", {"remaining": str(ctx.remaining), "round": attempt + 2})
        if ctx.remaining > 0 and ctx.request.limit_price is not None:
            books = ctx.books(depth=1)
            if not books:
                return
            venue = books[0].venue if ctx.request.venue else _best_resting_venue(ctx, books)
            qty = (ctx.remaining / ctx.lot_size(venue)).to_integral_value(rounding="ROUND_DOWN") * ctx.lot_size(venue)
            if qty > 0:
                await ctx.post(venue, qty, ctx.request.limit_price, post_only=False)


def _best_resting_venue(ctx: PolicyContext, books: list[OrderBook]) -> str:
    buy = ctx.request.side == "buy"
    ranked = sorted(books, key=lambda b: ((-(b.best_bid.price) if buy else b.best_ask.price) if (b.best_bid if buy else b.best_ask) else 0, b.venue))
    return ranked[0].venue


def check_policy_name(name: str, registry: dict) -> Policy:
    if name not in registry:
        raise UsageError(f"unknown policy '{name}'; available: {', '.join(sorted(registry))}")
    return registry[name]
