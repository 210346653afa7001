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
    last_bound: Decimal | None      # the worst price the last take's routing allowed (its slippage cap)

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
    def can_fund(self, venue: str, qty: Decimal, price: Decimal | None = None) -> bool: ...


class Policy:
    name: ClassVar[str]
    description: ClassVar[str] = ""
    long_running: ClassVar[bool] = False      # the CLI returns after admission
    # the engine learns the book's intraday volume curve from the store before run() (off the
    # event loop), for the context's volume_profile()
    uses_volume_profile: ClassVar[bool] = False
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
    order on the venue with the best price after fees. Under a sor bundle (docs/bundles.md)
    with ``--horizon``, an order whose predicted impact exceeds the slippage cap is handed to
    the bundle's slicing policy instead.
    """

    name = "sor"
    description = "smart order routing: take the best net prices across venues now"
    rounds = 3

    async def run(self, ctx: PolicyContext) -> None:
        routing = getattr(ctx, "routing", None)
        sor = routing.sor if routing is not None else None
        if sor is not None and ctx.request.horizon_s and sor.slicing_policy != self.name:
            # the sor bundle's impact model says whether taking it all now costs more than
            # the slippage budget; if so its slicing policy works the order over --horizon
            from .plugins import policies
            from .router import URGENCY_CAP_BPS

            cap = ctx.request.max_slippage_bps if ctx.request.max_slippage_bps is not None \
                else URGENCY_CAP_BPS[ctx.request.urgency]
            est = ctx.impact_estimate_bps(ctx.remaining)
            if est is not None and est > cap:
                ctx.note("slice", {"policy": sor.slicing_policy, "impact_bps": est, "cap_bps": cap,
                                   "bundle": routing.sor_bundle})
                await check_policy_name(sor.slicing_policy, policies()).run(ctx)
                return
        bound = ctx.request.limit_price
        for attempt in range(self.rounds):
            if ctx.remaining <= 0:
                return
            await ctx.take(ctx.remaining, bound)
            # the first round's cap, from the arrival touch, holds over the later rounds: each
            # round's own touch (a venue excluded, a book moved) let them walk the price further
            bound = bound if attempt else (ctx.last_bound or bound)
            if attempt < self.rounds - 1 and ctx.remaining > 0:
                ctx.note("reroute", {"remaining": str(ctx.remaining), "round": attempt + 2})
        if ctx.remaining > 0 and ctx.request.limit_price is not None:
            books = ctx.books(depth=1)
            if not books:
                return
            # the rest on one venue, the best placed among those whose lot takes all of it (a
            # coarser lot would leave a part that never rests)
            whole = [b for b in books if (ctx.remaining / ctx.lot_size(b.venue)) % 1 == 0]
            venue = books[0].venue if ctx.request.venue else best_venue(ctx.request.side, whole or books)
            qty = (ctx.remaining / ctx.lot_size(venue)).to_integral_value(rounding="ROUND_DOWN") * ctx.lot_size(venue)
            if qty > 0:
                await ctx.post(venue, qty, ctx.request.limit_price, post_only=False)


class EdgePolicy(Policy):
    """One child order that a deployed strategy placed: exactly what it asked for, on its
    venue (post-only, limit, immediate-or-cancel or market). Not offered to ``--policy``: the
    engine registers it for deployments (docs/deployments.md)."""

    name = "edge"
    description = "one order placed by a deployed strategy"
    ORDER_TYPES = ("limit", "post_only", "ioc", "market")

    def validate(self, request: OrderRequest) -> None:
        if not request.venue:
            raise UsageError("an edge order names its venue")
        if request.order_type not in self.ORDER_TYPES:
            raise UsageError(f"edge order type must be one of {', '.join(self.ORDER_TYPES)}")
        if request.order_type != "market" and request.limit_price is None:
            raise UsageError(f"an edge {request.order_type} order needs a price")

    async def run(self, ctx: PolicyContext) -> None:
        t = ctx.request.order_type
        if t == "ioc":
            await ctx.take(ctx.remaining, ctx.request.limit_price, urgency="high")
        elif t == "market":
            # as the SOR's rounds: a child limited at the level it planned to take misses when
            # the book moves before it arrives; price the rest again (the slippage cap holds)
            for _ in range(SorPolicy.rounds):
                if ctx.remaining <= 0:
                    break
                await ctx.take(ctx.remaining, None, urgency="high")
        else:
            await ctx.post(ctx.request.venue, ctx.remaining, ctx.request.limit_price, post_only=t == "post_only")


MAX_REJECTED_POSTS = 3     # posts a venue refuses in a row before a resting policy gives up


class PostGuard:
    """For policies that post again on their next tick when nothing rests (passive, iceberg):
    a venue that refused MAX_REJECTED_POSTS posts in a row (funds, permissions, a price it will
    not take) would refuse every tick until the horizon, so the policy stops, saying why. A
    post-only refused for crossing a touch that moved is retried: it seldom happens thrice."""

    def __init__(self, ctx: PolicyContext, limit: int = MAX_REJECTED_POSTS):
        self.ctx, self.limit, self.streak = ctx, limit, 0

    def gave_up(self, node: NodeOrder) -> bool:
        if node.status != "REJECTED":
            self.streak = 0
            return False
        self.streak += 1
        if self.streak < self.limit:
            return False
        self.ctx.note("stopped", {"reason": f"{node.venue} refused {self.streak} posts in a row: {node.reason}"})
        return True


def best_venue(side: str, books: list[OrderBook]) -> str:
    """The venue with the best price on our side of the book (highest bid for a buy:
    where a resting buy is most likely to be filled first); ties by name."""
    def key(b: OrderBook):
        level = b.best_bid if side == "buy" else b.best_ask
        if level is None:
            return (1, 0, b.venue)
        return (0, -level.price if side == "buy" else level.price, b.venue)

    return sorted(books, key=key)[0].venue


def require_horizon(request: OrderRequest, policy: str) -> None:
    if request.horizon_s is None:
        raise UsageError(f"the {policy} policy needs --horizon (for example --horizon 5m)")


async def run_schedule(ctx: PolicyContext, schedule: list[tuple[int, Decimal]]) -> None:
    """Work a parent along ``schedule``: (time ns, cumulative fraction of the parent).

    At each point, take what brings the filled quantity up to that fraction. Resumable
    by construction: after a restart, points already past are caught up at once from the
    journaled filled quantity. After the last point whatever is left is swept with high
    urgency, still under the slippage cap.
    """
    total = ctx.request.qty
    for i, (when, fraction) in enumerate(schedule):
        if i + 1 < len(schedule) and schedule[i + 1][0] <= ctx.now_ns():
            continue   # a later point is already due: catch up to it in one take
        wait = (when - ctx.now_ns()) / 1e9
        if wait > 0:
            await ctx.sleep(wait)
        # to 1e-12: the SOR takes whole lots anyway, and 1/3 of a parent is not 28 digits in a trace
        need = (total * fraction - ctx.graph.filled_qty).quantize(Decimal("1e-12"), rounding="ROUND_DOWN")
        if need > 0 and ctx.remaining > 0:
            await ctx.take(min(need, ctx.remaining), ctx.request.limit_price)
    if ctx.remaining > 0:
        ctx.note("final_sweep", {"remaining": str(ctx.remaining)})
        await ctx.take(ctx.remaining, ctx.request.limit_price, urgency="high")


def check_policy_name(name: str, registry: dict) -> Policy:
    if name not in registry:
        from .plugins import restart_hint

        offered = sorted(n for n in registry if n != EdgePolicy.name)     # edge: deployments' own, not --policy's
        raise UsageError(f"unknown policy '{name}'; available: {', '.join(offered)}{restart_hint()}")
    return registry[name]
