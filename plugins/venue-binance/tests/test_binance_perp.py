"""Binance USD-M perpetuals against the fake server (signed as Binance verifies them) and the
recorded USD-M answers in shared/data/responses/binance: orders, fills, positions, amend,
refusals, balances, contract specs, perp books, funding payments."""

import asyncio
import json
import sys
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))   # the fake server beside this file
from fake_binance import FakeBinance  # noqa: E402
from sequence_core.errors import AuthenticationError, InsufficientFunds, InvalidOrder, NetworkError, VenueError  # noqa: E402
from sequence_core.execution import FundingPayment  # noqa: E402
from sequence_core.orders import NodeOrder  # noqa: E402
from sequence_venue_binance import execution  # noqa: E402
from sequence_venue_binance.execution import (BinanceSession, fapi_url, funding_payment, perp_fill, perp_position,  # noqa: E402
                                              perp_state)
from sequence_venue_binance.feed import BinanceFeed  # noqa: E402
from sequence_venue_binance.http import BinanceClient, BinanceFuturesClient  # noqa: E402
from sequence_venue_binance.symbols import INSTRUMENTS, SYMBOLS, from_futures_exchange_info  # noqa: E402
from sequence_core.testing import running  # noqa: E402

KEY, SECRET = "perp-api-key-0004", "perp-secret-0004"
BTC = next(i for i in INSTRUMENTS if i.symbol == "BTC-USDT-PERP")
ETH = next(i for i in INSTRUMENTS if i.symbol == "ETH-USDT-PERP")
RESPONSES = Path(__file__).resolve().parents[3] / "shared" / "data" / "responses" / "binance"
if not RESPONSES.exists():
    RESPONSES = Path("/work/shared/data/responses/binance")


def recorded(name: str):
    return json.loads((RESPONSES / name).read_text())


@pytest.fixture
def fake():
    yield from running(FakeBinance(KEY, SECRET))


def node(n, side="buy", qty="0.01", price="91000.0", kind="ioc"):
    gid = "graph_00000000f00d"
    return NodeOrder(f"{gid}:node_{n}:0", gid, n, 0, "binance", "BTC-USDT-PERP", side, Decimal(qty),
                     Decimal(price) if price else None, kind, "PENDING_NEW", 0, 0)


def with_session(fake, work, secret=SECRET):
    async def go():
        session = BinanceSession(BinanceClient(KEY, secret, fake.url))
        try:
            return await work(session)
        finally:
            await session.close()
    return asyncio.run(go())


def orders_sent(fake):
    return [r for r in fake.f_requests if r["_path"] == "/fapi/v1/order" and r["_method"] == "POST"]


def test_the_usdm_symbols_stay_unique_next_to_spot_and_take_base_units():
    assert SYMBOLS.to_venue("BTC-USDT-PERP") == "BTCUSDT_PERP" and SYMBOLS.to_venue("BTC-USDT") == "BTCUSDT"
    assert (BTC.tick_size, BTC.lot_size, BTC.min_qty, BTC.min_notional) == (Decimal("0.1"), Decimal("0.001"), Decimal("0.001"), Decimal("100"))
    assert (ETH.tick_size, ETH.lot_size, ETH.min_notional) == (Decimal("0.01"), Decimal("0.001"), Decimal("20"))


def test_an_ioc_buy_fills_and_positions_show_the_signed_size_and_entry(fake):
    async def work(s):
        return await s.place(node(1), BTC), await s.positions()
    state, positions = with_session(fake, work)
    assert (state.status, state.filled_qty) == ("FILLED", Decimal("0.01"))
    (fill,) = state.fills
    assert (fill.price, fill.qty, fill.liquidity, fill.fee_asset) == (Decimal("91000.0"), Decimal("0.01"), "taker", "USDT")
    assert fill.fee == Decimal("0.01") * Decimal("91000.0") * Decimal("0.0005")           # Binance's commission, as charged
    assert fill.fill_id == str(fake.f_trades[int(state.venue_order_id)][0]["id"])         # the userTrades id (= the stream's o.t)
    (sent,) = orders_sent(fake)
    assert (sent["symbol"], sent["type"], sent["timeInForce"], sent["quantity"]) == ("BTCUSDT", "LIMIT", "IOC", "0.01")
    assert sent["newOrderRespType"] == "RESULT" and sent["newClientOrderId"] == node(1).client_order_id
    (pos,) = positions
    assert (pos.venue_symbol, pos.qty, pos.entry_price) == ("BTCUSDT_PERP", Decimal("0.01"), Decimal("91000.0"))


