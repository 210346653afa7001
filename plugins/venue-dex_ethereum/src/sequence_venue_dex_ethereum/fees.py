"""DEX (Ethereum, Arbitrum): the published tier-0 fee schedule (rates are fractions of notional)."""

from decimal import Decimal

from sequence_core.market import FeeSchedule, FeeTier

SCHEDULE = FeeSchedule(
    venue="dex_ethereum",
    tiers=(FeeTier("pool 0.05%", Decimal("0.0005"), Decimal("0.0005")),),
    source="https://docs.uniswap.org/concepts/protocol/fees",
    as_of="2026-11-24",
    model="pool_fee_plus_gas",
    curve="0.05%×notional + gas",
    notes="the pool's 0.05% LP fee plus a swap's gas, estimated at GAS_USD per swap on Arbitrum "
          "(an assumption: the live adapter will price gas from the chain)",
)

POOL_FEE = Decimal("0.0005")
GAS_USD = Decimal("0.30")   # assumed typical Arbitrum swap gas; the live adapter prices it per block


def fee(price: Decimal, qty: Decimal, liquidity: str) -> Decimal:
    """What a swap costs in quote currency: the pool fee on the notional plus one swap's gas."""
    return price * qty * POOL_FEE + GAS_USD
