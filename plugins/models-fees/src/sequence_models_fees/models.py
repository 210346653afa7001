"""Fee models: maker and taker rates (fractions of notional; negative = rebate) per instrument.

- ``venue`` (default): each venue plugin's published schedule (``Venue.fee_schedule()``), the
  perpetuals' tiers for ``*-PERP`` symbols; param ``tier`` picks a volume tier by index
  (default 0, the entry tier); a tier with a negative maker rate pays a rebate. A venue with
  no published schedule falls back to ``fallback_maker``/``fallback_taker`` (default 0.001 /
  0.001) and the run says so.
- ``zero``: no fees (for comparisons with peers run without fees).
"""

from sequence_core.errors import UsageError
from sequence_core.sim.models import check_params, number


class Zero:
    name = "zero"
    description = "no fees"
    params_help: dict = {}

    def prepare(self, spec, venues, symbols):
        check_params(spec, self.params_help)
        return [(0.0, 0.0)] * len(venues), []


class VenueSchedule:
    name = "venue"
    description = "each venue's published maker/taker schedule (tier 0 unless tier=N)"
    params_help = {"tier": "tier index, default 0", "fallback_maker": "rate, default 0.001",
                   "fallback_taker": "rate, default 0.001"}

    def prepare(self, spec, venues, symbols):
        from sequence_core.plugins import venues as registered

        check_params(spec, self.params_help)
        tier = int(number(spec.params.get("tier", "0"), "fee model venue: tier"))
        fb = (number(spec.params.get("fallback_maker", "0.001"), "fee model venue: fallback_maker"),
              number(spec.params.get("fallback_taker", "0.001"), "fee model venue: fallback_taker"))
        known = registered()
        rates, notes = [], []
        for venue, symbol in zip(venues, symbols):
            schedule = known[venue].fee_schedule() if venue in known else None
            if schedule is None:
                rates.append(fb)
                notes.append(f"{venue}: no published fee schedule; assumed maker {fb[0]:g}, taker {fb[1]:g}")
                continue
            tiers = schedule.perp_tiers if symbol.endswith("-PERP") and schedule.perp_tiers else schedule.tiers
            if not 0 <= tier < len(tiers):
                raise UsageError(f"fee model venue: {venue} has tiers 0..{len(tiers) - 1}, not {tier}")
            rates.append((float(tiers[tier].maker), float(tiers[tier].taker)))
        return rates, notes


MODELS = [VenueSchedule(), Zero()]
