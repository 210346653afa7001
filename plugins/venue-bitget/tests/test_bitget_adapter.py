"""The Bitget adapter against the fake server: signing as Bitget verifies it, orders,
cancel-replace amend, the websocket book (checksum -> fresh snapshot, dropped socket -> no
stale book), and faults (429, malformed answers, clock skew, bad credentials); then the USDT-M
perpetuals (orders, positions, one-way/cross refusals, perp books and stream) and recorded or
documented Bitget answers parsed."""

import asyncio
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fake_bitget import FakeBitget  # noqa: E402
from sequence_core.errors import AuthenticationError, InvalidOrder, RateLimitExceeded  # noqa: E402
from sequence_core.feeds import FeedRunner  # noqa: E402
from sequence_core.orders import NodeOrder  # noqa: E402
from sequence_core.testing import StreamProbe, drop_and_recover, refused_login, running, until  # noqa: E402
from sequence_venue_bitget.execution import BitgetSession  # noqa: E402
from sequence_venue_bitget.feed import BitgetFeed  # noqa: E402
from sequence_venue_bitget.http import BitgetClient  # noqa: E402
from sequence_venue_bitget.signing import signature  # noqa: E402
from sequence_venue_bitget.symbols import INSTRUMENTS  # noqa: E402

KEY, SECRET, PASS = "bitget-key-1", "bitget-secret-1", "bitget pass"
BTC = next(i for i in INSTRUMENTS if i.symbol == "BTC-USDT")


@pytest.fixture
def fake():
    yield from running(FakeBitget(KEY, SECRET, PASS))


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


def test_ioc_buy_fills_with_the_fee_in_the_base_received(fake):
    state = asyncio.run(using(session(fake), lambda s: s.place(node(), BTC)))
    assert state.status == "FILLED" and (state.fills[0].fee, state.fills[0].fee_asset) == (Decimal("0.0005"), "BTC")


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
    assert open_[0].price == Decimal("90000.00")          # unfilled-orders sends it as priceAvg ("Order price")
    assert cancelled.status == again.status == "CANCELLED" and unknown is None
    assert session(fake).native_amend(node(4), Decimal("1"), None) is False          # the engine cancels and replaces


def test_spot_orders_past_the_two_hour_client_oid_window_are_still_read(fake):
    # Bitget's changelog, 2025-03-20: the spot order-info query by clientOid serves the last 2
    # hours only; a session reads by the orderId it learned, a new one (a restart) finds it
    resting, filled = node(6, price="90000.00", kind="limit"), node(7)
    three_hours_ago = str(fake.now_ms() - 3 * 3_600_000)

    async def work(s):
        await s.place(resting, BTC)
        await s.place(filled, BTC)
        for n in (resting, filled):
            fake.orders[n.client_order_id]["cTime"] = three_hours_ago
        return await s.order_state(resting.client_order_id, BTC)

    async def restarted(s):
        found = await s.order_state(resting.client_order_id, BTC), await s.order_state(filled.client_order_id, BTC)
        return (*found, await s.cancel(resting, BTC))
    same = asyncio.run(using(session(fake), work))
    assert same.status == "NEW" and ("GET", "/api/v2/spot/trade/unfilled-orders") not in fake.requests
    open_, done, cancelled = asyncio.run(using(session(fake), restarted))
    assert (open_.status, open_.price, open_.venue_order_id) == ("NEW", Decimal("90000.00"), same.venue_order_id)
    assert done.status == "FILLED" and done.fills[0].qty == Decimal("0.5") and cancelled.status == "CANCELLED"
    assert asyncio.run(using(session(fake), lambda s: s.order_state(resting.client_order_id, BTC))).status == "CANCELLED"


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
    assert (fill.fee, fill.fee_asset) == (Decimal("0.2") * Decimal("0.001"), "BTC")    # as charged
    assert fill.fill_id == rest_fills[0]["tradeId"]


def test_a_refused_private_login_never_shows_the_secret(fake):
    error = refused_login(user_stream(fake, secret="not-the-secret-xyz"), INSTRUMENTS).runner.stats.error
    assert "refused the private websocket login" in error and "not-the-secret-xyz" not in error
    assert fake.logins[0] is False and fake.private == []


