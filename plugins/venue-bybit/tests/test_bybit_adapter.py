"""The Bybit adapter against the fake server: signing as Bybit verifies it, orders, native
amend, the websocket book (gap -> fresh snapshot, dropped socket -> no stale book), the
budget following Bybit's headers, real published payloads, and faults; ``[venues.bybit] leverage``
set on a linear perp before its first order."""

import asyncio
import json
import re
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fake_bybit import FakeBybit  # noqa: E402
from sequence_core.errors import AuthenticationError, ConfigError, InvalidOrder, RateLimitExceeded  # noqa: E402
from sequence_core.execution import FundingPayment  # noqa: E402
from sequence_core.feeds import FeedRunner  # noqa: E402
from sequence_core.orders import NodeOrder  # noqa: E402
from sequence_core.testing import StreamProbe, drop_and_recover, refused_login, running, shared_responses, until  # noqa: E402
from sequence_venue_bybit.execution import BybitSession  # noqa: E402
from sequence_venue_bybit.feed import BybitFeed  # noqa: E402
from sequence_venue_bybit.http import BybitClient  # noqa: E402
from sequence_venue_bybit.signing import signature  # noqa: E402
from sequence_venue_bybit.symbols import INSTRUMENTS, from_instruments_info  # noqa: E402

KEY, SECRET = "bybit-key-0001", "bybit-secret-0001"
BTC = next(i for i in INSTRUMENTS if i.symbol == "BTC-USDT")
SAMPLES = shared_responses("bybit")


@pytest.fixture
def fake():
    yield from running(FakeBybit(KEY, SECRET))


def session(fake, secret=SECRET) -> BybitSession:
    return BybitSession(BybitClient(KEY, secret, fake.url))


async def using(s, work):
    try:
        return await work(s)
    finally:
        await s.close()


def node(n=0, side="buy", qty="0.5", price="91000.00", kind="ioc"):
    gid = "graph_00000000b1b1"
    return NodeOrder(f"{gid}:node_{n}:0", gid, n, 0, "bybit", "BTC-USDT", side, Decimal(qty),
                     Decimal(price) if price else None, kind, "PENDING_NEW", 0, 0)


def test_signature_is_the_documented_string():
    # Bybit documents the string (timestamp + key + recv_window + query) but no signature; the
    # value is `openssl dgst -sha256 -hmac YYYYYYYYYY` over
    # "1658384314791XXXXXXXXXX5000category=option&symbol=BTC-29JUL22-25000-C"
    assert signature("YYYYYYYYYY", 1658384314791, "XXXXXXXXXX", 5000, "category=option&symbol=BTC-29JUL22-25000-C") == \
        "37813c67fafb3017e92354eb88f218e7e52a98f9f5eb74cfcf0b21f17edb143b"


def test_ioc_buy_fills_with_the_fee_in_the_base_received(fake):
    state = asyncio.run(using(session(fake), lambda s: s.place(node(), BTC)))
    assert state.status == "FILLED" and state.filled_qty == Decimal("0.5")
    assert (state.fills[0].fee, state.fills[0].fee_asset) == (Decimal("0.0005"), "BTC")


def test_market_buy_sends_its_size_in_base(fake):
    state = asyncio.run(using(session(fake), lambda s: s.place(node(1, qty="0.25", price=None, kind="market"), BTC)))
    assert state.filled_qty == Decimal("0.25")


def test_resting_amend_native_then_cancel(fake):
    async def work(s):
        n = node(2, price="90000.00", kind="limit")
        placed = await s.place(n, BTC)
        amended = await s.amend(n, BTC, Decimal("89000.00"), Decimal("0.4"))
        open_ = await s.open_orders(BTC)
        cancelled = await s.cancel(n, BTC)
        again = await s.cancel(n, BTC)
        return placed, amended, open_, cancelled, again, await s.order_state("sqnothing", BTC)
    placed, amended, open_, cancelled, again, unknown = asyncio.run(using(session(fake), work))
    assert placed.status == "NEW" and amended.mode == "native_atomic"
    assert (amended.state.price, amended.state.qty, amended.state.venue_order_id) == (Decimal("89000.00"), Decimal("0.4"), placed.venue_order_id)
    assert [o.client_order_id for o in open_] == [node(2).client_order_id]
    assert cancelled.status == again.status == "CANCELLED" and unknown is None


