"""Bybit v5 market data: REST order books and the two public websockets, spot and USDT linear.

Sockets (https://bybit-exchange.github.io/docs/v5/ws/connect): spot on
``wss://stream.bybit.com/v5/public/spot``, USDT and USDC perpetuals and USDT futures on
``wss://stream.bybit.com/v5/public/linear``. Each is a feed of its own
(``BybitVenue.market_data_feeds``: spot first, then linear) and claims only its own books:
:class:`BybitFeed` spot pairs, :class:`BybitLinearFeed` linear perps. Settings: ``ws_url``
(spot) and ``linear_ws_url``; without the latter the linear socket sits beside a configured
``ws_url`` (``.../v5/public/spot`` -> ``.../v5/public/linear``), as the private one does
(stream.py), else it is Bybit's. The same page: keepalive ``{"op": "ping"}`` every 20 s, answered
``{"success": true, "ret_msg": "pong", "op": "ping"}`` (linear adds ``req_id``), which parses
as nothing; a spot subscribe request carries at most 10 topics (linear: no limit), so requests
here carry at most 10.

Books (https://bybit-exchange.github.io/docs/v5/websocket/public/orderbook): subscribing
``orderbook.50.<SYMBOL>`` (50 levels, pushed every 20 ms, spot and linear) sends a ``snapshot``,
then a ``delta`` per change (size ``"0"`` deletes a level). ``data.u`` is the update id, one
more per message (the page called it "a sequence" until its 2024-10-22 revision, which exempts
only the level-1 book; the recorded linear ``orderbook.500`` in shared/data/market/bybit/, a
depth Bybit removed for futures on 2025-09-11 (https://bybit-exchange.github.io/docs/changelog/v5),
rises by one per message too), so a skipped value is a gap, repaired by unsubscribing and subscribing
again for a fresh snapshot. A ``snapshot`` may come at any time and resets the book: ``u`` = 1
is one sent after a restart of Bybit's service. ``data.seq`` (cross sequence) orders books of
different depths; it is not a gap check. ``ts`` is when Bybit made the message (ms).
Trades on ``publicTrade.<SYMBOL>`` (https://bybit-exchange.github.io/docs/v5/websocket/public/trade):
``T`` fill time (ms), ``S`` the taker's side, ``p``, ``v``.
Symbols: a linear perp is ``BTCUSDT`` on its socket as on spot's; here it is ``BTCUSDT_LINEAR``
(symbols.py), so the linear feed subscribes Bybit's name and adds ``_LINEAR`` to what it gets.
REST (https://bybit-exchange.github.io/docs/v5/market/orderbook): ``GET /v5/market/orderbook``
with ``category`` spot or linear and ``limit`` 1..1000 for both (the page's 2025-08-28 revision
made the book 1000 levels; its 2026-05-18 one the range, 1..200 spot and 1..500 linear before);
its ``u`` counts the 1000-level stream's updates, not the 50-level one's, so a REST snapshot
never seeds a socket book (``ws_snapshots``): it answers ``sequence quote`` and books no socket
carries.
"""

from __future__ import annotations

from decimal import Decimal

from sequence_core.feeds import BookUpdate, TradeUpdate, VenueFeed, levels

from .execution import ours, where
from .http import DEFAULT_BASE_URL, BybitClient

DEFAULT_WS_URL = "wss://stream.bybit.com/v5/public/spot"
DEFAULT_LINEAR_WS_URL = "wss://stream.bybit.com/v5/public/linear"
DEPTH = 50
ARGS = 10
REST_DEPTH = 1000            # /v5/market/orderbook's largest limit, spot and linear


def beside(settings, path: str, default: str) -> str:
    """The Bybit socket at ``path`` (``/v5/private``, ``/v5/public/linear``) on the host of the
    configured public ``ws_url``, else ``default``."""
    public = settings.get("ws_url", "")
    return public.split("/v5/public")[0] + path if "/v5/public" in public else default


def linear_url(settings) -> str:
    return settings.get("linear_ws_url") or beside(settings, "/v5/public/linear", DEFAULT_LINEAR_WS_URL)


class BybitFeed(VenueFeed):
    """Spot books on the spot socket; a linear perp is :class:`BybitLinearFeed`'s."""

    venue = "bybit"
    ws_snapshots = True
    category = "spot"

    def __init__(self, settings: dict):
        super().__init__(settings)
        self.client = BybitClient("", "", settings.get("base_url", DEFAULT_BASE_URL), timeout_s=5)

    @property
    def ws_url(self) -> str:
        return self.settings.get("ws_url", DEFAULT_WS_URL)

    def streams(self, inst) -> bool:
        return where(inst)[0] == self.category

    async def snapshot(self, inst, depth: int = 50) -> BookUpdate:
        category, symbol = where(inst)
        body = await self.client.orderbook(category, symbol, min(max(depth, 1), REST_DEPTH))
        return BookUpdate(inst.venue_symbol, "snapshot", levels(body["b"]), levels(body["a"]), int(body.get("u") or 0),
                          ts_ns=int(body["ts"]) * 1_000_000)

    def _topics(self, instruments, kinds) -> list[str]:
        return [f"{kind}.{where(i)[1]}" for i in instruments if self.streams(i) for kind in kinds]

    @staticmethod
    def _requests(op: str, topics: list[str]) -> list:
        """At most ARGS topics a request (spot's limit; linear has none)."""
        return [{"op": op, "args": topics[n:n + ARGS]} for n in range(0, len(topics), ARGS)]

    def subscribe(self, instruments) -> list:
        return self._requests("subscribe", self._topics(instruments, (f"orderbook.{DEPTH}", "publicTrade")))

    def resubscribe(self, instruments) -> list:
        topics = self._topics(instruments, (f"orderbook.{DEPTH}",))
        return self._requests("unsubscribe", topics) + self._requests("subscribe", topics)

    def ping(self):
        return {"op": "ping"}

    def parse(self, message) -> list:
        topic = message.get("topic", "") if isinstance(message, dict) else ""
        if topic.startswith("orderbook."):
            d = message["data"]
            return [BookUpdate(ours(self.category, d["s"]), "snapshot" if message["type"] == "snapshot" else "delta",
                               levels(d["b"]), levels(d["a"]), int(d["u"]), ts_ns=int(message["ts"]) * 1_000_000)]
        if topic.startswith("publicTrade."):
            return [TradeUpdate(ours(self.category, t["s"]), int(t["T"]) * 1_000_000, 1 if t["S"] == "Buy" else -1,
                                Decimal(t["p"]), Decimal(t["v"])) for t in message["data"]]
        return []            # pong, subscription acks

    async def close(self) -> None:
        await self.client.close()


class BybitLinearFeed(BybitFeed):
    """USDT linear perp books on the linear socket (``BTCUSDT_LINEAR`` here, ``BTCUSDT`` there)."""

    category = "linear"

    @property
    def ws_url(self) -> str:
        return linear_url(self.settings)