# -- USDT-M perpetuals (productType USDT-FUTURES) ---------------------------------------------------
PERP = next(i for i in INSTRUMENTS if i.symbol == "BTC-USDT-PERP")


def perp_node(n=0, side="buy", qty="0.5", price="91000.0", kind="ioc", seq=0):
    gid = "graph_00000000fe7e"
    return NodeOrder(f"{gid}:node_{n}:{seq}", gid, n, seq, "bitget", "BTC-USDT-PERP", side, Decimal(qty),
                     Decimal(price) if price else None, kind, "PENDING_NEW", 0, 0)


def test_perp_instruments_are_distinct_from_spot_and_in_base_units():
    perps = {i.symbol: i for i in INSTRUMENTS if i.kind == "perp"}
    assert sorted(perps) == ["BTC-USDT-PERP", "ETH-USDT-PERP", "SOL-USDT-PERP"]
    assert len({i.venue_symbol for i in INSTRUMENTS}) == len(INSTRUMENTS)
    assert perps["BTC-USDT-PERP"].venue_symbol == "BTCUSDT_UMCBL"
    from sequence_venue_bitget.symbols import where
    assert where(PERP) == ("USDT-FUTURES", "BTCUSDT") and where(BTC) == (None, "BTCUSDT")


def test_perp_ioc_buy_fills_and_positions_show_the_signed_size_and_entry(fake):
    async def work(s):
        return await s.place(perp_node(), PERP), await s.positions()
    state, positions = asyncio.run(using(session(fake), work))
    (fill,) = state.fills
    assert state.status == "FILLED" and state.filled_qty == Decimal("0.5")
    assert (fill.price, fill.qty, fill.fee_asset, fill.liquidity) == (Decimal("91000.0"), Decimal("0.5"), "USDT", "taker")
    assert fill.fee == Decimal("0.5") * Decimal("91000.0") * Decimal("0.0006")
    (sent,) = fake.perp_places
    assert (sent["productType"], sent["marginMode"], sent["marginCoin"], sent["size"], sent["force"]) == \
        ("USDT-FUTURES", "crossed", "USDT", "0.5", "ioc") and "tradeSide" not in sent      # one-way mode
    (pos,) = positions
    assert (pos.venue_symbol, pos.qty, pos.entry_price, pos.liquidation_price) == ("BTCUSDT_UMCBL", Decimal("0.5"), Decimal("91000.0"), None)
    assert ("GET", "/api/v2/mix/account/account") in fake.requests


def test_perp_market_sell_flips_the_position_then_a_buy_closes_it(fake):
    async def work(s):
        await s.place(perp_node(0, qty="0.5"), PERP)
        sold = await s.place(perp_node(1, side="sell", qty="0.8", price=None, kind="market"), PERP)
        flipped = await s.positions()
        await s.place(perp_node(2, qty="0.3"), PERP)
        return sold, flipped, await s.positions()
    sold, flipped, closed = asyncio.run(using(session(fake), work))
    assert sold.status == "FILLED" and sold.fills[0].price == Decimal("90990.0")
    assert fake.perp_places[1]["orderType"] == "market" and "force" not in fake.perp_places[1]    # sizes in base either side
    assert [(p.qty, p.entry_price) for p in flipped] == [(Decimal("-0.3"), Decimal("90990.0"))]
    assert closed == []


def test_perp_post_only_rests_is_replaced_and_cancelled(fake):
    async def work(s):
        first = perp_node(3, price="90000.0", kind="post_only")
        rested = await s.place(first, PERP)
        listed = await s.open_orders(PERP)
        assert s.native_amend(first, Decimal("90100.0"), None) is False       # the engine cancels and replaces
        gone = await s.cancel(first, PERP)
        second = perp_node(3, price="90100.0", kind="post_only", seq=1)
        replaced = await s.place(second, PERP)
        crossing = await s.place(perp_node(4, price="91000.0", kind="post_only"), PERP)
        return rested, listed, gone, replaced, await s.cancel(second, PERP), crossing
    rested, listed, gone, replaced, cancelled, crossing = asyncio.run(using(session(fake), work))
    assert rested.status == "NEW" and [o.client_order_id for o in listed] == [perp_node(3).client_order_id]
    assert gone.status == "CANCELLED" and replaced.status == "NEW" and replaced.price == Decimal("90100.0")
    assert cancelled.status == "CANCELLED" and crossing.status == "CANCELLED" and crossing.filled_qty == 0
    assert [p["force"] for p in fake.perp_places] == ["post_only"] * 3
    assert ("POST", "/api/v2/mix/order/modify-order") not in fake.requests


