"""Bitget: the published tier-0 fee schedule (rates are fractions of notional).

Futures (USDT-M): maker 0.02%, taker 0.06% ("The standard maker fee is 0.02%... The standard
taker fee is 0.06%", Bitget's "Futures Trading Fees, Limits, and Rules" support article,
https://www.bitget.com/support/articles/12560603820668, and its worked example in
https://www.bitget.com/support/articles/4552737163033); the contracts endpoint reports the
same ``makerFeeRate`` 0.0002 / ``takerFeeRate`` 0.0006 for BTCUSDT, ETHUSDT and SOLUSDT.
"""

from decimal import Decimal

from sequence_core.market import FeeSchedule, FeeTier

SCHEDULE = FeeSchedule(
    venue="bitget",
    tiers=(FeeTier("VIP 0 (spot)", Decimal("0.001"), Decimal("0.001")),),
    perp_tiers=(FeeTier("VIP 0 (futures)", Decimal("0.0002"), Decimal("0.0006")),),
    source="https://www.bitget.com/fee",
    as_of="2026-11-24",
    notes="ccxt 4.5.90 carries 0.20%/0.20% for spot (older schedule)",
)
