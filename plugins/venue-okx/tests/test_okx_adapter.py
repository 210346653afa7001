"""The OKX adapter against the fake server: signing as OKX verifies it, orders, native amend,
the websocket book (gap and checksum -> fresh snapshot, dropped socket -> no stale book),
real published payloads, and faults (429, malformed answers, clock skew, bad credentials)."""

import asyncio
import json
import sys
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fake_okx import FakeOkx  # noqa: E402
from sequence_core.errors import AuthenticationError, InsufficientFunds, RateLimitExceeded  # noqa: E402
from sequence_core.feeds import FeedRunner  # noqa: E402
from sequence_core.orders import NodeOrder  # noqa: E402
from sequence_core.testing import StreamProbe, refused_login, drop_and_recover, until  # noqa: E402
from sequence_venue_okx.execution import OkxSession  # noqa: E402
from sequence_core.feeds import interleaved_crc32  # noqa: E402
from sequence_venue_okx.feed import OkxFeed  # noqa: E402
from sequence_venue_okx.http import OkxClient  # noqa: E402
from sequence_venue_okx.signing import signature, timestamp  # noqa: E402
from sequence_venue_okx.symbols import INSTRUMENTS, from_instruments  # noqa: E402

KEY, SECRET, PASS = "okx-key-0001", "okx-secret-0001", "okx pass 1"
BTC = next(i for i in INSTRUMENTS if i.symbol == "BTC-USDT")
SAMPLES = Path("/work/shared/data/responses/okx")
for parent in Path(__file__).resolve().parents:
    if (parent / "shared" / "data" / "responses" / "okx").exists():
        SAMPLES = parent / "shared" / "data" / "responses" / "okx"
        break


@pytest.fixture
def fake():
    server = FakeOkx(KEY, SECRET, PASS)
    server.url = server.start()
    yield server
    server.stop()


def session(fake, secret=SECRET, passphrase=PASS) -> OkxSession:
    return OkxSession(OkxClient(KEY, secret, passphrase, fake.url))


def node(n=0, side="buy", qty="0.5", price="91000.0", kind="ioc"):
    gid = "graph_00000000feed"
    return NodeOrder(f"{gid}:node_{n}:0", gid, n, 0, "okx", "BTC-USDT", side, Decimal(qty),
                     Decimal(price) if price else None, kind, "PENDING_NEW", 0, 0)


async def using(s: OkxSession, work):
    try:
        return await work(s)
    finally:
        await s.close()


def test_signature_follows_the_documented_prehash():
    # OKX documents the formula with this timestamp, path and secret but no signature; the value
    # below is from `openssl dgst -sha256 -hmac <secret> -binary | base64` over the same prehash
    ts = timestamp(1607418537715)
    assert ts == "2020-12-08T09:08:57.715Z"                       # the docs' timestamp format
    assert signature("22582BD0CFF14C41EDBF1AB98506286D", ts, "get", "/api/v5/account/balance?ccy=BTC") == \
        "HiZhvSfMtWJA3uUIVXV3a/bSXNPCWvYFXoGCVS8V4zY="


def test_ioc_buy_fills_with_the_fee_in_quote(fake):
    state = asyncio.run(using(session(fake), lambda s: s.place(node(), BTC)))
    assert state.status == "FILLED" and state.filled_qty == Decimal("0.5")
    f = state.fills[0]
    assert f.price == Decimal("91000.0") and f.fee == Decimal("0.0005") * Decimal("91000.0") and f.liquidity == "taker"


def test_market_buy_sends_its_size_in_base(fake):
    state = asyncio.run(using(session(fake), lambda s: s.place(node(1, qty="0.25", price=None, kind="market"), BTC)))
    assert state.filled_qty == Decimal("0.25")


def test_resting_amend_native_then_cancel(fake):
    async def work(s):
        n = node(2, price="90000.0", kind="limit")
        placed = await s.place(n, BTC)
        amended = await s.amend(n, BTC, Decimal("89000.0"), Decimal("0.4"))
        open_ = await s.open_orders(BTC)
        cancelled = await s.cancel(n, BTC)
        again = await s.cancel(n, BTC)                               # already cancelled: its state, no error
        unknown = await s.order_state("sqnothing", BTC)
        return placed, amended, open_, cancelled, again, unknown
    placed, amended, open_, cancelled, again, unknown = asyncio.run(using(session(fake), work))
    assert placed.status == "NEW"
    assert amended.mode == "native_atomic" and (amended.state.price, amended.state.qty) == (Decimal("89000.0"), Decimal("0.4"))
    assert amended.state.venue_order_id == placed.venue_order_id                  # the same order
    assert [o.client_order_id for o in open_] == [node(2).client_order_id]
    assert cancelled.status == again.status == "CANCELLED" and unknown is None


