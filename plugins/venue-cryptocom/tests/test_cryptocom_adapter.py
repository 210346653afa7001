"""The Crypto.com adapter against the fake exchange: signing as the exchange verifies it, orders,
native amend, refusals that arrive with HTTP 500, the websocket book (pu gap -> fresh snapshot,
dropped socket -> no stale book, heartbeats answered), the docs' example payloads, and faults
(429, malformed answers, timeouts, lost answers, clock skew, bad credentials)."""

import asyncio
import json
import sys
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fake_cryptocom import FakeCryptocom  # noqa: E402
from sequence_core.errors import (AuthenticationError, InsufficientFunds, InvalidOrder, NetworkError,  # noqa: E402
                                  RateLimitExceeded)
from sequence_core.feeds import FeedRunner, levels  # noqa: E402
from sequence_core.orders import NodeOrder  # noqa: E402
from sequence_core.testing import StreamProbe, drop_and_recover, refused_login, running, until  # noqa: E402
from sequence_venue_cryptocom.execution import CryptocomSession, _fill, _state  # noqa: E402
from sequence_venue_cryptocom.feed import CryptocomFeed  # noqa: E402
from sequence_venue_cryptocom.http import CryptocomClient, error_from, unwrap  # noqa: E402
from sequence_venue_cryptocom.signing import param_string, signature  # noqa: E402
from sequence_venue_cryptocom.symbols import INSTRUMENTS, from_instruments  # noqa: E402

KEY, SECRET = "cdc-key-0001", "cdc-secret-0001"
BTC = next(i for i in INSTRUMENTS if i.symbol == "BTC-USD")
DOCS = Path(__file__).parent / "fixtures"


def doc(name: str) -> dict:
    return json.loads((DOCS / name).read_text())


@pytest.fixture
def fake():
    yield from running(FakeCryptocom(KEY, SECRET))


def session(fake, secret=SECRET, timeout_s=10.0) -> CryptocomSession:
    return CryptocomSession(CryptocomClient(KEY, secret, fake.url + "/exchange/v1", timeout_s=timeout_s))


def node(n=0, side="buy", qty="0.5", price="91000.00", kind="ioc"):
    gid = "graph_00000000c0de"
    return NodeOrder(f"{gid}:node_{n}:0", gid, n, 0, "cryptocom", "BTC-USD", side, Decimal(qty),
                     Decimal(price) if price else None, kind, "PENDING_NEW", 0, 0)


async def using(s: CryptocomSession, work):
    try:
        return await work(s)
    finally:
        await s.close()


def places(fake) -> int:
    return fake.requests.count(("POST", "/exchange/v1/private/create-order"))


# -- signing ----------------------------------------------------------------------------------------
def test_param_string_follows_the_documented_algorithm():
    # the params of the docs' Python signing example (private/create-order-list): keys sorted,
    # key + value, the list's objects one after another with their own keys sorted
    params = {"contingency_type": "LIST", "order_list": [
        {"instrument_name": "ONE_USDT", "side": "BUY", "type": "LIMIT", "price": "0.24", "quantity": "1.0"},
        {"instrument_name": "ONE_USDT", "side": "BUY", "type": "STOP_LIMIT", "price": "0.27", "quantity": "1.0",
         "trigger_price": "0.26"}]}
    assert param_string(params) == ("contingency_typeLISTorder_list"
                                    "instrument_nameONE_USDTprice0.24quantity1.0sideBUYtypeLIMIT"
                                    "instrument_nameONE_USDTprice0.27quantity1.0sideBUYtrigger_price0.26typeSTOP_LIMIT")
    # a list of plain values is its values (as the JS and Java examples do); None is "null"
    assert param_string({"side": "BUY", "exec_inst": ["POST_ONLY"], "x": None}) == "exec_instPOST_ONLYsideBUYxnull"
    assert param_string({}) == ""


