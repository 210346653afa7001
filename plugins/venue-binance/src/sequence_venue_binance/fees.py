"""Binance: the published tier-0 fee schedule (rates are fractions of notional).

Spot Regular: 0.10% maker and taker (https://www.binance.com/en/fee/schedule). USD-M futures
Regular: 0.0200% maker, 0.0500% taker (https://www.binance.com/en/fee/futureFee; the fee FAQ
https://www.binance.com/en/support/faq/360033544231; the recorded
``GET /fapi/v1/commissionRate`` answers in shared/data/responses/binance/python-http say the same
0.0002 / 0.0005). Fills carry the commission Binance reports, not these rates.
"""

from decimal import Decimal

from sequence_core.market import FeeSchedule, FeeTier

SCHEDULE = FeeSchedule(
    venue="binance",
    tiers=(FeeTier("Regular (spot)", Decimal("0.001"), Decimal("0.001")),),
    perp_tiers=(FeeTier("Regular (USD-M)", Decimal("0.0002"), Decimal("0.0005")),),
    source="https://www.binance.com/en/fee/schedule",
    as_of="2026-12-07",
    notes="spot 0.10%/0.10%, USD-M 0.02%/0.05% at the Regular tier (https://www.binance.com/en/fee/futureFee); "
          "BNB discounts not applied",
)
