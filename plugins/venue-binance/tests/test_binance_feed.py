"""Binance market data and the rest of the REST surface against the fake server: the local book
from the diff-depth websocket (gap -> resync, dropped socket -> no stale book, reconnect), the
real published payloads, native amend, open orders, and the weight budget."""

import asyncio
import json
import sys
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fake_binance import FakeBinance  # noqa: E402
from sequence_core.feeds import FeedRunner, LiveSource  # noqa: E402
from sequence_core.orders import NodeOrder  # noqa: E402
from sequence_core.testing import drop_and_recover, until  # noqa: E402
from sequence_venue_binance.execution import BinanceSession  # noqa: E402
from sequence_venue_binance.feed import BinanceFeed  # noqa: E402
from sequence_venue_binance.http import BinanceClient  # noqa: E402
from sequence_venue_binance.symbols import INSTRUMENTS, from_exchange_info  # noqa: E402

KEY, SECRET = "feed-api-key-0003", "feed-secret-0003"
BTC = next(i for i in INSTRUMENTS if i.symbol == "BTC-USDT")
SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "data" / "responses" / "binance" / "python-http"
if not SAMPLES.exists():
    SAMPLES = Path("/work/shared/data/responses/binance/python-http")


@pytest.fixture
def fake():
    server = FakeBinance(KEY, SECRET)
    server.url = server.start()
    yield server
    server.stop()


def feed_for(fake) -> BinanceFeed:
    return BinanceFeed({"base_url": fake.url, "ws_url": fake.url.replace("http", "ws") + "/ws"})


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