def test_a_sell_flips_the_position_then_a_buy_closes_it(fake):
    async def work(s):
        await s.place(node(1, qty="0.01"), BTC)
        flipped = await s.place(node(2, "sell", "0.03", "90990.0"), BTC)
        short = await s.positions()
        await s.place(node(3, "buy", "0.02", None, "market"), BTC)
        return flipped, short, await s.positions()
    flipped, short, flat = with_session(fake, work)
    assert flipped.status == "FILLED" and flipped.fills[0].price == Decimal("90990.0")
    (pos,) = short
    assert (pos.qty, pos.entry_price) == (Decimal("-0.02"), Decimal("90990.0"))      # a short is negative, entry at the flip
    assert pos.margin == abs(pos.mark_price * pos.qty) / 20
    assert flat == []
    assert orders_sent(fake)[-1]["type"] == "MARKET" and "price" not in orders_sent(fake)[-1]


def test_a_resting_post_only_is_amended_in_place_then_cancelled(fake):
    resting = node(4, price="80000.0", kind="post_only")

    async def work(s):
        placed = await s.place(resting, BTC)
        native = s.native_amend(resting, Decimal("80100.0"), Decimal("0.02"))
        amended = await s.amend(resting, BTC, Decimal("80100.0"), Decimal("0.02"))
        price_only = await s.amend(resting, BTC, Decimal("80200.0"), None)
        open_ = await s.open_orders(BTC)
        return placed, native, amended, price_only, open_, await s.cancel(resting, BTC)
    placed, native, amended, price_only, open_, cancelled = with_session(fake, work)
    assert placed.status == "NEW" and orders_sent(fake)[0]["timeInForce"] == "GTX"
    assert native is True and amended.mode == "native_atomic"
    assert (amended.state.client_order_id, amended.state.venue_order_id) == (resting.client_order_id, placed.venue_order_id)
    assert (amended.state.price, amended.state.qty, amended.state.status) == (Decimal("80100.0"), Decimal("0.02"), "NEW")
    modify = [r for r in fake.f_requests if r["_method"] == "PUT"]
    assert (modify[1]["price"], modify[1]["quantity"], modify[1]["side"]) == ("80200.0", "0.01", "BUY")   # both always sent
    assert price_only.state.price == Decimal("80200.0")
    assert [(o.client_order_id, o.price) for o in open_] == [(resting.client_order_id, Decimal("80200.0"))]
    assert cancelled.status == "CANCELLED"


def test_a_post_only_that_would_take_is_refused_in_binances_words(fake):
    with pytest.raises(InvalidOrder, match="Post Only order will be rejected.*-5022"):
        with_session(fake, lambda s: s.place(node(5, price="91000.0", kind="post_only"), BTC))


def test_an_amend_that_would_take_cancels_the_post_only_as_binance_does(fake):
    resting = node(6, price="80000.0", kind="post_only")

    async def work(s):
        await s.place(resting, BTC)
        return await s.amend(resting, BTC, Decimal("91000.0"), None)
    assert with_session(fake, work).state.status == "CANCELLED"


def test_a_resting_fill_later_is_read_with_its_maker_fee(fake):
    resting = node(7, qty="0.02", price="80000.0", kind="limit")

    async def work(s):
        await s.place(resting, BTC)
        fake.fill_resting_perp(resting.client_order_id, "0.005")
        await asyncio.sleep(0.05)
        return await s.order_state(resting.client_order_id, BTC)
    state = with_session(fake, work)
    (fill,) = state.fills
    assert (state.status, fill.qty, fill.liquidity) == ("PARTIALLY_FILLED", Decimal("0.005"), "maker")
    assert fill.fee == Decimal("0.005") * Decimal("80000.0") * Decimal("0.0002")


def test_spot_quantity_decreases_stay_the_only_native_spot_amend():
    spot = NodeOrder("graph_00000000f00d:node_8:0", "graph_00000000f00d", 8, 0, "binance", "BTC-USDT", "buy",
                     Decimal("0.5"), Decimal("90000.00"), "limit", "NEW", 0, 0)
    session = BinanceSession(BinanceClient(KEY, SECRET, "http://127.0.0.1:9"))
    assert session.native_amend(spot, None, Decimal("0.3")) and not session.native_amend(spot, Decimal("1"), None)
    assert session.native_amend(node(8, kind="limit"), Decimal("1"), None)
    assert not session.native_amend(node(8, kind="ioc"), Decimal("1"), None)