def test_perp_unknown_order_is_none_and_its_cancel_is_rejected_not_raised(fake):
    async def work(s):
        return await s.order_state("sqnothing", PERP), await s.cancel(perp_node(9), PERP)
    unknown, cancel = asyncio.run(using(session(fake), work))
    assert unknown is None and cancel.status == "REJECTED"


@pytest.mark.parametrize("attr,value,words", [("pos_mode", "hedge_mode", "hedge mode"), ("margin_mode", "isolated", "isolated margin")])
def test_hedge_mode_or_isolated_margin_is_refused_before_sending(fake, attr, value, words):
    setattr(fake, attr, value)
    with pytest.raises(InvalidOrder, match=words):
        asyncio.run(using(session(fake), lambda s: s.place(perp_node(), PERP)))
    assert fake.perp_places == []


def test_balances_keep_the_futures_account_apart_as_perp_margin(fake):
    fake.futures_usdt = "250000"
    balances = asyncio.run(using(session(fake), lambda s: s.balances()))
    assert balances == {"USDT": Decimal("100000"), "BTC": Decimal("1"), "USDT:perp-margin": Decimal("250000")}


@pytest.mark.parametrize("split", [False, True], ids=["unrealizedPL", "cross-and-isolated-parts"])
def test_holdings_add_the_futures_wallet_without_its_unrealized_pnl(fake, split):
    """The USDT-M account's equity less its unrealized P&L joins the spot USDT (the perp rows
    carry the P&L); what is free to trade stays as it was."""
    fake.futures_wallet, fake.futures_upl, fake.futures_split_upl = Decimal("5000"), Decimal("-250.5"), split

    async def work(s):
        return await s.holdings(), await s.balances()
    held, free = asyncio.run(using(session(fake), work))
    assert held == {"BTC": Decimal("1"), "USDT": Decimal("100000") + Decimal("5000")}
    assert free == {"USDT": Decimal("100000"), "BTC": Decimal("1"), "USDT:perp-margin": Decimal("4800")}


def test_a_key_without_futures_permission_holds_and_trades_spot_only(fake):
    fake.futures_refused = True

    async def work(s):
        return await s.holdings(), await s.balances()
    held, free = asyncio.run(using(session(fake), work))
    assert held == free == {"BTC": Decimal("1"), "USDT": Decimal("100000")}
    assert fake.requests.count(("GET", "/api/v2/mix/account/accounts")) == 2      # asked, refused, not fatal


def test_perp_book_streams_with_the_checksum_and_rest_snapshot(fake):
    async def go():
        runner = FeedRunner(feed_for(fake), [BTC, PERP]).start()
        try:
            await until(lambda: runner.book(PERP) is not None and runner.book(BTC) is not None)
            rest = feed_for(fake)
            try:
                return runner.book(PERP), runner.stats.gaps, await rest.snapshot(PERP, 20)
            finally:
                await rest.close()
        finally:
            await runner.stop()
    book, gaps, snap = asyncio.run(go())
    assert (book.symbol, book.best_bid.price, book.best_ask.price, gaps) == ("BTC-USDT-PERP", Decimal("90990.0"), Decimal("91000.0"), 0)
    assert {"instType": "USDT-FUTURES", "channel": "books", "instId": "BTCUSDT"} in fake.subscriptions
    assert snap.symbol == "BTCUSDT_UMCBL" and snap.bids[0] == (Decimal("90990.0"), Decimal("2.0"))