def test_signature_matches_the_documented_payload():
    # The docs sign {id 11, private/get-order-detail, api_key "token", order_id "53287421324", nonce
    # 1587846358253} with secret "secretKey" (JavaScript example) and publish no value: the expected
    # one is `printf %s 'private/get-order-detail11tokenorder_id532874213241587846358253' |
    # openssl dgst -sha256 -hmac secretKey`
    assert signature("secretKey", "private/get-order-detail", 11, "token", {"order_id": "53287421324"},
                     1587846358253) == "02ef0a52c9428e5d3dcc5dd24d534ca39ef73f35acd3f6945f139a2364ef67a9"
    # the Python example's create-order-list with API_KEY / SECRET_KEY, nonce fixed; openssl over
    # 'private/create-order-list14API_KEY' + the parameter string above + '1587846358253'
    params = {"contingency_type": "LIST", "order_list": [
        {"instrument_name": "ONE_USDT", "side": "BUY", "type": "LIMIT", "price": "0.24", "quantity": "1.0"},
        {"instrument_name": "ONE_USDT", "side": "BUY", "type": "STOP_LIMIT", "price": "0.27", "quantity": "1.0",
         "trigger_price": "0.26"}]}
    assert signature("SECRET_KEY", "private/create-order-list", "14", "API_KEY", params, "1587846358253") == \
        "0ce830395a52b741cd79a3f20d623de0eff72bfa9c6d87af37eba0cfafb51c6e"


# -- orders -----------------------------------------------------------------------------------------
def test_ioc_buy_fills_with_the_fee_in_the_base_received(fake):
    state = asyncio.run(using(session(fake), lambda s: s.place(node(), BTC)))
    assert state.status == "FILLED" and state.filled_qty == Decimal("0.5")
    (f,) = state.fills
    assert f.price == Decimal("91000.00") and f.liquidity == "taker" and f.fee_asset == "BTC"
    assert f.fee == Decimal("0.0025")                                 # 0.5% of 0.5 BTC, taken in BTC
    sent = fake.bodies[0]["params"]
    assert (sent["type"], sent["time_in_force"], sent["side"], sent["client_oid"]) == \
        ("LIMIT", "IMMEDIATE_OR_CANCEL", "BUY", node().client_order_id)


def test_market_sell_and_balances(fake):
    async def work(s):
        return await s.place(node(1, side="sell", qty="0.25", price=None, kind="market"), BTC), await s.balances()
    state, balances = asyncio.run(using(session(fake), work))
    assert state.status == "FILLED" and state.fills[0].fee == Decimal("0.25") * Decimal("90990.00") * Decimal("0.005")
    assert fake.bodies[0]["params"]["type"] == "MARKET" and "price" not in fake.bodies[0]["params"]
    assert balances == {"BTC": Decimal("1"), "USD": Decimal("99750"),          # quantity less reserved_qty
                        "USD:perp-margin": Decimal("190750.00")}                # total_available_balance


def test_resting_amend_native_then_cancel(fake):
    async def work(s):
        n = node(2, price="90000.00", kind="limit")
        placed = await s.place(n, BTC)
        amended = await s.amend(n, BTC, Decimal("89000.00"), Decimal("0.4"))
        open_ = await s.open_orders(BTC)
        cancelled = await s.cancel(n, BTC)
        again = await s.cancel(n, BTC)           # 316 NO_ACTIVE_ORDER in an HTTP 500: its state, no error
        unknown = await s.order_state("sqnothing", BTC)
        return placed, amended, open_, cancelled, again, unknown
    placed, amended, open_, cancelled, again, unknown = asyncio.run(using(session(fake), work))
    assert placed.status == "NEW"
    assert amended.mode == "native_atomic" and (amended.state.price, amended.state.qty) == (Decimal("89000.00"), Decimal("0.4"))
    assert amended.state.venue_order_id == placed.venue_order_id and amended.state.client_order_id == node(2).client_order_id
    assert [o.client_order_id for o in open_] == [node(2).client_order_id]
    assert cancelled.status == again.status == "CANCELLED" and unknown is None
    assert fake.requests.count(("POST", "/exchange/v1/private/cancel-order")) == 2     # the refusal is not retried


def test_post_only_that_would_take_is_cancelled_with_its_reason(fake):
    state = asyncio.run(using(session(fake), lambda s: s.place(node(3, price="91500.00", kind="post_only"), BTC)))
    assert state.status == "CANCELLED" and state.filled_qty == 0 and "43005" in state.reason
    assert fake.bodies[0]["params"]["exec_inst"] == ["POST_ONLY"]
    assert fake.bodies[0]["params"]["time_in_force"] == "GOOD_TILL_CANCEL"