def test_a_hedge_mode_account_is_refused_before_anything_is_sent(fake):
    fake.dual_side = True
    with pytest.raises(InvalidOrder, match="Hedge Mode.*One-way Mode only"):
        with_session(fake, lambda s: s.place(node(9), BTC))
    assert orders_sent(fake) == []


def test_venue_refusals_map_to_the_core_errors(fake):
    fake.f_wallet = Decimal("10")
    with pytest.raises(InsufficientFunds, match="Margin is insufficient.*-2019"):
        with_session(fake, lambda s: s.place(node(10), BTC))
    with pytest.raises(InvalidOrder, match="no smaller than 100.*-4164"):
        with_session(fake, lambda s: s.place(node(11, qty="0.001"), BTC))


def test_a_lost_place_is_never_resent_and_the_engine_can_ask(fake):
    fake.post_503_next = 1

    async def work(s):
        with pytest.raises(NetworkError):
            await s.place(node(12), BTC)
        return await s.order_state(node(12).client_order_id, BTC)
    assert with_session(fake, work) is None
    assert [r for r in fake.requests if r == ("POST", "/fapi/v1/order")].__len__() == 1


def test_a_wrong_secret_is_refused_by_the_futures_host_without_the_secret_shown(fake):
    with pytest.raises(AuthenticationError) as err:
        with_session(fake, lambda s: s.positions(), secret="not-the-perp-secret")
    assert "-1022" in str(err.value) and "not-the-perp-secret" not in str(err.value)


def test_balances_keep_the_usdm_wallet_apart_as_perp_margin(fake):
    fake.f_wallet = Decimal("250000")
    balances = with_session(fake, lambda s: s.balances())
    assert (balances["USDT"], balances["USDT:perp-margin"]) == (Decimal("100000"), Decimal("250000"))
    fake.futures_refused = True                       # a key without futures permission still trades spot
    assert with_session(fake, lambda s: s.balances()) == {"BTC": Decimal("1.0"), "USDT": Decimal("100000")}


def test_the_futures_client_follows_the_weight_binance_reports_on_its_own_budget(fake):
    fake.f_weight = 2390

    async def go():
        client = BinanceFuturesClient(KEY, SECRET, fake.url)
        try:
            await client.ping()
            return client.rest.limiter.tokens, client.rest.limiter.capacity
        finally:
            await client.close()
    tokens, capacity = asyncio.run(go())
    assert capacity == 2400 and tokens < 20


def test_the_usdm_host_follows_a_moved_spot_url_unless_set():
    assert fapi_url({}) == "https://fapi.binance.com"
    assert fapi_url({"base_url": "https://api.binance.com"}) == "https://fapi.binance.com"
    assert fapi_url({"base_url": "http://127.0.0.1:5"}) == "http://127.0.0.1:5"
    assert fapi_url({"base_url": "http://127.0.0.1:5", "fapi_url": "http://127.0.0.1:6"}) == "http://127.0.0.1:6"


# -- recorded USD-M answers ---------------------------------------------------------------------
def test_recorded_exchange_info_gives_the_contract_specs():
    insts = {i.venue_symbol: i for i in from_futures_exchange_info(recorded("python-http/http_futures_market_exchange_info.json"))}
    assert sorted(insts) == ["BTCUSDT_PERP", "ETHUSDT_PERP"]                     # the dated BTCUSDT_220325 is left out
    btc = insts["BTCUSDT_PERP"]
    assert (btc.symbol, btc.kind, btc.tick_size, btc.lot_size, btc.min_qty, btc.min_notional, btc.status) == \
        ("BTC-USDT-PERP", "perp", Decimal("0.1"), Decimal("0.001"), Decimal("0.001"), Decimal("10"), "trading")
    assert insts["ETHUSDT_PERP"].tick_size == Decimal("0.01")


