"""Kraken market data: REST Depth snapshots and the public WebSocket v2 ``book`` and ``trade`` channels.

https://docs.kraken.com/api/docs/websocket-v2/book : ``wss://ws.kraken.com/v2``, subscribe
``{"method": "subscribe", "params": {"channel": "book", "symbol": ["BTC/USD"], "depth": 25}}``
(depth 10, 25, 100, 500 or 1000); the socket sends a ``snapshot`` then ``update`` messages,
prices and quantities as JSON numbers, each with ``checksum``. There are no sequence numbers:
the checksum is the gap check, and a mismatch is repaired by unsubscribing and subscribing the
book again (a fresh snapshot). The book is kept truncated to the subscribed depth, as the
guide asks ("you won't receive qty 0 for price levels that fall out of scope").
Checksum (https://docs.kraken.com/api/docs/guides/spot-ws-book-v2, now
https://docs.kraken.com/exchange/guides/websockets/book-checksum-v2): CRC32 (unsigned) of the top
10 asks low to high then the top 10 bids high to low, each level its price then its quantity
written with the pair's precision, the ``.`` removed and leading zeros stripped. The guide has
the wire text parsed with a decimal decoder (it carries the pair's precision, "0.00100000");
the core decodes JSON numbers as floats, so the precision comes from the pair (tick and lot
decimals) instead, which also covers a number in exponent form (``5.1e-05``: Kraken's own SDK
reads trade quantities so, https://github.com/krakenfx/kraken-api-sdk rust/src/api/market/ws_types.rs);
the docs' MATIC/USD example (2439117997, then 2114181697) is a test.
Trades: channel ``trade`` (``side`` is the taker's). Keepalive: ``{"method": "ping"}``,
answered ``{"method": "pong"}``; Kraken also sends ``heartbeat`` messages about once a second.
"""

from __future__ import annotations

import zlib
from datetime import datetime
from decimal import Decimal

from sequence_core.feeds import BookUpdate, TradeUpdate, VenueFeed, levels

from .http import DEFAULT_BASE_URL, KrakenClient
from .symbols import precision, rest_pair

DEFAULT_WS_URL = "wss://ws.kraken.com/v2"
CHECKSUM_LEVELS = 10


def _digits(value: Decimal, decimals: int) -> str:
    return format(value.quantize(Decimal(1).scaleb(-decimals)), "f").replace(".", "").lstrip("0")


def book_checksum(bids, asks, price_decimals: int, qty_decimals: int) -> int:
    """Kraken's v2 book checksum of the best levels (bids best first, asks best first)."""
    text = "".join(_digits(p, price_decimals) + _digits(q, qty_decimals)
                   for side in (asks, bids) for p, q in side[:CHECKSUM_LEVELS])
    return zlib.crc32(text.encode())


def ts_ns(rfc3339: str | None) -> int:
    """``2023-10-06T17:35:55.440295Z`` as int ns (microseconds are what Kraken sends)."""
    if not rfc3339:
        return 0
    head, _, frac = rfc3339.rstrip("Z").partition(".")
    seconds = int(datetime.fromisoformat(head + "+00:00").timestamp())
    return seconds * 1_000_000_000 + int((frac + "000000000")[:9])


class KrakenFeed(VenueFeed):
    venue = "kraken"
    ws_snapshots = True
    heartbeat_s = 20.0

    def __init__(self, settings: dict):
        super().__init__(settings)
        self.client = KrakenClient("", "", settings.get("base_url", DEFAULT_BASE_URL), timeout_s=5)
        self.depth = int(settings.get("book_depth", 25))
        self.instruments: dict = {}            # venue symbol -> instrument (its precision)

    @property
    def ws_url(self) -> str:
        return self.settings.get("ws_url", DEFAULT_WS_URL)

    def streams(self, inst) -> bool:
        return inst.kind == "crypto"

    async def snapshot(self, inst, depth: int = 50) -> BookUpdate:
        book = await self.client.depth(rest_pair(inst.venue_symbol), depth)
        stamps = [int(r[2]) for r in book["bids"] + book["asks"] if len(r) > 2]
        return BookUpdate(inst.venue_symbol, "snapshot", levels(book["bids"]), levels(book["asks"]),
                          ts_ns=max(stamps, default=0) * 1_000_000_000)

    def _book(self, method: str, instruments) -> dict:
        return {"method": method, "params": {"channel": "book", "symbol": [i.venue_symbol for i in instruments],
                                             "depth": self.depth}}

    def subscribe(self, instruments) -> list:
        streamed = [i for i in instruments if self.streams(i)]
        self.instruments.update({i.venue_symbol: i for i in streamed})
        if not streamed:
            return []
        return [self._book("subscribe", streamed),
                {"method": "subscribe", "params": {"channel": "trade", "symbol": [i.venue_symbol for i in streamed],
                                                   "snapshot": False}}]

    def resubscribe(self, instruments) -> list:
        return [self._book("unsubscribe", instruments), self._book("subscribe", instruments)]

    def ping(self):
        return {"method": "ping"}

    def checksum(self, book) -> int | None:
        """Runs after every book message (each carries a checksum): first trims the book to the
        subscribed depth, as Kraken's guide requires, then checksums its top 10."""
        inst = self.instruments.get(book.symbol)
        if inst is None:
            return None
        for side, best_first in ((book.bids, True), (book.asks, False)):
            for price in sorted(side, reverse=best_first)[self.depth:]:
                del side[price]
        return book_checksum(*book.levels(CHECKSUM_LEVELS), *precision(inst))

    def parse(self, message) -> list:
        if not isinstance(message, dict) or message.get("channel") not in ("book", "trade"):
            return []            # status, heartbeat, pong, subscribe acks
        if message["channel"] == "trade":
            return [TradeUpdate(t["symbol"], ts_ns(t.get("timestamp")), 1 if t["side"] == "buy" else -1,
                                Decimal(str(t["price"])), Decimal(str(t["qty"]))) for t in message.get("data", [])]
        kind = "snapshot" if message.get("type") == "snapshot" else "delta"
        return [BookUpdate(d["symbol"], kind, levels(d.get("bids", []), "price", "qty"),
                           levels(d.get("asks", []), "price", "qty"), ts_ns=ts_ns(d.get("timestamp")),
                           checksum=d.get("checksum")) for d in message.get("data", [])]

    async def close(self) -> None:
        await self.client.close()
