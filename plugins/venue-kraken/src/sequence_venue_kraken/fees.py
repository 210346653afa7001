"""Kraken: the published tier-0 fee schedule (rates are fractions of notional).

Kraken Pro spot, 30-day volume $0-10K: 0.25% maker / 0.40% taker, then $10K-50K 0.20% / 0.35%
(https://www.kraken.com/features/fee-schedule). AssetPairs publishes the same tiers per pair
(``fees_maker`` [[0, 0.25], [10000, 0.2], ...], ``fees`` [[0, 0.4], [10000, 0.35], ...] in the
shared sample http_asset_pairs.json); an account's own rates come from TradeVolume
(``KrakenSession.fees``).
"""

from decimal import Decimal

from sequence_core.market import FeeSchedule, FeeTier

SCHEDULE = FeeSchedule(
    venue="kraken",
    tiers=(
        FeeTier("$0-10K", Decimal("0.0025"), Decimal("0.004")),
        FeeTier("$10K-50K", Decimal("0.002"), Decimal("0.0035"), Decimal("10000")),
    ),
    source="https://www.kraken.com/features/fee-schedule",
    as_of="2026-11-24",
    notes="Kraken Pro spot; matches AssetPairs fees/fees_maker; ccxt 4.5.90 still carries the older 0.16%/0.26% first tier",
)