def test_recorded_position_and_trades_parse():
    (pos,) = [perp_position(p) for p in recorded("futures/http_json/position_risk.json")]
    assert (pos.venue_symbol, pos.qty, pos.entry_price, pos.mark_price) == ("BTCUSDT_PERP", Decimal("0.001"), Decimal("50000.0"), Decimal("51000.0"))
    assert (pos.unrealized_pnl, pos.liquidation_price, pos.margin) == (Decimal("1.00000000"), Decimal("45000.0"), Decimal("51.0") / 20)
    eth = next(i for i in INSTRUMENTS if i.venue_symbol == "ETHUSDT_PERP")
    sell, buy = [perp_fill(t, eth) for t in recorded("python-http/http_futures_account_trades.json")]
    assert (sell.fill_id, sell.price, sell.qty, sell.fee, sell.fee_asset, sell.liquidity) == \
        ("82357626", Decimal("2778.35"), Decimal("0.005"), Decimal("0.00555670"), "USDT", "taker")
    assert buy.venue_ts_ns == 1645930333910 * 1_000_000
    state = perp_state(recorded("futures/http_json/order_response.json"))
    assert (state.client_order_id, state.status, state.price, state.qty) == ("testOrder123", "NEW", Decimal("50000.00"), Decimal("0.001"))


def test_recorded_hedge_mode_answers_are_refused(fake):
    fake.position_rows = recorded("python-http/http_futures_account_positions_hedge.json")
    with pytest.raises(VenueError, match="Hedge Mode"):
        with_session(fake, lambda s: s.positions())
    fake.position_rows = recorded("python-http/http_futures_account_positions_one_way.json")
    assert with_session(fake, lambda s: s.positions()) == []                      # a flat BOTH row is no position
    fake.dual_side = recorded("python-http/http_futures_account_position_side_dual.json")["dualSidePosition"]
    with pytest.raises(InvalidOrder, match="Hedge Mode"):
        with_session(fake, lambda s: s.place(node(13), BTC))


def test_a_final_order_whose_fills_are_not_listed_yet_stays_open():
    order = {**recorded("futures/http_json/order_response.json"), "status": "EXPIRED", "executedQty": "0.001"}
    assert perp_state(order).status == "PARTIALLY_FILLED"          # the engine reads it again
    fill = perp_fill({"id": 1, "price": "50000", "qty": "0.001", "commission": "0.025", "commissionAsset": "USDT",
                      "time": 1, "maker": False}, BTC)
    assert perp_state(order, (fill,)).status == "EXPIRED"


# -- perp books ---------------------------------------------------------------------------------
def test_perp_books_belong_to_the_usdm_feed_and_snapshot_from_the_futures_host(fake):
    from sequence_venue_binance.feed import BinanceFuturesFeed, BinanceFuturesTradesFeed
    from sequence_venue_binance.venue import BinanceVenue

    spot = next(i for i in INSTRUMENTS if i.symbol == "BTC-USDT")
    feeds = BinanceVenue().market_data_feeds({"base_url": fake.url})
    assert [type(f) for f in feeds] == [BinanceFeed, BinanceFuturesFeed, BinanceFuturesTradesFeed]
    spot_feed, usdm, prints = feeds
    assert (spot_feed.streams(spot), spot_feed.streams(BTC), usdm.streams(spot), usdm.streams(BTC)) == (True, False, False, True)
    assert [(f.streams(BTC), f.streams_trades(BTC), f.streams_trades(spot)) for f in feeds] == [
        (False, False, True), (True, False, False), (False, True, False)]           # a perp's trades: the third socket
    assert usdm.ws_url == "wss://fstream.binance.com/public/ws"                  # the /public route carries @depth
    assert prints.ws_url == "wss://fstream.binance.com/market/ws"                # the /market route, @aggTrade
    assert BinanceFuturesFeed({"fapi_ws_url": "ws://127.0.0.1:1/public/ws"}).ws_url == "ws://127.0.0.1:1/public/ws"
    assert BinanceFuturesTradesFeed({"fapi_ws_url": "ws://127.0.0.1:1/public/ws"}).ws_url == "ws://127.0.0.1:1/market/ws"
    assert prints.subscribe([BTC, spot]) == [{"method": "SUBSCRIBE", "params": ["btcusdt@aggTrade"], "id": 1}]
    # the response example of Binance's Aggregate-Trade-Streams page
    (t,) = prints.parse({"e": "aggTrade", "E": 123456789, "s": "BTCUSDT", "a": 5933014, "p": "0.001", "q": "100",
                         "f": 100, "l": 105, "T": 123456785, "m": True})
    assert (t.symbol, t.ts_ns, t.side, t.price, t.size) == ("BTCUSDT_PERP", 123456785 * 1_000_000, -1, Decimal("0.001"), Decimal(100))
    assert usdm.subscribe([BTC, spot, ETH]) == [{"method": "SUBSCRIBE", "params": ["btcusdt@depth@100ms", "ethusdt@depth@100ms"], "id": 1}]
    assert usdm.subscribe([spot]) == [] and spot_feed.subscribe([BTC]) == []

    async def go():
        try:
            return await usdm.snapshot(BTC, 20), await usdm.snapshot(BTC)
        finally:
            for f in feeds:
                await f.close()
    quoted, streamed = asyncio.run(go())
    assert (quoted.symbol, quoted.seq, quoted.bids[0], quoted.asks[0]) == \
        ("BTCUSDT_PERP", 7000, (Decimal("90990.00"), Decimal("2.000")), (Decimal("91000.00"), Decimal("2.000")))
    assert fake.f_depth_limits == [20, 1000]        # a quote asks for what it shows; a streamed book starts from 1000
    assert fake.depth_requests == 0                 # never the spot host