def test_insufficient_balance_in_an_http_500_is_insufficient_funds(fake):
    with pytest.raises(InsufficientFunds, match=r"insufficient available balance \(306\)"):
        asyncio.run(using(session(fake), lambda s: s.place(node(4, qty="5"), BTC)))
    assert places(fake) == 1


@pytest.mark.parametrize("qty,price,code", [("0.000001", "91000.00", "213"), ("0.5", "91000.001", "308")])
def test_invalid_size_or_price_is_invalid_order(fake, qty, price, code):
    with pytest.raises(InvalidOrder, match=rf"\({code}\)"):
        asyncio.run(using(session(fake), lambda s: s.place(node(5, qty=qty, price=price), BTC)))


def test_bad_credentials_are_authentication_errors_that_hide_the_secret(fake):
    with pytest.raises(AuthenticationError) as err:
        asyncio.run(using(session(fake, secret="wrong-secret-9"), lambda s: s.balances()))
    assert "40101" in str(err.value) and "wrong-secret-9" not in str(err.value) and SECRET not in str(err.value)


def test_rate_limit_is_retried_for_reads_not_for_a_place(fake):
    fake.rate_limit_next = 2
    assert asyncio.run(using(session(fake), lambda s: s.balances()))["USD"] == Decimal("99750")
    fake.rate_limit_next = 1
    with pytest.raises(RateLimitExceeded):
        asyncio.run(using(session(fake), lambda s: s.place(node(6), BTC)))
    assert places(fake) == 1 and node(6).client_order_id not in fake.orders      # never placed: safe to route again


def test_timeouts_retry_reads_and_never_a_place(fake):
    fake.delay_next_s = 1.0
    assert asyncio.run(using(session(fake, timeout_s=0.3), lambda s: s.balances()))["BTC"] == Decimal("1")
    fake.delay_next_s = 1.0
    with pytest.raises(NetworkError, match="did not answer"):
        asyncio.run(using(session(fake, timeout_s=0.3), lambda s: s.place(node(7), BTC)))
    assert places(fake) == 1


def test_lost_place_answer_is_found_by_client_id_and_never_sent_twice(fake):
    fake.lose_next_place_answer = True            # placed, but the answer is 500 50001

    async def work(s):
        with pytest.raises(NetworkError, match="50001"):          # the exchange's fault, not a refusal
            await s.place(node(8), BTC)
        found = await s.order_state(node(8).client_order_id, BTC)
        again = await s.place(node(8), BTC)        # 204 DUPLICATE_CLORDID: the order it already has
        return found, again
    found, again = asyncio.run(using(session(fake), work))
    assert found.status == again.status == "FILLED" and found.venue_order_id == again.venue_order_id
    assert len([o for o in fake.orders.values() if o["client_oid"] == node(8).client_order_id]) == 1


def test_an_order_not_yet_visible_after_create_is_new(fake):
    fake.hide_next_order = 1                        # create-order is asynchronous
    state = asyncio.run(using(session(fake), lambda s: s.place(node(9, price="80000.00", kind="limit"), BTC)))
    assert state.status == "NEW" and state.venue_order_id == fake.orders[node(9).client_order_id]["order_id"]


def test_internal_errors_and_malformed_reads_are_retried_and_clock_skew_resyncs(fake):
    fake.malformed_next = 1
    fake.clock_offset_ms = 90_000                   # the exchange's clock 90 s ahead: 40102 first

    async def work(s):
        return await s.balances(), s.client.clock.offset_ms
    balances, offset = asyncio.run(using(session(fake), work))
    assert balances["BTC"] == Decimal("1") and 89_000 < offset < 91_000
    assert len([b for b in fake.bodies if b["method"] == "private/user-balance"]) == 2   # refused, then signed anew


def test_public_reads(fake):
    async def work(c: CryptocomClient):
        try:
            return await c.instruments(), await c.book("BTC_USD", 10), await c.fee_rate("BTC_USD")
        finally:
            await c.close()
    insts, book, fee = asyncio.run(work(CryptocomClient(KEY, SECRET, fake.url + "/exchange/v1")))
    assert [(i.symbol, i.venue_symbol, i.tick_size, i.lot_size, i.status) for i in insts] == \
        [("BTC-USD", "BTC_USD", Decimal("0.01"), Decimal("0.00001"), "trading")]       # the perpetual is not spot
    assert levels(book["asks"])[0] == (Decimal("91000.00"), Decimal("2")) and fee["effective_taker_rate_bps"] == "50"


