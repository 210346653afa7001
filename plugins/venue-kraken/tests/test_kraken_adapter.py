"""The Kraken adapter against the fake server: signing and nonces as Kraken checks them, orders
(market, limit, post-only, IOC), native amend, a lost answer found by cl_ord_id, the v2
websocket book (checksum -> resubscribe, dropped socket -> no stale book), real published
payloads, and faults (429, Kraken's in-body rate limit, 5xx, malformed answers, timeouts,
bad credentials)."""

import asyncio
import json
import sys
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fake_kraken import FakeKraken  # noqa: E402
from sequence_core.errors import (AuthenticationError, ClockRejected, InsufficientFunds, InvalidOrder,  # noqa: E402
                                  NetworkError, RateLimitExceeded)
from sequence_core.feeds import FeedRunner, LocalBook  # noqa: E402
from sequence_core.market import spot  # noqa: E402
from sequence_core.orders import NodeOrder  # noqa: E402
from sequence_core.testing import drop_and_recover, running, shared_responses, until  # noqa: E402
from sequence_venue_kraken.execution import KrakenSession, _fill, _state, venue_client_id  # noqa: E402
from sequence_venue_kraken.feed import KrakenFeed  # noqa: E402
from sequence_venue_kraken.http import KrakenClient, unwrap  # noqa: E402
from sequence_venue_kraken.symbols import INSTRUMENTS, asset, from_asset_pairs  # noqa: E402

KEY = "kraken-key-0001"
SECRET = "a3Jha2VuLXNlY3JldC1ieXRlcy1mb3ItdGVzdHMtb25seS0wMDAx"      # base64 of test bytes, not a real key
BTC = next(i for i in INSTRUMENTS if i.symbol == "BTC-USD")
SAMPLES = shared_responses("kraken")


def sample(name: str):
    return json.loads((SAMPLES / f"{name}.json").read_text())


@pytest.fixture
def fake():
    yield from running(FakeKraken(KEY, SECRET))


def session(fake, secret=SECRET, key=KEY, timeout_s=10.0) -> KrakenSession:
    return KrakenSession(KrakenClient(key, secret, fake.url, timeout_s))


def node(n=0, side="buy", qty="0.5", price="91000.0", kind="ioc", seq=0):
    gid = "graph_00000000feed"
    return NodeOrder(f"{gid}:node_{n}:{seq}", gid, n, seq, "kraken", "BTC-USD", side, Decimal(qty),
                     Decimal(price) if price else None, kind, "PENDING_NEW", 0, 0)


async def using(s: KrakenSession, work):
    try:
        return await work(s)
    finally:
        await s.close()


def run(fake, work, **kw):
    return asyncio.run(using(session(fake, **kw), work))


# -- orders -----------------------------------------------------------------------------------------------
def test_ioc_buy_fills_with_the_fee_in_quote(fake):
    state = run(fake, lambda s: s.place(node(), BTC))
    assert state.status == "FILLED" and state.filled_qty == Decimal("0.5")
    f = state.fills[0]
    assert (f.price, f.qty, f.fee, f.fee_asset, f.liquidity) == (Decimal("91000.0"), Decimal("0.5"), Decimal("182.00000"), "USD", "taker")
    sent = fake.placed[0]
    assert (sent["pair"], sent["ordertype"], sent["timeinforce"], sent["oflags"]) == ("XBTUSD", "limit", "IOC", "fciq")
    assert sent["cl_ord_id"] == node().client_order_id                # fits Kraken's 18-character free text


def test_market_buy_sends_its_size_in_base(fake):
    state = run(fake, lambda s: s.place(node(1, qty="0.25", price=None, kind="market"), BTC))
    assert state.status == "FILLED" and state.filled_qty == Decimal("0.25")
    assert fake.placed[0]["ordertype"] == "market" and "price" not in fake.placed[0]


