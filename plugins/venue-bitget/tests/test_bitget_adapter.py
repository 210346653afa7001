"""The Bitget adapter against the fake server: signing as Bitget verifies it, orders,
cancel-replace amend, the websocket book (checksum -> fresh snapshot, dropped socket -> no
stale book), and faults (429, malformed answers, clock skew, bad credentials)."""

import asyncio
import sys
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fake_bitget import FakeBitget  # noqa: E402
from sequence_core.errors import AuthenticationError, InvalidOrder, RateLimitExceeded  # noqa: E402
from sequence_core.feeds import FeedRunner  # noqa: E402
from sequence_core.orders import NodeOrder  # noqa: E402
from sequence_core.testing import StreamProbe, refused_login, drop_and_recover, until  # noqa: E402
from sequence_venue_bitget.execution import BitgetSession  # noqa: E402
from sequence_venue_bitget.feed import BitgetFeed  # noqa: E402
from sequence_venue_bitget.http import BitgetClient  # noqa: E402
from sequence_venue_bitget.signing import signature  # noqa: E402
from sequence_venue_bitget.symbols import INSTRUMENTS  # noqa: E402

KEY, SECRET, PASS = "bitget-key-1", "bitget-secret-1", "bitget pass"
BTC = next(i for i in INSTRUMENTS if i.symbol == "BTC-USDT")


@pytest.fixture
def fake():
    server = FakeBitget(KEY, SECRET, PASS)
    server.url = server.start()
    yield server
    server.stop()


def session(fake, secret=SECRET, passphrase=PASS) -> BitgetSession:
    return BitgetSession(BitgetClient(KEY, secret, passphrase, fake.url))


async def using(s, work):
    try:
        return await work(s)
    finally:
        await s.close()


def node(n=0, side="buy", qty="0.5", price="91000.00", kind="ioc"):
    gid = "graph_00000000b17b"
    return NodeOrder(f"{gid}:node_{n}:0", gid, n, 0, "bitget", "BTC-USDT", side, Decimal(qty),
                     Decimal(price) if price else None, kind, "PENDING_NEW", 0, 0)


def test_signature_is_the_documented_prehash():
    # Bitget documents timestamp + METHOD + path?query + body, base64 HMAC-SHA256, without a
    # worked value; this one is `openssl dgst -sha256 -hmac bitget-doc-secret -binary | base64`
    assert signature("bitget-doc-secret", 1695795200000, "GET", "/api/v2/spot/account/assets?coin=USDT") == \
        "VWRTTSjxasIb0XHW1/aqkuVDUdjizM9cBpdFy5mX4nQ="


def test_ioc_buy_fills_with_the_fee_in_quote(fake):
    state = asyncio.run(using(session(fake), lambda s: s.place(node(), BTC)))
    assert state.status == "FILLED" and state.fills[0].fee == Decimal("0.0005") * Decimal("91000.00")


def test_market_buy_without_a_price_is_refused_before_sending(fake):
    with pytest.raises(InvalidOrder, match="quote coin"):
        asyncio.run(using(session(fake), lambda s: s.place(node(1, price=None, kind="market"), BTC)))
    assert ("POST", "/api/v2/spot/trade/place-order") not in fake.requests


def test_market_sell_and_post_only(fake):
    async def work(s):
        sold = await s.place(node(2, side="sell", qty="0.1", price=None, kind="market"), BTC)
        post = await s.place(node(3, price="91500.00", kind="post_only"), BTC)
        return sold, post
    sold, post = asyncio.run(using(session(fake), work))
    assert sold.status == "FILLED" and sold.fills[0].price == Decimal("90990.00")
    assert post.status == "CANCELLED" and post.filled_qty == 0


def test_resting_order_open_then_cancelled(fake):
    async def work(s):
        n = node(4, price="90000.00", kind="limit")
        placed = await s.place(n, BTC)
        open_ = await s.open_orders(BTC)
        return placed, open_, await s.cancel(n, BTC), await s.cancel(n, BTC), await s.order_state("sqnothing", BTC)
    placed, open_, cancelled, again, unknown = asyncio.run(using(session(fake), work))
    assert placed.status == "NEW" and [o.client_order_id for o in open_] == [node(4).client_order_id]
    assert cancelled.status == again.status == "CANCELLED" and unknown is None
    assert session(fake).native_amend(node(4), Decimal("1"), None) is False          # the engine cancels and replaces