def test_post_only_that_would_take_is_cancelled_with_the_reason(fake):
    state = asyncio.run(using(session(fake), lambda s: s.place(node(3, price="91500.00", kind="post_only"), BTC)))
    assert state.status == "CANCELLED" and "PostOnlyWillTakeLiquidity" in state.reason


def test_wrong_secret_is_an_authentication_error_without_it(fake):
    with pytest.raises(AuthenticationError) as err:
        asyncio.run(using(session(fake, "wrong-secret"), lambda s: s.balances()))
    assert "10004" in str(err.value) and "wrong-secret" not in str(err.value)


def test_rate_limited_read_retries_a_place_does_not(fake):
    fake.rate_limit_next = 2
    assert asyncio.run(using(session(fake), lambda s: s.balances()))["USDT"] == Decimal("100000")
    fake.rate_limit_next = 1
    with pytest.raises(RateLimitExceeded):
        asyncio.run(using(session(fake), lambda s: s.place(node(4), BTC)))
    assert node(4).client_order_id not in fake.orders


def test_the_budget_follows_the_venues_headers(fake):
    fake.limit_left = 1                                          # 9 of 10 spent elsewhere

    async def work(s):
        await s.balances()
        return s.client.limits["/v5/account/wallet-balance"].tokens
    assert asyncio.run(using(session(fake), work)) <= 1.5


def test_malformed_read_retried_and_clock_skew_resynced(fake):
    fake.malformed_next, fake.clock_offset_ms = 1, -60_000      # Bybit a minute behind us

    async def work(s):
        return await s.balances(), s.client.clock.offset_ms
    balances, offset = asyncio.run(using(session(fake), work))
    assert balances["BTC"] == Decimal("1") and -61_000 < offset < -59_000


def feed_for(fake) -> BybitFeed:
    return BybitFeed({"base_url": fake.url, "ws_url": fake.url.replace("http", "ws") + "/v5/public/spot"})


def test_websocket_book_gap_resubscribes(fake):
    async def go():
        runner = FeedRunner(feed_for(fake), [BTC]).start()
        try:
            await until(lambda: runner.book(BTC) is not None)
            fake.spot.push(bids={"90995.00": "1.5"})
            await until(lambda: runner.book(BTC).best_bid.price == Decimal("90995.00"))
            fake.spot.skip_next_update = 1
            fake.spot.push(asks={"91000.00": "0"})
            await until(lambda: runner.stats.gaps == 1 and runner.book(BTC) is not None)
            fake.spot.trade("91010.00", "0.2", "Sell")
            await until(lambda: runner.trades["BTCUSDT"])
            return runner.book(BTC), runner.trades["BTCUSDT"][0]
        finally:
            await runner.stop()
    book, trade = asyncio.run(go())
    assert book.best_ask.price == Decimal("91010.00") and trade.side == -1
    assert fake.spot.subscriptions.count("orderbook.50.BTCUSDT") == 2          # subscribed again for a fresh snapshot


def test_dropped_socket_serves_no_stale_book(fake):
    stale, book = asyncio.run(drop_and_recover(feed_for(fake), BTC, fake, lambda: fake.spot.bids.__setitem__("90993.00", "4")))
    assert stale is None and book.best_bid.price == Decimal("90993.00")


def test_published_payloads_parse():
    feed = BybitFeed({})
    snap = feed.parse(json.loads((SAMPLES / "ws_orderbook_snapshot.json").read_text()))[0]
    delta = feed.parse(json.loads((SAMPLES / "ws_orderbook_delta.json").read_text()))[0]
    assert (snap.kind, snap.seq, delta.kind, delta.seq) == ("snapshot", 123456789, "delta", 123456790)
    assert delta.asks == ((Decimal("27451.00"), Decimal("0")),)
    (inst,) = from_instruments_info(json.loads((SAMPLES / "http_get_instruments_spot.json").read_text())["result"]["list"][:1])
    assert (inst.symbol, inst.tick_size, inst.lot_size, inst.min_notional) == ("BTC-USDT", Decimal("0.1"), Decimal("0.0001"), Decimal("10"))


