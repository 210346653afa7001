"""Bybit's two public sockets against the fake server: spot books on ``/v5/public/spot``, USDT
linear perp books on ``/v5/public/linear``, each feed on a socket of its own (a skipped ``u``
resubscribes, a snapshot with ``u`` = 1 resets, a dropped socket reconnects and leaves the
other alone), and the recorded linear ``orderbook.500`` replayed through the parser."""

import asyncio
import io
import json
import sys
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fake_bybit import FakeBybit  # noqa: E402
from sequence_core.feeds import BookGap, FeedRunner, LiveSource, LocalBook  # noqa: E402
from sequence_core.testing import running, until  # noqa: E402
from sequence_venue_bybit.feed import BybitFeed, BybitLinearFeed  # noqa: E402
from sequence_venue_bybit.symbols import INSTRUMENTS  # noqa: E402
from sequence_venue_bybit.venue import BybitVenue  # noqa: E402

KEY, SECRET = "bybit-feed-key-3", "bybit-feed-secret-3"
BTC = next(i for i in INSTRUMENTS if i.symbol == "BTC-USDT")
PERP = next(i for i in INSTRUMENTS if i.symbol == "BTC-USDT-PERP")
DATA = Path("/work/shared/data")
for parent in Path(__file__).resolve().parents:
    if (parent / "shared" / "data" / "market" / "bybit").exists():
        DATA = parent / "shared" / "data"
        break
BOOK = "orderbook.50.BTCUSDT"


@pytest.fixture
def fake():
    yield from running(FakeBybit(KEY, SECRET))


def settings(fake) -> dict:
    """As config.toml gives them: the spot socket only; the linear one is found beside it."""
    return {"base_url": fake.url, "ws_url": fake.url.replace("http", "ws") + "/v5/public/spot"}


def book_requests(fake) -> int:
    return fake.requests.count(("GET", "/v5/market/orderbook"))


def test_the_venue_has_a_spot_feed_then_a_linear_one_each_claiming_its_own_books():
    spot, linear = BybitVenue().market_data_feeds({})
    assert (type(spot), type(linear)) == (BybitFeed, BybitLinearFeed)
    assert (spot.ws_url, linear.ws_url) == ("wss://stream.bybit.com/v5/public/spot", "wss://stream.bybit.com/v5/public/linear")
    assert [i.symbol for i in INSTRUMENTS if spot.streams(i)] == ["BTC-USDT", "ETH-USDT", "SOL-USDT", "XRP-USDT"]
    assert [i.symbol for i in INSTRUMENTS if linear.streams(i)] == ["BTC-USDT-PERP", "ETH-USDT-PERP"]
    assert linear.subscribe(INSTRUMENTS) == [{"op": "subscribe", "args": [
        "orderbook.50.BTCUSDT", "publicTrade.BTCUSDT", "orderbook.50.ETHUSDT", "publicTrade.ETHUSDT"]}]
    assert type(BybitVenue().market_data({})) is BybitFeed                 # the heartbeat's probe: spot
    beside = BybitVenue().market_data_feeds({"ws_url": "wss://stream-testnet.bybit.com/v5/public/spot"})[1]
    chosen = BybitVenue().market_data_feeds({"ws_url": "ws://127.0.0.1:9/v5/public/spot",
                                             "linear_ws_url": "ws://127.0.0.1:8/linear"})[1]
    assert (beside.ws_url, chosen.ws_url) == ("wss://stream-testnet.bybit.com/v5/public/linear", "ws://127.0.0.1:8/linear")


def test_spot_subscribe_requests_carry_at_most_ten_topics():
    many = INSTRUMENTS[:4] * 2                                 # 8 books: 16 topics
    requests = BybitFeed({}).subscribe(many)
    assert [len(r["args"]) for r in requests] == [10, 6]


