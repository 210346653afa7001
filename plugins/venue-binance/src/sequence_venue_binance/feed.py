"""Binance market data: spot books on the spot diff-depth websocket, USD-M perp books on the USD-M
one; two feeds, two sockets (``BinanceVenue.market_data_feeds``: spot first, USD-M second).

Spot (``BinanceFeed``, https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams):
``<symbol>@depth@100ms`` sends ``depthUpdate`` events with ``U`` (first update id) and ``u``
(last); ``<symbol>@trade`` sends trades (``m`` true: the buyer was the maker, so the
aggressor sold). Subscriptions are ``{"method": "SUBSCRIBE", "params": [...], "id": n}`` on
``/ws``; the server pings every 20 s and aiohttp answers with pongs.
``serverShutdown`` (``{"e": "serverShutdown", "E"}`` raw, ``{"stream": "!serverShutdown", "data":
{...}}`` combined; spot CHANGELOG 2026-05-06, sent since 2026-05-08, and 2026-06-09: "sent when the
server is about to be shut down; when you receive this event, please disconnect and open a new
connection", https://developers.binance.com/docs/binance-spot-api-docs/CHANGELOG and
https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams#serverShutdown) ends
the session at once: the runner reconnects (after its backoff) and resyncs rather than wait for
the server to drop the socket.
"How to manage a local order book correctly" (same page): take ``GET /api/v3/depth``
(``lastUpdateId``), drop events with ``u`` <= lastUpdateId, the first applied event has
``U`` <= lastUpdateId + 1 <= ``u``, each next one ``U`` = previous ``u`` + 1; otherwise
rebuild from a new snapshot. ``sequence_core.feeds`` applies exactly that (``first_seq``).
Its ``streams`` claims spot books only; ``market_data()`` (the heartbeat's websocket probe) is
this feed.

USD-M perps (``BinanceFuturesFeed``): since Binance split its USD-M websocket into three routes
(https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams/
Important-WebSocket-Change-Notice; announcement https://www.binance.bh/en/square/post/298583706254802:
legacy URLs retired on 2026-04-23), high-frequency public data such as ``@depth`` and
``@bookTicker`` is on ``wss://fstream.binance.com/public``, regular market data such as
``@aggTrade`` and ``@markPrice`` on ``wss://fstream.binance.com/market``, and user data on
``/private``; a stream asked for on the wrong route "fails silently rather than erroring"
(https://developers.binance.com/zh-CN/docs/products/caas/market-data-streams). Both ``/ws`` (path
or JSON ``SUBSCRIBE``, raw events) and ``/stream`` (``?streams=``, events wrapped as
``{"stream", "data"}``) modes remain; this feed opens ``wss://fstream.binance.com/public/ws``
(``[venues.binance] fapi_ws_url``) and sends ``{"method": "SUBSCRIBE", "params":
["btcusdt@depth@100ms", ...], "id": n}`` (the USD-M symbol, lower case); a wrapped event is read too.
``<symbol>@depth@100ms`` (https://developers.binance.com/docs/derivatives/usds-margined-futures/
websocket-market-streams/Diff-Book-Depth-Streams) sends ``depthUpdate`` with ``E`` event time,
``T`` transaction time, ``s``, ``U`` first and ``u`` final update id in the event, ``pu`` the
final update id of the previous event, ``b``/``a`` absolute quantities per price (0 removes).
Local book (https://developers.binance.com/docs/derivatives/usds-margined-futures/
websocket-market-streams/How-to-manage-a-local-order-book-correctly): buffer events, take
``GET /fapi/v1/depth?limit=1000`` (``lastUpdateId``; limits 5, 10, 20, 50, 100, 500, 1000,
weight 20 at 1000), drop events with ``u`` < lastUpdateId, the first event applied has ``U`` <=
lastUpdateId <= ``u``, and from then on each ``pu`` must equal the previous ``u``, otherwise
start again from a snapshot. A streamed book therefore starts from the 1000-level snapshot
(weight 20, only on a (re)connect or a gap); a REST quote asks for the levels it shows.
USD-M update ids are not consecutive per symbol (in the recorded BTCUSDT stream of
shared/data/market/binance-multi-2024-08-08, ``U`` = ``pu`` + 1 in 159 of 6,551 events): the ids
between ``pu`` and ``U`` changed other books. An event thus accounts for every change to its book
after ``pu`` up to ``u``, and its BookUpdate says so: ``seq`` = ``u``, ``prev_seq`` = ``pu``,
``first_seq`` = ``pu`` + 1 (not ``U``). The core applies the first delta after a snapshot by
the range rule (``first_seq`` <= lastUpdateId + 1 <= ``u``: here ``pu`` <= lastUpdateId < ``u``,
which holds wherever Binance's "``U`` <= lastUpdateId <= ``u``" does, and also when the snapshot
stops exactly at an event's end, lastUpdateId = the next event's ``pu``, as COIN-M snapshots
(same rule) were seen doing on Binance's developer forum, https://dev.binance.vision/t/updateid/4072;
with ``U`` such a snapshot is refused as a gap, and refetched at weight 20 for as long as
snapshots keep landing there), then by ``pu`` = the last ``u``.
Trades (``BinanceFuturesTradesFeed``): ``@aggTrade`` is on the ``/market`` route, not on
``/public`` where the depth is, so USD-M prints come on a third socket,
``wss://fstream.binance.com/market/ws`` (``[venues.binance] fapi_market_ws_url``; else
``fapi_ws_url`` with ``/public`` read as ``/market``), a feed that streams no book
(``streams_trades`` only). ``<symbol>@aggTrade``
(https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams/Aggregate-Trade-Streams):
fills of one price and taking side aggregated every 100 ms, ``a`` aggregate id, ``p``, ``q``,
``f``/``l`` first and last trade id, ``T`` trade time, ``m`` "Is the buyer the market maker?"
(true: the aggressor sold).
"""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from sequence_core.errors import NetworkError
from sequence_core.feeds import BookUpdate, TradeUpdate, VenueFeed, levels

