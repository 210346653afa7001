"""Binance market data and the rest of the REST surface against the fake server: the local book
from the diff-depth websocket (gap -> resync, dropped socket -> no stale book, reconnect), USD-M
perp books on a socket of their own (U/u/pu, a pu gap -> resync), the real published and
recorded payloads, native amend, open orders, and the weight budget."""

import asyncio
import json
import sys
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fake_binance import FakeBinance  # noqa: E402
from sequence_core.errors import NetworkError  # noqa: E402
from sequence_core.feeds import BookGap, BookUpdate, FeedRunner, LiveSource, LocalBook  # noqa: E402
from sequence_core.orders import NodeOrder  # noqa: E402
from sequence_core.testing import drop_and_recover, running, shared_responses, until  # noqa: E402
from sequence_venue_binance.execution import BinanceSession  # noqa: E402
from sequence_venue_binance.feed import BinanceFeed, BinanceFuturesFeed  # noqa: E402
from sequence_venue_binance.http import BinanceClient  # noqa: E402
from sequence_venue_binance.symbols import INSTRUMENTS, from_exchange_info  # noqa: E402

KEY, SECRET = "feed-api-key-0003", "feed-secret-0003"
BTC = next(i for i in INSTRUMENTS if i.symbol == "BTC-USDT")
BTC_PERP = next(i for i in INSTRUMENTS if i.symbol == "BTC-USDT-PERP")
MARKET = Path(__file__).resolve().parents[3] / "shared" / "data" / "market"
if not MARKET.exists():
    MARKET = Path("/work/shared/data/market")
SAMPLES = shared_responses("binance", "python-http")


@pytest.fixture
def fake():
    yield from running(FakeBinance(KEY, SECRET))


def settings_for(fake) -> dict:
    ws = fake.url.replace("http", "ws")
    return {"base_url": fake.url, "ws_url": ws + "/ws", "fapi_ws_url": ws + "/public/ws"}


def feed_for(fake) -> BinanceFeed:
    return BinanceFeed(settings_for(fake))


def test_the_book_follows_deltas_and_resyncs_after_a_gap(fake):
    async def go():
        runner = FeedRunner(feed_for(fake), [BTC]).start()
        try:
            await until(lambda: runner.book(BTC) is not None and fake.sockets)
            assert fake.subscriptions == [["btcusdt@depth@100ms", "btcusdt@trade"]]
            first = runner.book(BTC)
            fake.push_depth(bids=[("90995.00", "1.5")])
            await until(lambda: runner.book(BTC).best_bid.price == Decimal("90995.00"))
            fake.push_depth(asks=[("91000.00", "0")])          # level removed
            await until(lambda: runner.book(BTC).best_ask.price == Decimal("91010.00"))
            fake.skip_next_update = 1                         # one update id never arrives
            fake.push_depth(bids=[("90996.00", "0.7")])
            await until(lambda: runner.stats.gaps == 1 and runner.book(BTC) is not None)
            after = runner.book(BTC)
            fake.push_trade("91010.00", "0.25", buyer_maker=True)
            await until(lambda: runner.trades["BTCUSDT"])
            return first, after, runner.stats, runner.trades["BTCUSDT"][0]
        finally:
            await runner.stop()
    first, after, stats, trade = asyncio.run(go())
    assert first.best_bid.price == Decimal("90990.00") and first.best_ask.price == Decimal("91000.00")
    # rebuilt from a fresh REST snapshot (two depth calls), which has the level the gap hid
    assert fake.depth_requests == 2 and stats.resyncs == 2
    assert after.best_bid.price == Decimal("90996.00") and after.best_ask.price == Decimal("91010.00")
    assert trade.side == -1 and trade.price == Decimal("91010.00")      # buyer was maker: a sell took


def test_a_dropped_socket_serves_no_stale_book_then_reconnects(fake):
    stale, book = asyncio.run(drop_and_recover(feed_for(fake), BTC, fake,
                                               lambda: fake.bids.__setitem__(Decimal("90993.00"), Decimal("4"))))
    assert stale is None and book.best_bid.price == Decimal("90993.00")     # rebuilt with what changed meanwhile


