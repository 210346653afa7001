"""TWAP: the parent is cut into even slices spread over ``--horizon``.

Slices: one per ~10 s of horizon, at least 2 and at most 120, the first at once and the last
at the horizon (evenly spaced between: the order is worked over the whole horizon, not done an
interval early). Each slice time between is jittered by up to ±20% of the spacing
(deterministic per graph, so a resumed graph keeps its schedule) so the pattern is harder to
detect. Each slice takes, through the SOR, what brings the filled quantity up to
(slice / slices) of the parent; after the horizon the rest is swept with high urgency, never
past the slippage cap.
"""

import random
from decimal import Decimal

from sequence_core.policy import Policy, require_horizon, run_schedule

SLICE_SECONDS = 10.0
MIN_SLICES, MAX_SLICES = 2, 120
JITTER = 0.2


def schedule(graph_id: str, start_ns: int, horizon_s: float) -> list[tuple[int, Decimal]]:
    slices = max(MIN_SLICES, min(MAX_SLICES, round(horizon_s / SLICE_SECONDS)))
    spacing = horizon_s / (slices - 1)
    rnd = random.Random(graph_id)
    out = []
    for i in range(slices):
        jitter = rnd.uniform(-JITTER, JITTER) * spacing if 0 < i < slices - 1 else 0.0
        out.append((start_ns + int((i * spacing + jitter) * 1e9), Decimal(i + 1) / Decimal(slices)))
    return out


class TwapPolicy(Policy):
    name = "twap"
    description = "even slices over --horizon with jitter, each routed by the SOR"
    long_running = True

    def validate(self, request):
        require_horizon(request, self.name)

    async def run(self, ctx):
        await run_schedule(ctx, schedule(ctx.graph.graph_id, ctx.started_ns, ctx.request.horizon_s))