from .execution import fapi_url
from .http import DEFAULT_BASE_URL, BinanceClient, BinanceFuturesClient
from .symbols import PERP_SUFFIX, fapi_symbol

DEFAULT_WS_URL = "wss://stream.binance.com:9443/ws"
DEFAULT_FAPI_WS_URL = "wss://fstream.binance.com/public/ws"
DEFAULT_FAPI_MARKET_WS_URL = "wss://fstream.binance.com/market/ws"
FAPI_BOOK_LEVELS = 1000          # the snapshot Binance's local-book guide takes


class BinanceFeed(VenueFeed):
    """Spot books and trades."""

    venue = "binance"

    def __init__(self, settings: dict):
        super().__init__(settings)
        self.client = BinanceClient("", "", settings.get("base_url", DEFAULT_BASE_URL), timeout_s=5)
        self._ids = 0

    @property
    def ws_url(self) -> str:
        return self.settings.get("ws_url", DEFAULT_WS_URL)

    def streams(self, inst) -> bool:
        return inst.kind != "perp"

    async def snapshot(self, inst, depth: int = 50) -> BookUpdate:
        body = await self.client.depth(inst.venue_symbol, max(depth, 5))
        return BookUpdate(inst.venue_symbol, "snapshot", levels(body["bids"]), levels(body["asks"]), body["lastUpdateId"])

    def subscribe(self, instruments) -> list:
        self._ids += 1
        streams = [f"{i.venue_symbol.lower()}@{kind}" for i in instruments if self.streams(i) for kind in ("depth@100ms", "trade")]
        return [{"method": "SUBSCRIBE", "params": streams, "id": self._ids}] if streams else []

    def parse(self, message) -> list:
        if not isinstance(message, dict):
            return []
        if isinstance(message.get("data"), dict):
            message = message["data"]                # a combined-stream wrapper
        event = message.get("e")
        if event == "serverShutdown":
            raise NetworkError("binance: the market-data server is shutting down (serverShutdown); reconnecting")
        if event == "depthUpdate":
            return [BookUpdate(message["s"], "delta", levels(message["b"]), levels(message["a"]),
                               message["u"], first_seq=message["U"], ts_ns=message["E"] * 1_000_000)]
        if event == "trade":
            return [TradeUpdate(message["s"], message["T"] * 1_000_000, -1 if message["m"] else 1,
                                Decimal(message["p"]), Decimal(message["q"]))]
        return []          # subscription acks ({"result": null, "id": n})

    async def close(self) -> None:
        await self.client.close()