def test_resting_limit_amended_in_place_then_cancelled(fake):
    async def work(s):
        n = node(2, price="90000.0", kind="limit")
        placed = await s.place(n, BTC)
        amended = await s.amend(n, BTC, Decimal("89000.0"), Decimal("0.4"))
        open_ = await s.open_orders(BTC)
        cancelled = await s.cancel(n, BTC)
        again = await s.cancel(n, BTC)                               # already cancelled: its state, no error
        unknown = await s.order_state("sqnothing", BTC)
        return placed, amended, open_, cancelled, again, unknown
    placed, amended, open_, cancelled, again, unknown = run(fake, work)
    assert placed.status == "NEW" and placed.price == Decimal("90000.0")
    assert amended.mode == "native_atomic" and (amended.state.price, amended.state.qty) == (Decimal("89000.0"), Decimal("0.4"))
    assert amended.state.venue_order_id == placed.venue_order_id and len(fake.orders) == 1      # the same order
    assert [o.client_order_id for o in open_] == [node(2).client_order_id]
    assert cancelled.status == again.status == "CANCELLED" and unknown is None


def test_post_only_that_would_take_is_cancelled_by_the_venue(fake):
    state = run(fake, lambda s: s.place(node(3, price="91500.0", kind="post_only"), BTC))
    assert state.status == "CANCELLED" and state.filled_qty == 0 and state.reason == "Post only order"
    assert fake.placed[0]["oflags"] == "post,fciq"


def test_a_post_only_amend_that_would_take_is_refused_and_the_order_stays(fake):
    async def work(s):
        n = node(4, price="90000.0", kind="post_only")
        await s.place(n, BTC)
        with pytest.raises(InvalidOrder, match="Post only order"):
            await s.amend(n, BTC, Decimal("91500.0"), None)
        return await s.order_state(n.client_order_id, BTC)
    state = run(fake, work)
    assert state.status == "NEW" and state.price == Decimal("90000.0")


def test_a_lost_answer_is_found_by_its_client_id(fake):
    # node 12, seq 10: 20 characters, too long for free text, so a UUID derived from it is sent;
    # the answer arrives after the timeout, and a new session (a restarted engine) finds the order
    late = node(12, seq=10)
    fake.slow_next_s = 1.5
    with pytest.raises(NetworkError, match="did not answer"):
        run(fake, lambda s: s.place(late, BTC), timeout_s=0.5)
    assert len(fake.placed) == 1                                       # a place is never retried
    assert fake.placed[0]["cl_ord_id"] == venue_client_id(late.client_order_id) and len(fake.placed[0]["cl_ord_id"]) == 36
    state = run(fake, lambda s: s.order_state(late.client_order_id, BTC))
    assert state.client_order_id == late.client_order_id and state.status == "FILLED" and len(state.fills) == 1


def test_balances_are_free_amounts_in_common_asset_codes(fake):
    async def work(s):
        await s.place(node(5, qty="1", price="50000.0", kind="limit"), BTC)
        return await s.balances(), await s.fees(BTC)
    balances, fees = run(fake, work)
    assert balances == {"USD": Decimal("50000.0000"), "BTC": Decimal("1.5000000000")}     # 50000 held by the bid; XBT.F counted, ETH.B not
    assert fees == (Decimal("0.0025"), Decimal("0.004"))


def test_auto_earn_funds_count_in_their_base_asset_before_and_after_krakens_deprecation():
    # https://docs.kraken.com/api-reference/account-data/get-extended-balance : ".F" funds are spent
    # through the base asset ("USDT to transact with your USDT and USDT.F balances"), so an order can
    # hold more of the base than its own balance; available = balance + credit - credit_used - hold_trade
    class Client:
        def __init__(self, result):
            self.result = result

        async def balance_ex(self):
            return self.result
    earning = {"ZUSD": {"balance": "0.0000", "hold_trade": "400.0000"}, "USD.F": {"balance": "1000.0000", "hold_trade": "0"},
               "XXBT": {"balance": "0.1", "hold_trade": "0"}, "XBT.F": {"balance": "0.2", "hold_trade": "0"},
               "ETH.B": {"balance": "3", "hold_trade": "0"}, "AAPLx.T": {"balance": "1", "hold_trade": "0"}}
    folded = {"ZUSD": {"balance": "1000.0000", "credit": "50", "credit_used": "10", "hold_trade": "400.0000"},
              "XXBT": {"balance": "0.3", "hold_trade": "0"}}
    assert asyncio.run(KrakenSession(Client(earning)).balances()) == {"USD": Decimal("600"), "BTC": Decimal("0.3")}
    assert asyncio.run(KrakenSession(Client(folded)).balances()) == {"USD": Decimal("640"), "BTC": Decimal("0.3")}