def test_a_perp_book_streams_on_the_linear_socket_beside_the_spot_book(fake, monkeypatch):
    async def go():
        source = LiveSource()
        monkeypatch.setattr(source, "_feeds", lambda venue: BybitVenue().market_data_feeds(settings(fake)))
        try:
            first = source.books([BTC, PERP], depth=5)          # REST snapshots now, sockets from now on
            rest = book_requests(fake)
            await until(lambda: all(source._runner(i) and source._runner(i).book(i) for i in (BTC, PERP)),
                        what="both books from their sockets")
            fake.spot.push(bids={"90995.00": "1"})
            fake.linear.push(asks={"91006.00": "0"})
            await until(lambda: source._runner(PERP).book(PERP).best_ask.price == Decimal("91006.5")
                        and source._runner(BTC).book(BTC).best_bid.price == Decimal("90995.00"), what="both deltas")
            later = source.books([BTC, PERP], depth=5)
            runners = {key: sorted(r.instruments) for key, r in source.runners.items()}
            return first, later, rest, book_requests(fake), runners, len(fake.spot.sockets), len(fake.linear.sockets)
        finally:
            await source.stop()
    first, later, rest, rest_after, runners, spot_sockets, linear_sockets = asyncio.run(go())
    top = [(b.symbol, b.best_bid.price, b.best_ask.price) for b in first]
    assert top == [("BTC-USDT", Decimal("90990.00"), Decimal("91000.00")), ("BTC-USDT-PERP", Decimal("91005.5"), Decimal("91006.0"))]
    assert runners == {("bybit", 0): ["BTCUSDT"], ("bybit", 1): ["BTCUSDT_LINEAR"]}
    assert (spot_sockets, linear_sockets) == (1, 1)
    assert fake.spot.subscriptions == fake.linear.subscriptions == [BOOK, "publicTrade.BTCUSDT"]
    top = [(b.symbol, b.best_bid.price, b.best_ask.price) for b in later]
    assert top == [("BTC-USDT", Decimal("90995.00"), Decimal("91000.00")), ("BTC-USDT-PERP", Decimal("91005.5"), Decimal("91006.5"))]
    assert rest == rest_after == 2                               # one REST snapshot each, then the sockets


def test_a_rest_book_is_asked_as_deep_as_bybit_serves_it(fake):
    # /v5/market/orderbook limit: 1..1000 for spot and linear (200 and 500 before 2026-05-18)
    async def go():
        spot, linear = BybitFeed(settings(fake)), BybitLinearFeed(settings(fake))
        try:
            return await spot.snapshot(BTC, 5000), await linear.snapshot(PERP, 800)
        finally:
            await spot.close()
            await linear.close()
    spot, linear = asyncio.run(go())
    assert fake.book_limits == [1000, 800] and spot.bids and linear.asks


def test_a_skipped_linear_update_resubscribes_and_the_book_comes_back_right(fake):
    async def go():
        runner = FeedRunner(BybitLinearFeed(settings(fake)), [PERP]).start()
        try:
            await until(lambda: runner.book(PERP) is not None, what="first book")
            fake.linear.push(bids={"91005.60": "0.400"})
            await until(lambda: runner.book(PERP).best_bid.price == Decimal("91005.6"))
            fake.linear.skip_next_update = 1                     # u + 2: one update never arrives
            fake.linear.push(asks={"91006.00": "0"})
            await until(lambda: runner.stats.gaps == 1 and runner.book(PERP) is not None, what="the gap repaired")
            fake.linear.trade("91006.50", "0.050", "Buy")
            await until(lambda: runner.trades["BTCUSDT_LINEAR"], what="the trade")
            return runner.book(PERP), runner.stats, runner.trades["BTCUSDT_LINEAR"][0]
        finally:
            await runner.stop()
    book, stats, trade = asyncio.run(go())
    assert book.symbol == "BTC-USDT-PERP"
    assert (book.best_bid.price, book.best_ask.price) == (Decimal("91005.6"), Decimal("91006.5"))   # the fresh snapshot has it
    assert fake.linear.unsubscriptions == [BOOK] and fake.linear.subscriptions.count(BOOK) == 2
    assert stats.resyncs == 1 and book_requests(fake) == 0        # repaired by the socket, not REST
    assert (trade.side, trade.price, trade.size) == (1, Decimal("91006.50"), Decimal("0.050"))
    assert fake.spot.subscriptions == []                         # the spot socket was never opened