def test_a_resting_perp_fill_arrives_on_the_private_stream_with_the_trade_id_rest_reports(fake):
    async def go():
        s = session(fake)
        async with StreamProbe(user_stream(fake), INSTRUMENTS) as probe:
            await until(lambda: probe.runner.live and fake.private, what="stream logged in and subscribed")
            await s.place(perp_node(5, qty="0.2", price="90000.0", kind="limit"), PERP)
            fake.fill_resting(perp_node(5).client_order_id, "0.2")
            await until(lambda: any(st.fills for st in probe.states), what="fill pushed")
            rest = await s.order_state(perp_node(5).client_order_id, PERP)
        await s.close()
        return probe.states, rest
    states, rest = asyncio.run(go())
    (fill,) = states[-1].fills
    assert [st.status for st in states] == ["NEW", "FILLED"] and states[-1].client_order_id == perp_node(5).client_order_id
    assert (fill.price, fill.qty, fill.liquidity, fill.fee_asset) == (Decimal("90000.0"), Decimal("0.2"), "maker", "USDT")
    assert fill == rest.fills[0]                                   # the same fill id, price, size and fee
    assert [a["instType"] for a in fake.private_args] == ["SPOT", "USDT-FUTURES"]


# -- recorded and documented Bitget answers ---------------------------------------------------------
# GET /api/v2/mix/market/contracts?productType=USDT-FUTURES, three answers recorded 2025-06-27
# (requestTime 1751040116004, 1751040321976, 1751040457268) and kept in a public Bitget SDK test.
RECORDED_CONTRACTS = [
    {"symbol": "BTCUSDT", "baseCoin": "BTC", "quoteCoin": "USDT", "buyLimitPriceRatio": "0.05", "sellLimitPriceRatio": "0.05",
     "feeRateUpRatio": "0.005", "makerFeeRate": "0.0002", "takerFeeRate": "0.0006", "openCostUpRatio": "0.01",
     "supportMarginCoins": ["USDT"], "minTradeNum": "0.0001", "priceEndStep": "1", "volumePlace": "4", "pricePlace": "1",
     "sizeMultiplier": "0.0001", "symbolType": "perpetual", "minTradeUSDT": "5", "maxSymbolOrderNum": "200",
     "maxProductOrderNum": "1000", "maxPositionNum": "150", "symbolStatus": "normal", "offTime": "-1", "limitOpenTime": "-1",
     "fundInterval": "8", "minLever": "1", "maxLever": "125", "posLimit": "0.1", "maxMarketOrderQty": "220", "maxOrderQty": "1200"},
    {"symbol": "ETHUSDT", "baseCoin": "ETH", "quoteCoin": "USDT", "buyLimitPriceRatio": "0.05", "sellLimitPriceRatio": "0.05",
     "feeRateUpRatio": "0.005", "makerFeeRate": "0.0002", "takerFeeRate": "0.0006", "openCostUpRatio": "0.01",
     "supportMarginCoins": ["USDT"], "minTradeNum": "0.01", "priceEndStep": "1", "volumePlace": "2", "pricePlace": "2",
     "sizeMultiplier": "0.01", "symbolType": "perpetual", "minTradeUSDT": "5", "maxSymbolOrderNum": "200",
     "maxProductOrderNum": "1000", "maxPositionNum": "150", "symbolStatus": "normal", "offTime": "-1", "limitOpenTime": "-1",
     "fundInterval": "8", "minLever": "1", "maxLever": "100", "posLimit": "0.1", "maxMarketOrderQty": "1900", "maxOrderQty": "9900"},
    {"symbol": "SOLUSDT", "baseCoin": "SOL", "quoteCoin": "USDT", "buyLimitPriceRatio": "0.05", "sellLimitPriceRatio": "0.05",
     "feeRateUpRatio": "0.005", "makerFeeRate": "0.0002", "takerFeeRate": "0.0006", "openCostUpRatio": "0.01",
     "supportMarginCoins": ["USDT"], "minTradeNum": "0.1", "priceEndStep": "1", "volumePlace": "1", "pricePlace": "3",
     "sizeMultiplier": "0.1", "symbolType": "perpetual", "minTradeUSDT": "5", "maxSymbolOrderNum": "200",
     "maxProductOrderNum": "1000", "maxPositionNum": "150", "symbolStatus": "normal", "offTime": "-1", "limitOpenTime": "-1",
     "fundInterval": "8", "minLever": "1", "maxLever": "100", "posLimit": "0.1", "maxMarketOrderQty": "13000", "maxOrderQty": "130000"},
]
# GET /api/v2/mix/position/single-position, a real one-way cross answer printed in the public
# Robin3910/gate_io_trading_bot examples/get_position_info.py (cTime 1739431888793)
RECORDED_LONG = {"marginCoin": "USDT", "symbol": "BTCUSDT", "holdSide": "long", "openDelegateSize": "0.01", "marginSize": "96.0616",
                 "available": "0.01", "locked": "0", "total": "0.01", "leverage": "10", "achievedProfits": "0",
                 "openPriceAvg": "96061.6", "marginMode": "crossed", "posMode": "one_way_mode", "unrealizedPL": "14.338",
                 "liquidationPrice": "-9880613.7641839999", "keepMarginRate": "0.004", "markPrice": "97495.4",
                 "marginRatio": "0.000087489769", "breakEvenPrice": "96208.214834900941", "totalFee": "-0.31252946",
                 "deductedFee": "0.5763696", "grant": "", "assetMode": "single", "autoMargin": "off", "takeProfit": None,
                 "stopLoss": None, "takeProfitId": None, "stopLossId": None, "cTime": "1739431888793", "uTime": "1739621073343"}