# -- refusals ----------------------------------------------------------------------------------------------
def test_insufficient_funds(fake):
    with pytest.raises(InsufficientFunds, match=r"EOrder:Insufficient funds"):
        run(fake, lambda s: s.place(node(6, qty="5"), BTC))


@pytest.mark.parametrize("qty,price,match", [("0.5", "90000.05", "price can only be specified up to 1 decimals"),
                                             ("0.00001", "90000.0", "EOrder:Order minimum not met")])
def test_invalid_price_or_size_is_an_invalid_order(fake, qty, price, match):
    with pytest.raises(InvalidOrder, match=match):
        run(fake, lambda s: s.place(node(7, qty=qty, price=price, kind="limit"), BTC))


@pytest.mark.parametrize("key,secret,code", [(KEY, "d3Jvbmctc2VjcmV0LWJ5dGVz", "EAPI:Invalid signature"),
                                             ("someone-else", SECRET, "EAPI:Invalid key")])
def test_bad_credentials_are_authentication_errors_that_hide_them(fake, key, secret, code):
    with pytest.raises(AuthenticationError) as err:
        run(fake, lambda s: s.balances(), key=key, secret=secret)
    assert code in str(err.value) and secret not in str(err.value) and SECRET not in str(err.value)


# -- transport faults ----------------------------------------------------------------------------------------
def test_rate_limits_are_retried_for_reads_never_for_a_place(fake):
    fake.rate_limit_next = 2                         # HTTP 429 + Retry-After
    assert run(fake, lambda s: s.balances())["USD"] == Decimal("100000.0000")
    fake.kraken_rate_limit_next = 1                  # HTTP 200 {"error": ["EAPI:Rate limit exceeded"]}
    assert run(fake, lambda s: s.balances())["BTC"] == Decimal("1.5000000000")
    fake.rate_limit_next = 1
    with pytest.raises(RateLimitExceeded):
        run(fake, lambda s: s.place(node(8), BTC))
    fake.kraken_rate_limit_next = 1
    with pytest.raises(RateLimitExceeded, match="EAPI:Rate limit exceeded"):
        run(fake, lambda s: s.place(node(9), BTC))
    assert [r for r in fake.requests if r == ("POST", "/0/private/AddOrder")] == [("POST", "/0/private/AddOrder")] * 2
    assert fake.orders == {}                          # never placed, safe to route again


def test_5xx_and_malformed_reads_are_retried_a_5xx_place_is_not(fake):
    fake.server_error_next, fake.malformed_next = 1, 1
    assert run(fake, lambda s: s.balances())["BTC"] == Decimal("1.5000000000")
    fake.server_error_next = 1
    with pytest.raises(NetworkError, match="HTTP 502"):
        run(fake, lambda s: s.place(node(10), BTC))
    assert fake.placed == []


def test_a_stale_nonce_is_signed_again_once_above_krakens_clock(fake):
    # the key was last used by a machine whose clock runs 90 s ahead (Kraken's clock here)
    fake.clock_offset_ms = 90_000
    fake.last_nonce = fake.now_ms()
    before = fake.last_nonce

    async def work(s):
        return await s.balances(), s.client.clock.offset_ms
    balances, offset = run(fake, work)
    assert balances["BTC"] == Decimal("1.5000000000") and 89_000 < offset < 92_000
    assert fake.nonces and fake.nonces[0] > before
    assert fake.requests.count(("POST", "/0/private/BalanceEx")) == 2 and ("GET", "/0/public/Time") in fake.requests


