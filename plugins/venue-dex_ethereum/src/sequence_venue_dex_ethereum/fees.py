"""DEX (Ethereum, Arbitrum): the published tier-0 fee schedule (rates are fractions of notional)."""

from decimal import Decimal

from sequence_core.market import FeeSchedule, FeeTier

SCHEDULE = FeeSchedule(
    venue="dex_ethereum",
    tiers=(FeeTier("pool 0.05%", Decimal("0.0005"), Decimal("0.0005")),),
    source="https://docs.uniswap.org/concepts/protocol/fees",
    as_of="2026-11-24",
    notes="the pool's LP fee; gas is paid on top in ETH and is not included",
)