def test_server_shutdown_reconnects_and_resyncs_at_once(fake):
    # serverShutdown (spot CHANGELOG 2026-05-06/2026-06-09: "please disconnect and open a new
    # connection"); the fake leaves the old socket open, so only the adapter can make the move
    async def go():
        runner = FeedRunner(feed_for(fake), [BTC], max_backoff_s=0.2).start()
        try:
            await until(lambda: runner.book(BTC) is not None, what="first book")
            fake.server_shutdown()
            await until(lambda: len(fake.subscriptions) == 2 and runner.book(BTC) is not None, what="a new connection")
            return runner.stats
        finally:
            await runner.stop()
    stats = asyncio.run(go())
    assert stats.reconnects == 1 and "serverShutdown" in stats.error and fake.depth_requests == 2
    for shape in ({"e": "serverShutdown", "E": 1770123456789},
                  {"stream": "!serverShutdown", "data": {"e": "serverShutdown", "E": 1770123456789}}):
        with pytest.raises(NetworkError):
            BinanceFeed({}).parse(shape)


def test_live_source_rest_snapshot_outside_the_engine(fake, monkeypatch):
    source = LiveSource()
    monkeypatch.setattr(source, "_feeds", lambda venue: [feed_for(fake)])
    books = source.books([BTC], depth=1)
    assert [(b.venue, b.symbol, b.best_bid.price, b.best_ask.price) for b in books] == \
        [("binance", "BTC-USDT", Decimal("90990.00"), Decimal("91000.00"))]
    assert len(books[0].bids) == 1


def test_published_payloads_parse():
    depth = json.loads((SAMPLES / "http_spot_market_depth.json").read_text())
    feed = BinanceFeed({})
    update = feed.parse({"e": "depthUpdate", "E": 1, "s": "BTCUSDT", "U": depth["lastUpdateId"] + 1,
                         "u": depth["lastUpdateId"] + 2, "b": depth["bids"][:1], "a": []})[0]
    assert update.first_seq == depth["lastUpdateId"] + 1 and update.bids[0] == (Decimal("60650.00000000"), Decimal("0.00213000"))
    insts = from_exchange_info(json.loads((SAMPLES / "http_spot_market_exchange_info.json").read_text()))
    btc = next(i for i in insts if i.venue_symbol == "BTCUSDT")
    assert (btc.symbol, btc.tick_size, btc.lot_size, btc.min_notional, btc.status) == \
        ("BTC-USDT", Decimal("0.01"), Decimal("0.00001"), Decimal("10"), "trading")


def test_exchange_info_from_the_server(fake):
    async def go():
        client = BinanceClient("", "", fake.url)
        try:
            return await client.instruments(["BTCUSDT"])
        finally:
            await client.close()
    (btc,) = asyncio.run(go())
    assert (btc.tick_size, btc.lot_size, btc.min_notional) == (Decimal("0.01"), Decimal("0.00001"), Decimal("5"))


def resting(n=7, qty="0.5"):
    gid = "graph_00000000cafe"
    return NodeOrder(f"{gid}:node_{n}:0", gid, n, 0, "binance", "BTC-USDT", "buy", Decimal(qty), Decimal("90000.00"),
                     "limit", "PENDING_NEW", 0, 0)


def test_a_quantity_decrease_is_amended_in_place_a_price_change_is_not(fake):
    async def go():
        session = BinanceSession(BinanceClient(KEY, SECRET, fake.url))
        try:
            node = resting()
            await session.place(node, BTC)
            native = session.native_amend(node, None, Decimal("0.3")), session.native_amend(node, Decimal("89000.00"), None)
            amended = await session.amend(node, BTC, None, Decimal("0.3"))
            return native, amended, await session.open_orders(BTC)
        finally:
            await session.close()
    native, amended, open_ = asyncio.run(go())
    assert native == (True, False)
    assert amended.mode == "native_atomic" and amended.state.qty == Decimal("0.3")
    assert amended.state.client_order_id == resting().client_order_id        # same order, same id
    assert [(o.client_order_id, o.qty) for o in open_] == [(resting().client_order_id, Decimal("0.3"))]