# -- funding payments (GET /fapi/v1/income, incomeType=FUNDING_FEE) -------------------------------
DAY_MS = 86_400_000
# FUNDING_FEE rows as Binance returned them: ccxt/ccxt#16764 (a BTCUSDT payment, USDT) and
# freqtrade/freqtrade#11783 (two MOVEUSDT receipts on a credits account, BNFCR)
RECORDED_FUNDING = [
    {"symbol": "BTCUSDT", "incomeType": "FUNDING_FEE", "income": "-10.37434190", "asset": "USDT", "info": "FUNDING_FEE",
     "time": 1675123200000, "tranId": 6725918796342150260, "tradeId": ""},
    {"symbol": "MOVEUSDT", "incomeType": "FUNDING_FEE", "income": "0.07945043", "asset": "BNFCR", "info": "FUNDING_FEE",
     "time": 1747641605000, "tranId": 767561098101965730, "tradeId": ""},
    {"symbol": "MOVEUSDT", "incomeType": "FUNDING_FEE", "income": "0.08670890", "asset": "BNFCR", "info": "FUNDING_FEE",
     "time": 1747656001000, "tranId": 768164974278656440, "tradeId": ""},
]
# the documented example answer of Get Income History (a TRANSFER and a COMMISSION row)
DOCUMENTED_INCOME = [
    {"symbol": "", "incomeType": "TRANSFER", "income": "-0.37500000", "asset": "USDT", "info": "TRANSFER",
     "time": 1570608000000, "tranId": 9689322392, "tradeId": ""},
    {"symbol": "BTCUSDT", "incomeType": "COMMISSION", "income": "-0.01000000", "asset": "USDT", "info": "COMMISSION",
     "time": 1570636800000, "tranId": 9689322392, "tradeId": "2059192"},
]


def income_requests(fake):
    return [r for r in fake.f_requests if r["_path"] == "/fapi/v1/income"]


def test_recorded_funding_rows_parse_with_binances_sign():
    paid, received, again = [funding_payment(r) for r in RECORDED_FUNDING]
    assert paid == FundingPayment("BTCUSDT:6725918796342150260", "BTCUSDT_PERP", "USDT", Decimal("-10.37434190"),
                                            1675123200000 * 1_000_000)     # the perp's venue symbol; paid < 0
    assert (received.payment_id, received.venue_symbol, received.asset, received.amount) == \
        ("MOVEUSDT:767561098101965730", "MOVEUSDT_PERP", "BNFCR", Decimal("0.07945043"))   # received > 0; tranId exact past 2^53
    assert again.venue_ts_ns == 1747656001000 * 1_000_000


