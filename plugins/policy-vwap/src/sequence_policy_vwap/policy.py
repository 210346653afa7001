"""VWAP: slices sized by the expected share of volume in each part of the horizon.

The profile is ``ctx.volume_profile()`` (24 hourly weights, UTC, which the engine learns from
the recorded trades of the order's books when the store has every hour of the day) or,
failing that, DEFAULT_PROFILE: an assumed crypto
intraday curve, quietest around 03-06 UTC, busiest at the US open (13-16 UTC), with a
smaller European-open bump (07-09 UTC). Slices are as for TWAP (about one per 10 s of
horizon, the first at once and the last at the horizon); each slice's target is the
cumulative profile weight of its part of the horizon.
"""

from decimal import Decimal

from sequence_core.policy import Policy, require_horizon, run_schedule

DEFAULT_PROFILE = [3.6, 3.4, 3.1, 2.8, 2.7, 2.8, 3.2, 4.0, 4.6, 4.4, 4.2, 4.3,
                   4.8, 5.9, 6.6, 6.2, 5.4, 4.8, 4.4, 4.1, 3.9, 3.8, 3.7, 3.5]
SLICE_SECONDS = 10.0
MIN_SLICES, MAX_SLICES = 2, 120


def weight_at(profile: list[float], t_ns: int) -> float:
    hour = int((t_ns // 1_000_000_000) % 86_400 // 3600)
    return profile[hour * len(profile) // 24]


def schedule(start_ns: int, horizon_s: float, profile: list[float]) -> list[tuple[int, Decimal]]:
    slices = max(MIN_SLICES, min(MAX_SLICES, round(horizon_s / SLICE_SECONDS)))
    interval_ns = int(horizon_s / slices * 1e9)
    spacing_ns = int(horizon_s / (slices - 1) * 1e9)       # the last slice at the horizon
    weights = [weight_at(profile, start_ns + i * interval_ns + interval_ns // 2) for i in range(slices)]
    total = sum(weights)
    out, acc = [], 0.0
    for i, w in enumerate(weights):
        acc += w
        out.append((start_ns + i * spacing_ns, Decimal(repr(acc / total)) if i < slices - 1 else Decimal(1)))
    return out


class VwapPolicy(Policy):
    name = "vwap"
    description = "slices follow the intraday volume profile over --horizon"
    long_running = True
    uses_volume_profile = True

    def validate(self, request):
        require_horizon(request, self.name)

    async def run(self, ctx):
        learned = ctx.volume_profile()
        profile = learned or DEFAULT_PROFILE
        total = sum(profile)
        ctx.note("volume_profile", {"source": "learned from the recorded trades" if learned else "default curve",
                                    "hourly_share_pct": [round(100 * w / total, 2) for w in profile]})
        await run_schedule(ctx, schedule(ctx.started_ns, ctx.request.horizon_s, profile))
