"""Live market data from venue adapters: books kept from websocket deltas, and the ``live`` source.

An adapter supplies a :class:`VenueFeed` (``Venue.market_data(settings)``): a REST snapshot, the
websocket URL, its subscribe messages and a parser from venue messages to :class:`BookUpdate`.
Everything else is here, once:

- :class:`LocalBook` applies deltas and refuses a sequence gap (:class:`BookGap`);
- :class:`FeedRunner` keeps one websocket per venue feed (a venue whose books live on several
  sockets has several feeds: ``Venue.market_data_feeds``): subscribe, buffer deltas until the REST
  snapshot is in, apply, resync a book from a new snapshot on a gap, reconnect with backoff
  when the socket drops, and never serve a book while it is out of sync (no stale book);
- :class:`LiveSource` is the ``live`` market-data source: books from running feeds when this
  process has them (the engine), else a REST snapshot per venue (``sequence quote``).

Sequence rules differ by venue; an update names which one it follows:
``prev_seq`` (OKX ``prevSeqId``, Crypto.com ``pu``): must equal the book's last sequence;
``first_seq`` (Binance ``U``): the range [first_seq, seq] must cover last + 1;
both (Binance USD-M: ``pu`` + 1 and ``pu``): the range rule for the first delta after a REST
snapshot, ``prev_seq`` from then on;
neither: ``seq`` must be last + 1 (Bybit ``u``); Coinbase's ``sequence_num`` counts per connection, so its parser checks it.
A venue without sequence numbers (Kraken v2) verifies a checksum in its parser and raises
:class:`BookGap` itself.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, ClassVar

import msgspec

from .errors import NetworkError, VenueError
from .market import BookLevel, Instrument, MarketDataSource, OrderBook

log = logging.getLogger("sequence.feeds")
Levels = tuple[tuple[Decimal, Decimal], ...]


class BookGap(VenueError):
    """A book update does not follow the last one applied: the book must be rebuilt.
    A parser that finds one (a checksum mismatch) passes the venue symbol as ``symbol``."""

    def __init__(self, message: str, symbol: str | None = None):
        super().__init__(message)
        self.symbol = symbol


class BookUpdate(msgspec.Struct, frozen=True):
    symbol: str                    # the venue's symbol
    kind: str                      # snapshot | delta
    bids: Levels = ()
    asks: Levels = ()
    seq: int = 0                   # the sequence this update brings the book to (0: none)
    prev_seq: int | None = None
    first_seq: int | None = None
    ts_ns: int = 0                 # venue time
    checksum: int | None = None    # the venue's checksum of the book after this update


class TradeUpdate(msgspec.Struct, frozen=True):
    symbol: str
    ts_ns: int
    side: int                      # aggressor +1 buy, -1 sell
    price: Decimal
    size: Decimal


class LocalBook:
    """One instrument's book from a snapshot and deltas (size 0 removes a level)."""

    def __init__(self, venue: str, symbol: str):
        self.venue, self.symbol = venue, symbol
        self.bids: dict[Decimal, Decimal] = {}
        self.asks: dict[Decimal, Decimal] = {}
        self.seq = 0
        self.ts_ns = 0
        self.received_ns = 0
        self.synced = False
        self.fresh = False             # reset from a snapshot, no delta applied since

    def reset(self, update: BookUpdate) -> None:
        self.bids = {p: s for p, s in update.bids if s > 0}
        self.asks = {p: s for p, s in update.asks if s > 0}
        self.seq, self.ts_ns, self.received_ns, self.synced = update.seq, update.ts_ns, time.time_ns(), True
        self.fresh = True

    def apply(self, update: BookUpdate) -> bool:
        """Apply a delta; False if it is older than the book; BookGap if one is missing."""
        if not self.synced:
            raise BookGap(f"{self.venue} {self.symbol}: delta before a snapshot")
        if update.seq and self.seq:
            if update.seq <= self.seq and update.first_seq is not None:
                return False                       # already in the snapshot (Binance u <= lastUpdateId)
            if update.prev_seq is not None and not (self.fresh and update.first_seq is not None):
                ok = update.prev_seq == self.seq
            elif update.first_seq is not None:
                ok = update.first_seq <= self.seq + 1 <= update.seq
            else:
                ok = update.seq == self.seq + 1
            if not ok:
                self.synced = False
                raise BookGap(f"{self.venue} {self.symbol}: update {update.seq} does not follow {self.seq}")
        for side, levels in ((self.bids, update.bids), (self.asks, update.asks)):
            for price, size in levels:
                if size > 0:
                    side[price] = size
                else:
                    side.pop(price, None)
        self.seq = update.seq or self.seq
        self.ts_ns, self.received_ns = update.ts_ns or self.ts_ns, time.time_ns()
        self.fresh = False
        return True

    def levels(self, depth: int) -> tuple[tuple[Decimal, Decimal], ...]:
        return tuple(sorted(self.bids.items(), reverse=True)[:depth]), tuple(sorted(self.asks.items())[:depth])

    def book(self, inst: Instrument, depth: int = 20, source: str = "live") -> OrderBook:
        """As the core's OrderBook, prices on the instrument's tick and sizes on its lot
        (venues pad them: "90990.00000000")."""
        def level(p, s):
            return BookLevel(p.quantize(inst.tick_size), s.quantize(inst.lot_size) if s % inst.lot_size == 0 else s)
        bids, asks = self.levels(depth)
        return OrderBook(self.venue, inst.symbol, self.ts_ns or self.received_ns, self.received_ns,
                         tuple(level(p, s) for p, s in bids), tuple(level(p, s) for p, s in asks), source)