def test_recorded_and_documented_rows_read_through_the_session_at_their_own_time(fake):
    fake.f_income = DOCUMENTED_INCOME + RECORDED_FUNDING
    fake.clock_offset_ms = 1747656001000 + 3_600_000 - fake.now_ms()      # Binance's clock an hour after the last row

    async def work(s):
        await s.futures.clock.sync()
        return await s.funding_payments(1747641605000 * 1_000_000)
    got = with_session(fake, work)
    assert [(p.payment_id, p.amount) for p in got] == [("MOVEUSDT:767561098101965730", Decimal("0.07945043")),
                                                        ("MOVEUSDT:768164974278656440", Decimal("0.08670890"))]
    (sent,) = income_requests(fake)
    assert (sent["incomeType"], sent["limit"], sent["startTime"]) == ("FUNDING_FEE", "1000", "1747641605000")
    assert 1747656001000 <= int(sent["endTime"]) < 1747641605000 + 7 * DAY_MS


def test_funding_follows_the_venues_sign_long_pays_short_receives(fake):
    async def work(s):
        await s.place(node(19), BTC)                                        # long 0.01 BTC
        await s.place(node(20, "sell", "0.001", "90990.0"), ETH)            # short 0.001 ETH (at the fake's one book)
        since = fake.now_ms() * 1_000_000
        fake.settle_funding("0.0001")                                       # a positive rate: longs pay shorts
        return await s.funding_payments(since)
    btc, eth_paid = with_session(fake, work)
    assert (btc.venue_symbol, btc.amount, btc.asset) == ("BTCUSDT_PERP", Decimal("-0.09099500"), "USDT")    # 0.01 x 90995 x 0.0001
    assert (eth_paid.venue_symbol, eth_paid.amount) == ("ETHUSDT_PERP", Decimal("0.00909950"))