# -- websocket --------------------------------------------------------------------------------------
def feed_for(fake, **extra) -> CryptocomFeed:
    return CryptocomFeed({"base_url": fake.url + "/exchange/v1", "ws_url": fake.url.replace("http", "ws") + "/exchange/v1/market",
                          **extra})


def test_websocket_book_follows_pu_and_resyncs_after_a_gap(fake):
    async def go():
        runner = FeedRunner(feed_for(fake), [BTC]).start()
        try:
            await until(lambda: runner.book(BTC) is not None, what="first snapshot")
            fake.push_book(bids={"90995.00": "1.5"})
            await until(lambda: runner.book(BTC).best_bid.price == Decimal("90995.00"))
            fake.skip_next_seq = True
            fake.push_book(asks={"91000.00": "0"})
            await until(lambda: runner.stats.gaps == 1 and runner.book(BTC) is not None, what="resync after gap")
            fake.push_trade("91010.00", "0.3", "SELL")
            await until(lambda: runner.trades["BTC_USD"])
            return runner.book(BTC), runner.stats, runner.trades["BTC_USD"][0]
        finally:
            await runner.stop()
    book, stats, trade = asyncio.run(go())
    assert book.best_ask.price == Decimal("91010.00")        # the removed level stays removed after the resync
    assert [s for s in fake.subscriptions if s[1] == "book.BTC_USD.50"] == \
        [("subscribe", "book.BTC_USD.50"), ("unsubscribe", "book.BTC_USD.50"), ("subscribe", "book.BTC_USD.50")]
    assert stats.resyncs == 1 and trade.side == -1 and trade.size == Decimal("0.3")


def test_heartbeats_are_answered_with_their_id(fake):
    async def go():
        runner = FeedRunner(feed_for(fake), [BTC]).start()
        try:
            await until(lambda: runner.book(BTC) is not None, what="first snapshot")
            fake.push_heartbeat(1587523073344)
            await until(lambda: 1587523073344 in fake.heartbeat_answers, what="respond-heartbeat")
        finally:
            await runner.stop()
    asyncio.run(go())


def test_dropped_socket_serves_no_stale_book(fake):
    stale, book = asyncio.run(drop_and_recover(feed_for(fake), BTC, fake, lambda: fake.bids.__setitem__("90993.00", "4")))
    assert stale is None and book.best_bid.price == Decimal("90993.00")


# -- the docs' example payloads (tests/fixtures, see its README) -------------------------------------
def test_documented_websocket_payloads_parse():
    feed = CryptocomFeed({})
    (snap,) = feed.parse(doc("ws_book_snapshot.json"))
    (upd,) = feed.parse(doc("ws_book_update.json"))
    assert (snap.kind, snap.symbol, snap.seq) == ("snapshot", "BTCUSD-PERP", 542048017824)
    assert snap.asks[0] == (Decimal("30082.5"), Decimal("0.1689")) and snap.bids[0] == (Decimal("30079.0"), Decimal("0.0505"))
    assert (upd.kind, upd.seq, upd.prev_seq) == ("delta", 7845460002, 7845460001)
    assert upd.asks[0] == (Decimal("50126.000000"), Decimal("0"))          # size 0: the level goes
    (trade,) = feed.parse(doc("ws_trade.json"))
    assert (trade.side, trade.price, trade.ts_ns) == (-1, Decimal("51327.500000"), 1613581138462 * 1_000_000)
    heartbeat = doc("ws_heartbeat.json")
    assert feed.parse(heartbeat) == [] and feed.reply(heartbeat) == [{"id": 1587523073344, "method": "public/respond-heartbeat"}]


