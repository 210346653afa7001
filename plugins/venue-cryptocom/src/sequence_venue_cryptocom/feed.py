"""Crypto.com Exchange market data: REST books and the market-data websocket.

``wss://stream.crypto.com/exchange/v1/market`` (Common API Reference, "Websocket Root
Endpoints"). Subscribing ``book.{instrument}.{depth}`` (depth 10 or 50) with
``book_subscription_type`` SNAPSHOT_AND_UPDATE sends a snapshot (``channel`` "book": ``bids``,
``asks``, ``t``, ``u``) then deltas (``channel`` "book.update": ``update.bids/asks``, ``u``
and ``pu``, the previous message's ``u``); a ``pu`` other than the last ``u`` is a gap, and a
size "0" removes a level (https://exchange-developer.crypto.com/exchange/v1/docs/api/websocket/
ws-channel-book-instrument-name-depth). A gap is repaired by subscribing the book again (a
fresh snapshot). Trades on ``trade.{instrument}`` (``s`` is the taker's side; the last 50
come on subscribe). Keepalive: the server sends ``public/heartbeat`` every 30 s and closes
the socket unless ``public/respond-heartbeat`` with the same ``id`` arrives within 5 s
(ws-market-data-client-commands-heartbeat-request): ``reply()`` answers each at once.
Perpetuals use the same channels under their own names (``book.BTCUSD-PERP.50``,
``trade.BTCUSD-PERP``: the docs' book and trade examples are the perpetual's), on the same
socket as spot.
The docs advise waiting 1 s after connecting before sending requests, as the per-second
limit is pro-rated on the first second; the runner sends a single subscribe at once, well
inside that.
"""

from __future__ import annotations

import itertools
import time
from decimal import Decimal

from sequence_core.errors import NetworkError
from sequence_core.feeds import BookUpdate, TradeUpdate, VenueFeed, levels

from .http import DEFAULT_BASE_URL, CryptocomClient

DEFAULT_WS_URL = "wss://stream.crypto.com/exchange/v1/market"
DEPTH = 50


def _ns(ms) -> int:
    return int(ms or 0) * 1_000_000


class CryptocomFeed(VenueFeed):
    venue = "cryptocom"
    ws_snapshots = True

    def __init__(self, settings: dict):
        super().__init__(settings)
        self.client = CryptocomClient("", "", settings.get("base_url", DEFAULT_BASE_URL), timeout_s=5)
        self._ids = itertools.count(1)

    @property
    def ws_url(self) -> str:
        return self.settings.get("ws_url", DEFAULT_WS_URL)

    async def snapshot(self, inst, depth: int = 50) -> BookUpdate:
        body = await self.client.book(inst.venue_symbol, depth)
        return BookUpdate(inst.venue_symbol, "snapshot", levels(body["bids"]), levels(body["asks"]),
                          int(body.get("u") or 0), ts_ns=_ns(body.get("t")))

    def _request(self, method: str, channels: list, books: bool) -> dict:
        params: dict = {"channels": channels}
        if books:
            params.update(book_subscription_type="SNAPSHOT_AND_UPDATE", book_update_frequency=100)
        return {"id": next(self._ids), "method": method, "params": params, "nonce": time.time_ns() // 1_000_000}

    def subscribe(self, instruments) -> list:
        channels = [c for i in instruments for c in (f"book.{i.venue_symbol}.{DEPTH}", f"trade.{i.venue_symbol}")]
        return [self._request("subscribe", channels, True)] if channels else []

    def resubscribe(self, instruments) -> list:
        channels = [f"book.{i.venue_symbol}.{DEPTH}" for i in instruments]
        return [self._request("unsubscribe", channels, False), self._request("subscribe", channels, True)]

    def reply(self, message) -> list:
        if isinstance(message, dict) and message.get("method") == "public/heartbeat":
            return [{"id": message["id"], "method": "public/respond-heartbeat"}]
        return []

    def parse(self, message) -> list:
        if not isinstance(message, dict):
            return []
        if str(message.get("code", "0")) != "0" and message.get("method") in ("subscribe", "unsubscribe"):
            raise NetworkError(f"cryptocom refused the subscription: {message.get('message', '')} ({message['code']})")
        result = message.get("result")
        if not isinstance(result, dict) or "channel" not in result:
            return []                # acks and answers to our heartbeat replies
        channel, symbol, data = result["channel"], result.get("instrument_name", ""), result.get("data") or []
        if channel == "book":
            return [BookUpdate(symbol, "snapshot", levels(d["bids"]), levels(d["asks"]), int(d["u"]), ts_ns=_ns(d.get("t")))
                    for d in data]
        if channel == "book.update":
            return [BookUpdate(symbol, "delta", levels(d["update"].get("bids", [])), levels(d["update"].get("asks", [])),
                               int(d["u"]), prev_seq=int(d["pu"]), ts_ns=_ns(d.get("t"))) for d in data]
        if channel == "trade":
            return [TradeUpdate(t.get("i") or symbol, _ns(t["t"]), 1 if t["s"] == "BUY" else -1, Decimal(t["p"]),
                                Decimal(t["q"])) for t in data]
        return []

    async def close(self) -> None:
        await self.client.close()