def test_a_balance_is_the_coins_own_what_is_borrowed_taken_off(fake):
    # since UTA manual borrowing (Oct 2025) walletBalance includes spotBorrow: "Old walletBalance =
    # New walletBalance - spotBorrow" (https://bybit-exchange.github.io/docs/v5/account/wallet-balance)
    def coins(name):
        return json.loads((SAMPLES / name).read_text())["result"]["list"][0]["coin"]
    (usdt,) = coins("http_get_wallet_balance_with_spot_borrow.json")      # 1200 in the wallet, 200 of it borrowed
    eth = next(c for c in coins("http_get_wallet_balance.json") if c["coin"] == "ETH")   # a spot short
    legacy = {"coin": "SOL", "walletBalance": "2", "locked": "0.5"}       # the shape before spotBorrow
    fake.wallet_coins = [usdt, eth, legacy]
    got = asyncio.run(using(session(fake), lambda s: s.balances()))
    assert got == {"USDT": Decimal("1000.00"), "ETH": Decimal(0), "SOL": Decimal("1.5")}
    assert got["USDT"] == Decimal(usdt["equity"])                       # equity = walletBalance - spotBorrow + upl


def test_open_orders_fills_and_positions_are_read_to_the_last_page(fake):
    # limit defaults 20 (open orders, positions) and 50 (executions); nextPageCursor chains pages
    for n in range(60):
        link = node(100 + n, price="90000.00", kind="limit").client_order_id
        fake.orders[link] = {"category": "spot", "orderId": f"o{n}", "orderLinkId": link, "symbol": "BTCUSDT", "price": "90000.00",
                             "qty": "0.02", "side": "Buy", "orderStatus": "New", "cumExecQty": "0", "rejectReason": "EC_NoError",
                             "createdTime": "1", "updatedTime": "1"}
    first = fake.orders[node(100).client_order_id]
    first.update(orderStatus="PartiallyFilled", cumExecQty="0.012")
    fake.executions["o0"] = [{"symbol": "BTCUSDT", "orderId": "o0", "orderLinkId": first["orderLinkId"], "execId": f"e{n}",
                              "execPrice": "90000.00", "execQty": "0.0001", "execFee": "0.0000001", "feeCurrency": "BTC",
                              "isMaker": True, "execTime": str(1_700_000_000_000 + n)} for n in range(120)]
    fake.positions = [{"symbol": f"C{n}USDT", "side": "Buy", "size": "1", "avgPrice": "1"} for n in range(25)]

    async def work(s):
        return await s.open_orders(BTC), await s.order_state(first["orderLinkId"], BTC), await s.positions()
    open_, state, positions = asyncio.run(using(session(fake), work))
    assert len(open_) == 60 and len({o.client_order_id for o in open_}) == 60
    assert len(state.fills) == 120 and sum(f.qty for f in state.fills) == state.filled_qty
    assert len(positions) == 25
    assert fake.requests.count(("GET", "/v5/order/realtime")) == 3          # two pages of 50, then the one order
    assert fake.requests.count(("GET", "/v5/execution/list")) == 2          # pages of 100


def test_a_spot_minimum_quantity_is_not_read_bybit_no_longer_checks_it():
    # instruments-info: spot minOrderQty "deprecated, no longer check minOrderQty, check minOrderAmt instead"
    (inst,) = from_instruments_info([{"symbol": "BTCUSDT", "baseCoin": "BTC", "quoteCoin": "USDT", "status": "Trading",
                                      "lotSizeFilter": {"basePrecision": "0.000001", "minOrderQty": "0.000048", "minOrderAmt": "5"},
                                      "priceFilter": {"tickSize": "0.01"}}])
    assert (inst.lot_size, inst.min_notional, inst.min_qty) == (Decimal("0.000001"), Decimal("5"), Decimal(0))


# -- the private order and execution streams -----------------------------------------------------
def user_stream(fake, secret=SECRET):
    from sequence_venue_bybit.stream import BybitUserStream

    return BybitUserStream(BybitClient(KEY, secret, fake.url), {"ws_url": fake.url.replace("http", "ws") + "/v5/public/spot"})