def test_documented_rest_payloads_parse():
    assert from_instruments(unwrap(doc("rest_get_instruments.json"))["data"]) == []       # the example is a perpetual
    book = unwrap(doc("rest_get_book.json"))["data"][0]
    assert levels(book["bids"])[0] == (Decimal("50113.500000"), Decimal("0.400000"))
    assert unwrap(doc("rest_get_tickers.json"))["data"][0]["t"] == "1613580710768"
    state = _state(unwrap(doc("rest_get_order_detail.json")))
    assert (state.status, state.venue_order_id, state.price, state.qty) == ("NEW", "19848525", Decimal("50000.0"), Decimal("0.0100"))
    assert "self-trade" in state.reason
    perp = next(i for i in INSTRUMENTS if i.kind == "perp")
    f = _fill(unwrap(doc("rest_get_trades.json"))["data"][0], perp)
    assert (f.fill_id, f.qty, f.fee, f.fee_asset, f.liquidity) == ("38554669", Decimal("0.0500"), Decimal("1.025570"), "USD", "maker")
    assert f.venue_ts_ns == 1613570791060827635
    rows = unwrap(doc("rest_user_balance.json"))["data"][0]["position_balances"]
    assert [r["instrument_name"] for r in rows] == ["CRO", "USD"]
    err = error_from(400, doc("rest_create_order_400.json"))
    assert isinstance(err, InvalidOrder) and "(40001)" in str(err)


# -- the user websocket ------------------------------------------------------------------------------
def user_stream(fake, secret=SECRET):
    from sequence_venue_cryptocom.http import CryptocomClient
    from sequence_venue_cryptocom.stream import CryptocomUserStream

    client = CryptocomClient(KEY, secret, fake.url + "/exchange/v1")
    return CryptocomUserStream(client, {"ws_url": fake.url.replace("http", "ws") + "/exchange/v1/market"})


def pushed_fill(fake, order: NodeOrder, inst, qty: str = "0.2") -> list:
    """Rest *order*, have the fake fill *qty* of it, and return what the user stream pushed."""
    async def go():
        s = session(fake)
        async with StreamProbe(user_stream(fake), INSTRUMENTS) as probe:
            await until(lambda: probe.runner.live and fake.private, what="authenticated and subscribed")
            await s.place(order, inst)
            fake.fill_resting(order.client_order_id, qty)
            await until(lambda: any(st.fills for st in probe.states), what="fill pushed")
        await s.close()
        return probe.states
    return asyncio.run(go())


def test_a_resting_order_fill_arrives_on_the_user_stream_with_the_trade_id_rest_reports(fake):
    states = pushed_fill(fake, node(3, price="90000.00", kind="limit"), BTC)
    (fill,) = states[-1].fills
    assert [st.status for st in states if not st.fills] == ["NEW", "PARTIALLY_FILLED"]
    assert (fill.price, fill.qty, fill.liquidity) == (Decimal("90000.00"), Decimal("0.2"), "maker")
    assert (fill.fee, fill.fee_asset) == (Decimal("0.2") * Decimal("0.0025"), "BTC")    # as charged
    assert fill.fill_id == fake.trades[-1]["trade_id"]            # what private/get-trades reports


def test_a_refused_user_auth_never_shows_the_secret(fake):
    error = refused_login(user_stream(fake, secret="not-the-secret-xyz"), INSTRUMENTS).runner.stats.error
    assert "refused the private websocket login" in error and "not-the-secret-xyz" not in error
    assert fake.logins[0] is False and fake.private == []


# -- perpetuals ---------------------------------------------------------------------------------------
BTC_PERP = next(i for i in INSTRUMENTS if i.symbol == "BTC-USD-PERP")
ETH_PERP = next(i for i in INSTRUMENTS if i.symbol == "ETH-USD-PERP")


def perp_node(n=0, side="buy", qty="0.5", price="91000.0", kind="ioc", symbol="BTC-USD-PERP"):
    gid = "graph_00000000beef"
    return NodeOrder(f"{gid}:node_{n}:0", gid, n, 0, "cryptocom", symbol, side, Decimal(qty),
                     Decimal(price) if price else None, kind, "PENDING_NEW", 0, 0)


def sent(fake, method="private/create-order") -> list[dict]:
    return [b["params"] for b in fake.bodies if b["method"] == method]


