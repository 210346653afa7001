"""Bybit v5 spot market data: REST order books and the public spot websocket.

https://bybit-exchange.github.io/docs/v5/websocket/public/orderbook : subscribing
``orderbook.50.<SYMBOL>`` sends a ``snapshot`` then ``delta`` messages; ``u`` (update id)
rises by one per message, so a skipped value is a gap; a new snapshot (``u`` = 1 after a
service restart) resets the book. Trades on ``publicTrade.<SYMBOL>`` (``S`` is the taker's
side). Keepalive ``{"op": "ping"}`` every 20 s. A gap is repaired by subscribing again.
Linear perps live on another socket (``/v5/public/linear``); their books come from REST
snapshots here until that socket is added.
"""

from __future__ import annotations

from decimal import Decimal

from sequence_core.feeds import BookUpdate, TradeUpdate, VenueFeed, levels

from .execution import where
from .http import DEFAULT_BASE_URL, BybitClient

DEFAULT_WS_URL = "wss://stream.bybit.com/v5/public/spot"
DEPTH = 50


class BybitFeed(VenueFeed):
    venue = "bybit"
    ws_snapshots = True

    def __init__(self, settings: dict):
        super().__init__(settings)
        self.client = BybitClient("", "", settings.get("base_url", DEFAULT_BASE_URL), timeout_s=5)

    @property
    def ws_url(self) -> str:
        return self.settings.get("ws_url", DEFAULT_WS_URL)

    def streams(self, inst) -> bool:
        return inst.kind != "perp"

    async def snapshot(self, inst, depth: int = 50) -> BookUpdate:
        category, symbol = where(inst)
        body = await self.client.orderbook(category, symbol, min(max(depth, 1), 200 if category == "spot" else 500))
        return BookUpdate(inst.venue_symbol, "snapshot", levels(body["b"]), levels(body["a"]), int(body.get("u") or 0),
                          ts_ns=int(body["ts"]) * 1_000_000)

    def subscribe(self, instruments) -> list:
        topics = [f"{t}.{i.venue_symbol}" for i in instruments if self.streams(i) for t in (f"orderbook.{DEPTH}", "publicTrade")]
        return [{"op": "subscribe", "args": topics}] if topics else []

    def resubscribe(self, instruments) -> list:
        topics = [f"orderbook.{DEPTH}.{i.venue_symbol}" for i in instruments]
        return [{"op": "unsubscribe", "args": topics}, {"op": "subscribe", "args": topics}]

    def ping(self):
        return {"op": "ping"}

    def parse(self, message) -> list:
        topic = message.get("topic", "") if isinstance(message, dict) else ""
        if topic.startswith("orderbook."):
            d = message["data"]
            return [BookUpdate(d["s"], "snapshot" if message["type"] == "snapshot" else "delta", levels(d["b"]),
                               levels(d["a"]), int(d["u"]), ts_ns=int(message["ts"]) * 1_000_000)]
        if topic.startswith("publicTrade."):
            return [TradeUpdate(t["s"], int(t["T"]) * 1_000_000, 1 if t["S"] == "Buy" else -1, Decimal(t["p"]), Decimal(t["v"]))
                    for t in message["data"]]
        return []            # pong, subscription acks

    async def close(self) -> None:
        await self.client.close()