def test_a_resting_order_fill_arrives_on_the_private_stream_with_the_exec_id_rest_reports(fake):
    async def go():
        s = session(fake)
        async with StreamProbe(user_stream(fake), INSTRUMENTS) as probe:
            await until(lambda: probe.runner.live and fake.private, what="stream authenticated and subscribed")
            await s.place(node(3, price="90000.00", kind="limit"), BTC)
            fake.fill_resting(node(3).client_order_id, "0.2")
            await until(lambda: any(st.fills for st in probe.states), what="execution pushed")
            executions = await s.client.executions("spot", "BTCUSDT", probe.states[-1].venue_order_id)
        await s.close()
        return probe.states, executions
    states, executions = asyncio.run(go())
    (fill,) = states[-1].fills
    assert [st.status for st in states if not st.fills] == ["NEW", "PARTIALLY_FILLED"]   # placed, then part-filled
    assert (fill.price, fill.qty, fill.liquidity) == (Decimal("90000.00"), Decimal("0.2"), "maker")
    assert (fill.fee, fill.fee_asset) == (Decimal("0.2") * Decimal("0.001"), "BTC")    # as charged
    assert fill.fill_id == executions[0]["execId"]


def test_a_refused_private_auth_never_shows_the_secret(fake):
    error = refused_login(user_stream(fake, secret="not-the-secret-xyz"), INSTRUMENTS).runner.stats.error
    assert "refused the private websocket login" in error and "not-the-secret-xyz" not in error
    assert fake.logins[0] is False and fake.private == []


def test_the_published_order_and_execution_pushes_parse():
    from sequence_venue_bybit.stream import BybitUserStream

    by_symbol = {i.venue_symbol: i for i in INSTRUMENTS}
    stream = BybitUserStream(None, {})
    (order,) = stream.parse(json.loads((SAMPLES / "ws_account_order.json").read_text()), by_symbol)
    (execution,) = stream.parse(json.loads((SAMPLES / "ws_account_execution.json").read_text()), by_symbol)
    assert (order.client_order_id, order.status, order.price) == ("client-1", "CANCELLED", Decimal("30000"))
    (fill,) = execution.fills
    assert (execution.client_order_id, fill.fill_id) == ("test-order-link-001", "0ab1bdf7-4219-438b-b30a-32ec863018f7")
    assert (fill.price, fill.qty, fill.fee, fill.liquidity) == (Decimal("95900.1"), Decimal("0.5"), Decimal("26.3725275"), "taker")


def test_linear_positions_as_bybit_reports_them(fake):
    fake.positions = json.loads((SAMPLES / "http_get_positions.json").read_text())["result"]["list"]
    rows = asyncio.run(using(session(fake), lambda s: s.positions()))
    btc, eth = rows[:2]
    assert (btc.venue_symbol, btc.qty, btc.entry_price, btc.mark_price) == ("BTCUSDT_LINEAR", Decimal("0.5"), Decimal("50000.00"), Decimal("50500.00"))
    assert (btc.unrealized_pnl, btc.margin, btc.liquidation_price) == (Decimal("250.00"), Decimal("2500.00"), Decimal("45000.00"))
    assert (eth.venue_symbol, eth.qty) == ("ETHUSDT_LINEAR", Decimal("-5.0"))          # a short is negative


# -- funding payments (/v5/account/transaction-log, type SETTLEMENT) ------------------------------
HOUR_MS = 3_600_000


def settlement(n: int, at_ms: int, funding: str, symbol: str = "BTCUSDT", currency: str = "USDT", kind: str = "SETTLEMENT"):
    """A transaction-log row shaped as the docs' SETTLEMENT example."""
    return {"id": f"592324_{symbol}_{n}", "symbol": symbol, "category": "linear", "side": "Buy", "transactionTime": str(at_ms),
            "type": kind, "funding": funding if kind == "SETTLEMENT" else "", "fee": "0", "cashFlow": "0",
            "change": funding, "currency": currency, "feeRate": "0.0001", "size": "0.5", "qty": "0.5"}


def test_the_documented_settlement_is_a_payment_the_wallet_paid(fake):
    # the response example of https://bybit-exchange.github.io/docs/v5/account/transaction-log
    # (transaction_log_example.json, as published): a long of 100 XRPUSDT at a rate
    # of +0.0001 pays; Bybit's clocks are set to the example's own "time" so one window covers it
    example = json.loads((Path(__file__).parent / "transaction_log_example.json").read_text())
    fake.transactions = example["result"]["list"]
    s = session(fake)
    s.client.clock.offset_ms = fake.clock_offset_ms = example["time"] - time.time_ns() // 1_000_000
    (p,) = asyncio.run(using(s, lambda s: s.funding_payments((1672128000000 - HOUR_MS) * 1_000_000)))
    assert p == FundingPayment("592324_XRPUSDT_161440249321", "XRPUSDT_LINEAR", "USDT", Decimal("-0.003676"),
                               1672128000000 * 1_000_000)
    settled, traded = example["result"]["list"][:2]                # the wallet moved by exactly that
    assert Decimal(settled["cashBalance"]) - Decimal(traded["cashBalance"]) == p.amount
    (q,) = fake.log_queries
    assert (q["accountType"], q["category"], q["type"], q["limit"]) == ("UNIFIED", "linear", "SETTLEMENT", "50")