@pytest.mark.parametrize("secret,passphrase,code", [("not-it-secret", PASS, "40009"), (SECRET, "not it pass", "40012")])
def test_bad_credentials_hidden_in_the_error(fake, secret, passphrase, code):
    with pytest.raises(AuthenticationError) as err:
        asyncio.run(using(session(fake, secret, passphrase), lambda s: s.balances()))
    assert code in str(err.value) and SECRET not in str(err.value) and PASS not in str(err.value)
    assert secret not in str(err.value) and passphrase not in str(err.value)


def test_faults_429_malformed_and_clock_skew(fake):
    fake.rate_limit_next, fake.malformed_next, fake.clock_offset_ms = 1, 1, 45_000

    async def work(s):
        return await s.balances(), s.client.clock.offset_ms
    balances, offset = asyncio.run(using(session(fake), work))
    assert balances["USDT"] == Decimal("100000") and 44_000 < offset < 46_000
    fake.rate_limit_next = 1
    with pytest.raises(RateLimitExceeded):
        asyncio.run(using(session(fake), lambda s: s.place(node(5), BTC)))
    assert node(5).client_order_id not in fake.orders


def feed_for(fake) -> BitgetFeed:
    return BitgetFeed({"base_url": fake.url, "ws_url": fake.url.replace("http", "ws") + "/v2/ws/public"})


def test_checksum_mismatch_resubscribes(fake):
    async def go():
        runner = FeedRunner(feed_for(fake), [BTC]).start()
        try:
            await until(lambda: runner.book(BTC) is not None)
            fake.push_book(bids={"90995.00": "1.5"})              # seq jumps by 3: not a gap at Bitget
            await until(lambda: runner.book(BTC).best_bid.price == Decimal("90995.00"))
            fake.corrupt_next_checksum = True
            fake.push_book(asks={"91000.00": "0"})
            await until(lambda: runner.stats.gaps == 1 and runner.book(BTC) is not None)
            fake.push_trade("91010.00", "0.2", "buy")
            await until(lambda: runner.trades["BTCUSDT"])
            return runner.book(BTC), runner.trades["BTCUSDT"][0]
        finally:
            await runner.stop()
    book, trade = asyncio.run(go())
    assert book.best_ask.price == Decimal("91010.00") and trade.side == 1
    assert [s["channel"] for s in fake.subscriptions].count("books") == 2


def test_dropped_socket_serves_no_stale_book(fake):
    stale, book = asyncio.run(drop_and_recover(feed_for(fake), BTC, fake, lambda: fake.bids.__setitem__("90993.00", "4")))
    assert stale is None and book.best_bid.price == Decimal("90993.00")


# -- the private orders stream ---------------------------------------------------------------------
def user_stream(fake, secret=SECRET):
    from sequence_venue_bitget.stream import BitgetUserStream

    settings = {"ws_url": fake.url.replace("http", "ws") + "/v2/ws/public"}
    return BitgetUserStream(BitgetClient(KEY, secret, PASS, fake.url), settings)


def test_a_resting_order_fill_arrives_on_the_private_stream_with_the_trade_id_rest_reports(fake):
    async def go():
        s = session(fake)
        async with StreamProbe(user_stream(fake), INSTRUMENTS) as probe:
            await until(lambda: probe.runner.live and fake.private, what="stream logged in and subscribed")
            await s.place(node(3, price="90000.00", kind="limit"), BTC)
            fake.fill_resting(node(3).client_order_id, "0.2")
            await until(lambda: any(st.fills for st in probe.states), what="fill pushed")
            rest_fills = await s.client.fills("BTCUSDT", probe.states[-1].venue_order_id)
        await s.close()
        return probe.states, rest_fills
    states, rest_fills = asyncio.run(go())
    (fill,) = states[-1].fills
    assert [st.status for st in states] == ["NEW", "PARTIALLY_FILLED"]
    assert (fill.price, fill.qty, fill.liquidity) == (Decimal("90000.00"), Decimal("0.2"), "maker")
    assert fill.fee == Decimal("0.2") * Decimal("0.001") * Decimal("90000.00")     # BTC fee, in USDT
    assert fill.fill_id == rest_fills[0]["tradeId"]


def test_a_refused_private_login_never_shows_the_secret(fake):
    error = refused_login(user_stream(fake, secret="not-the-secret-xyz"), INSTRUMENTS).runner.stats.error
    assert "refused the private websocket login" in error and "not-the-secret-xyz" not in error
    assert fake.logins[0] is False and fake.private == []
