"""Kalshi market data: REST order books and the ``orderbook_delta``/``trade`` websocket channels.

A Kalshi book lists bids only: YES bids and NO bids (``orderbook_fp.yes_dollars`` /
``no_dollars`` over REST, best last). A NO bid at p is a YES offer at 1 - p, so the YES
instrument's asks are ``1 - p`` of the NO bids and the NO instrument's asks ``1 - p`` of the
YES bids; both instruments are served from the one market book.

Websocket (https://docs.kalshi.com/websockets/websocket-connection,
https://docs.kalshi.com/websockets/orderbook-updates, .../public-trades): production
``wss://external-api-ws.kalshi.com/trade-api/ws/v2`` (``api.elections.kalshi.com`` also
supported); the handshake carries the same three signed headers as REST, signed over
``timestamp + "GET" + "/trade-api/ws/v2"``. Commands ``{"id", "cmd": "subscribe", "params":
{"channels": [...], "market_tickers": [...]}}`` are acknowledged ``subscribed`` with a
``sid``; ``orderbook_delta`` sends ``orderbook_snapshot`` (``yes_dollars_fp``/``no_dollars_fp``)
then ``orderbook_delta`` (``side``, ``price_dollars``, ``delta_fp``: a *change* in size),
each with ``seq`` counting up by one per subscription. This feed subscribes each market on its
own so a subscription's ``seq`` is that book's sequence; a skipped ``seq`` is a gap, repaired
by ``unsubscribe`` (``sids``) and ``subscribe`` again, which sends a fresh snapshot. The
``trade`` channel gives ``yes_price_dollars``, ``no_price_dollars``, ``count_fp`` and the
taker's direction: ``taker_outcome_side`` (``yes``/``no``) and ``taker_book_side``
(``bid`` = yes, ``ask`` = no), which replace the deprecated ``taker_side``
(https://docs.kalshi.com/getting_started/order_direction: the legacy fields "will not be
removed before May 14, 2026"); read in that order, the legacy one last. Kalshi pings every
10 s (body ``heartbeat``); aiohttp answers the pongs.
"""

from __future__ import annotations

import itertools
import time
from decimal import Decimal

from sequence_core.feeds import BookUpdate, TradeUpdate, VenueFeed, levels

from .http import DEFAULT_BASE_URL, KalshiClient
from .signing import WS_PATH, headers, load_key
from .symbols import NO_SUFFIX, ticker_of

DEFAULT_WS_URL = "wss://external-api-ws.kalshi.com/trade-api/ws/v2"
ONE = Decimal(1)


def _taker_outcome(msg: dict) -> str:
    """The outcome the taker bought into, ``yes`` or ``no`` (module docstring)."""
    if msg.get("taker_outcome_side"):
        return msg["taker_outcome_side"]
    if msg.get("taker_book_side"):
        return "yes" if msg["taker_book_side"] == "bid" else "no"
    return msg.get("taker_side") or ""


def _flip(rows) -> tuple:
    """Bids of one leg as offers of the other: price 1 - p, same size."""
    return tuple((ONE - p, s) for p, s in rows)


def book_pair(ticker: str, yes: dict, no: dict, kind: str, seq: int = 0, ts_ns: int = 0) -> list[BookUpdate]:
    """The YES and NO instruments' updates from YES-bid and NO-bid levels ({price: size})."""
    y, n = tuple(yes.items()), tuple(no.items())
    return [BookUpdate(ticker, kind, y, _flip(n), seq, ts_ns=ts_ns),
            BookUpdate(ticker + NO_SUFFIX, kind, n, _flip(y), seq, ts_ns=ts_ns)]