def test_a_snapshot_with_u_1_after_a_service_restart_resets_the_book(fake):
    async def go():
        runner = FeedRunner(BybitLinearFeed(settings(fake)), [PERP]).start()
        try:
            await until(lambda: runner.book(PERP) is not None, what="first book")
            fake.linear.restart(bids={"91100.00": "1.000"}, asks={"91101.00": "2.000"})
            await until(lambda: runner.book(PERP).best_bid.price == Decimal("91100.0"), what="the new snapshot")
            fake.linear.push(bids={"91100.50": "0.500"})          # u = 2 follows it
            await until(lambda: runner.book(PERP).best_bid.price == Decimal("91100.5"), what="the next delta")
            return runner.book(PERP), runner.books["BTCUSDT_LINEAR"].seq, runner.stats
        finally:
            await runner.stop()
    book, seq, stats = asyncio.run(go())
    assert [lv.price for lv in book.bids] == [Decimal("91100.5"), Decimal("91100.0")] and book.best_ask.price == Decimal("91101.0")
    assert seq == 2 and stats.gaps == 0 and stats.resyncs == 0


def test_a_dropped_linear_socket_reconnects_and_the_spot_socket_stays(fake):
    async def go():
        spot = FeedRunner(BybitFeed(settings(fake)), [BTC], max_backoff_s=0.2).start()
        linear = FeedRunner(BybitLinearFeed(settings(fake)), [PERP], max_backoff_s=0.2).start()
        try:
            await until(lambda: spot.book(BTC) is not None and linear.book(PERP) is not None, what="both books")
            fake.linear.drop()
            await until(lambda: linear.stats.state != "live", what="the drop noticed")
            stale, spot_book = linear.book(PERP), spot.book(BTC)
            fake.linear.bids["91005.80"] = "0.900"                # changed while the socket was away
            await until(lambda: linear.book(PERP) is not None and linear.stats.reconnects >= 1, what="reconnect")
            return stale, spot_book, linear.book(PERP), spot.stats.reconnects
        finally:
            await spot.stop()
            await linear.stop()
    stale, spot_book, book, spot_reconnects = asyncio.run(go())
    assert stale is None                                        # never a stale book
    assert spot_book is not None and spot_reconnects == 0       # the other socket went on
    assert book.best_bid.price == Decimal("91005.8")            # the snapshot sent on resubscribing has it
    assert fake.linear.subscriptions.count(BOOK) == 2


def recorded() -> list[dict]:
    """Bybit linear XRPUSDT ``orderbook.500``, 2024-12-01, one message a line (recorded by
    NautilusTrader; see shared/data/README.md)."""
    with zipfile.ZipFile(DATA / "market" / "bybit" / "xrpusdt-ob500.data.zip") as z:
        (name,) = z.namelist()
        return [json.loads(line) for line in io.TextIOWrapper(z.open(name), encoding="utf-8") if line.strip()]


def test_the_recorded_linear_orderbook_replays_with_u_plus_one_and_a_skip_is_a_gap():
    feed = BybitLinearFeed({})
    updates = [u for m in recorded() for u in feed.parse(m)]
    assert {u.symbol for u in updates} == {"XRPUSDT_LINEAR"}          # Bybit's name, ours on arrival
    assert [u.kind for u in updates] == ["snapshot"] + ["delta"] * 49
    first = updates[0]
    assert (first.seq, len(first.bids), len(first.asks), first.bids[0]) == (20254869, 500, 500, (Decimal("1.9531"), Decimal("6203")))
    book = LocalBook("bybit", "XRPUSDT_LINEAR")
    book.reset(first)
    for delta in updates[1:]:
        book.apply(delta)                                        # BookGap if u ever skipped
    bids, asks = book.levels(1)
    assert book.seq == 20254918 and bids[0][0] < asks[0][0]
    skipped = LocalBook("bybit", "XRPUSDT_LINEAR")
    skipped.reset(first)
    with pytest.raises(BookGap):
        skipped.apply(updates[2])
    pong = {"success": True, "ret_msg": "pong", "conn_id": "465772b1-7630-4fdc-a492-e003e6f0f260", "req_id": "", "op": "ping"}
    assert feed.parse(pong) == []                                # the linear pong (v5/ws/connect)
