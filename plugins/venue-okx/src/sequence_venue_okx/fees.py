"""OKX: the published tier-0 fee schedule (rates are fractions of notional).

Regular users, Lv1 (https://www.okx.com/fees): spot maker 0.08% / taker 0.10%; perpetual
swaps (USDT-margined, charged on contracts × ctVal × fill price, in USDT) maker 0.020% /
taker 0.050%, the figures ccxt 4.5.90 also carries for OKX's ``swap`` markets. A fill's
actual fee is what OKX reports on it (``fee``/``fillFee``), never this table.
"""

from decimal import Decimal

from sequence_core.market import FeeSchedule, FeeTier

SCHEDULE = FeeSchedule(
    venue="okx",
    tiers=(FeeTier("Regular Lv1 (spot)", Decimal("0.0008"), Decimal("0.001")),),
    perp_tiers=(FeeTier("Regular Lv1 (swap)", Decimal("0.0002"), Decimal("0.0005")),),
    source="https://www.okx.com/fees",
    as_of="2026-11-24",
    notes="regular users, level 1; ccxt 4.5.90 carries 0.10%/0.15% for spot and 0.02%/0.05% for swaps",
)
