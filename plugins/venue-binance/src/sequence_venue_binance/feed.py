"""Binance spot market data: REST depth snapshots and the diff-depth websocket.

https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams :
``<symbol>@depth@100ms`` sends ``depthUpdate`` events with ``U`` (first update id) and ``u``
(last); ``<symbol>@trade`` sends trades (``m`` true: the buyer was the maker, so the
aggressor sold). Subscriptions are ``{"method": "SUBSCRIBE", "params": [...], "id": n}`` on
``/ws``; the server pings every 20 s and aiohttp answers with pongs.
"How to manage a local order book correctly" (same page): take ``GET /api/v3/depth``
(``lastUpdateId``), drop events with ``u`` <= lastUpdateId, the first applied event has
``U`` <= lastUpdateId + 1 <= ``u``, each next one ``U`` = previous ``u`` + 1; otherwise
rebuild from a new snapshot. ``sequence_core.feeds`` applies exactly that (``first_seq``).
"""

from __future__ import annotations

from decimal import Decimal

from sequence_core.feeds import BookUpdate, TradeUpdate, VenueFeed, levels

from .http import DEFAULT_BASE_URL, BinanceClient

DEFAULT_WS_URL = "wss://stream.binance.com:9443/ws"


class BinanceFeed(VenueFeed):
    venue = "binance"

    def __init__(self, settings: dict):
        super().__init__(settings)
        self.client = BinanceClient("", "", settings.get("base_url", DEFAULT_BASE_URL), timeout_s=5)
        self._ids = 0

    @property
    def ws_url(self) -> str:
        return self.settings.get("ws_url", DEFAULT_WS_URL)

    async def snapshot(self, inst, depth: int = 50) -> BookUpdate:
        body = await self.client.depth(inst.venue_symbol, max(depth, 5))
        return BookUpdate(inst.venue_symbol, "snapshot", levels(body["bids"]), levels(body["asks"]), body["lastUpdateId"])

    def subscribe(self, instruments) -> list:
        self._ids += 1
        streams = [f"{i.venue_symbol.lower()}@{kind}" for i in instruments for kind in ("depth@100ms", "trade")]
        return [{"method": "SUBSCRIBE", "params": streams, "id": self._ids}]

    def parse(self, message) -> list:
        if not isinstance(message, dict):
            return []
        event = message.get("e")
        if event == "depthUpdate":
            return [BookUpdate(message["s"], "delta", levels(message["b"]), levels(message["a"]),
                               message["u"], first_seq=message["U"], ts_ns=message["E"] * 1_000_000)]
        if event == "trade":
            return [TradeUpdate(message["s"], message["T"] * 1_000_000, -1 if message["m"] else 1,
                                Decimal(message["p"]), Decimal(message["q"]))]
        return []          # subscription acks ({"result": null, "id": n})

    async def close(self) -> None:
        await self.client.close()
