"""Solana (DEX aggregator): the published tier-0 fee schedule (rates are fractions of notional)."""

from decimal import Decimal

from sequence_core.market import FeeSchedule, FeeTier

SCHEDULE = FeeSchedule(
    venue="solana",
    tiers=(FeeTier("route", Decimal("0.0004"), Decimal("0.0004")),),
    source="https://dev.jup.ag/docs/",
    as_of="2026-11-24",
    notes="typical pool fee along the route (assumed 4 bps); the aggregator adds none by default; "
          "network and priority fees are paid on top in SOL",
)
