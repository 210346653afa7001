"""Calibration of the synthetic market: per-asset price processes, per-venue book shapes.

Measured from the real samples in shared/data (see docs/synthetic-market.md for the method):
- Binance spot BTCUSDT, 2024-08-08 (binance-multi set, 28,040 bookTicker updates): median
  spread 0.0016 bps (one 0.01 tick at ~61,800), p90 0.026 bps; median best-bid size 1.08 BTC;
  trade size median 0.0006 BTC, mean 0.022 BTC; ~28 trades/s.
- Binance USD-M BTCUSDT, same window: spread 0.016 bps (one 0.1 tick); best size 2.68 BTC;
  trade size median 0.016 BTC, mean 0.114; ~62 trades/s.
- Binance COIN-M BTCUSD_PERP: spread 0.016 bps; best size 951 contracts.
- Bybit spot BTCUSDT 2022-12-13 (Lean minute quotes): median close spread 1.10 bps;
  Bybit linear perp 0.29 bps; Binance COIN-M 0.057 bps.
Venues without a recorded sample use the values marked "assumed", chosen from the venues'
typical public books; they are documented as assumptions, not measurements.
"""

from __future__ import annotations

import msgspec


class AssetProfile(msgspec.Struct, frozen=True):
    anchor: float          # price level the process wanders around (USD)
    vol_daily: float       # standard deviation of daily log returns
    beta: float            # loading on the common crypto factor


class VenueProfile(msgspec.Struct, frozen=True):
    spread_bps: float      # median quoted spread (floored at one tick)
    top_notional_usd: float  # median notional at the best level
    cadence_ms: float      # how often the venue's book updates
    latency_ms: float      # feed latency to us (exchange time -> receive time)
    basis_bps: float       # std of this venue's deviation from the common price
    level_gap_bps: float   # typical distance between consecutive book levels
    measured: bool = False
    trades_per_s: float = 5.0          # mean trade arrival rate on a major pair


# Trade sizes: lognormal in notional (USD), fitted to Binance spot BTCUSDT 2024-08-08
# (median 0.0006 BTC = ~$37, mean 0.022 BTC = ~$1,360 at 61,800): sigma = sqrt(2 ln(mean/median)).
TRADE_NOTIONAL_MEDIAN_USD = 37.0
TRADE_NOTIONAL_SIGMA = 2.69


ASSETS = {
    "BTC": AssetProfile(91_200.0, 0.025, 1.0),
    "ETH": AssetProfile(3_280.5, 0.035, 1.1),
    "SOL": AssetProfile(142.0, 0.05, 1.3),
    "XRP": AssetProfile(0.58, 0.05, 1.0),
    # Hyperliquid spot tokens (assumed levels): Unit's wrapped UBTC and USOL trade as BTC and SOL
    "UBTC": AssetProfile(91_200.0, 0.025, 1.0),
    "USOL": AssetProfile(142.0, 0.05, 1.3),
    "HYPE": AssetProfile(30.0, 0.06, 1.2),
    "PURR": AssetProfile(0.2, 0.08, 1.0),
}
DEFAULT_ASSET = AssetProfile(1.0, 0.05, 1.0)

VENUES = {
    # one 0.01 tick (the recorded median: 0.0016 bps was one tick at ~61,800)
    "binance": VenueProfile(0.001, 65_000, 100, 20, 0.05, 0.05, measured=True, trades_per_s=28.0),
    "bybit": VenueProfile(1.10, 20_000, 100, 25, 0.3, 0.3, measured=True),
    "okx": VenueProfile(0.10, 40_000, 100, 30, 0.05, 0.1),           # assumed
    "coinbase": VenueProfile(0.20, 25_000, 50, 40, 0.1, 0.2),       # assumed
    "kraken": VenueProfile(0.50, 15_000, 100, 60, 0.2, 0.4),        # assumed
    "bitget": VenueProfile(0.30, 20_000, 100, 40, 0.1, 0.3),        # assumed
    "cryptocom": VenueProfile(0.60, 10_000, 100, 50, 0.2, 0.5),     # assumed
    "hyperliquid": VenueProfile(0.15, 50_000, 500, 200, 0.05, 0.2),  # assumed (block time ~0.2-0.5 s)
    "dex_ethereum": VenueProfile(5.0, 30_000, 12_000, 500, 1.5, 5.0),   # assumed: 0.05% pool fee, 12 s blocks
    "solana": VenueProfile(4.0, 20_000, 400, 300, 1.5, 4.0),            # assumed: aggregator routes
    "kalshi": VenueProfile(200.0, 500, 500, 50, 0.0, 100.0),        # assumed: 1-2 cent spreads
    "polymarket": VenueProfile(150.0, 800, 500, 80, 0.0, 100.0),    # assumed
}
DEFAULT_VENUE = VenueProfile(1.0, 10_000, 200, 50, 0.3, 0.5)
PERP_PREMIUM_BPS = 2.0       # perps trade a little rich on average (positive funding)
