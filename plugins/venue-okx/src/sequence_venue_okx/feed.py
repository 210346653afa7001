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
OKX has since deprecated that checksum: the field stays, "its value is fixed to 0 and must no
longer be used", seqId/prevSeqId being the check (the channel's page as of June 2026); a
``checksum`` of 0 is therefore read as none, and any other value is still verified.

Perpetual swaps (``BTC-USDT-SWAP``) use the same channels, socket and rules; their sizes
(book levels, trades, the REST book) are numbers of contracts ("number of contracts for
derivatives, quantity in base currency for Spot"), so each is multiplied by the swap's
``ctVal`` here, exactly (Decimal keeps the exponents), and the checksum divides them back to
the strings OKX sent before hashing.
"""

from __future__ import annotations

from decimal import Decimal

from sequence_core.feeds import BookUpdate, TradeUpdate, VenueFeed, interleaved_crc32, levels

from .http import DEFAULT_BASE_URL, OkxClient
from .symbols import CONTRACT_VALUE

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
        return BookUpdate(inst.venue_symbol, "snapshot", _sized(inst.venue_symbol, body["bids"]),
                          _sized(inst.venue_symbol, body["asks"]), int(body.get("seqId") or 0), ts_ns=int(body["ts"]) * 1_000_000)

    def subscribe(self, instruments) -> list:
        return [{"op": "subscribe", "args": [{"channel": ch, "instId": i.venue_symbol}
                                             for i in instruments for ch in ("books", "trades")]}]

    def resubscribe(self, instruments) -> list:
        args = [{"channel": "books", "instId": i.venue_symbol} for i in instruments]
        return [{"op": "unsubscribe", "args": args}, {"op": "subscribe", "args": args}]

    def ping(self):
        return "ping"

    def checksum(self, book) -> int:
        bids, asks = book.levels(25)
        ct = CONTRACT_VALUE.get(book.symbol)
        if ct is not None:                     # back to the contract counts OKX hashed
            bids, asks = (tuple((p, s / ct) for p, s in side) for side in (bids, asks))
        return interleaved_crc32(bids, asks)

    def parse(self, message) -> list:
        if not isinstance(message, dict) or "data" not in message:
            return []            # pong, subscribe acks, errors
        channel, inst_id = message["arg"]["channel"], message["arg"]["instId"]
        if channel == "trades":
            ct = CONTRACT_VALUE.get(inst_id, 1)
            return [TradeUpdate(inst_id, int(t["ts"]) * 1_000_000, 1 if t["side"] == "buy" else -1,
                                Decimal(t["px"]), Decimal(t["sz"]) * ct) for t in message["data"]]
        if channel != "books":
            return []
        kind = "snapshot" if message.get("action") == "snapshot" else "delta"
        return [BookUpdate(inst_id, kind, _sized(inst_id, d.get("bids", [])), _sized(inst_id, d.get("asks", [])),
                           int(d["seqId"]), prev_seq=None if kind == "snapshot" else int(d["prevSeqId"]),
                           ts_ns=int(d["ts"]) * 1_000_000, checksum=d.get("checksum") or None)   # 0: deprecated, none
                for d in message["data"]]

    async def close(self) -> None:
        await self.client.close()


def _sized(inst_id: str, rows) -> tuple:
    """Levels in base units: a swap's contract counts times its ``ctVal`` (spot: as sent)."""
    found = levels(rows)
    ct = CONTRACT_VALUE.get(inst_id)
    return found if ct is None else tuple((p, s * ct) for p, s in found)