def test_funding_reads_every_page_of_every_window_oldest_first(fake):
    now = time.time_ns() // 1_000_000
    hourly = [settlement(n, now - (200 - n) * HOUR_MS, "-0.25" if n % 3 else "0.5") for n in range(200)]   # 200 h: two windows
    others = [settlement(900, now - 5 * HOUR_MS - 60_000, "1.5", "ETHUSDT"), settlement(901, now - 4 * HOUR_MS - 60_000, "2", "BTCPERP", "USDC")]
    fake.transactions = hourly + others + [settlement(902, now - 3 * HOUR_MS - 60_000, "0"),        # moved nothing
                                           settlement(903, now - 2 * HOUR_MS - 60_000, "", kind="TRADE")]
    got = asyncio.run(using(session(fake), lambda s: s.funding_payments((now - 201 * HOUR_MS) * 1_000_000)))
    assert [p.payment_id for p in got] == [r["id"] for r in sorted(hourly + others, key=lambda r: int(r["transactionTime"]))]
    assert {p.venue_symbol: p.asset for p in got} == {"BTCUSDT_LINEAR": "USDT", "ETHUSDT_LINEAR": "USDT", "BTCPERP_LINEAR": "USDC"}
    assert got[0].amount == Decimal("0.5") and got[1].amount == Decimal("-0.25")
    windows = [(int(q["startTime"]), int(q["endTime"])) for q in fake.log_queries]
    assert all(end - start <= 7 * 24 * HOUR_MS for start, end in windows) and len(set(windows)) == 2
    assert sum(1 for q in fake.log_queries if "cursor" in q) == 3      # 168 rows in the first window: four pages


def test_funding_before_since_is_not_returned(fake):
    now = time.time_ns() // 1_000_000
    t0 = now - 3 * HOUR_MS
    fake.transactions = [settlement(n, t0 + n * HOUR_MS, "-1") for n in range(3)]

    async def work(s):
        return await s.funding_payments((t0 + HOUR_MS) * 1_000_000), await s.funding_payments((t0 + HOUR_MS) * 1_000_000 + 1)
    at, after = asyncio.run(using(session(fake), work))
    assert [p.payment_id for p in at] == ["592324_BTCUSDT_1", "592324_BTCUSDT_2"]
    assert [p.payment_id for p in after] == ["592324_BTCUSDT_2"]
    assert int(fake.log_queries[1]["startTime"]) == t0 + HOUR_MS + 1       # the ns since, rounded up to Bybit's ms


def test_funding_past_the_read_cap_returns_the_windows_read_in_full(fake, monkeypatch, caplog):
    import sequence_venue_bybit.execution as execution

    monkeypatch.setattr(execution, "FUNDING_REQUESTS", 3)          # (and so two windows back at most)
    now = time.time_ns() // 1_000_000
    fake.transactions = [settlement(n, now - (200 - n) * HOUR_MS, "-1") for n in range(200)]   # hourly, ~8 days
    got = asyncio.run(using(session(fake), lambda s: s.funding_payments((now - 14 * 24 * HOUR_MS) * 1_000_000)))
    first_window = now - 7 * 24 * HOUR_MS           # its one page read; the second window needs four pages
    assert got and [p.payment_id for p in got] == [r["id"] for r in fake.transactions if int(r["transactionTime"]) <= first_window]
    assert len(fake.log_queries) == 3 and "the rest is read next time" in caplog.text


def test_funding_is_read_no_further_back_than_the_cap_reaches(fake, caplog):
    # a perp closed a year ago and another opened today: empty weeks would use up every read
    now = time.time_ns() // 1_000_000
    fake.transactions = [settlement(1, now - HOUR_MS, "-1")]
    (p,) = asyncio.run(using(session(fake), lambda s: s.funding_payments((now - 400 * 24 * HOUR_MS) * 1_000_000)))
    assert p.payment_id == "592324_BTCUSDT_1" and "the last 49 weeks only" in caplog.text
    assert now - int(fake.log_queries[0]["startTime"]) <= 49 * 7 * 24 * HOUR_MS and len(fake.log_queries) == 49


