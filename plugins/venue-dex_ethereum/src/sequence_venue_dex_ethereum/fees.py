"""dex_ethereum: what a swap costs - the pool's LP fee plus the transaction's gas.

Uniswap v3 pools charge their fee tier on the input amount (0.01%, 0.05%, 0.30%, 1%:
https://docs.uniswap.org/concepts/protocol/fees); the pools traded here are 0.05% (WETH/USDC on
both chains, WBTC/USDC on Arbitrum) and 0.30% (WBTC/USDC on Ethereum). There is no maker side:
every swap takes. Gas is paid in ETH per transaction; for estimates before a trade it is an
assumed typical swap cost per chain (GAS_USD); a real fill records the gas the receipt shows
(execution.py).
"""

from decimal import Decimal

from sequence_core.market import FeeSchedule, FeeTier

SCHEDULE = FeeSchedule(
    venue="dex_ethereum",
    tiers=(FeeTier("pool 0.05%", Decimal("0.0005"), Decimal("0.0005")),
           FeeTier("pool 0.30% (WBTC/USDC on Ethereum)", Decimal("0.003"), Decimal("0.003"))),
    source="https://docs.uniswap.org/concepts/protocol/fees",
    as_of="2026-11-24",
    model="pool_fee_plus_gas",
    curve="pool fee tier × notional + gas",
    notes="the pool's LP fee (0.05% WETH/USDC; WBTC/USDC 0.05% on Arbitrum, 0.30% on Ethereum) plus one swap's "
          "gas, estimated for previews at an assumed $0.30 per swap on Arbitrum ($3.00 on Ethereum); fills record "
          "the gas actually paid",
)

POOL_FEE = Decimal("0.0005")
GAS_USD = Decimal("0.30")                  # assumed typical Arbitrum swap gas, for estimates only
GAS_USD_BY_CHAIN = {"arbitrum": Decimal("0.30"), "ethereum": Decimal("3.00")}


def fee(price: Decimal, qty: Decimal, liquidity: str, pool_fee: Decimal = POOL_FEE, gas_usd: Decimal = GAS_USD) -> Decimal:
    """What a swap costs in quote currency: the pool fee on the notional plus one swap's gas."""
    return price * qty * pool_fee + gas_usd


def fee_for(venue_symbol: str, price: Decimal, qty: Decimal, liquidity: str) -> Decimal:
    """The fee of one swap in the pool a venue symbol names (``<chain>:<pair>:<fee tier>``)."""
    chain, tier = venue_symbol.partition(":")[0], venue_symbol.rsplit(":", 1)[-1]
    pool = Decimal(tier) / Decimal(1_000_000) if tier.isdigit() else POOL_FEE
    return fee(price, qty, liquidity, pool, GAS_USD_BY_CHAIN.get(chain, GAS_USD))
