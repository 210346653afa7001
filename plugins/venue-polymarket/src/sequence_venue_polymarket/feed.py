"""Polymarket market data: REST ``GET /book`` and the public websocket market channel.

https://docs.polymarket.com/market-data/websocket/market-channel : connect to
wss://ws-subscriptions-clob.polymarket.com/ws/market and send ``{"assets_ids": [token ids],
"type": "market"}``. Messages (one object, or a list of them) carry ``event_type``: ``book``
(a full snapshot, sent on subscribe and when a trade changes the book), ``price_change``
(``price_changes``: per level the new aggregate ``size`` — 0 removes it — with that asset's
``best_bid``/``best_ask`` after the change and a ``hash`` of the venue's book),
``last_trade_price`` (price, size, side), ``tick_size_change`` and others (ignored here).
Keepalive: the text ``PING`` every 10 s, answered ``PONG``. The channel has no sequence
numbers and the hash is a SHA-1 of the venue's own serialisation of its book, which a client
cannot rebuild; so each delta is checked instead against the best bid/ask the venue sends with
it (an empty side counts as bid 0 / ask 1, as the venue reports it): a mismatch means a lost
message and the book is rebuilt from ``GET /book`` (sizes are absolute, so replaying a delta
the snapshot already holds is harmless).
"""

from __future__ import annotations

from decimal import Decimal

from sequence_core.feeds import BookUpdate, TradeUpdate, VenueFeed, levels

from .http import DEFAULT_BASE_URL, PolymarketClient

DEFAULT_WS_URL = "wss://ws-subscriptions-clob.polymarket.com/ws/market"
UNIT = Decimal(10) ** 6


def top_code(best_bid: Decimal | None, best_ask: Decimal | None) -> int:
    """The best bid and ask as one integer (the "checksum" FeedRunner compares)."""
    bid = best_bid if best_bid is not None else Decimal(0)
    ask = best_ask if best_ask is not None else Decimal(1)
    return int(bid * UNIT) * 10_000_000 + int(ask * UNIT)


def _ts(message: dict) -> int:
    return int(message.get("timestamp") or 0) * 1_000_000


class PolymarketFeed(VenueFeed):
    venue = "polymarket"
    heartbeat_s = 10.0
    ws_snapshots = False        # a gap is repaired from GET /book

    def __init__(self, settings: dict):
        super().__init__(settings)
        self.client = PolymarketClient(settings.get("base_url", DEFAULT_BASE_URL), timeout_s=5)

    @property
    def ws_url(self) -> str:
        return self.settings.get("ws_url", DEFAULT_WS_URL)

    async def snapshot(self, inst, depth: int = 50) -> BookUpdate:
        return self.book_update(await self.client.book(inst.venue_symbol))

    @staticmethod
    def book_update(body: dict) -> BookUpdate:
        return BookUpdate(str(body["asset_id"]), "snapshot", levels(body.get("bids") or [], "price", "size"),
                          levels(body.get("asks") or [], "price", "size"), 0, ts_ns=_ts(body))

    def subscribe(self, instruments) -> list:
        return [{"assets_ids": [i.venue_symbol for i in instruments], "type": "market"}]

    def ping(self):
        return "PING"

    def checksum(self, book) -> int:
        return top_code(max(book.bids) if book.bids else None, min(book.asks) if book.asks else None)

    def parse(self, message) -> list:
        if isinstance(message, list):
            return [u for m in message for u in self.parse(m)]
        if not isinstance(message, dict):
            return []                                  # PONG
        kind = message.get("event_type")
        if kind == "book":
            return [self.book_update(message)]
        if kind == "price_change":
            return self._changes(message)
        if kind == "last_trade_price":
            return [TradeUpdate(str(message["asset_id"]), _ts(message), 1 if message.get("side") == "BUY" else -1,
                                Decimal(str(message["price"])), Decimal(str(message["size"])))]
        return []

    def _changes(self, message: dict) -> list:
        by_asset: dict[str, dict] = {}
        for c in message.get("price_changes") or []:
            entry = by_asset.setdefault(str(c["asset_id"]), {"bids": [], "asks": [], "top": None})
            entry["bids" if c["side"] == "BUY" else "asks"].append((Decimal(str(c["price"])), Decimal(str(c["size"]))))
            if c.get("best_bid") not in (None, "") and c.get("best_ask") not in (None, ""):
                entry["top"] = top_code(Decimal(str(c["best_bid"])), Decimal(str(c["best_ask"])))
        return [BookUpdate(asset, "delta", tuple(e["bids"]), tuple(e["asks"]), 0, ts_ns=_ts(message), checksum=e["top"])
                for asset, e in by_asset.items()]

    async def close(self) -> None:
        await self.client.close()