def test_a_perp_buy_then_sell_trades_the_cross_position_with_usd_fees(fake):
    async def work(s):
        bought = await s.place(perp_node(), BTC_PERP)
        long = await s.positions()
        sold = await s.place(perp_node(1, side="sell", qty="0.8", price=None, kind="market"), BTC_PERP)
        return bought, long, sold, await s.positions()
    bought, long, sold, short = asyncio.run(using(session(fake), work))
    assert bought.status == sold.status == "FILLED"
    (f,) = bought.fills
    assert (f.price, f.qty, f.fee, f.fee_asset) == (Decimal("91000.0"), Decimal("0.5"), Decimal("22.75"), "USD")  # 0.05%
    order = sent(fake)[0]
    assert (order["instrument_name"], order["quantity"], order["time_in_force"]) == ("BTCUSD-PERP", "0.5", "IMMEDIATE_OR_CANCEL")
    assert not {"isolation_id", "leverage", "isolated_margin_amount"} & set(order)        # cross margin: nothing isolated
    # the position check comes before each perp order, for that perp
    methods = [b["method"] for b in fake.bodies]
    assert methods[:2] == ["private/get-positions", "private/create-order"]
    assert sent(fake, "private/get-positions")[0] == {"instrument_name": "BTCUSD-PERP"}
    (p,) = long
    assert (p.venue_symbol, p.qty, p.entry_price, p.unrealized_pnl) == ("BTCUSD-PERP", Decimal("0.5"), Decimal("91000"),
                                                                         Decimal("-2.5"))    # at the 90995 mid
    assert (p.mark_price, p.margin, p.liquidation_price) == (None, None, None)            # the call gives none of them
    (p,) = short
    assert (p.qty, p.entry_price) == (Decimal("-0.3"), Decimal("90990"))                  # flipped at the bid


def test_a_resting_perp_order_is_found_amended_listed_and_cancelled(fake):
    async def work(s):
        n = perp_node(2, price="90000.0", kind="post_only")
        placed = await s.place(n, BTC_PERP)
        amended = await s.amend(n, BTC_PERP, Decimal("89000.5"), Decimal("0.4"))
        found = await s.order_state(n.client_order_id, BTC_PERP)
        listed = await s.open_orders(BTC_PERP)
        spot_listed = await s.open_orders(BTC)
        cancelled = await s.cancel(n, BTC_PERP)
        return placed, amended, found, listed, spot_listed, cancelled
    placed, amended, found, listed, spot_listed, cancelled = asyncio.run(using(session(fake), work))
    assert placed.status == "NEW" and sent(fake)[0]["exec_inst"] == ["POST_ONLY"]
    assert amended.mode == "native_atomic" and (amended.state.price, amended.state.qty) == (Decimal("89000.5"), Decimal("0.4"))
    assert found.venue_order_id == placed.venue_order_id and found.client_order_id == perp_node(2).client_order_id
    assert [o.client_order_id for o in listed] == [perp_node(2).client_order_id] and spot_listed == []
    assert sent(fake, "private/get-open-orders")[0] == {"instrument_name": "BTCUSD-PERP"}
    assert cancelled.status == "CANCELLED"


def test_an_isolated_position_on_the_perp_is_refused_before_sending(fake):
    fake.isolated = [unwrap(doc("rest_get_positions.json"))["data"][1]]        # the docs' isolated BTCUSD-PERP row

    async def work(s):
        with pytest.raises(InvalidOrder, match=r"isolated-margin BTCUSD-PERP position \(isolation_id 19848526") as err:
            await s.place(perp_node(3), BTC_PERP)
        # an order on another perp is not held back
        other = await s.place(perp_node(4, qty="0.1", price="90000.00", kind="limit", symbol="ETH-USD-PERP"), ETH_PERP)
        return str(err.value), other, await s.positions()
    message, other, positions = asyncio.run(using(session(fake), work))
    assert "cross-margin position only" in message
    assert [o["instrument_name"] for o in sent(fake)] == ["ETHUSD-PERP"]          # the BTC order was never sent
    assert other.status == "NEW"
    assert positions == []                                                       # the isolated row is not ours


