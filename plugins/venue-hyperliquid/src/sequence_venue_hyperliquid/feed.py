"""Hyperliquid market data: ``l2Book`` over REST and the public websocket.

https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/websocket/subscriptions :
``wss://api.hyperliquid.xyz/ws``; ``{"method": "subscribe", "subscription": {"type": "l2Book",
"coin": "BTC"}}`` is acknowledged with ``{"channel": "subscriptionResponse", ...}`` and then every
``{"channel": "l2Book", "data": {coin, time, levels: [bids, asks]}}`` message is the whole book
(levels ``{px, sz, n}``), so there are no deltas and no sequence numbers: each message replaces
the book, and one older than the book applied (by its ``time``) is ignored. ``trades`` gives
``[{coin, side, px, sz, time, tid, ...}]`` with ``side`` "B" (buyer took) or "A" (seller took).
Keepalive (.../websocket/timeouts-and-heartbeats): the server closes a connection that sent
nothing for 60 s; ``{"method": "ping"}`` is answered ``{"channel": "pong"}``.
REST: ``POST /info {"type": "l2Book", "coin": ...}`` (weight 2) answers the same ``data`` shape.
Spot pairs stream on the same socket under their wire coin (``@107``, ``PURR/USDC``; symbols.py),
in ``coin`` of the subscription and of every book and trade, so they are read alike.
"""

from __future__ import annotations

from decimal import Decimal

from sequence_core.feeds import BookUpdate, TradeUpdate, VenueFeed, levels

from .http import DEFAULT_BASE_URL, HyperliquidClient

DEFAULT_WS_URL = "wss://api.hyperliquid.xyz/ws"


def book_update(data: dict) -> BookUpdate:
    bids, asks = data["levels"]
    return BookUpdate(data["coin"], "snapshot", levels(bids, "px", "sz"), levels(asks, "px", "sz"),
                      ts_ns=int(data["time"]) * 1_000_000)


class HyperliquidFeed(VenueFeed):
    venue = "hyperliquid"
    ws_snapshots = True
    heartbeat_s = 30.0

    def __init__(self, settings: dict):
        super().__init__(settings)
        self.client = HyperliquidClient(base_url=settings.get("base_url", DEFAULT_BASE_URL), timeout_s=5)
        self._times: dict[str, int] = {}

    @property
    def ws_url(self) -> str:
        return self.settings.get("ws_url", DEFAULT_WS_URL)

    def streams(self, inst) -> bool:
        return inst.kind in ("perp", "crypto")

    async def snapshot(self, inst, depth: int = 50) -> BookUpdate:
        return book_update(await self.client.l2_book(inst.venue_symbol))

    def subscribe(self, instruments) -> list:
        self._times.clear()                  # a new socket starts every book afresh
        return [{"method": "subscribe", "subscription": {"type": kind, "coin": i.venue_symbol}}
                for i in instruments for kind in ("l2Book", "trades")]

    def resubscribe(self, instruments) -> list:
        subs = [{"type": "l2Book", "coin": i.venue_symbol} for i in instruments]
        return [{"method": m, "subscription": s} for s in subs for m in ("unsubscribe", "subscribe")]

    def ping(self):
        return {"method": "ping"}

    def parse(self, message) -> list:
        channel = message.get("channel") if isinstance(message, dict) else None
        if channel == "l2Book":
            update = book_update(message["data"])
            if update.ts_ns < self._times.get(update.symbol, 0):
                return []                    # arrived after a newer book: applying it would go back in time
            self._times[update.symbol] = update.ts_ns
            return [update]
        if channel == "trades":
            return [TradeUpdate(t["coin"], int(t["time"]) * 1_000_000, 1 if t["side"] == "B" else -1,
                                Decimal(t["px"]), Decimal(t["sz"])) for t in message["data"]]
        return []                            # subscriptionResponse, pong, error

    async def close(self) -> None:
        await self.client.close()
