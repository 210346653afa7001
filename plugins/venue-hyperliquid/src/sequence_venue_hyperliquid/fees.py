"""Hyperliquid: the published tier-0 fee schedule (rates are fractions of notional)."""

from decimal import Decimal

from sequence_core.market import FeeSchedule, FeeTier

SCHEDULE = FeeSchedule(
    venue="hyperliquid",
    tiers=(FeeTier("Tier 0 (spot)", Decimal("0.0004"), Decimal("0.0007")),),
    perp_tiers=(FeeTier("Tier 0 (perps)", Decimal("0.00015"), Decimal("0.00045")),),
    source="https://hyperliquid.gitbook.io/hyperliquid-docs/trading/fees",
    as_of="2026-11-24",
    notes="tier 0 (14-day volume under $5M), no staking discount; perps 0.015%/0.045%, spot 0.04%/0.07%",
)
