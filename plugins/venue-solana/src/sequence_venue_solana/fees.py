"""Solana (Jupiter): the fee schedule (rates are fractions of notional).

Jupiter's Metis swap API charges no fee of its own unless the integrator adds a platform fee
(https://dev.jup.ag/docs/swap/add-fees-to-swap; this plugin adds none). What a swap costs is
the pool fees along the route, which are already inside the quoted and the filled price, plus
the network fee in SOL (5000 lamports per signature, plus any priority fee:
https://solana.com/docs/core/fees). A live fill therefore carries the network fee (converted
to the quote asset at the fill price) as its fee. The 4 bps below is the typical pool fee of
the deep SOL/USDC pools, used only where the engine needs a rate before a quote (routing and
the paper venue); it is an assumption, not a published tier.
"""

from decimal import Decimal

from sequence_core.market import FeeSchedule, FeeTier

SCHEDULE = FeeSchedule(
    venue="solana",
    tiers=(FeeTier("route", Decimal("0.0004"), Decimal("0.0004")),),
    source="https://dev.jup.ag/docs/swap/add-fees-to-swap",
    as_of="2026-11-24",
    notes="no aggregator fee; pool fees (about 4 bps on SOL/USDC, assumed) are inside the quoted price; "
          "network and priority fees are paid in SOL and recorded on each live fill",
)