# https://www.bitget.com/api-doc/contract/position/get-all-position, the documented short
DOCUMENTED_SHORT = {"marginCoin": "USDT", "symbol": "BTCUSDT", "holdSide": "short", "openDelegateSize": "0", "marginSize": "103.1894785714285715",
                    "available": "0.0155", "locked": "0", "total": "0.0155", "leverage": "14", "achievedProfits": "8.605233333333333",
                    "openPriceAvg": "88505.233333333333", "marginMode": "crossed", "posMode": "hedge_mode",
                    "unrealizedPL": "-72.8215833333333385", "liquidationPrice": "5737867.8639926850760812", "keepMarginRate": "0.004",
                    "markPrice": "93203.4", "marginRatio": "0.0028541392311979", "cTime": "1766103799183", "uTime": "1767682800537"}
# https://www.bitget.com/api-doc/contract/trade/Get-Order-Fills (a fee paid in BGB)
DOCUMENTED_FILL = {"tradeId": "123", "symbol": "ethusdt", "orderId": "121212", "price": "1900", "baseVolume": "1",
                   "feeDetail": [{"deduction": "yes", "feeCoin": "BGB", "totalDeductionFee": "-0.017118519726",
                                  "totalFee": "-0.017118519726"}],
                   "side": "buy", "quoteVolume": "1902", "profit": "102", "enterPointSource": "api", "tradeSide": "close",
                   "posMode": "hedge_mode", "tradeScope": "taker", "cTime": "1627293509612"}
# https://www.bitget.com/api-doc/contract/websocket/private/Order-Channel (the documented push)
DOCUMENTED_PUSH = {"action": "snapshot", "arg": {"instType": "USDT-FUTURES", "channel": "orders", "instId": "default"}, "data": [
    {"accBaseVolume": "0.01", "cTime": "1695718781129", "clientOId": "1", "feeDetail": [{"feeCoin": "USDT", "fee": "-0.162003"}],
     "fillFee": "-0.162003", "fillFeeCoin": "USDT", "fillNotionalUsd": "270.005", "fillPrice": "27000.5", "baseVolume": "0.01",
     "fillTime": "1695718781146", "force": "gtc", "instId": "BTCUSDT", "leverage": "20", "marginCoin": "USDT",
     "marginMode": "crossed", "notionalUsd": "270", "orderId": "1", "orderType": "market", "pnl": "0", "posMode": "hedge_mode",
     "posSide": "long", "price": "0", "priceAvg": "27000.5", "reduceOnly": "no", "stpMode": "cancel_taker", "side": "buy",
     "size": "0.01", "enterPointSource": "WEB", "status": "filled", "tradeScope": "T", "tradeId": "1111111111",
     "tradeSide": "open", "presetStopSurplusPrice": "21.4", "totalProfits": "11221.45", "presetStopLossPrice": "21.5",
     "uTime": "1695718781146"}], "ts": 1695718781206}


