"""OKX market data: REST books and the public ``books`` websocket channel.

https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-order-book-channel :
subscribing ``{"op": "subscribe", "args": [{"channel": "books", "instId": ...}]}`` sends a
``snapshot`` (``prevSeqId`` -1) and then ``update`` messages whose ``prevSeqId`` is the
previous message's ``seqId`` (equal when nothing changed); any other value is a gap. Each
message carries ``checksum``: CRC32 (as a signed 32-bit integer) of the first 25 levels
interleaved ``bidPx:bidSz:askPx:askSz:...`` as the strings OKX sent, the longer side's
remaining levels following alone. Trades on the ``trades`` channel (``side`` is the taker's).
Keepalive: the text ``ping`` (answered ``pong``) when nothing arrived for under 30 s.
A gap or checksum mismatch is repaired by subscribing the book again (a fresh snapshot).
"""

from __future__ import annotations

from decimal import Decimal

from sequence_core.feeds import BookUpdate, TradeUpdate, VenueFeed, interleaved_crc32, levels

from .http import DEFAULT_BASE_URL, OkxClient

DEFAULT_WS_URL = "wss://ws.okx.com:8443/ws/v5/public"


class OkxFeed(VenueFeed):
    venue = "okx"
    ws_snapshots = True
    heartbeat_s = 20.0

    def __init__(self, settings: dict):
        super().__init__(settings)
        self.client = OkxClient("", "", "", settings.get("base_url", DEFAULT_BASE_URL), timeout_s=5)

    @property
    def ws_url(self) -> str:
        return self.settings.get("ws_url", DEFAULT_WS_URL)

    async def snapshot(self, inst, depth: int = 50) -> BookUpdate:
        body = await self.client.books(inst.venue_symbol, depth)
        return BookUpdate(inst.venue_symbol, "snapshot", levels(body["bids"]), levels(body["asks"]),
                          int(body.get("seqId") or 0), ts_ns=int(body["ts"]) * 1_000_000)

    def subscribe(self, instruments) -> list:
        return [{"op": "subscribe", "args": [{"channel": ch, "instId": i.venue_symbol}
                                             for i in instruments for ch in ("books", "trades")]}]

    def resubscribe(self, instruments) -> list:
        args = [{"channel": "books", "instId": i.venue_symbol} for i in instruments]
        return [{"op": "unsubscribe", "args": args}, {"op": "subscribe", "args": args}]

    def ping(self):
        return "ping"

    def checksum(self, book) -> int:
        return interleaved_crc32(*book.levels(25))

    def parse(self, message) -> list:
        if not isinstance(message, dict) or "data" not in message:
            return []            # pong, subscribe acks, errors
        channel, inst_id = message["arg"]["channel"], message["arg"]["instId"]
        if channel == "trades":
            return [TradeUpdate(inst_id, int(t["ts"]) * 1_000_000, 1 if t["side"] == "buy" else -1,
                                Decimal(t["px"]), Decimal(t["sz"])) for t in message["data"]]
        if channel != "books":
            return []
        kind = "snapshot" if message.get("action") == "snapshot" else "delta"
        return [BookUpdate(inst_id, kind, levels(d.get("bids", [])), levels(d.get("asks", [])), int(d["seqId"]),
                           prev_seq=None if kind == "snapshot" else int(d["prevSeqId"]),
                           ts_ns=int(d["ts"]) * 1_000_000, checksum=d.get("checksum"))
                for d in message["data"]]

    async def close(self) -> None:
        await self.client.close()
