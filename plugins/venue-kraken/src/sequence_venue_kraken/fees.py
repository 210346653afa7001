"""Kraken: the published tier-0 fee schedule (rates are fractions of notional).

Kraken Pro spot, 30-day volume $0-10K: 0.25% maker / 0.40% taker, then $10K-50K 0.20% / 0.35%
(https://www.kraken.com/features/fee-schedule); the shared sample http_asset_pairs.json, taken
before September 2026, carries the same tiers in AssetPairs ``fees``/``fees_maker``. Kraken
deprecated those two AssetPairs fields on 8 September 2026: they are now always empty
(https://docs.kraken.com/exchange/changelog, as python-kraken-sdk#453 quotes it), so nothing here
reads them. An account's own rates come from TradeVolume with ``pair`` (``KrakenSession.fees``):
taker in ``fees``, maker in ``fees_maker``, only ``fees`` for a pair not on maker/taker
(https://docs.kraken.com/api-reference/account-data/get-trade-volume).

Perpetuals (Kraken Futures): 0.02% maker / 0.05% taker up to $100K of 30-day volume, then
0.015% / 0.04% (https://support.kraken.com/hc/en-us/articles/360022835771-Transaction-fees-and-rebates-for-Kraken-Futures;
ccxt 4.5.90's krakenfutures tiers in shared/data/fees/ccxt_fee_schedules.json agree on tier 0 and
on the 0.04% taker of tier 1; its tier-1 maker reads 0.0015, a tenfold slip for 0.00015). The
futures fee-schedule endpoints no longer reflect the fees charged since 2026-06-22 (Kraken's
futures REST reference, "Fee Schedules ... DEPRECATED"), so nothing reads them; fills carry the
fee charged (futures.py).
"""

from decimal import Decimal

from sequence_core.market import FeeSchedule, FeeTier

SCHEDULE = FeeSchedule(
    venue="kraken",
    tiers=(
        FeeTier("$0-10K", Decimal("0.0025"), Decimal("0.004")),
        FeeTier("$10K-50K", Decimal("0.002"), Decimal("0.0035"), Decimal("10000")),
    ),
    perp_tiers=(
        FeeTier("perps $0-100K", Decimal("0.0002"), Decimal("0.0005")),
        FeeTier("perps $100K-1M", Decimal("0.00015"), Decimal("0.0004"), Decimal("100000")),
    ),
    source="https://www.kraken.com/features/fee-schedule",
    as_of="2026-11-24",
    notes="Kraken Pro spot; matched AssetPairs fees/fees_maker until Kraken emptied them (2026-09-08); ccxt 4.5.90 still carries the older 0.16%/0.26% first tier",
)
