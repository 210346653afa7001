"""Bitget v2 market data: REST order books and the public ``books`` websocket channel, for
spot and USDT-M perpetuals on one socket.

https://www.bitget.com/api-doc/spot/websocket/public/Depth-Channel : subscribing
``{"op": "subscribe", "args": [{"instType": "SPOT", "channel": "books", "instId": ...}]}``
sends a ``snapshot`` then ``update`` messages; each carries ``checksum`` (CRC32, signed, of
the best 25 levels interleaved bid:ask, as OKX computes it) and a rising ``seq`` that the docs
do not promise to be consecutive, so the checksum is the gap check here. Trades on ``trade``
(``side`` is the taker's). Keepalive: the text ``ping`` every 30 s (answered ``pong``).
A checksum mismatch is repaired by subscribing again (a fresh snapshot).

Perps: the same channels with ``instType`` ``USDT-FUTURES`` and the bare ``instId``
(``BTCUSDT``) on the same public socket; the futures depth page documents the same rule (full
book snapshot then updates, CRC32 of the best 25 bids and asks interleaved, the prices and
sizes as sent) (https://www.bitget.com/api-doc/contract/websocket/public/Order-Book-Channel),
so one checksum serves both. The push's ``arg.instType`` tells a perp book from the spot one.
Perp REST snapshots (``sequence quote``) come from ``GET /api/v2/mix/market/merge-depth``
with ``precision=scale0`` (unmerged).
"""

from __future__ import annotations

from decimal import Decimal

from sequence_core.feeds import BookUpdate, TradeUpdate, VenueFeed, interleaved_crc32, levels

from .http import DEFAULT_BASE_URL, BitgetClient
from .symbols import ours, where

DEFAULT_WS_URL = "wss://ws.bitget.com/v2/ws/public"


class BitgetFeed(VenueFeed):
    venue = "bitget"
    ws_snapshots = True
    heartbeat_s = 25.0

    def __init__(self, settings: dict):
        super().__init__(settings)
        self.client = BitgetClient("", "", "", settings.get("base_url", DEFAULT_BASE_URL), timeout_s=5)

    @property
    def ws_url(self) -> str:
        return self.settings.get("ws_url", DEFAULT_WS_URL)

    def streams(self, inst) -> bool:
        return inst.kind in ("crypto", "perp")

    async def snapshot(self, inst, depth: int = 50) -> BookUpdate:
        product, symbol = where(inst)
        body = await (self.client.orderbook(symbol, depth) if product is None else self.client.merge_depth(symbol, depth))
        return BookUpdate(inst.venue_symbol, "snapshot", levels(body["bids"]), levels(body["asks"]), ts_ns=int(body["ts"]) * 1_000_000)

    def _args(self, instruments, channels):
        return [{"instType": where(i)[0] or "SPOT", "channel": ch, "instId": where(i)[1]}
                for i in instruments if self.streams(i) for ch in channels]

    def subscribe(self, instruments) -> list:
        args = self._args(instruments, ("books", "trade"))
        return [{"op": "subscribe", "args": args}] if args else []

    def resubscribe(self, instruments) -> list:
        args = self._args(instruments, ("books",))
        return [{"op": "unsubscribe", "args": args}, {"op": "subscribe", "args": args}]

    def ping(self):
        return "ping"

    def checksum(self, book) -> int:
        return interleaved_crc32(*book.levels(25))

    def parse(self, message) -> list:
        if not isinstance(message, dict) or "data" not in message:
            return []            # pong, subscribe acks, errors
        arg = message["arg"]
        symbol = ours(arg["instId"], arg.get("instType"))
        if arg["channel"] == "trade":
            return [TradeUpdate(symbol, int(t["ts"]) * 1_000_000, 1 if t["side"] == "buy" else -1,
                                Decimal(t["price"]), Decimal(t["size"])) for t in message["data"]]
        if arg["channel"] != "books":
            return []
        kind = "snapshot" if message.get("action") == "snapshot" else "delta"
        return [BookUpdate(symbol, kind, levels(d.get("bids", [])), levels(d.get("asks", [])),
                           ts_ns=int(d["ts"]) * 1_000_000, checksum=d.get("checksum")) for d in message["data"]]

    async def close(self) -> None:
        await self.client.close()
