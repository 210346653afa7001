"""Binance market data: spot books from the diff-depth websocket, USD-M perp books from REST.

https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams :
``<symbol>@depth@100ms`` sends ``depthUpdate`` events with ``U`` (first update id) and ``u``
(last); ``<symbol>@trade`` sends trades (``m`` true: the buyer was the maker, so the
aggressor sold). Subscriptions are ``{"method": "SUBSCRIBE", "params": [...], "id": n}`` on
``/ws``; the server pings every 20 s and aiohttp answers with pongs.
"How to manage a local order book correctly" (same page): take ``GET /api/v3/depth``
(``lastUpdateId``), drop events with ``u`` <= lastUpdateId, the first applied event has
``U`` <= lastUpdateId + 1 <= ``u``, each next one ``U`` = previous ``u`` + 1; otherwise
rebuild from a new snapshot. ``sequence_core.feeds`` applies exactly that (``first_seq``).

USD-M perps: REST snapshots of ``GET /fapi/v1/depth`` (``lastUpdateId``, bids, asks; limits 5,
10, 20, 50, 100, 500, 1000) on every read, as Bybit's linear books are. Their websocket lives on
another host (``wss://fstream.binance.com/public/ws/<symbol>@depth@100ms`` since Binance split
its USD-M websocket URLs into /public, /market and /private, legacy URLs retired on 2026-04-23:
announcement at https://www.binance.bh/en/square/post/298583706254802) and the core keeps
one market-data socket per venue (``FeedRunner``, keyed by venue), so this feed's socket carries
spot books only (``streams``). The futures book's own rule also differs from spot's: ``pu`` (the
previous event's ``u``) must equal the last applied ``u``, and the first event after a snapshot
has ``U`` <= lastUpdateId <= ``u`` (https://developers.binance.com/docs/derivatives/
usds-margined-futures/websocket-market-streams/How-to-manage-a-local-order-book-correctly).
"""

from __future__ import annotations

from decimal import Decimal

from sequence_core.feeds import BookUpdate, TradeUpdate, VenueFeed, levels

from .execution import fapi_url
from .http import DEFAULT_BASE_URL, BinanceClient, BinanceFuturesClient
from .symbols import fapi_symbol

DEFAULT_WS_URL = "wss://stream.binance.com:9443/ws"


class BinanceFeed(VenueFeed):
    venue = "binance"

    def __init__(self, settings: dict):
        super().__init__(settings)
        self.client = BinanceClient("", "", settings.get("base_url", DEFAULT_BASE_URL), timeout_s=5)
        self.futures = BinanceFuturesClient("", "", fapi_url(settings), timeout_s=5)
        self._ids = 0

    @property
    def ws_url(self) -> str:
        return self.settings.get("ws_url", DEFAULT_WS_URL)

    def streams(self, inst) -> bool:
        return inst.kind != "perp"

    async def snapshot(self, inst, depth: int = 50) -> BookUpdate:
        if inst.kind == "perp":
            body = await self.futures.depth(fapi_symbol(inst), max(depth, 5))
            return BookUpdate(inst.venue_symbol, "snapshot", levels(body["bids"]), levels(body["asks"]), body["lastUpdateId"],
                              ts_ns=int(body.get("E") or 0) * 1_000_000)
        body = await self.client.depth(inst.venue_symbol, max(depth, 5))
        return BookUpdate(inst.venue_symbol, "snapshot", levels(body["bids"]), levels(body["asks"]), body["lastUpdateId"])

    def subscribe(self, instruments) -> list:
        self._ids += 1
        streams = [f"{i.venue_symbol.lower()}@{kind}" for i in instruments if self.streams(i) for kind in ("depth@100ms", "trade")]
        return [{"method": "SUBSCRIBE", "params": streams, "id": self._ids}] if streams else []

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
        await self.futures.close()