def test_the_client_follows_the_weight_the_venue_reports(fake):
    fake.used_weight = 5990                                     # someone else on this IP spent it

    async def go():
        client = BinanceClient(KEY, SECRET, fake.url)
        try:
            await client.ping()
            return client.rest.limiter.tokens
        finally:
            await client.close()
    assert asyncio.run(go()) < 20                               # 6000 - 5991, not a fresh 6000


# -- USD-M perp books ---------------------------------------------------------------------------
def test_perp_and_spot_books_stream_each_on_its_own_socket_and_perp_trades_on_a_third(fake, monkeypatch):
    from sequence_venue_binance.venue import BinanceVenue

    source = LiveSource()
    monkeypatch.setattr(source, "_feeds", lambda venue: BinanceVenue().market_data_feeds(settings_for(fake)))

    def socket_books():                    # what the runners serve (no REST fallback)
        return [r.book(i) if (r := source._runner(i)) else None for i in (BTC, BTC_PERP)]

    async def go():
        source.stream([BTC, BTC_PERP])
        try:
            await until(lambda: None not in socket_books(), what="both books from their sockets")
            fake.push_depth(bids=[("90995.00", "1.5")])
            fake.push_perp_depth(bids=[("90996.0", "1.2")], asks=[("91000.0", "0")])
            await until(lambda: [b.best_bid.price for b in socket_books()] == [Decimal("90995.00"), Decimal("90996.0")],
                        what="both deltas applied")
            fake.push_perp_depth(asks=[("91005.0", "0.4")])
            await until(lambda: socket_books()[1].best_ask.price == Decimal("91005.0"), what="the next delta")
            await until(lambda: fake.f_trade_subscriptions, what="the perp trades subscription")
            fake.push_perp_trade("91001.5", "0.250", buyer_maker=True)
            fake.push_perp_trade("91002.0", "0.010", buyer_maker=False)
            await until(lambda: len(source.trades(BTC_PERP, 0, 2**63)) == 2, what="the perp trade prints")
            return source.books([BTC, BTC_PERP]), dict(source.runners), source.trades(BTC_PERP, 0, 2**63)
        finally:
            await source.stop()
    (spot, perp), runners, trades = asyncio.run(go())
    assert sorted(runners) == [("binance", 0), ("binance", 1), ("binance", 2)]      # one runner per feed
    assert [list(runners[k].instruments) for k in sorted(runners)] == [["BTCUSDT"], ["BTCUSDT_PERP"], ["BTCUSDT_PERP"]]
    assert list(runners[("binance", 2)].books) == []                            # the trades socket keeps no book
    assert (len(fake.spot_market), len(fake.f_market), len(fake.f_trade_sockets)) == (1, 1, 1)   # one socket each
    assert fake.subscriptions == [["btcusdt@depth@100ms", "btcusdt@trade"]]
    assert (fake.f_subscriptions, fake.f_trade_subscriptions) == ([["btcusdt@depth@100ms"]], [["btcusdt@aggTrade"]])
    assert [(t.symbol, t.side, t.price, t.size) for t in trades] == [       # m true: the buyer made it, the aggressor sold (-1)
        ("BTC-USDT-PERP", -1, Decimal("91001.5"), Decimal("0.250")), ("BTC-USDT-PERP", 1, Decimal("91002.0"), Decimal("0.010"))]
    assert (spot.symbol, spot.best_bid.price, perp.symbol, perp.best_bid.price, perp.best_ask.price) == \
        ("BTC-USDT", Decimal("90995.00"), "BTC-USDT-PERP", Decimal("90996.0"), Decimal("91005.0"))
    # each book came from one REST snapshot when its socket synced; every read since was the socket's
    assert (fake.depth_requests, fake.f_depth_requests, fake.f_depth_limits) == (1, 1, [1000])
    assert runners[("binance", 1)].stats.gaps == 0     # the first event after the snapshot (U > lastUpdateId + 1) followed it


