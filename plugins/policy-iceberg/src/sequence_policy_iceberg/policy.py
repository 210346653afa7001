"""Iceberg: rest the parent at ``--limit-price`` showing one clip at a time.

The clip is 10% of the parent (at least one lot); when the visible clip fills, the next
one is posted at the same price. Never more than one clip rests. The venue is
``--venue`` or the one with the best price on our side among those whose balance pays for
the whole order (else the best of all, whose refusal says why); three refused clips in a
row stop it. With ``--horizon`` the iceberg
stops at the horizon (cancelling the visible clip); without, it works until filled or
cancelled.
"""

from decimal import ROUND_DOWN, Decimal

from sequence_core.errors import UsageError
from sequence_core.policy import Policy, PostGuard, best_venue

CLIP_SHARE = Decimal("0.1")
POLL_SECONDS = 1.0


class IcebergPolicy(Policy):
    name = "iceberg"
    description = "rests at --limit-price showing one clip (10%) at a time"
    long_running = True

    def validate(self, request):
        if request.limit_price is None:
            raise UsageError("the iceberg policy needs --limit-price (the price the clips rest at)")

    async def run(self, ctx):
        req = ctx.request
        books = ctx.books(depth=1)
        # every clip rests on one venue: the best price among those that can pay for the order
        funded = [b for b in books if ctx.can_fund(b.venue, req.qty, req.limit_price)]
        venue = req.venue or best_venue(req.side, funded or books)
        lot = ctx.lot_size(venue)
        clip = max(lot, (req.qty * CLIP_SHARE / lot).to_integral_value(ROUND_DOWN) * lot)
        deadline = ctx.started_ns + int(req.horizon_s * 1e9) if req.horizon_s else None
        guard = PostGuard(ctx)
        while ctx.graph.filled_qty < req.qty:
            if deadline is not None and ctx.now_ns() >= deadline:
                for node in ctx.open_nodes():
                    await ctx.cancel(node)
                ctx.note("horizon_reached", {"filled": str(ctx.graph.filled_qty)})
                return
            visible = ctx.open_nodes()
            if not visible:
                size = min(clip, ctx.remaining)
                if size <= 0:
                    return
                if guard.gave_up(await ctx.post(venue, size, req.limit_price, post_only=False)):
                    return
            else:
                for node in visible:
                    await ctx.refresh(node)
            await ctx.sleep(POLL_SECONDS)