class KalshiFeed(VenueFeed):
    venue = "kalshi"
    ws_snapshots = True
    heartbeat_s = 20.0

    def __init__(self, settings: dict, credentials: dict | None = None):
        super().__init__(settings)
        creds = credentials or {}
        self._key_id = creds.get("key_id", "")
        self._key = load_key(creds["private_key"]) if creds.get("private_key") else None
        self.client = KalshiClient(base_url=settings.get("base_url", DEFAULT_BASE_URL), timeout_s=5)
        self._ids = itertools.count(1)
        self._books: dict[str, dict[str, dict[Decimal, Decimal]]] = {}   # ticker -> yes/no -> price -> size
        self._sid: dict[str, int] = {}                                      # ticker -> its book's subscription
        self._resubscribing: set[str] = set()

    @property
    def ws_url(self) -> str:
        return self.settings.get("ws_url", DEFAULT_WS_URL)

    def ws_headers(self) -> dict[str, str]:
        if self._key is None:
            return {}           # Kalshi will refuse the handshake; REST snapshots still work
        return headers(self._key_id, self._key, time.time_ns() // 1_000_000, "GET", WS_PATH)

    async def snapshot(self, inst, depth: int = 50) -> BookUpdate:
        ticker = ticker_of(inst)
        book = await self.client.orderbook(ticker, depth)
        yes, no = dict(levels(book.get("yes_dollars") or [])), dict(levels(book.get("no_dollars") or []))
        pair = book_pair(ticker, yes, no, "snapshot")          # Kalshi stamps no time on it
        return pair[1] if inst.venue_symbol.endswith(NO_SUFFIX) else pair[0]

    def _subscribe(self, tickers) -> list:
        return [{"id": next(self._ids), "cmd": "subscribe", "params": {"channels": ["orderbook_delta"], "market_tickers": [t]}}
                for t in tickers]

    def subscribe(self, instruments) -> list:
        tickers = list(dict.fromkeys(ticker_of(i) for i in instruments))
        trades = {"id": next(self._ids), "cmd": "subscribe", "params": {"channels": ["trade"], "market_tickers": tickers}}
        return self._subscribe(tickers) + [trades]

    def resubscribe(self, instruments) -> list:
        """A fresh snapshot per market; the YES and NO books of one market share it, so a gap
        both report is repaired once."""
        out = []
        for ticker in dict.fromkeys(ticker_of(i) for i in instruments):
            if ticker in self._resubscribing:
                continue
            self._resubscribing.add(ticker)
            if ticker in self._sid:
                out.append({"id": next(self._ids), "cmd": "unsubscribe", "params": {"sids": [self._sid.pop(ticker)]}})
            out += self._subscribe([ticker])
        return out

    def parse(self, message) -> list:
        if not isinstance(message, dict):
            return []
        kind, msg = message.get("type"), message.get("msg") or {}
        if kind == "orderbook_snapshot":
            return self._snapshot(message, msg)
        if kind == "orderbook_delta":
            return self._delta(message, msg)
        if kind == "trade":
            return self._trade(msg)
        return []           # subscribed / unsubscribed acks, errors

    def _snapshot(self, message, msg) -> list:
        ticker = msg["market_ticker"]
        book = {"yes": dict(levels(msg.get("yes_dollars_fp") or [])), "no": dict(levels(msg.get("no_dollars_fp") or []))}
        self._books[ticker], self._sid[ticker] = book, message.get("sid")
        self._resubscribing.discard(ticker)
        return book_pair(ticker, book["yes"], book["no"], "snapshot", int(message["seq"]), self._ts(msg))

    def _delta(self, message, msg) -> list:
        ticker = msg["market_ticker"]
        book = self._books.get(ticker)
        if book is None or message.get("sid") != self._sid.get(ticker):
            return []          # before its snapshot, or from a subscription being replaced
        side, price = msg["side"], Decimal(str(msg["price_dollars"]))
        size = book[side].get(price, Decimal(0)) + Decimal(str(msg["delta_fp"]))
        if size > 0:
            book[side][price] = size
        else:
            book[side].pop(price, None)
        level, flipped = ((price, max(size, Decimal(0))),), ((ONE - price, max(size, Decimal(0))),)
        seq, ts = int(message["seq"]), self._ts(msg)
        yes_update = BookUpdate(ticker, "delta", level if side == "yes" else (), flipped if side == "no" else (), seq, ts_ns=ts)
        no_update = BookUpdate(ticker + NO_SUFFIX, "delta", level if side == "no" else (), flipped if side == "yes" else (), seq, ts_ns=ts)
        return [yes_update, no_update]

    def _trade(self, msg) -> list:
        ticker, ts = msg["market_ticker"], self._ts(msg)
        size, yes_taker = Decimal(str(msg["count_fp"])), _taker_outcome(msg) == "yes"
        return [TradeUpdate(ticker, ts, 1 if yes_taker else -1, Decimal(str(msg["yes_price_dollars"])), size),
                TradeUpdate(ticker + NO_SUFFIX, ts, -1 if yes_taker else 1, Decimal(str(msg["no_price_dollars"])), size)]

    @staticmethod
    def _ts(msg) -> int:
        if msg.get("ts_ms"):
            return int(msg["ts_ms"]) * 1_000_000
        return int(msg["ts"]) * 1_000_000_000 if isinstance(msg.get("ts"), int) else time.time_ns()

    async def close(self) -> None:
        await self.client.close()