def to_book(venue: str, inst: Instrument, update: BookUpdate, depth: int = 20, source: str = "live") -> OrderBook:
    book = LocalBook(venue, inst.venue_symbol)
    book.reset(update)
    return book.book(inst, depth, source)


def levels(rows: Iterable, price: int | str = 0, size: int | str = 1) -> Levels:
    """Venue levels ([price, size, ...] lists or dicts) as exact Decimals."""
    return tuple((Decimal(str(r[price])), Decimal(str(r[size]))) for r in rows)


def interleaved_crc32(bids, asks, depth: int = 25) -> int:
    """The book checksum OKX and Bitget publish: CRC32, as a signed 32-bit integer, of the best
    ``depth`` levels interleaved ``bidPx:bidSz:askPx:askSz:...`` as the strings the venue sent
    (Decimal keeps them), the longer side's remaining levels following alone."""
    import zlib

    parts: list[str] = []
    for i in range(depth):
        if i < len(bids):
            parts += [str(bids[i][0]), str(bids[i][1])]
        if i < len(asks):
            parts += [str(asks[i][0]), str(asks[i][1])]
    crc = zlib.crc32(":".join(parts).encode())
    return crc - (1 << 32) if crc >= 1 << 31 else crc


class VenueFeed:
    """What an adapter implements for live market data. All network calls have timeouts."""

    venue: ClassVar[str]
    heartbeat_s: ClassVar[float] = 20.0     # app-level ping interval (protocol pings are aiohttp's)
    #: True where the socket itself sends a snapshot on subscribe (OKX, Bybit, Kraken, Coinbase):
    #: a gap is then repaired by subscribing again, not from REST
    ws_snapshots: ClassVar[bool] = False

    def __init__(self, settings: dict):
        self.settings = settings

    @property
    def ws_url(self) -> str | None:
        """The public websocket URL (None: REST snapshots only)."""
        return None

    def ws_headers(self) -> dict[str, str]:
        """Headers for the websocket handshake (Kalshi signs it like a REST call); most: none.
        Called on every (re)connect, so a signature's timestamp is always fresh."""
        return {}

    async def snapshot(self, inst: Instrument, depth: int = 50) -> BookUpdate:
        """The book now, from REST, with the sequence its deltas continue from."""
        raise NotImplementedError

    def streams(self, inst: Instrument) -> bool:
        """Whether this feed's websocket carries this book (others: REST snapshots only)."""
        return True

    def streams_trades(self, inst: Instrument) -> bool:
        """Whether this feed's websocket carries this instrument's trade prints: by default
        those of the books it streams. A venue whose prints are on another socket than its
        books (Binance USD-M: depth on ``/public``, aggTrade on ``/market``) has a feed that
        streams no book and answers True here."""
        return self.streams(inst)

    def subscribe(self, instruments: list[Instrument]) -> list[Any]:
        """Messages (dicts sent as JSON, or text) that subscribe these books."""
        return []

    def checksum(self, book: LocalBook) -> int | None:
        """This venue's checksum of a book (OKX, Kraken, Bitget publish one per update)."""
        return None

    def resubscribe(self, instruments: list[Instrument]) -> list[Any]:
        """Messages that make the socket send these books' snapshots again (ws_snapshots venues)."""
        return self.subscribe(instruments)

    def ping(self) -> Any | None:
        """The app-level keepalive this venue asks for, or None."""
        return None

    def reply(self, message: Any) -> list[Any]:
        """Messages to send back at once for this one (Crypto.com's ``public/heartbeat`` must be
        answered with ``public/respond-heartbeat`` within 5 s); most venues: none."""
        return []

    def parse(self, message: Any) -> list[BookUpdate | TradeUpdate]:
        """One decoded websocket message as updates (acks, pongs and the rest: none)."""
        return []

    async def close(self) -> None:
        return None