def test_a_funding_read_with_the_wrong_secret_or_unsigned_is_refused(fake):
    with pytest.raises(AuthenticationError) as err:
        asyncio.run(using(session(fake, "wrong-secret"), lambda s: s.funding_payments(0)))
    assert "10004" in str(err.value) and "wrong-secret" not in str(err.value)
    with pytest.raises(AuthenticationError, match="10003"):           # no key, no signature
        asyncio.run(using(session(fake), lambda s: s.client.public("/v5/account/transaction-log", {"category": "linear"})))
    assert fake.log_queries == []


# -- [venues.bybit] leverage --------------------------------------------------------------------------
PERP = next(i for i in INSTRUMENTS if i.symbol == "BTC-USDT-PERP")


def pnode(n=0, side="buy", qty="0.5", price="91006.00", kind="ioc"):
    gid = "graph_00000000b1b2"
    return NodeOrder(f"{gid}:node_{n}:0", gid, n, 0, "bybit", "BTC-USDT-PERP", side, Decimal(qty),
                     Decimal(price) if price else None, kind, "PENDING_NEW", 0, 0)


def levered(fake, leverage) -> BybitSession:
    return BybitSession(BybitClient(KEY, SECRET, fake.url), {"leverage": leverage})


def test_leverage_is_set_once_per_perp_before_its_first_order_and_never_for_spot(fake):
    async def work(s):
        await s.place(node(1), BTC)                                   # spot: no leverage call
        await s.place(pnode(2), PERP)
        await s.place(pnode(3, side="sell", price="90990.00"), PERP)
    asyncio.run(using(levered(fake, 5), work))
    assert fake.leverage_sets == [("BTCUSDT", "5", 1)]                # once, after the spot order, before the perp's
    assert fake.requests.count(("POST", "/v5/position/set-leverage")) == 1


def test_leverage_already_at_the_value_is_success_and_absent_means_untouched(fake):
    fake.leverage["BTCUSDT"] = "5"                                     # 110043 "leverage not modified"
    state = asyncio.run(using(levered(fake, 5), lambda s: s.place(pnode(1), PERP)))
    assert state.status == "FILLED" and fake.requests.count(("POST", "/v5/position/set-leverage")) == 1
    asyncio.run(using(session(fake), lambda s: s.place(pnode(2), PERP)))
    assert fake.requests.count(("POST", "/v5/position/set-leverage")) == 1 and fake.leverage_sets == []


def test_a_leverage_changed_at_bybit_is_set_again_before_the_next_order(fake):
    async def work(s):
        await s.place(pnode(1), PERP)
        fake.leverage["BTCUSDT"] = "20"                                # changed in Bybit's app meanwhile
        fake.positions = [{"symbol": "BTCUSDT", "side": "Buy", "size": "0.5", "avgPrice": "91000.00", "leverage": "20"}]
        await s.positions()
        await s.place(pnode(2), PERP)
    asyncio.run(using(levered(fake, 5), work))
    assert fake.leverage_sets == [("BTCUSDT", "5", 0), ("BTCUSDT", "5", 1)]


def test_a_leverage_over_the_maximum_is_a_clear_error_before_the_order(fake):
    with pytest.raises(InvalidOrder) as refused:
        asyncio.run(using(levered(fake, 150), lambda s: s.place(pnode(1), PERP)))
    message = str(refused.value)
    assert "leverage 150 refused for BTCUSDT (linear)" in message and "(110013)" in message
    assert "Bybit allows at most 100x on it" in message
    assert fake.orders == {} and ("POST", "/v5/order/create") not in fake.requests


@pytest.mark.parametrize("value", [0, -3, 2.5, "5", True])
def test_a_leverage_that_is_not_a_positive_whole_number_is_refused_when_the_session_is_built(value):
    from sequence_venue_bybit.venue import BybitVenue

    with pytest.raises(ConfigError, match=re.escape(f"[venues.bybit] leverage = {value!r} is not a positive whole number")):
        BybitVenue().execution_session({"api_key": KEY, "api_secret": SECRET}, {"base_url": "http://127.0.0.1:9", "leverage": value})