def test_funding_walks_seven_day_windows_and_pages_oldest_first(fake, monkeypatch):
    monkeypatch.setattr(execution, "FUNDING_PAGE", 3)
    now = fake.now_ms()
    t0 = now - 20 * DAY_MS
    for hour, symbol in [(0, "BTCUSDT"), (4, "BTCUSDT"), (8, "BTCUSDT"), (8, "ETHUSDT"), (16, "BTCUSDT"), (16, "ETHUSDT"),
                         (7 * 24, "BTCUSDT"), (15 * 24, "ETHUSDT"), (19 * 24, "BTCUSDT")]:
        fake.book_funding(symbol, "-0.01", t0 + hour * 3_600_000)         # pages of 3 end between two rows of one ms
    fake.book_funding("BTCUSDT", "5", t0 - 1)                               # before since: not returned
    got = with_session(fake, lambda s: s.funding_payments(t0 * 1_000_000))
    assert [(p.venue_ts_ns // 1_000_000 - t0) // 3_600_000 for p in got] == [0, 4, 8, 8, 16, 16, 168, 360, 456]
    assert len({p.payment_id for p in got}) == 9 and all(p.venue_ts_ns >= t0 * 1_000_000 for p in got)
    sent = [(int(r["startTime"]), int(r["endTime"])) for r in income_requests(fake)]
    assert all(end - start < 7 * DAY_MS for start, end in sent)             # no request spans more than 7 days
    windows = sorted({end for _, end in sent})
    assert windows[0] == t0 + 7 * DAY_MS - 1 and len(windows) == 3           # 20 days: three windows, back to back
    assert len(sent) > len(windows)                                         # and pages inside them


def test_funding_since_is_honoured_to_the_nanosecond(fake):
    now = fake.now_ms()
    fake.book_funding("BTCUSDT", "-1", now - 2_000)
    fake.book_funding("BTCUSDT", "-2", now - 1_000)
    got = with_session(fake, lambda s: s.funding_payments((now - 2_000) * 1_000_000 + 1))   # 1 ns after the first
    assert [p.amount for p in got] == [Decimal("-2")]
    assert income_requests(fake)[0]["startTime"] == str(now - 2_000 + 1)                     # the next whole ms


def test_funding_reads_nothing_older_than_binance_keeps(fake):
    now = fake.now_ms()
    with_session(fake, lambda s: s.funding_payments((now - 365 * DAY_MS) * 1_000_000))
    sent = income_requests(fake)
    assert int(sent[0]["startTime"]) >= now - 92 * DAY_MS and len(sent) == 14     # three months, not a year of windows


def test_funding_stops_at_the_request_cap_with_the_oldest_part_and_a_warning(fake, monkeypatch, caplog):
    monkeypatch.setattr(execution, "FUNDING_PAGE", 2)
    monkeypatch.setattr(execution, "FUNDING_MAX_REQUESTS", 3)
    t0 = fake.now_ms() - DAY_MS
    for n in range(6):
        fake.book_funding("BTCUSDT", f"-{n + 1}", t0 + n * 1_000)
    got = with_session(fake, lambda s: s.funding_payments(t0 * 1_000_000))
    assert [p.amount for p in got] == [Decimal("-1"), Decimal("-2"), Decimal("-3"), Decimal("-4")]  # a gapless start
    assert len(income_requests(fake)) == 3 and "stopped after 3 income requests" in caplog.text


def test_a_full_page_at_one_millisecond_is_an_error_not_a_loop(fake, monkeypatch):
    monkeypatch.setattr(execution, "FUNDING_PAGE", 2)
    t = fake.now_ms() - 1_000
    for symbol in ("BTCUSDT", "ETHUSDT", "SOLUSDT"):
        fake.book_funding(symbol, "-1", t)
    with pytest.raises(VenueError, match="more than 2 funding rows booked in one millisecond"):
        with_session(fake, lambda s: s.funding_payments((t - 5) * 1_000_000))


def test_a_refused_funding_read_is_an_authentication_error_without_the_secret(fake):
    with pytest.raises(AuthenticationError) as err:
        with_session(fake, lambda s: s.funding_payments(0), secret="not-the-funding-secret")
    assert "-1022" in str(err.value) and "not-the-funding-secret" not in str(err.value)
    fake.futures_refused = True                                             # a key without futures permission
    with pytest.raises(AuthenticationError, match="-2015"):
        with_session(fake, lambda s: s.funding_payments(0))


# -- [venues.binance] leverage ------------------------------------------------------------------------
def with_leverage(fake, leverage, work):
    async def go():
        session = BinanceSession(BinanceClient(KEY, SECRET, fake.url), {"leverage": leverage})
        try:
            return await work(session)
        finally:
            await session.close()
    return asyncio.run(go())


def spot_node(n):
    gid = "graph_00000000f00e"
    return NodeOrder(f"{gid}:node_{n}:0", gid, n, 0, "binance", "BTC-USDT", "buy", Decimal("0.01"), Decimal("91000.00"),
                     "ioc", "PENDING_NEW", 0, 0)


def test_leverage_is_set_once_per_symbol_before_its_first_perp_order_and_never_for_spot(fake):
    spot = next(i for i in INSTRUMENTS if i.symbol == "BTC-USDT")

    async def work(s):
        await s.place(spot_node(1), spot)                               # spot: no leverage call
        await s.place(node(2), BTC)
        await s.place(node(3, side="sell", price="90990.0"), BTC)
    with_leverage(fake, 5, work)
    assert fake.f_leverage_sets == [("BTCUSDT", 5, 0)]                  # once, before the first perp order
    sets = [r for r in fake.f_requests if r["_path"] == "/fapi/v1/leverage"]
    assert [(r["_method"], r["symbol"], r["leverage"]) for r in sets] == [("POST", "BTCUSDT", "5")]
    assert fake.f_leverage == {"BTCUSDT": Decimal(5)} and len(orders_sent(fake)) == 2 and len(fake.orders) == 1


def test_without_the_setting_the_account_leverage_is_left_alone(fake):
    with_session(fake, lambda s: s.place(node(1), BTC))
    assert fake.f_leverage_sets == [] and not any(r["_path"] == "/fapi/v1/leverage" for r in fake.f_requests)


def test_a_leverage_over_the_brackets_is_a_clear_error_before_the_order(fake):
    with pytest.raises(InvalidOrder) as refused:
        with_leverage(fake, 150, lambda s: s.place(node(1), BTC))
    message = str(refused.value)
    assert "leverage 150 refused for BTCUSDT (USD-M)" in message and "(-4028)" in message
    assert "Binance allows at most 125x on it" in message
    assert orders_sent(fake) == [] and fake.f_orders == {}


@pytest.mark.parametrize("value", [0, -3, 2.5, "5", True])
def test_a_leverage_that_is_not_a_positive_whole_number_is_refused_when_the_session_is_built(value):
    import re

    from sequence_core.errors import ConfigError
    from sequence_venue_binance.venue import BinanceVenue

    with pytest.raises(ConfigError, match=re.escape(f"[venues.binance] leverage = {value!r} is not a positive whole number")):
        BinanceVenue().execution_session({"api_key": KEY, "api_secret": SECRET}, {"base_url": "http://127.0.0.1:9", "leverage": value})