class FeedStats(msgspec.Struct):
    state: str = "connecting"      # connecting | live | resyncing | down
    connected_ns: int = 0
    last_message_ns: int = 0
    messages: int = 0
    gaps: int = 0
    resyncs: int = 0
    reconnects: int = 0
    error: str = ""


REST_RETRY_S = 15.0        # in the engine, a venue whose REST books failed is not asked again for this long
FIRST_BACKOFF_S = 0.5      # a dropped socket's first reconnect waits this, doubling per failure
STABLE_S = 60.0            # a session up this long resets the backoff when it drops


class SocketRunner:
    """A websocket kept open: ``_session()`` connects and pumps until the socket drops; any
    failure marks the runner down and it reconnects with exponential backoff. Books
    (:class:`FeedRunner`) and private order streams (``sequence_core.userstream``) build on it."""

    name = "socket"

    def __init__(self, stats, closer, max_backoff_s: float, connect_timeout_s: float, idle_timeout_s: float):
        self.stats, self._closer = stats, closer
        self.max_backoff_s, self.connect_timeout_s, self.idle_timeout_s = max_backoff_s, connect_timeout_s, idle_timeout_s
        self._task: asyncio.Task | None = None
        self._ws = None

    def start(self):
        self._task = asyncio.get_running_loop().create_task(self.run())
        return self

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001 - stopping
                pass
        await self._closer()

    async def run(self) -> None:
        backoff = FIRST_BACKOFF_S
        while True:
            started = time.monotonic()
            try:
                await self._session()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - any failure: mark down, reconnect
                self.stats.error = str(exc) or type(exc).__name__
            # a session that stayed up a while dropped afresh (a venue's daily disconnect, a
            # server shutdown): back off from the start, not from where earlier drops left it
            # (a session never ends without an error, so the backoff only ever grew)
            if time.monotonic() - started >= STABLE_S:
                backoff = FIRST_BACKOFF_S
            log.warning("%s: %s; reconnecting in %.1fs", self.name, self.stats.error, backoff)
            self._down()
            self.stats.reconnects += 1
            await self._wait(backoff)
            backoff = min(backoff * 2, self.max_backoff_s)

    async def _wait(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    async def _session(self) -> None:
        raise NotImplementedError

    def _down(self) -> None:
        self.stats.state = "down"

    def _connect(self, http, url: str, venue: str, headers: dict, heartbeat_s: float):
        """The websocket context manager, after the loopback-only guard of tests."""
        import aiohttp

        from .rest import _guard

        _guard(url, venue)
        return http.ws_connect(url, heartbeat=heartbeat_s, headers=headers,
                               timeout=aiohttp.ClientWSTimeout(ws_receive=self.idle_timeout_s))

    async def _messages(self, ws):
        """Each message decoded (JSON, or text such as ``pong``) until the socket closes."""
        import aiohttp

        async for msg in ws:
            if msg.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                break
            self.stats.messages += 1
            self.stats.last_message_ns = time.time_ns()
            yield _decode(msg.data)

    async def _send(self, ws, message) -> None:
        await ws.send_str(message if isinstance(message, str) else msgspec.json.encode(message).decode())

    async def _ping(self, ws, message, every_s: float) -> None:
        if message is None:
            return
        while True:
            await asyncio.sleep(every_s)
            await self._send(ws, message)


class FeedRunner(SocketRunner):
    """One venue's websocket kept alive, its books in sync (``book()`` serves only synced
    books) and its instruments' recent trade prints kept, as its feed streams each."""

    def __init__(self, feed: VenueFeed, instruments: list[Instrument], *, max_backoff_s: float = 30.0,
                 connect_timeout_s: float = 10.0, idle_timeout_s: float = 60.0):
        super().__init__(FeedStats(), feed.close, max_backoff_s, connect_timeout_s, idle_timeout_s)
        self.name = f"{feed.venue} feed"
        self.feed = feed
        self.instruments = {i.venue_symbol: i for i in instruments}
        self.books = {s: LocalBook(feed.venue, s) for s, i in self.instruments.items() if feed.streams(i)}
        self.trades: dict[str, list[TradeUpdate]] = {s: [] for s, i in self.instruments.items() if feed.streams_trades(i)}

    def book(self, inst: Instrument, depth: int = 20) -> OrderBook | None:
        local = self.books.get(inst.venue_symbol)
        if local is None or not local.synced or self.stats.state != "live":
            return None
        return local.book(inst, depth)

    def _down(self) -> None:
        self._unsync("down")

    def _unsync(self, state: str) -> None:
        self.stats.state = state
        for book in self.books.values():
            book.synced = False

    async def _session(self) -> None:
        import aiohttp

        url = self.feed.ws_url
        if not url:
            raise NetworkError(f"{self.feed.venue} has no websocket feed")
        self.stats.state = "connecting"
        timeout = aiohttp.ClientTimeout(total=None, connect=self.connect_timeout_s)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            async with self._connect(http, url, self.feed.venue, self.feed.ws_headers(), self.feed.heartbeat_s) as ws:
                self._ws = ws
                self.stats.connected_ns = time.time_ns()
                for message in self.feed.subscribe(list(self.instruments.values())):
                    await self._send(ws, message)
                pinger = asyncio.get_running_loop().create_task(self._ping(ws, self.feed.ping(), self.feed.heartbeat_s))
                try:
                    await self._pump(ws)
                finally:
                    pinger.cancel()

    async def _pump(self, ws) -> None:
        if self.feed.ws_snapshots:
            self.stats.state = "live"          # each book syncs when its snapshot arrives
        else:
            await self._resync(list(self.books))
        async for data in self._messages(ws):
            for answer in self.feed.reply(data):
                await self._send(ws, answer)
            try:
                updates = self.feed.parse(data)
            except BookGap as gap:
                await self._gap(gap, [gap.symbol] if gap.symbol in self.books else list(self.books))
                continue
            except (msgspec.DecodeError, KeyError, ValueError, TypeError) as exc:
                raise NetworkError(f"{self.feed.venue} sent a malformed websocket message ({type(exc).__name__})") from exc
            for update in updates:
                await self._take(update)
        raise NetworkError(f"{self.feed.venue} websocket closed")

    async def _take(self, update) -> None:
        if isinstance(update, TradeUpdate):
            bucket = self.trades.get(update.symbol)
            if bucket is not None:
                bucket.append(update)
                del bucket[:-1000]
            return
        book = self.books.get(update.symbol)
        if book is None:
            return
        try:
            if update.kind == "snapshot":
                book.reset(update)
            elif not book.synced and self.feed.ws_snapshots:
                return                         # its snapshot is on the way; this delta is in it
            else:
                book.apply(update)
            if update.checksum is not None and self.feed.checksum(book) not in (None, update.checksum):
                book.synced = False
                raise BookGap(f"{self.feed.venue} {update.symbol}: checksum mismatch after update {update.seq}")
        except BookGap as gap:
            await self._gap(gap, [update.symbol])

    async def _gap(self, gap: BookGap, symbols: list[str]) -> None:
        self.stats.gaps += 1
        log.warning("%s", gap)
        for s in symbols:
            self.books[s].synced = False
        if self.feed.ws_snapshots:
            for message in self.feed.resubscribe([self.instruments[s] for s in symbols]):
                await self._send(self._ws, message)
            self.stats.resyncs += 1
        else:
            self.stats.state = "resyncing"
            await self._resync(symbols)

    async def _resync(self, symbols: list[str]) -> None:
        """A REST snapshot for each book; buffered deltas older than it are then skipped."""
        for symbol in symbols:
            snap = await asyncio.wait_for(self.feed.snapshot(self.instruments[symbol]), self.connect_timeout_s)
            self.books[symbol].reset(snap)
            self.stats.resyncs += 1
        self.stats.state = "live"


def _decode(data: str | bytes) -> Any:
    """JSON messages decoded; plain-text ones (``pong``) passed as text."""
    head = data[:1]
    return msgspec.json.decode(data) if head in ("{", "[", b"{", b"[") else data


async def ws_probe(feed: VenueFeed, inst: Instrument, timeout_s: float = 4.0) -> float:
    """Open the feed's websocket, subscribe one book and wait for the venue's first answer:
    the round trip in ms (heartbeats use it to say the market-data socket works)."""
    import aiohttp

    from .rest import _guard

    url = feed.ws_url
    if not url:
        raise NetworkError(f"{feed.venue} has no websocket feed")
    _guard(url, feed.venue)
    start = time.perf_counter()
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout_s)) as http:
            async with http.ws_connect(url, headers=feed.ws_headers()) as ws:
                for message in feed.subscribe([inst]):
                    await ws.send_str(message if isinstance(message, str) else msgspec.json.encode(message).decode())
                msg = await ws.receive(timeout=timeout_s)
                if msg.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                    raise NetworkError(f"{feed.venue} websocket closed before answering")
    except (asyncio.TimeoutError, TimeoutError):
        raise NetworkError(f"{feed.venue} websocket did not answer within {timeout_s:g}s") from None
    except aiohttp.ClientError as exc:
        raise NetworkError(f"{feed.venue} websocket: {type(exc).__name__}") from None
    return round((time.perf_counter() - start) * 1000, 1)