def test_recorded_contract_specs_are_the_declared_perps():
    from sequence_venue_bitget.symbols import from_contracts

    parsed = {i.symbol: i for i in from_contracts(RECORDED_CONTRACTS)}
    declared = {i.symbol: i for i in INSTRUMENTS if i.kind == "perp"}
    assert parsed == declared
    assert (declared["SOL-USDT-PERP"].tick_size, declared["SOL-USDT-PERP"].lot_size, declared["SOL-USDT-PERP"].min_qty) == \
        (Decimal("0.001"), Decimal("0.1"), Decimal("0.1"))


def test_perp_instruments_from_the_contracts_endpoint(fake):
    (inst,) = asyncio.run(using(session(fake), lambda s: s.client.perp_instruments()))
    assert inst == PERP


def test_recorded_positions_parse_signed_with_no_liquidation_when_bitget_says_negative():
    from sequence_venue_bitget.execution import _position

    long, short = _position(RECORDED_LONG), _position(DOCUMENTED_SHORT)
    assert (long.venue_symbol, long.qty, long.entry_price, long.mark_price, long.unrealized_pnl, long.margin, long.liquidation_price) == \
        ("BTCUSDT_UMCBL", Decimal("0.01"), Decimal("96061.6"), Decimal("97495.4"), Decimal("14.338"), Decimal("96.0616"), None)
    assert (short.qty, short.entry_price, short.liquidation_price) == \
        (Decimal("-0.0155"), Decimal("88505.233333333333"), Decimal("5737867.8639926850760812"))


def test_documented_fill_and_order_push_parse():
    from sequence_venue_bitget.execution import _perp_fill
    from sequence_venue_bitget.stream import BitgetUserStream

    fill = _perp_fill(DOCUMENTED_FILL, PERP)
    assert (fill.fill_id, fill.price, fill.qty, fill.fee, fill.fee_asset, fill.liquidity, fill.venue_ts_ns) == \
        ("123", Decimal("1900"), Decimal("1"), Decimal("0.017118519726"), "BGB", "taker", 1627293509612_000_000)
    stream = BitgetUserStream(BitgetClient(KEY, SECRET, PASS, "http://127.0.0.1:9"), {})
    (state,) = stream.parse(DOCUMENTED_PUSH, {i.venue_symbol: i for i in INSTRUMENTS})
    (pushed,) = state.fills
    assert (state.client_order_id, state.status, state.filled_qty) == ("1", "FILLED", Decimal("0.01"))
    assert (pushed.fill_id, pushed.price, pushed.qty, pushed.fee, pushed.fee_asset, pushed.liquidity) == \
        ("1111111111", Decimal("27000.5"), Decimal("0.01"), Decimal("0.162003"), "USDT", "taker")
    # the page's example spells it clientOId; the spot push (and SDKs checked against the live
    # futures push) spell it clientOid: either is read
    data = {k: v for k, v in DOCUMENTED_PUSH["data"][0].items() if k != "clientOId"}
    (state,) = stream.parse({**DOCUMENTED_PUSH, "data": [{**data, "clientOid": "1"}]}, {i.venue_symbol: i for i in INSTRUMENTS})
    assert state.client_order_id == "1" and state.fills[0].fill_id == "1111111111"


# -- perp funding from the futures account's bills -------------------------------------------------
# https://www.bitget.com/api-doc/contract/account/Get-Account-Bill (the documented answer's data)
DOCUMENTED_BILLS = {"bills": [
    {"billId": "1", "symbol": "BTCUSDT", "amount": "-0.004992", "fee": "0", "feeByCoupon": "", "businessType": "contract_settle_fee",
     "coin": "USDT", "balance": "232.21", "cTime": "1695715200654"},
    {"billId": "2", "symbol": "ETHUSDT", "amount": "0", "fee": "-0.222012", "feeByCoupon": "", "businessType": "open_long",
     "coin": "USDT", "balance": "232.21", "cTime": "1695714563516"}], "endId": "2"}
DAY_MS, HOUR_MS = 86_400_000, 3_600_000


def test_documented_bills_parse_to_the_funding_paid_on_the_perp():
    from sequence_core.execution import FundingPayment
    from sequence_venue_bitget.execution import funding_from

    (paid,) = funding_from(DOCUMENTED_BILLS["bills"])            # the open_long bill is a fee, not funding
    assert paid == FundingPayment("1", "BTCUSDT_UMCBL", "USDT", Decimal("-0.004992"), 1695715200654_000_000)
    assert paid.venue_symbol == PERP.venue_symbol


