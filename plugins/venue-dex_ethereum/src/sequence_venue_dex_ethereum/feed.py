"""dex_ethereum market data: quotes are the book.

There is no websocket book for a pool here (``ws_url`` None). ``snapshot`` asks QuoterV2 for a
configured size (setting ``quote_size``: one number for every pool or a table by canonical
symbol; default 1 ETH, 0.05 BTC): the ask is the price to buy that size
(``quoteExactOutputSingle`` quote -> base: quote paid / size), the bid the price to sell it
(``quoteExactInputSingle`` base -> quote: quote received / size), both as one level of that size,
rounded outward to the tick (ask up, bid down). Two ``eth_call`` per book.
"""

from __future__ import annotations

import time
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from sequence_core.feeds import BookUpdate, VenueFeed

from . import contracts as c

DEFAULT_SIZE = {"ETH": Decimal("1"), "BTC": Decimal("0.05")}


class DexFeed(VenueFeed):
    venue = "dex_ethereum"

    def __init__(self, settings: dict, rpc_url: str | None = None):
        super().__init__(settings)
        self.chain = c.chain_of(settings)
        self._url = rpc_url
        self._client = None

    @property
    def ws_url(self):
        return None

    def size(self, inst) -> Decimal:
        setting = self.settings.get("quote_size")
        if isinstance(setting, dict):
            setting = setting.get(inst.symbol)
        return Decimal(str(setting)) if setting is not None else DEFAULT_SIZE.get(inst.base, Decimal(1))

    def client(self):
        from sequence_core.errors import ConfigError

        from .http import RpcClient

        if self._client is None:
            if not self._url:
                raise ConfigError(f"dex_ethereum: no RPC URL for {self.chain.name}; connect with rpc_url_{self.chain.name} "
                                  f"or set [venues.dex_ethereum] rpc_url")
            self._client = RpcClient(self._url, timeout_s=float(self.settings.get("timeout_s", 5)))
        return self._client

    async def snapshot(self, inst, depth: int = 50) -> BookUpdate:
        p = self.chain.pair(inst.venue_symbol)
        size = self.size(inst)
        units = c.to_units(size, p.base_token.decimals)
        rpc = self.client()
        paid = c.words(await rpc.call(self.chain.quoter, c.quote_out(p.quote_token, p.base_token, units, p.fee)))[0]
        got = c.words(await rpc.call(self.chain.quoter, c.quote_in(p.base_token, p.quote_token, units, p.fee)))[0]
        ask = (c.from_units(paid, p.quote_token.decimals) / size).quantize(inst.tick_size, ROUND_CEILING)
        bid = (c.from_units(got, p.quote_token.decimals) / size).quantize(inst.tick_size, ROUND_FLOOR)
        return BookUpdate(inst.venue_symbol, "snapshot", ((bid, size),), ((ask, size),), ts_ns=time.time_ns())

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