class _UsdmSocket(VenueFeed):
    """What the USD-M public routes share: SUBSCRIBE by lower-case USD-M symbol, events raw
    (``/ws``) or wrapped (``/stream``: ``{"stream", "data"}``), acks ignored."""

    venue = "binance"
    stream: ClassVar[str]                          # the stream after "<symbol>@"
    event: ClassVar[str]                           # its events' "e"

    def __init__(self, settings: dict):
        super().__init__(settings)
        self._ids = 0

    def subscribe(self, instruments) -> list:
        streams = [f"{fapi_symbol(i).lower()}@{self.stream}" for i in instruments if i.kind == "perp"]
        if not streams:
            return []
        self._ids += 1
        return [{"method": "SUBSCRIBE", "params": streams, "id": self._ids}]

    def _event(self, message) -> dict | None:
        if isinstance(message, dict) and isinstance(message.get("data"), dict):
            message = message["data"]
        return message if isinstance(message, dict) and message.get("e") == self.event else None


class BinanceFuturesFeed(_UsdmSocket):
    """USD-M perp books: the ``/public`` route's diff depth, REST snapshots from fapi."""

    stream, event = "depth@100ms", "depthUpdate"

    def __init__(self, settings: dict):
        super().__init__(settings)
        self.futures = BinanceFuturesClient("", "", fapi_url(settings), timeout_s=5)

    @property
    def ws_url(self) -> str:
        return self.settings.get("fapi_ws_url", DEFAULT_FAPI_WS_URL)

    def streams(self, inst) -> bool:
        return inst.kind == "perp"

    def streams_trades(self, inst) -> bool:
        return False                               # they are on the /market route: BinanceFuturesTradesFeed

    async def snapshot(self, inst, depth: int = FAPI_BOOK_LEVELS) -> BookUpdate:
        body = await self.futures.depth(fapi_symbol(inst), max(depth, 5))
        return BookUpdate(inst.venue_symbol, "snapshot", levels(body["bids"]), levels(body["asks"]), body["lastUpdateId"],
                          ts_ns=int(body.get("E") or 0) * 1_000_000)

    def parse(self, message) -> list:
        e = self._event(message)
        if e is None:
            return []
        return [BookUpdate(e["s"] + PERP_SUFFIX, "delta", levels(e["b"]), levels(e["a"]), e["u"], prev_seq=e["pu"],
                           first_seq=e["pu"] + 1, ts_ns=e["E"] * 1_000_000)]

    async def close(self) -> None:
        await self.futures.close()


class BinanceFuturesTradesFeed(_UsdmSocket):
    """USD-M perp trade prints: the ``/market`` route's ``@aggTrade`` (no books)."""

    stream, event = "aggTrade", "aggTrade"

    @property
    def ws_url(self) -> str:
        if self.settings.get("fapi_market_ws_url"):
            return self.settings["fapi_market_ws_url"]
        public = self.settings.get("fapi_ws_url", "")
        return public.replace("/public", "/market", 1) if "/public" in public else DEFAULT_FAPI_MARKET_WS_URL

    def streams(self, inst) -> bool:
        return False

    def streams_trades(self, inst) -> bool:
        return inst.kind == "perp"

    def parse(self, message) -> list:
        e = self._event(message)
        if e is None:
            return []
        return [TradeUpdate(e["s"] + PERP_SUFFIX, e["T"] * 1_000_000, -1 if e["m"] else 1, Decimal(e["p"]), Decimal(e["q"]))]