def book_funding(fake, start_ms: int, count: int, step_ms: int = 4 * HOUR_MS) -> list[tuple]:
    """*count* funding bills every *step_ms* from *start_ms*, BTC received and ETH paid in turn,
    each beside a trade's fee bill; (billId, symbol, amount, ms) of the funding ones."""
    booked = []
    for n in range(count):
        at = start_ms + n * step_ms
        symbol, amount = ("BTCUSDT", f"0.{n + 1:04d}") if n % 2 == 0 else ("ETHUSDT", f"-0.{n + 1:04d}")
        booked.append((fake.book_bill(symbol, amount, at), symbol, amount, at))
        fake.book_bill(symbol, "0", at, business="open_long", fee="-0.2")
    return booked


def test_funding_walks_30_day_windows_and_every_page_oldest_first_from_since(fake):
    booked = book_funding(fake, fake.now_ms() - 70 * DAY_MS, 420)        # 70 days of 4-hourly funding
    since_ns = booked[5][3] * 1_000_000 + 1                               # just after the sixth: it is not returned
    got = asyncio.run(using(session(fake), lambda s: s.funding_payments(since_ns)))
    assert [(p.payment_id, p.venue_symbol, p.asset, p.amount, p.venue_ts_ns) for p in got] == \
        [(i, symbol + "_UMCBL", "USDT", Decimal(amount), at * 1_000_000) for i, symbol, amount, at in booked[6:]]
    assert got[0].amount > 0 > got[1].amount                              # received, then paid
    reads = fake.bill_reads
    assert int(reads[0]["startTime"]) == since_ns // 1_000_000 and len(reads) == 5      # windows of 180, 180, 54 bills
    assert all(int(r["endTime"]) - int(r["startTime"]) <= 30 * DAY_MS for r in reads)
    assert all((r["productType"], r["businessType"], r["limit"]) == ("USDT-FUTURES", "contract_settle_fee", "100") for r in reads)
    assert [r.get("idLessThan") is not None for r in reads] == [False, True, False, True, False]


def test_funding_reads_reach_back_90_days_at_most(fake, caplog):
    now = fake.now_ms()
    fake.book_bill("BTCUSDT", "-0.5", now - 100 * DAY_MS)
    recent = fake.book_bill("BTCUSDT", "0.25", now - DAY_MS)
    got = asyncio.run(using(session(fake), lambda s: s.funding_payments(0)))
    assert [(p.payment_id, p.amount) for p in got] == [(recent, Decimal("0.25"))]
    assert len(fake.bill_reads) == 3 and int(fake.bill_reads[0]["startTime"]) >= now - 90 * DAY_MS
    assert "90 days" in caplog.text


def test_the_request_cap_returns_the_windows_read_whole_or_raises(fake, monkeypatch, caplog):
    import sequence_venue_bitget.execution as execution
    from sequence_core.errors import VenueError

    start = fake.now_ms() - 70 * DAY_MS
    booked = book_funding(fake, start, 420)
    monkeypatch.setattr(execution, "MAX_BILL_REQUESTS", 3)              # the first window takes 2, the second needs 2
    got = asyncio.run(using(session(fake), lambda s: s.funding_payments(start * 1_000_000)))
    assert [p.payment_id for p in got] == [i for i, _, _, at in booked if at <= start + 30 * DAY_MS]
    assert "funding read up to" in caplog.text and len(fake.bill_reads) == 3
    monkeypatch.setattr(execution, "MAX_BILL_REQUESTS", 1)
    with pytest.raises(VenueError, match="more than 1 requests"):
        asyncio.run(using(session(fake), lambda s: s.funding_payments(start * 1_000_000)))


def test_a_refused_bill_read_is_an_authentication_error_without_the_secret(fake):
    fake.book_bill("BTCUSDT", "-0.5", fake.now_ms() - HOUR_MS)
    with pytest.raises(AuthenticationError) as err:
        asyncio.run(using(session(fake, secret="not-it-secret"), lambda s: s.funding_payments(time.time_ns() - DAY_MS * 10**6)))
    assert "40009" in str(err.value) and "not-it-secret" not in str(err.value) and SECRET not in str(err.value)
    assert fake.bill_reads == []
