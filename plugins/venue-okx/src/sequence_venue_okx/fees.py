"""OKX: the published tier-0 fee schedule (rates are fractions of notional)."""

from decimal import Decimal

from sequence_core.market import FeeSchedule, FeeTier

SCHEDULE = FeeSchedule(
    venue="okx",
    tiers=(FeeTier("Regular Lv1 (spot)", Decimal("0.0008"), Decimal("0.001")),),
    perp_tiers=(FeeTier("Regular Lv1 (swap)", Decimal("0.0002"), Decimal("0.0005")),),
    source="https://www.okx.com/fees",
    as_of="2026-11-24",
    notes="regular users, level 1; ccxt 4.5.90 carries 0.10%/0.15% for spot",
)
