"""Solana market data: an aggregator has no book, so the book is two Jupiter quotes.

For the configured size (venue setting ``quote_size``: one number for every pair, or a table
``{"SOL-USDC" = "2"}``; default symbols.DEFAULT_QUOTE_SIZE, about 20-150 USDC), the ask is
the price to buy that size (``ExactOut`` of the base, quote in / size, rounded up to the
tick) and the bid the price to sell it (``ExactIn``, quote out / size, rounded down); both
levels carry that size. There is no public websocket (``ws_url`` None): every ``snapshot`` is
two fresh quotes, so no book is ever stale, and trades are not published.
"""

from __future__ import annotations

import time
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from sequence_core.feeds import BookUpdate, VenueFeed

from .http import DEFAULT_AGGREGATOR_URL, JupiterClient
from .symbols import DEFAULT_QUOTE_SIZE, from_raw, mint, to_raw


class SolanaFeed(VenueFeed):
    venue = "solana"

    def __init__(self, settings: dict, api_key: str = ""):
        super().__init__(settings)
        self.client = JupiterClient(settings.get("aggregator_url", DEFAULT_AGGREGATOR_URL), api_key, timeout_s=5,
                                    rate_per_min=int(settings.get("aggregator_rate_per_min", 60)))

    def size(self, inst) -> Decimal:
        configured = self.settings.get("quote_size")
        if isinstance(configured, dict):
            configured = configured.get(inst.symbol)
        return Decimal(str(configured)) if configured else DEFAULT_QUOTE_SIZE.get(inst.base, Decimal(1))

    async def snapshot(self, inst, depth: int = 50) -> BookUpdate:
        size = self.size(inst)
        units = to_raw(inst.base, size)
        buy = await self.client.quote(mint(inst.quote), mint(inst.base), units, "ExactOut", 0)
        sell = await self.client.quote(mint(inst.base), mint(inst.quote), units, "ExactIn", 0)
        ask = (from_raw(inst.quote, int(buy["inAmount"])) / size).quantize(inst.tick_size, ROUND_CEILING)
        bid = (from_raw(inst.quote, int(sell["outAmount"])) / size).quantize(inst.tick_size, ROUND_FLOOR)
        return BookUpdate(inst.venue_symbol, "snapshot", ((bid, size),), ((ask, size),), ts_ns=time.time_ns())

    async def close(self) -> None:
        await self.client.close()