def test_funding_payments_come_from_the_funding_journal_oldest_first(fake):
    now = fake.now_ms()
    since = (now - 3_600_000) * 1_000_000
    fake.add_funding("BTCUSD-PERP", "-9", now - 7_200_000)                      # before since
    paid = fake.add_funding("BTCUSD-PERP", "-1.25", now - 1_000)
    got = fake.add_funding("ETHUSD-PERP", "0.40", now - 500)
    fake.add_funding("BTCUSD-PERP", "-3", now - 400, isolation_id="19848526")   # an isolated position's
    fake.add_funding("BTCUSD-PERP", "0", now - 300)                             # moved nothing

    payments = asyncio.run(using(session(fake), lambda s: s.funding_payments(since)))
    assert [(p.payment_id, p.venue_symbol, p.asset, p.amount, p.venue_ts_ns) for p in payments] == [
        (f"{paid['journal_id']}:BTCUSD-PERP", "BTCUSD-PERP", "USD", Decimal("-1.25"), int(paid["event_timestamp_ns"])),
        (f"{got['journal_id']}:ETHUSD-PERP", "ETHUSD-PERP", "USD", Decimal("0.40"), int(got["event_timestamp_ns"]))]
    (q,) = fake.transaction_queries
    assert (q["journal_type"], q["start_time"], q["limit"]) == ("FUNDING", str(since), 100)


def test_funding_walks_every_page_and_keeps_each_payment_once(fake):
    now = fake.now_ms()
    for n in range(115):             # hourly funding on two perps: the same instant for both
        for inst in ("BTCUSD-PERP", "ETHUSD-PERP"):
            fake.add_funding(inst, "-0.01", now - (n + 1) * 3_600_000)
    payments = asyncio.run(using(session(fake), lambda s: s.funding_payments((now - 200 * 3_600_000) * 1_000_000)))
    assert len(payments) == 230 and len({p.payment_id for p in payments}) == 230
    assert [p.venue_ts_ns for p in payments] == sorted(p.venue_ts_ns for p in payments)
    assert len(fake.transaction_queries) == 3
    # each next page ends one ns past the previous page's oldest row: rows of that instant are asked again
    ends = [int(q["end_time"]) for q in fake.transaction_queries]
    assert ends[1] == min(int(r["event_timestamp_ns"]) for r in fake.journal[:100]) + 1     # journal: newest first


def test_documented_positions_payload_parses():
    from sequence_venue_cryptocom.execution import _isolated, _position

    cross, isolated = unwrap(doc("rest_get_positions.json"))["data"]
    p = _position(cross)
    assert (p.venue_symbol, p.qty, p.unrealized_pnl) == ("BTCUSD-PERP", Decimal("-0.1984"), Decimal("-497.743736"))
    assert p.entry_price == Decimal("-10159.352200") / Decimal("-0.1984")              # open_pos_cost / quantity
    assert not _isolated(cross) and _isolated(isolated)


def test_perp_books_and_trades_come_on_the_same_market_socket(fake):
    async def go():
        runner = FeedRunner(feed_for(fake), [BTC, BTC_PERP]).start()
        try:
            await until(lambda: runner.book(BTC) is not None and runner.book(BTC_PERP) is not None, what="both snapshots")
            fake.push_trade("91000.0", "0.25", "BUY", instrument="BTCUSD-PERP")
            await until(lambda: runner.trades["BTCUSD-PERP"], what="perp trade")
            return runner.book(BTC_PERP), runner.trades["BTCUSD-PERP"][0]
        finally:
            await runner.stop()
    book, trade = asyncio.run(go())
    assert {("subscribe", "book.BTCUSD-PERP.50"), ("subscribe", "trade.BTCUSD-PERP")} <= set(fake.subscriptions)
    assert book.best_bid.price == Decimal("90990.00") and (trade.side, trade.size) == (1, Decimal("0.25"))


def test_a_resting_perp_fill_arrives_on_the_user_stream_with_its_usd_fee(fake):
    states = pushed_fill(fake, perp_node(5, price="90000.0", kind="limit"), BTC_PERP)
    (fill,) = states[-1].fills
    assert (fill.price, fill.qty, fill.liquidity, fill.fee_asset) == (Decimal("90000.0"), Decimal("0.2"), "maker", "USD")
    assert fill.fee == Decimal("0.2") * Decimal("90000.0") * Decimal("0.00034")
    assert fake.positions["BTCUSD-PERP"][0] == Decimal("0.2")