def test_post_only_that_would_take_is_cancelled_by_the_venue(fake):
    state = asyncio.run(using(session(fake), lambda s: s.place(node(3, price="91500.0", kind="post_only"), BTC)))
    assert state.status == "CANCELLED" and state.filled_qty == 0


def test_insufficient_balance_is_the_item_code(fake):
    with pytest.raises(InsufficientFunds, match="51008"):
        asyncio.run(using(session(fake), lambda s: s.place(node(4, qty="5"), BTC)))


@pytest.mark.parametrize("secret,passphrase,code", [("wrong-secret", PASS, "50113"), (SECRET, "wrong pass", "50105")])
def test_bad_credentials_are_authentication_errors_that_hide_them(fake, secret, passphrase, code):
    with pytest.raises(AuthenticationError) as err:
        asyncio.run(using(session(fake, secret, passphrase), lambda s: s.balances()))
    assert code in str(err.value) and secret not in str(err.value) and passphrase not in str(err.value)


def test_rate_limit_is_retried_for_reads_not_for_a_place(fake):
    fake.rate_limit_next = 2
    assert asyncio.run(using(session(fake), lambda s: s.balances()))["USDT"] == Decimal("100000")
    fake.rate_limit_next = 1
    with pytest.raises(RateLimitExceeded):
        asyncio.run(using(session(fake), lambda s: s.place(node(5), BTC)))
    assert [r for r in fake.requests if r == ("POST", "/api/v5/trade/order")] == [("POST", "/api/v5/trade/order")]
    assert node(5).client_order_id not in fake.orders                   # never placed, safe to route again


def test_malformed_read_is_retried_and_clock_skew_resyncs(fake):
    fake.malformed_next = 1
    fake.clock_offset_ms = 90_000

    async def work(s):
        balances = await s.balances()
        return balances, s.client.clock.offset_ms
    balances, offset = asyncio.run(using(session(fake), work))
    assert balances["BTC"] == Decimal("1") and 89_000 < offset < 91_000


def feed_for(fake) -> OkxFeed:
    return OkxFeed({"base_url": fake.url, "ws_url": fake.url.replace("http", "ws") + "/ws/v5/public"})


def test_websocket_book_checks_sequence_and_checksum(fake):
    async def go():
        runner = FeedRunner(feed_for(fake), [BTC]).start()
        try:
            await until(lambda: runner.book(BTC) is not None, what="first snapshot")
            fake.push_book(bids={"90995.0": "1.5"})
            await until(lambda: runner.book(BTC).best_bid.price == Decimal("90995.0"))
            fake.skip_next_seq = 1
            fake.push_book(asks={"91000.0": "0"})
            await until(lambda: runner.stats.gaps == 1 and runner.book(BTC) is not None, what="resync after gap")
            fake.corrupt_next_checksum = True
            fake.push_book(bids={"90996.0": "0.5"})
            await until(lambda: runner.stats.gaps == 2 and runner.book(BTC) is not None
                        and runner.book(BTC).best_bid.price == Decimal("90996.0"), what="resync after checksum")
            fake.push_trade("91010.0", "0.3", "sell")
            await until(lambda: runner.trades["BTC-USDT"])
            return runner.book(BTC), runner.stats, runner.trades["BTC-USDT"][0]
        finally:
            await runner.stop()
    book, stats, trade = asyncio.run(go())
    assert book.best_ask.price == Decimal("91010.0")          # the removed level stays removed after the resync
    books_subs = [s for s in fake.subscriptions if s["channel"] == "books"]
    assert len(books_subs) == 3 and stats.resyncs == 2        # first, after the gap, after the checksum
    assert trade.side == -1 and trade.size == Decimal("0.3")


def test_dropped_socket_serves_no_stale_book(fake):
    stale, book = asyncio.run(drop_and_recover(feed_for(fake), BTC, fake, lambda: fake.bids.__setitem__("90993.0", "4")))
    assert stale is None and book.best_bid.price == Decimal("90993.0")