# -- the `live` market-data source ---------------------------------------------------------------
def _in_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _run_sync(coro_factory, timeout_s: float):
    """Run a coroutine to completion from sync code, even inside a running loop (its own thread)."""
    if not _in_loop():
        return asyncio.run(asyncio.wait_for(coro_factory(), timeout_s))
    box: dict = {}

    def target():
        try:
            box["value"] = asyncio.run(asyncio.wait_for(coro_factory(), timeout_s))
        except BaseException as exc:  # noqa: BLE001 - handed back to the caller
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout_s + 1)
    if "error" in box:
        raise box["error"]
    return box.get("value")


class LiveSource(MarketDataSource):
    """Books from the venues themselves: websocket-kept books where this process runs feeds,
    REST snapshots otherwise. A venue that does not answer is skipped (its books are absent,
    never stale)."""

    name = "live"
    description = "the venues' own books: websocket feeds in the engine, REST snapshots elsewhere"
    needs_network = True
    live = True

    def __init__(self, timeout_s: float = 5.0):
        self.timeout_s = timeout_s
        self.runners: dict[tuple[str, int], FeedRunner] = {}     # (venue, its feed's index)
        self._keeping: dict[tuple[str, str], FeedRunner] = {}    # (venue, venue symbol) -> its book's runner
        self._printing: dict[tuple[str, str], FeedRunner] = {}   # (venue, venue symbol) -> its trades' runner
        self.errors: dict[str, str] = {}
        self._rest_only: set[tuple[str, str]] = set()     # (venue, venue symbol) no socket carries
        self._failed_at: dict[str, float] = {}             # venue -> when its REST books last failed

    def configure(self, settings: dict) -> "LiveSource":
        """``[market_data.live]``: timeout_s (seconds > 0); anything else is refused."""
        from .config import setting_error, show

        for key in settings:
            if key != "timeout_s":
                raise setting_error(f"[market_data.live] {key}", "unknown key; expected timeout_s")
        value = settings.get("timeout_s", self.timeout_s)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise setting_error("[market_data.live] timeout_s", f"{show(value)} is not a number of seconds above 0")
        return LiveSource(float(value))

    def _feeds(self, venue: str) -> list[VenueFeed]:
        from .config import venue_settings
        from .plugins import venues

        v = venues().get(venue)
        factory = getattr(v, "market_data_feeds", None)
        return factory(venue_settings(venue)) if factory else []

    @staticmethod
    def _claiming(feeds: list[VenueFeed], inst: Instrument) -> int | None:
        """The index of the feed whose websocket carries this book (None: REST only)."""
        return next((n for n, f in enumerate(feeds) if f.ws_url and f.streams(inst)), None)

    @staticmethod
    def _printing_feed(feeds: list[VenueFeed], inst: Instrument) -> int | None:
        """The index of the feed whose websocket carries this instrument's trades (None: none)."""
        return next((n for n, f in enumerate(feeds) if f.ws_url and f.streams_trades(inst)), None)

    def _runner(self, inst: Instrument) -> FeedRunner | None:
        return self._keeping.get((inst.venue, inst.venue_symbol))

    def stream(self, instruments: list[Instrument]) -> None:
        """Keep websocket books for these instruments (call inside the running loop). Books a
        venue's socket does not carry are remembered, so asking again costs nothing."""
        by_venue: dict[str, list[Instrument]] = {}
        for inst in instruments:
            if (inst.venue, inst.venue_symbol) not in self._rest_only and self._runner(inst) is None:
                by_venue.setdefault(inst.venue, []).append(inst)
        for venue, insts in by_venue.items():
            feeds = self._feeds(venue)
            by_feed: dict[int, list[Instrument]] = {}
            for inst in insts:
                n = self._claiming(feeds, inst)
                if n is None:
                    self._rest_only.add((venue, inst.venue_symbol))
                    continue
                for k in {n, self._printing_feed(feeds, inst)} - {None}:     # its book's socket, its trades'
                    by_feed.setdefault(k, []).append(inst)
            for n, streamed in by_feed.items():
                runner = self.runners.get((venue, n))
                if runner:
                    asyncio.get_running_loop().create_task(runner.stop())
                    streamed = list({**runner.instruments, **{i.venue_symbol: i for i in streamed}}.values())
                runner = self.runners[(venue, n)] = FeedRunner(feeds[n], streamed).start()
                self._keeping.update(((venue, symbol), runner) for symbol in runner.books)
                self._printing.update(((venue, symbol), runner) for symbol in runner.trades)

    async def stop(self) -> None:
        for runner in self.runners.values():
            await runner.stop()
        self.runners.clear()
        self._keeping.clear()
        self._printing.clear()

    def books(self, instruments, at_ns=None, depth=20):
        out, missing = [], []
        for inst in instruments:
            runner = self._runner(inst)
            book = runner.book(inst, depth) if runner else None
            (out.append(book) if book else missing.append(inst))
        if missing:
            in_engine = _in_loop()
            # in the engine a REST read blocks its loop: a venue whose read just failed (down, or
            # slow past the timeout) is skipped, not waited for again on every book read
            asked = [i for i in missing if not (in_engine and self._failing(i.venue))]
            out += self._rest_books(asked, depth) if asked else []
            if in_engine:
                self.stream(missing)        # keep them from now on
        order = {(i.venue, i.symbol): n for n, i in enumerate(instruments)}
        return sorted(out, key=lambda b: order.get((b.venue, b.symbol), 0))

    def _failing(self, venue: str) -> bool:
        return time.monotonic() - self._failed_at.get(venue, -REST_RETRY_S) < REST_RETRY_S

    def _rest_books(self, instruments: list[Instrument], depth: int) -> list[OrderBook]:
        async def fetch_all():
            feeds: dict[str, list[VenueFeed]] = {}
            for inst in instruments:
                if inst.venue not in feeds:
                    feeds[inst.venue] = self._feeds(inst.venue)

            async def one(inst):
                mine = feeds[inst.venue]
                n = self._claiming(mine, inst)
                feed = mine[n or 0] if mine else None     # the feed that streams it, else the venue's first
                if feed is None:
                    self.errors[inst.venue] = "its plugin has no market-data feed yet"
                    return None
                try:
                    update = await asyncio.wait_for(feed.snapshot(inst, depth), self.timeout_s)
                except (VenueError, asyncio.TimeoutError, TimeoutError) as exc:
                    self.errors[inst.venue] = str(exc) or type(exc).__name__
                    self._failed_at[inst.venue] = time.monotonic()
                    return None
                return to_book(inst.venue, inst, update, depth)

            try:
                return await asyncio.gather(*(one(i) for i in instruments))
            finally:
                for mine in feeds.values():
                    for feed in mine:
                        await feed.close()

        got = _run_sync(fetch_all, self.timeout_s * 2) or []
        return [b for b in got if b is not None]

    def trades(self, instrument, start_ns, end_ns):
        from .market import Trade

        runner = self._printing.get((instrument.venue, instrument.venue_symbol))
        rows = runner.trades.get(instrument.venue_symbol, []) if runner else []
        return [Trade(instrument.venue, instrument.symbol, t.ts_ns, t.side, t.price, t.size)
                for t in rows if start_ns <= t.ts_ns < end_ns]