def test_a_nonce_that_stays_refused_is_a_clear_error_after_one_retry(fake):
    fake.last_nonce = 10 ** 15                       # far beyond any clock: someone else's nonce scheme
    with pytest.raises(ClockRejected, match="nonce not above the last one this key used"):
        run(fake, lambda s: s.balances())
    assert fake.requests.count(("POST", "/0/private/BalanceEx")) == 2


def test_rest_counter_costs_follow_the_published_weights(fake):
    async def work(s):
        counter = s.client.rest.limiter
        await s.client.balance()
        one = counter.capacity - counter.tokens
        await s.client.query_trades(["TNONE"])
        two = counter.capacity - counter.tokens - one
        return counter.capacity, one, two, s.client.limits["/0/private/AddOrder"].capacity
    capacity, one, two, trading = run(fake, work)
    assert capacity == 15 and trading == 60                          # Starter tier
    assert 0.5 < one <= 1 and 1.5 < two <= 2                          # Balance +1, QueryTrades (history) +2


# -- websocket ------------------------------------------------------------------------------------------------
def feed_for(fake, **settings) -> KrakenFeed:
    return KrakenFeed({"base_url": fake.url, "ws_url": fake.url.replace("http", "ws") + "/v2", **settings})


def test_websocket_book_checks_the_checksum_and_resubscribes(fake):
    async def go():
        runner = FeedRunner(feed_for(fake), [BTC]).start()
        try:
            await until(lambda: runner.book(BTC) is not None, what="first snapshot")
            fake.push_book(bids={"90995.0": "1.5"})
            await until(lambda: runner.book(BTC).best_bid.price == Decimal("90995.0"))
            fake.skip_next_update = True                   # a lost message: the next checksum cannot match
            fake.push_book(asks={"91000.0": "0"})
            fake.push_book(bids={"90985.0": "1"})
            await until(lambda: runner.stats.gaps == 1 and runner.book(BTC) is not None, what="resync after a lost update")
            fake.corrupt_next_checksum = True
            fake.push_book(bids={"90996.0": "0.5"})
            await until(lambda: runner.stats.gaps == 2 and runner.book(BTC) is not None
                        and runner.book(BTC).best_bid.price == Decimal("90996.0"), what="resync after a bad checksum")
            fake.push_trade("91010.0", "0.3", "sell")
            await until(lambda: runner.trades["BTC/USD"])
            return runner.book(BTC), runner.stats, runner.trades["BTC/USD"][0]
        finally:
            await runner.stop()
    book, stats, trade = asyncio.run(go())
    assert book.best_ask.price == Decimal("91010.0")          # the lost removal is in the fresh snapshot
    books = [s for s in fake.subscriptions if s["channel"] == "book"]
    assert len(books) == 3 and stats.resyncs == 2 and books[0]["depth"] == 25
    assert [s["channel"] for s in fake.unsubscriptions] == ["book", "book"]
    assert trade.side == -1 and trade.size == Decimal("0.3") and trade.price == Decimal("91010.0")


def test_dropped_socket_serves_no_stale_book(fake):
    stale, book = asyncio.run(drop_and_recover(feed_for(fake), BTC, fake, lambda: fake.bids.__setitem__("90993.0", "4")))
    assert stale is None and book.best_bid.price == Decimal("90993.0")


def test_rest_snapshot_reads_the_depth_endpoint(fake):
    async def go():
        feed = feed_for(fake)
        try:
            return await feed.snapshot(BTC, 10)
        finally:
            await feed.close()
    snap = asyncio.run(go())
    assert snap.bids[0] == (Decimal("90990.00000"), Decimal("2.00000000")) and snap.asks[0][0] == Decimal("91000")
    assert ("GET", "/0/public/Depth") in fake.requests