def test_a_perp_pu_gap_resyncs_from_rest(fake):
    async def go():
        runner = FeedRunner(BinanceFuturesFeed(settings_for(fake)), [BTC_PERP]).start()
        try:
            await until(lambda: runner.book(BTC_PERP) is not None, what="first perp book")
            fake.push_perp_depth(bids=[("90995.0", "1.5")], lost=True)            # never reaches the client
            fake.push_perp_depth(asks=[("91000.0", "0")])                         # its pu names the lost event
            await until(lambda: runner.stats.gaps == 1 and runner.book(BTC_PERP) is not None, what="the resync")
            fake.push_perp_depth(asks=[("91002.0", "0.3")])
            await until(lambda: runner.book(BTC_PERP).best_ask.price == Decimal("91002.0"), what="deltas after the resync")
            return runner.book(BTC_PERP), runner.stats
        finally:
            await runner.stop()
    book, stats = asyncio.run(go())
    assert fake.f_depth_requests == 2 and stats.resyncs == 2 and stats.gaps == 1
    assert book.best_bid.price == Decimal("90995.0")          # the lost change, from the new REST snapshot
    assert fake.depth_requests == 0


def test_usdm_depth_events_carry_the_range_since_the_previous_event():
    feed = BinanceFuturesFeed({})
    sample = json.loads((SAMPLES.parent / "python-ws" / "ws_futures_depth_update.json").read_text())
    (update,) = feed.parse(sample)
    assert (update.symbol, update.kind, update.seq, update.prev_seq, update.first_seq) == \
        ("BTCUSDT_PERP", "delta", 390497878, 390497794, 390497795)           # u, pu, pu + 1
    assert update.bids[0] == (Decimal("7403.89"), Decimal("0.002")) and update.ts_ns == 1571889248277 * 1_000_000
    assert feed.parse({"stream": "btcusdt@depth@100ms", "data": sample}) == [update]     # /stream mode
    assert feed.parse({"result": None, "id": 1}) == []
    # a snapshot ending exactly where an event begins (lastUpdateId = pu, U well above it), as on
    # https://dev.binance.vision/t/updateid/4072: followed, not refused as a gap
    book = LocalBook("binance", "DOGEUSDT_PERP")
    book.reset(BookUpdate("DOGEUSDT_PERP", "snapshot", ((Decimal("0.1"), Decimal(1)),), (), seq=129749853386))
    (event,) = feed.parse({"e": "depthUpdate", "E": 1, "T": 1, "s": "DOGEUSDT", "U": 129749854368, "u": 129749858329,
                           "pu": 129749853386, "b": [["0.1", "2"]], "a": []})
    assert book.apply(event) and book.seq == 129749858329
    (late,) = feed.parse({"e": "depthUpdate", "E": 2, "T": 2, "s": "DOGEUSDT", "U": 129749861451, "u": 129749870463,
                          "pu": 129749861408, "b": [], "a": []})
    with pytest.raises(BookGap):
        book.apply(late)                               # its pu is not the last u: an event went missing


def test_the_recorded_usdm_stream_follows_its_rest_snapshot_without_a_gap():
    """Binance USD-M BTCUSDT, 2024-08-08 (shared/data/market/binance-multi-2024-08-08, hftbacktest,
    MIT): the diff events buffered before the one REST snapshot, then the next 1,500 events."""
    import gzip

    feed = BinanceFuturesFeed({})
    book = LocalBook("binance", "BTCUSDT_PERP")
    buffered, applied, dropped = [], 0, 0
    with gzip.open(MARKET / "binance-multi-2024-08-08" / "usdm_btcusdt_20240808.gz", "rt") as lines:
        for line in lines:
            message = json.loads(line.split(" ", 1)[1])
            data = message.get("data", message)
            if "lastUpdateId" in data:
                book.reset(BookUpdate("BTCUSDT_PERP", "snapshot", tuple((Decimal(p), Decimal(q)) for p, q in data["bids"]),
                                      tuple((Decimal(p), Decimal(q)) for p, q in data["asks"]), seq=data["lastUpdateId"]))
                continue
            for update in feed.parse(message):
                if not book.synced:
                    buffered.append(update)
                    continue
                for u in buffered + [update]:
                    if book.apply(u):
                        applied += 1
                    else:
                        dropped += 1
                buffered = []
            if applied >= 1500:
                break
    assert applied == 1500 and dropped > 0 and book.synced
    best_bid, best_ask = max(book.bids), min(book.asks)
    assert best_bid < best_ask
