"""Coinbase Advanced Trade: the published tier-0 fee schedule (rates are fractions of notional)."""

from decimal import Decimal

from sequence_core.market import FeeSchedule, FeeTier

SCHEDULE = FeeSchedule(
    venue="coinbase",
    tiers=(
        FeeTier("$0-1K", Decimal("0.006"), Decimal("0.012")),
        FeeTier("$1K-10K", Decimal("0.004"), Decimal("0.006"), Decimal("1000")),
        FeeTier("$10K-50K", Decimal("0.0025"), Decimal("0.004"), Decimal("10000")),
    ),
    source="https://help.coinbase.com/en/exchange/trading-and-funding/exchange-fees",
    as_of="2026-11-24",
    notes="Advanced Trade taker/maker by 30-day volume (the figures ccxt 4.5.90 also carries)",
)
