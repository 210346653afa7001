"""Kraken: the published tier-0 fee schedule (rates are fractions of notional).

Kraken Pro spot, 30-day volume $0-10K: 0.25% maker / 0.40% taker, then $10K-50K 0.20% / 0.35%
(https://www.kraken.com/features/fee-schedule); the shared sample http_asset_pairs.json, taken
before September 2026, carries the same tiers in AssetPairs ``fees``/``fees_maker``. Kraken
deprecated those two AssetPairs fields on 8 September 2026: they are now always empty
(https://docs.kraken.com/exchange/changelog, as python-kraken-sdk#453 quotes it), so nothing here
reads them. An account's own rates come from TradeVolume with ``pair`` (``KrakenSession.fees``):
taker in ``fees``, maker in ``fees_maker``, only ``fees`` for a pair not on maker/taker
(https://docs.kraken.com/api-reference/account-data/get-trade-volume).
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
    notes="Kraken Pro spot; matched AssetPairs fees/fees_maker until Kraken emptied them (2026-09-08); ccxt 4.5.90 still carries the older 0.16%/0.26% first tier",
)