def test_asset_pairs_as_kraken_sends_them_now_read_without_their_emptied_fees(fake):
    async def go():
        client = KrakenClient("", "", fake.url)
        try:
            return await client.instruments()
        finally:
            await client.close()
    (inst,) = asyncio.run(go())
    assert (inst.symbol, inst.venue_symbol, inst.tick_size, inst.min_qty, inst.status) == \
        ("BTC-USD", "BTC/USD", Decimal("0.1"), Decimal("0.00005"), "trading")


# -- the published checksum example and payloads ---------------------------------------------------------------
MATIC = spot("kraken", "MATIC", "USD", "MATIC/USD", "0.0001", "0.00000001")
MATIC_SNAPSHOT = {"channel": "book", "type": "snapshot", "data": [{
    "symbol": "MATIC/USD",
    "bids": [{"price": p, "qty": q} for p, q in ((0.5666, 4831.75496356), (0.5665, 6658.22734739), (0.5664, 18724.91513344),
                                                  (0.5663, 11563.92544914), (0.5662, 14006.65365711), (0.5661, 17454.85679807),
                                                  (0.566, 18097.1547), (0.5659, 33644.89175666), (0.5658, 148.3464),
                                                  (0.5657, 606.70854372))],
    "asks": [{"price": p, "qty": q} for p, q in ((0.5668, 4410.79769741), (0.5669, 4655.40412487), (0.567, 49844.89424998),
                                                  (0.5671, 24306.41678), (0.5672, 29783.25223475), (0.5673, 57234.71239278),
                                                  (0.5674, 45065.04744), (0.5675, 5912.76380354), (0.5676, 42514.92434778),
                                                  (0.5677, 36304.0847022))],
    "checksum": 2439117997, "timestamp": "2023-10-06T17:35:55.440295Z"}]}
MATIC_UPDATE = {"channel": "book", "type": "update", "data": [{
    "symbol": "MATIC/USD", "bids": [{"price": 0.5657, "qty": 1098.3947558}], "asks": [],
    "checksum": 2114181697, "timestamp": "2023-10-06T17:35:55.440295Z"}]}


def test_checksum_reproduces_krakens_published_example():
    # https://docs.kraken.com/api/docs/websocket-v2/book : the MATIC/USD snapshot and update
    # examples carry checksums 2439117997 and 2114181697 (MATIC/USD: 4 price, 8 qty decimals)
    feed = KrakenFeed({"book_depth": 10})
    feed.subscribe([MATIC])
    book = LocalBook("kraken", "MATIC/USD")
    (snap,) = feed.parse(json.loads(json.dumps(MATIC_SNAPSHOT)))
    book.reset(snap)
    assert feed.checksum(book) == snap.checksum == 2439117997
    (upd,) = feed.parse(json.loads(json.dumps(MATIC_UPDATE)))
    book.apply(upd)
    assert feed.checksum(book) == upd.checksum == 2114181697


def test_numbers_in_exponent_form_checksum_at_the_pairs_precision():
    # the core decodes JSON numbers as floats: 5.1e-05 must still be written "0.00005100" (8 lot decimals)
    import msgspec
    from fake_kraken import checksum
    raw = (b'{"channel":"book","type":"snapshot","data":[{"symbol":"BTC/USD","bids":[{"price":90990.0,"qty":5.1e-05}],'
           b'"asks":[{"price":91000.0,"qty":2}],"checksum":0,"timestamp":"2026-12-07T00:00:00.000000Z"}]}')
    feed = KrakenFeed({})
    feed.subscribe([BTC])
    (snap,) = feed.parse(msgspec.json.decode(raw))
    book = LocalBook("kraken", "BTC/USD")
    book.reset(snap)
    assert feed.checksum(book) == checksum({"90990.0": "0.000051"}, {"91000.0": "2"})
    (trade,) = feed.parse(msgspec.json.decode(b'{"channel":"trade","type":"update","data":[{"symbol":"BTC/USD",'
                                              b'"side":"buy","price":91000.0,"qty":5.1e-05,"ord_type":"market",'
                                              b'"trade_id":1,"timestamp":"2026-12-07T00:00:00.000000Z"}]}'))
    assert trade.size == Decimal("0.000051")


