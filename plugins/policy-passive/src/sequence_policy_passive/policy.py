"""Passive: join the best price on our side and follow it; never cross the spread.

Posts a post-only order at the best bid (buys) or best ask (sells) of the venue with the
best price on that side among those whose balance pays for the order (or ``--venue``),
capped by ``--limit-price``. Every second it
checks the touch; when the touch moves away it cancel-replaces to the new touch. It
never takes liquidity. At the horizon (``--horizon``, default 5 minutes) it cancels and
stops, leaving any remainder unfilled with the reason noted; it stops too when the venue
refuses its post three times in a row (sequence_core.policy.PostGuard).
"""

from sequence_core.policy import Policy, PostGuard, best_venue

DEFAULT_HORIZON_S = 300.0
POLL_SECONDS = 1.0


class PassivePolicy(Policy):
    name = "passive"
    description = "joins the best price on its side and pegs it; never crosses"
    long_running = True
    default_horizon_s = DEFAULT_HORIZON_S

    def _target(self, ctx, venue):
        book = next((b for b in ctx.books(depth=1) if b.venue == venue), None)
        level = None if book is None else (book.best_bid if ctx.request.side == "buy" else book.best_ask)
        if level is None:
            return None
        price, limit = level.price, ctx.request.limit_price
        if limit is not None:
            price = min(price, limit) if ctx.request.side == "buy" else max(price, limit)
        return price

    @staticmethod
    def _venue(ctx) -> str:
        """The best price on our side among the venues whose balance pays for the order (the
        whole of it rests on one venue), else the best of all, whose refusal then says why."""
        books = ctx.books(depth=1)
        funded = [b for b in books if ctx.can_fund(b.venue, ctx.remaining)]
        return best_venue(ctx.request.side, funded or books)

    async def run(self, ctx):
        req = ctx.request
        venue = req.venue or self._venue(ctx)
        deadline = ctx.started_ns + int((req.horizon_s or DEFAULT_HORIZON_S) * 1e9)
        guard = PostGuard(ctx)
        while ctx.graph.filled_qty < req.qty:
            if ctx.now_ns() >= deadline:
                for node in ctx.open_nodes():
                    await ctx.cancel(node)
                ctx.note("horizon_reached", {"filled": str(ctx.graph.filled_qty),
                                             "reason": "passive never crosses; the rest was not filled in time"})
                return
            target = self._target(ctx, venue)
            resting = ctx.open_nodes()
            if target is not None:
                if not resting and ctx.remaining > 0 and guard.gave_up(await ctx.post(venue, ctx.remaining, target,
                                                                                      post_only=True)):
                    return
                for node in resting:
                    node = await ctx.refresh(node)
                    if node.status in ("NEW", "PARTIALLY_FILLED") and node.limit_price != target:
                        await ctx.replace(node, price=target)
            await ctx.sleep(POLL_SECONDS)
