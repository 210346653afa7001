"""Coinbase Advanced Trade: the published tier-0 fee schedule (rates are fractions of notional).

Tier 0 ("$0-1K" 30-day volume): maker 0.60 %, taker 1.20 %, charged in the quote currency
(https://help.coinbase.com/en/coinbase/trading-and-funding/advanced-trade/advanced-trade-fees;
ccxt 4.5.90 carries the same 0.006/0.012). A key's actual rates are on ``GET
/api/v3/brokerage/transaction_summary`` (``fee_tier.maker_fee_rate``/``taker_fee_rate``), which
``CoinbaseSession.fee_tier()`` reads.
"""

from decimal import Decimal

from sequence_core.market import FeeSchedule, FeeTier

SCHEDULE = FeeSchedule(
    venue="coinbase",
    tiers=(FeeTier("$0-1K", Decimal("0.006"), Decimal("0.012")),),
    source="https://help.coinbase.com/en/coinbase/trading-and-funding/advanced-trade/advanced-trade-fees",
    as_of="2026-11-24",
    notes="Advanced Trade tier 0 by trailing 30-day USD volume; higher tiers from the account's transaction_summary",
)