def test_published_payloads_parse():
    feed = OkxFeed({})
    snap = feed.parse(json.loads((SAMPLES / "ws_books_snapshot.json").read_text()))[0]
    upd = feed.parse(json.loads((SAMPLES / "ws_books_update.json").read_text()))[0]
    assert snap.kind == "snapshot" and snap.seq == 123456 and upd.prev_seq == 123456 and upd.seq == 123457
    assert snap.asks[0] == (Decimal("8476.98"), Decimal("415"))
    (trade,) = feed.parse(json.loads((SAMPLES / "ws_trades.json").read_text()))
    assert trade.side == 1 and trade.price == Decimal("42219.9")
    insts = from_instruments(json.loads((SAMPLES / "http_get_instruments_spot.json").read_text())["data"])
    assert (insts[0].symbol, insts[0].tick_size, insts[0].min_qty, insts[0].status) == ("BTC-USD", Decimal("0.1"), Decimal("0.00001"), "trading")


def test_checksum_matches_the_documented_construction():
    # OKX's docs: "bid:ask" pairs interleaved, e.g. "3366.1:7:3366.8:9:..."; CRC32 as signed int32
    bids = [(Decimal("3366.1"), Decimal("7")), (Decimal("3366"), Decimal("6"))]
    asks = [(Decimal("3366.8"), Decimal("9")), (Decimal("3368"), Decimal("8")), (Decimal("3372"), Decimal("8"))]
    import zlib
    raw = zlib.crc32(b"3366.1:7:3366.8:9:3366:6:3368:8:3372:8")
    assert interleaved_crc32(bids, asks) == (raw - (1 << 32) if raw >= 1 << 31 else raw)


# -- the private orders stream ---------------------------------------------------------------------
def user_stream(fake, secret=SECRET):
    from sequence_venue_okx.stream import OkxUserStream

    settings = {"ws_url": fake.url.replace("http", "ws") + "/ws/v5/public"}
    return OkxUserStream(OkxClient(KEY, secret, PASS, fake.url), settings)


def test_a_resting_order_fill_arrives_on_the_private_stream_with_the_fill_id_rest_reports(fake):
    async def go():
        s = session(fake)
        async with StreamProbe(user_stream(fake), INSTRUMENTS) as probe:
            await until(lambda: probe.runner.live and fake.private, what="stream logged in and subscribed")
            await s.place(node(3, price="90000.0", kind="limit"), BTC)
            fake.fill_resting(node(3).client_order_id, "0.2")
            await until(lambda: any(st.fills for st in probe.states), what="fill pushed")
            rest_fills = await s.client.fills("BTC-USDT", probe.states[-1].venue_order_id)
        await s.close()
        return probe.states[-1], rest_fills
    state, rest_fills = asyncio.run(go())
    (fill,) = state.fills
    assert (state.status, state.filled_qty) == ("PARTIALLY_FILLED", Decimal("0.2"))
    assert (fill.price, fill.qty, fill.liquidity) == (Decimal("90000.0"), Decimal("0.2"), "maker")
    assert fill.fee == Decimal("0.2") * Decimal("0.0008") * Decimal("90000.0")     # BTC fee, in USDT
    assert fill.fill_id == rest_fills[0]["tradeId"]          # a poll of the same fill dedupes on it


def test_a_refused_private_login_is_an_auth_error_that_never_shows_the_secret(fake):
    probe = refused_login(user_stream(fake, secret="not-the-secret-xyz"), INSTRUMENTS)
    error, live, connects = probe.runner.stats.error, probe.runner.live, probe.connects
    assert "refused the private websocket login" in error and "not-the-secret-xyz" not in error
    assert not live and connects == 0 and fake.private == [] and fake.logins[0] is False


def test_the_stream_reconnects_and_asks_for_a_catch_up_each_time(fake):
    async def go():
        async with StreamProbe(user_stream(fake), INSTRUMENTS) as probe:
            await until(lambda: probe.connects, what="first connect")
            fake.drop_sockets()
            await until(lambda: probe.connects >= 2 and probe.runner.live, what="reconnect")
            return probe.runner.stats.reconnects
    assert asyncio.run(go()) >= 1 and fake.logins[:2] == [True, True]


def test_the_published_orders_push_parses():
    from sequence_venue_okx.stream import OkxUserStream

    message = json.loads((SAMPLES / "ws_orders.json").read_text())
    (state,) = OkxUserStream(None, {}).parse(message, {i.venue_symbol: i for i in INSTRUMENTS})
    (fill,) = state.fills
    assert (state.client_order_id, state.status, state.filled_qty) == ("001BTCUSDT20250106001", "FILLED", Decimal("0.03"))
    assert (fill.fill_id, fill.price, fill.fee, fill.liquidity) == ("1518905529", Decimal("103698.9"), Decimal("0.021776769"), "maker")
