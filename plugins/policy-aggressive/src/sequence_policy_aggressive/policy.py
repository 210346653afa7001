"""Aggressive: take liquidity now, across venues, as far as the slippage cap allows.

Routes with high urgency (default cap 200 bps from the touch, or ``--max-slippage``),
then re-routes what is left on fresh books, up to five rounds a short moment apart (the
books refill). It never goes past the cap or the limit price: what cannot be had within
them is left unfilled, with the reason noted.
"""

from sequence_core.policy import Policy

ROUNDS = 5
PAUSE_SECONDS = 0.2


class AggressivePolicy(Policy):
    name = "aggressive"
    description = "crosses for immediacy across venues under the slippage cap"

    async def run(self, ctx):
        for round_ in range(ROUNDS):
            if ctx.remaining <= 0:
                return
            got = await ctx.take(ctx.remaining, ctx.request.limit_price, urgency="high")
            if ctx.remaining > 0 and round_ < ROUNDS - 1:
                ctx.note("reroute", {"remaining": str(ctx.remaining), "round": round_ + 2, "last_round_filled": str(got)})
                await ctx.sleep(PAUSE_SECONDS)
        if ctx.remaining > 0:
            ctx.note("capped", {"remaining": str(ctx.remaining), "reason": "nothing more within the slippage cap / limit"})