def test_the_book_is_trimmed_to_the_subscribed_depth():
    feed = KrakenFeed({"book_depth": 10})
    feed.subscribe([BTC])
    book = LocalBook("kraken", "BTC/USD")
    book.bids = {Decimal(90000 - i): Decimal(1) for i in range(12)}
    book.asks = {Decimal(90001 + i): Decimal(1) for i in range(11)}
    feed.checksum(book)
    assert len(book.bids) == len(book.asks) == 10 and min(book.bids) == Decimal(89991) and max(book.asks) == Decimal(90010)


def test_published_websocket_payloads_parse():
    feed = KrakenFeed({})
    (snap,) = feed.parse(sample("ws_book_snapshot"))
    (upd,) = feed.parse(sample("ws_book_update"))
    assert snap.kind == "snapshot" and snap.symbol == "BTC/USD" and snap.asks[0] == (Decimal("105944.3"), Decimal("0.136"))
    assert upd.kind == "delta" and upd.bids == ((Decimal("105944.2"), Decimal("0.25")),) and upd.checksum == 2114181697
    assert snap.ts_ns == 1696613755440295000
    buy, sell = feed.parse(sample("ws_trade_update"))
    assert (buy.side, buy.price, buy.size) == (1, Decimal("105944.2"), Decimal("0.00027625")) and sell.side == -1
    for name in ("ws_pong", "ws_subscribe_response", "ws_ticker_snapshot"):
        assert feed.parse(sample(name)) == []


def test_published_rest_payloads_parse():
    (inst,) = from_asset_pairs(unwrap(sample("http_asset_pairs")))
    assert (inst.symbol, inst.venue_symbol, inst.tick_size, inst.lot_size, inst.min_qty, inst.min_notional, inst.status) == \
        ("BTC-USDT", "BTC/USDT", Decimal("0.1"), Decimal("0.00000001"), Decimal("0.00005"), Decimal("0.5"), "trading")
    assert from_asset_pairs(unwrap(sample("http_asset_pairs_tokenized"))) == []       # xstocks: not spot crypto
    book = next(iter(unwrap(sample("http_order_book")).values()))
    assert Decimal(book["asks"][0][0]) > Decimal(book["bids"][0][0])
    assert unwrap(sample("http_server_time"))["unixtime"] == 1762820224
    assert unwrap(sample("http_system_status"))["status"] == "online"
    assert unwrap(sample("http_add_order_spot"))["txid"] == ["OUF4EM-FRGI2-MQMWZD"]
    assert unwrap(sample("http_cancel_order_spot"))["count"] == 1
    assert {asset(k): v for k, v in unwrap(sample("http_spot_balance")).items()} == {"USD": "200000.00", "BTC": "0.5", "ETH": "2.0"}
    opened = unwrap(sample("http_open_orders"))["open"]
    state = _state("sqx", "O26VBY-ISGAE-JP5TLU", opened["O26VBY-ISGAE-JP5TLU"])
    assert (state.status, state.price, state.qty, state.filled_qty) == ("NEW", Decimal("29500.0"), Decimal("0.5"), 0)
    closed = unwrap(sample("http_closed_orders"))["closed"]
    assert _state("sqy", "OCLOSED-2-TESTID", closed["OCLOSED-2-TESTID"]).status == "FILLED"
    trades = unwrap(sample("http_trades_history"))["trades"]
    fill = _fill("TCCCTY-WJ6EO-4FP4VZ", trades["TCCCTY-WJ6EO-4FP4VZ"], "USDT")
    assert (fill.price, fill.qty, fill.fee, fill.liquidity) == (Decimal("29500.50"), Decimal("0.5"), Decimal("23.60"), "maker")
    assert fill.venue_ts_ns == 1688585840892100000
