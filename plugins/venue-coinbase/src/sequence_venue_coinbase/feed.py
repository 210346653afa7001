"""Coinbase Advanced Trade market data: REST books and the public websocket.

Socket ``wss://advanced-trade-ws.coinbase.com`` (market data needs no authentication;
https://docs.cdp.coinbase.com/coinbase-app/advanced-trade-apis/websocket/websocket-overview).
One subscribe message per channel: ``{"type": "subscribe", "product_ids": [...], "channel":
...}``, sent within 5 s of connecting or Coinbase closes the socket. Channels used:
``level2`` (answers on channel ``l2_data``: a ``snapshot`` event then ``update`` events whose
``updates`` carry ``side`` bid/offer, ``price_level`` and ``new_quantity``, the new size at that
price, "0" removing it), ``market_trades`` (batched every 250 ms) and ``heartbeats`` (one a
second, keeping quiet connections open). Every message carries ``sequence_num``, counted per
connection across all channels from 0: a skipped number means a message was dropped, so the
books are rebuilt by subscribing ``level2`` again (a fresh snapshot). The parser keeps that
count, not the books, because a gap may have been any channel's message.
Trades: ``side`` is the resting (maker) order's side. The Advanced Trade changelog says so for
its trades since 2025-07-30 ("Get Public Market Trades & Market Trades specify side as the maker
side of the trade", https://docs.cdp.coinbase.com/coinbase-app/introduction/changelog), the
Exchange feed documents the same convention, and the recorded public trades in the shared sample
http_ticker.json agree (trades at the best ask 68923.67 say ``SELL``). So the aggressor is the
opposite side.
REST snapshots (``sequence quote``): public ``GET /api/v3/brokerage/market/product_book``.
"""

from __future__ import annotations

from decimal import Decimal

from sequence_core.errors import NetworkError
from sequence_core.feeds import BookGap, BookUpdate, TradeUpdate, VenueFeed, levels

from .execution import iso_ns
from .http import DEFAULT_BASE_URL, CoinbaseClient

DEFAULT_WS_URL = "wss://advanced-trade-ws.coinbase.com"


def _sub(kind: str, channel: str, products: list[str]) -> dict:
    return {"type": kind, "product_ids": products, "channel": channel}


class CoinbaseFeed(VenueFeed):
    venue = "coinbase"
    ws_snapshots = True

    def __init__(self, settings: dict):
        super().__init__(settings)
        self.client = CoinbaseClient("", "", settings.get("base_url", DEFAULT_BASE_URL), timeout_s=5)
        self._seq: int | None = None            # last sequence_num on this connection

    @property
    def ws_url(self) -> str:
        return self.settings.get("ws_url", DEFAULT_WS_URL)

    async def snapshot(self, inst, depth: int = 50) -> BookUpdate:
        book = await self.client.product_book(inst.venue_symbol, depth)
        return BookUpdate(inst.venue_symbol, "snapshot", levels(book["bids"], "price", "size"),
                          levels(book["asks"], "price", "size"), 0, ts_ns=iso_ns(book.get("time")) or 0)

    def subscribe(self, instruments) -> list:
        self._seq = None                        # called on every (re)connect: a new count
        products = [i.venue_symbol for i in instruments]
        return [_sub("subscribe", ch, products) for ch in ("heartbeats", "level2", "market_trades")]

    def resubscribe(self, instruments) -> list:
        products = [i.venue_symbol for i in instruments]
        return [_sub("unsubscribe", "level2", products), _sub("subscribe", "level2", products)]

    def parse(self, message) -> list:
        if not isinstance(message, dict):
            return []
        if message.get("type") == "error":
            raise NetworkError(f"coinbase websocket: {message.get('message', 'error')}")
        self._follow(message.get("sequence_num"))
        channel = message.get("channel")
        if channel == "l2_data":
            return [self._book(e, message) for e in message.get("events", [])]
        if channel == "market_trades":
            return [TradeUpdate(t["product_id"], iso_ns(t["time"]) or 0, -1 if t["side"] == "BUY" else 1,
                                Decimal(t["price"]), Decimal(t["size"]))
                    for e in message.get("events", []) for t in e.get("trades", [])]
        return []                               # heartbeats, subscriptions

    def _follow(self, seq) -> None:
        if seq is None:
            return
        last, self._seq = self._seq, int(seq)
        if last is not None and self._seq != last + 1:
            raise BookGap(f"coinbase websocket: message {self._seq} does not follow {last}")

    @staticmethod
    def _book(event: dict, message: dict) -> BookUpdate:
        rows = event.get("updates", [])
        side = {"bid": [], "offer": []}
        for u in rows:
            side["bid" if u["side"] == "bid" else "offer"].append((u["price_level"], u["new_quantity"]))
        ts = iso_ns(rows[-1].get("event_time") if rows else None) or iso_ns(message.get("timestamp")) or 0
        return BookUpdate(event["product_id"], "snapshot" if event.get("type") == "snapshot" else "delta",
                          levels(side["bid"]), levels(side["offer"]), 0, ts_ns=ts)

    async def close(self) -> None:
        await self.client.close()
