"""OKX market data: REST books and the public ``books`` websocket channel.

https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-order-book-channel :
subscribing ``{"op": "subscribe", "args": [{"channel": "books", "instId": ...}]}`` streams
``update`` messages whose ``prevSeqId`` is the previous message's ``seqId`` (equal, with no
levels, when nothing changed; a ``seqId`` below ``prevSeqId`` once after a maintenance reset).
Trades on the ``trades`` channel (``side`` is the taker's). Keepalive: the text ``ping``
(answered ``pong``) when nothing arrived for under 30 s.

Books are built as OKX's changelog now says to (https://www.okx.com/docs-v5/log_en/ ,
"Delist initial snapshot and checksum field in order book channels", last update 2026-02-12:
the socket's initial ``snapshot`` push goes, demo early May 2026, production early August
2026; "How to manage a local order book correctly"): the snapshot comes from
``GET /api/v5/market/books`` with its ``seqId``; buffered updates with ``seqId`` <= the
snapshot's are dropped, the first one kept must have ``prevSeqId`` <= snapshot ``seqId`` <
``seqId`` (else a newer snapshot is fetched), and from then on each ``prevSeqId`` is the last
``seqId``. Here: ``ws_snapshots`` off, so the core fetches that REST snapshot (400 levels, the
channel's depth) on connect and on every gap, and each update carries ``first_seq`` =
``prevSeqId`` + 1, which is the core's range rule for the first delta after a snapshot. A
socket that still sends the old ``snapshot`` push (``prevSeqId`` -1) resets the book to it,
which is as exact (updates chain from it), so the adapter works before and after the change.
The REST ``seqId`` is what that procedure relies on (the older REST answer had none: read as 0,
the core could not drop updates older than the snapshot).
``checksum``: CRC32 (as a signed 32-bit integer) of the first 25 levels interleaved
``bidPx:bidSz:askPx:askSz:...`` as the strings OKX sent. OKX deprecated it: from 2026-06-23
(production) the field stays but is always 0 and "must no longer be used for data integrity
validation" (https://www.okx.com/help/okx-order-book-channels-checksum-field-deprecation ,
2026-05-21); a ``checksum`` of 0 or absent is therefore read as none, and any other value is
still verified.

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
    ws_snapshots = False            # a gap is repaired from GET /market/books (see above)
    heartbeat_s = 20.0

    def __init__(self, settings: dict):
        super().__init__(settings)
        self.client = OkxClient("", "", "", settings.get("base_url", DEFAULT_BASE_URL), timeout_s=5)

    @property
    def ws_url(self) -> str:
        return self.settings.get("ws_url", DEFAULT_WS_URL)

    async def snapshot(self, inst, depth: int = 400) -> BookUpdate:
        body = await self.client.books(inst.venue_symbol, depth)
        return BookUpdate(inst.venue_symbol, "snapshot", _sized(inst.venue_symbol, body["bids"]),
                          _sized(inst.venue_symbol, body["asks"]), int(body.get("seqId") or 0), ts_ns=int(body["ts"]) * 1_000_000)

    def subscribe(self, instruments) -> list:
        return [{"op": "subscribe", "args": [{"channel": ch, "instId": i.venue_symbol}
                                             for i in instruments for ch in ("books", "trades")]}]

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
        snapshot = message.get("action") == "snapshot"          # the legacy initial push
        return [_book(inst_id, d, snapshot) for d in message["data"]]

    async def close(self) -> None:
        await self.client.close()


def _book(inst_id: str, d: dict, snapshot: bool) -> BookUpdate:
    seq = int(d["seqId"])
    prev = None if snapshot else int(d["prevSeqId"])
    # the range rule for the first update after a REST snapshot: prevSeqId <= its seqId < seqId;
    # a maintenance reset (seqId < prevSeqId) follows by prevSeqId alone
    first = prev + 1 if prev is not None and seq >= prev else None
    return BookUpdate(inst_id, "snapshot" if snapshot else "delta", _sized(inst_id, d.get("bids", [])),
                      _sized(inst_id, d.get("asks", [])), seq, prev_seq=prev, first_seq=first,
                      ts_ns=int(d["ts"]) * 1_000_000, checksum=d.get("checksum") or None)   # 0: deprecated, none


def _sized(inst_id: str, rows) -> tuple:
    """Levels in base units: a swap's contract counts times its ``ctVal`` (spot: as sent)."""
    found = levels(rows)
    ct = CONTRACT_VALUE.get(inst_id)
    return found if ct is None else tuple((p, s * ct) for p, s in found)
