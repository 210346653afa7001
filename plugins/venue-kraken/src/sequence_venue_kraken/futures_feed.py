"""Kraken Futures market data: perp books and trades on the futures websocket, a socket of its own.

https://docs.kraken.com/api/docs/futures-api/websocket/book : ``wss://futures.kraken.com/ws/v1``
(setting ``futures_ws_url``), subscribe ``{"event": "subscribe", "feed": "book", "product_ids":
["PF_XBTUSD"]}``, acknowledged ``{"event": "subscribed", ...}``. Kraken then sends a
``book_snapshot`` (``product_id``, ``seq``, ``timestamp`` ms, ``bids``/``asks`` as
``{price, qty}``), then one ``book`` message per changed level (``side`` buy/sell, ``price``,
``qty``, ``seq``, ``timestamp``; ``qty`` 0 removes the level). ``seq`` counts the product's
book messages: each delta's is the last + 1, so a skipped one is a gap, repaired by
unsubscribing and subscribing the book again for a fresh snapshot (``ws_snapshots``). The
shared recording ws_futures_book_snapshot_with_zero_qty.json has a snapshot with levels of
qty 0: no levels (the core's book drops them).
Trades (https://docs.kraken.com/api/docs/futures-api/websocket/trade): feed ``trade``, a
``trade_snapshot`` of recent prints first (not kept: history, not news), then ``trade``
messages (``side`` the taker's, ``price``, ``qty``, ``time`` ms, ``type`` fill / liquidation /
block...; block trades are agreed off the book and left out).
Keepalive: "make a ping request at least every 60 seconds"
(https://support.kraken.com/articles/360022635632-subscriptions-websockets-api-derivatives); the
core's protocol-level pings every ``heartbeat_s`` (30 s) are those requests, and the futures
socket has no application ping message.
REST (https://docs.kraken.com/api/docs/futures-api/trading/get-orderbook): ``GET
/derivatives/api/v3/orderbook?symbol=`` (``orderBook.bids``/``asks`` as [price, qty],
``serverTime``) answers ``sequence quote``; it carries no ``seq``, so it never seeds a socket book.
"""

from __future__ import annotations

from decimal import Decimal

from sequence_core.feeds import BookUpdate, TradeUpdate, VenueFeed, levels

from .feed import ts_ns
from .futures_http import DEFAULT_FUTURES_URL, KrakenFuturesClient

DEFAULT_FUTURES_WS_URL = "wss://futures.kraken.com/ws/v1"
TRADE_TYPES = ("fill", "liquidation")


def _dec(value) -> Decimal:
    return Decimal(str(value))


class KrakenFuturesFeed(VenueFeed):
    """Perp books (``PF_XBTUSD``...) on Kraken Futures' socket; spot pairs are KrakenFeed's."""

    venue = "kraken"
    ws_snapshots = True
    heartbeat_s = 30.0

    def __init__(self, settings: dict):
        super().__init__(settings)
        self.client = KrakenFuturesClient("", "", settings.get("futures_url", DEFAULT_FUTURES_URL), timeout_s=5)

    @property
    def ws_url(self) -> str:
        return self.settings.get("futures_ws_url", DEFAULT_FUTURES_WS_URL)

    def streams(self, inst) -> bool:
        return inst.kind == "perp"

    async def snapshot(self, inst, depth: int = 50) -> BookUpdate:
        body = await self.client.orderbook(inst.venue_symbol)
        book = body.get("orderBook") or {}
        return BookUpdate(inst.venue_symbol, "snapshot", levels(book.get("bids", [])[:depth]),
                          levels(book.get("asks", [])[:depth]), ts_ns=ts_ns(body.get("serverTime")))

    @staticmethod
    def _feed(event: str, feed: str, instruments) -> dict:
        return {"event": event, "feed": feed, "product_ids": [i.venue_symbol for i in instruments]}

    def subscribe(self, instruments) -> list:
        perps = [i for i in instruments if self.streams(i)]
        return [self._feed("subscribe", "book", perps), self._feed("subscribe", "trade", perps)] if perps else []

    def resubscribe(self, instruments) -> list:
        return [self._feed("unsubscribe", "book", instruments), self._feed("subscribe", "book", instruments)]

    def parse(self, message) -> list:
        feed = message.get("feed") if isinstance(message, dict) and "event" not in message else None
        if feed == "book_snapshot":
            return [BookUpdate(message["product_id"], "snapshot", levels(message.get("bids", []), "price", "qty"),
                               levels(message.get("asks", []), "price", "qty"), int(message["seq"]),
                               ts_ns=int(message.get("timestamp") or 0) * 1_000_000)]
        if feed == "book":
            level = ((_dec(message["price"]), _dec(message["qty"])),)
            buy = message["side"] == "buy"
            return [BookUpdate(message["product_id"], "delta", level if buy else (), () if buy else level,
                               int(message["seq"]), ts_ns=int(message.get("timestamp") or 0) * 1_000_000)]
        if feed == "trade" and message.get("type", "fill") in TRADE_TYPES:
            return [TradeUpdate(message["product_id"], int(message["time"]) * 1_000_000,
                                1 if message["side"] == "buy" else -1, _dec(message["price"]), _dec(message["qty"]))]
        return []            # info, subscribed acks, alerts, heartbeats, trade_snapshot

    async def close(self) -> None:
        await self.client.close()
