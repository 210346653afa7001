"""Kraken Futures perpetuals against the fake futures server (which checks Authent and nonces
as Kraken does): orders (ioc, post, limit, market), cancel and native amend by cliOrdId, a lost
answer found again, fills with the fee charged, positions, perp margin, holdings with the flex
account's collateral, funding from the account log, the futures book socket (seq gap ->
resubscribe), and spot-only users left as they were."""

import asyncio
import json
import sys
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fake_kraken import FakeKraken  # noqa: E402
from fake_kraken_futures import FakeKrakenFutures  # noqa: E402
from sequence_core.errors import AuthenticationError, CredentialError, InvalidOrder, NetworkError  # noqa: E402
from sequence_core.execution import perp_margin  # noqa: E402
from sequence_core.feeds import FeedRunner  # noqa: E402
from sequence_core.market import resolve  # noqa: E402
from sequence_core.orders import NodeOrder  # noqa: E402
from sequence_core.testing import running, shared_responses, until  # noqa: E402
from sequence_venue_kraken import futures as futures_module  # noqa: E402
from sequence_venue_kraken.execution import KrakenSession  # noqa: E402
from sequence_venue_kraken.futures import KrakenFutures  # noqa: E402
from sequence_venue_kraken.futures_feed import KrakenFuturesFeed  # noqa: E402
from sequence_venue_kraken.futures_http import KrakenFuturesClient  # noqa: E402
from sequence_venue_kraken.http import KrakenClient  # noqa: E402
from sequence_venue_kraken.stream import KrakenUserStream  # noqa: E402
from sequence_venue_kraken.symbols import INSTRUMENTS, from_futures_instruments  # noqa: E402
from sequence_venue_kraken.venue import KrakenVenue  # noqa: E402

KEY, SECRET = "kraken-key-0003", "a3Jha2VuLXNwb3Qtc2VjcmV0LTAwMDM="                 # test bytes, not real keys
FKEY, FSECRET = "futures-key-0003", "a3Jha2VuLWZ1dHVyZXMtc2VjcmV0LTAwMDM="
WRONG = "d3Jvbmctc2VjcmV0LWJ5dGVzLXh5eg=="
PERP = next(i for i in INSTRUMENTS if i.venue_symbol == "PF_XBTUSD")
SAMPLES = shared_responses("kraken")


def sample(name: str):
    return json.loads((SAMPLES / f"{name}.json").read_text())


@pytest.fixture
def fake():
    yield from running(FakeKrakenFutures(FKEY, FSECRET, sample("http_futures_instruments")["instruments"]))


@pytest.fixture
def spot():
    yield from running(FakeKraken(KEY, SECRET))


def session(spot, fake=None, fsecret=FSECRET, fkey=FKEY, timeout_s=10.0) -> KrakenSession:
    futures = KrakenFutures(KrakenFuturesClient(fkey if fake else "", fsecret if fake else "",
                                                fake.url if fake else "http://127.0.0.1:9", timeout_s))
    return KrakenSession(KrakenClient(KEY, SECRET, spot.url, timeout_s), {}, futures)


def node(n=0, side="buy", qty="0.5", price="91000", kind="ioc", seq=0):
    gid = "graph_00000000feed"
    return NodeOrder(f"{gid}:node_{n}:{seq}", gid, n, seq, "kraken", "BTC-USD-PERP", side, Decimal(qty),
                     Decimal(price) if price else None, kind, "PENDING_NEW", 0, 0)


def run(s: KrakenSession, work):
    async def go():
        try:
            return await work(s)
        finally:
            await s.close()
    return asyncio.run(go())


# -- symbols and credentials ----------------------------------------------------------------------------
def test_perps_resolve_to_kraken_futures_linear_perps():
    assert [i.venue_symbol for i in resolve("BTC-USD-PERP", INSTRUMENTS)] == ["PF_XBTUSD"]
    assert {i.symbol: i.venue_symbol for i in INSTRUMENTS if i.kind == "perp"} == \
        {"BTC-USD-PERP": "PF_XBTUSD", "ETH-USD-PERP": "PF_ETHUSD", "SOL-USD-PERP": "PF_SOLUSD"}
    assert (PERP.tick_size, PERP.lot_size) == (Decimal("1"), Decimal("0.0001"))
    assert [i.venue_symbol for i in resolve("BTC-USD", INSTRUMENTS)] == ["BTC/USD", "BTC/USDT"]      # spot unchanged


def test_instruments_from_kraken_futures_recorded_answer():
    found = {i.venue_symbol: i for i in from_futures_instruments(sample("http_futures_instruments")["instruments"])}
    assert "PI_XBTUSD" not in found                                  # inverse: sized in USD contracts, left out
    eth = found["PF_ETHUSD"]
    assert (eth.symbol, eth.tick_size, eth.lot_size, eth.quote) == ("ETH-USD-PERP", Decimal("0.1"), Decimal("0.001"), "USD")
    assert found["PF_PEPEUSD"].lot_size == Decimal("1000")            # contractValueTradePrecision -3
    declared = next(i for i in INSTRUMENTS if i.venue_symbol == "PF_ETHUSD")
    assert (declared.tick_size, declared.lot_size) == (eth.tick_size, eth.lot_size)


def test_futures_keys_are_optional_but_come_in_pairs():
    venue = KrakenVenue()
    spot_only = venue.validate_credentials({"api_key": "k", "api_secret": SECRET})
    assert set(spot_only) == {"api_key", "api_secret"}
    both = venue.validate_credentials({"api_key": "k", "api_secret": SECRET, "futures_api_key": FKEY, "futures_api_secret": FSECRET})
    assert both["futures_api_key"] == FKEY
    with pytest.raises(CredentialError, match="futures_api_secret"):
        venue.validate_credentials({"api_key": "k", "api_secret": SECRET, "futures_api_key": FKEY})
    with pytest.raises(CredentialError, match="base64"):
        venue.validate_credentials({"api_key": "k", "api_secret": SECRET, "futures_api_key": FKEY, "futures_api_secret": "no base64!"})


def test_two_feeds_each_claims_its_own_books():
    spot_feed, perp_feed = KrakenVenue().market_data_feeds({})
    btc = next(i for i in INSTRUMENTS if i.symbol == "BTC-USD")
    assert (spot_feed.streams(btc), spot_feed.streams(PERP)) == (True, False)
    assert (perp_feed.streams(btc), perp_feed.streams(PERP)) == (False, True)
    assert perp_feed.ws_url == "wss://futures.kraken.com/ws/v1"


def test_the_spot_executions_stream_does_not_cover_perps():
    stream = KrakenUserStream(None, {})
    assert stream.covers(next(i for i in INSTRUMENTS if i.symbol == "BTC-USD")) and not stream.covers(PERP)


# -- orders ---------------------------------------------------------------------------------------------
def test_ioc_buy_fills_with_the_fee_kraken_charged(spot, fake):
    state = run(session(spot, fake), lambda s: s.place(node(), PERP))
    assert state.status == "FILLED" and state.filled_qty == Decimal("0.5")
    f = state.fills[0]
    assert (f.price, f.qty, f.fee, f.fee_asset, f.liquidity) == (Decimal("91000.0"), Decimal("0.5"), Decimal("22.75"), "USD", "taker")
    sent = fake.sent[0]
    assert (sent["orderType"], sent["symbol"], sent["side"], sent["size"], sent["limitPrice"]) == ("ioc", "PF_XBTUSD", "buy", "0.5", "91000")
    assert sent["cliOrdId"] == node().client_order_id
    assert spot.placed == []                                          # nothing went to spot


def test_market_and_post_only_orders(spot, fake):
    async def work(s):
        market = await s.place(node(1, side="sell", qty="0.25", price=None, kind="market"), PERP)
        post = await s.place(node(2, price="91000", kind="post_only"), PERP)      # would take the ask
        return market, post
    market, post = run(session(spot, fake), work)
    assert market.status == "FILLED" and market.fills[0].price == Decimal("90990.0") and fake.sent[0]["orderType"] == "mkt"
    assert "limitPrice" not in fake.sent[0]
    assert (post.status, post.filled_qty, post.reason) == ("CANCELLED", 0, "postWouldExecute")


def test_resting_limit_is_listed_amended_natively_and_cancelled(spot, fake):
    async def work(s):
        n = node(3, qty="1", price="90000", kind="limit")
        placed = await s.place(n, PERP)
        listed = await s.open_orders(PERP)
        fake.fill_resting(n.client_order_id, "0.4")
        await until(lambda: fake.fills, what="maker fill")
        amended = await s.amend(n, PERP, Decimal("90500"), Decimal("1.5"))
        cancelled = await s.cancel(n, PERP)
        return placed, listed, amended, cancelled
    placed, listed, amended, cancelled = run(session(spot, fake), work)
    assert placed.status == "NEW" and placed.price == Decimal("90000")
    assert [(o.client_order_id, o.qty, o.price) for o in listed] == [(node(3).client_order_id, Decimal("1.0"), Decimal("90000.0"))]
    assert fake.edits[0]["size"] == "1.1"                             # Kraken's size is the open size: 1.5 - 0.4
    assert (amended.mode, amended.state.qty, amended.state.price, amended.state.status) == \
        ("native_atomic", Decimal("1.5"), Decimal("90500.0"), "PARTIALLY_FILLED")
    assert amended.state.fills[0].liquidity == "maker" and amended.state.fills[0].fee == Decimal("7.2")
    assert cancelled.status == "CANCELLED" and cancelled.filled_qty == Decimal("0.4")


def test_an_amend_that_would_take_is_refused_and_the_order_stands(spot, fake):
    async def work(s):
        n = node(4, qty="1", price="90000", kind="post_only")
        await s.place(n, PERP)
        with pytest.raises(InvalidOrder, match="postWouldExecute"):
            await s.amend(n, PERP, Decimal("91500"), None)
        return await s.order_state(n.client_order_id, PERP)
    assert run(session(spot, fake), work).price == Decimal("90000.0")


def test_a_lost_place_answer_is_found_by_cliordid_and_after_kraken_forgets_it(spot, fake):
    fake.slow_next_s = 1.0
    n = node(5)

    async def work(s):
        with pytest.raises(NetworkError):
            await s.place(n, PERP)                                    # Kraken filled it; the answer was lost
        found = await s.order_state(n.client_order_id, PERP)
        fake.status_window_ms = 0                                     # past orders/status' 5 seconds
        later = await s.order_state(n.client_order_id, PERP)
        return found, later
    found, later = run(session(spot, fake, timeout_s=0.5), work)
    assert len(fake.sent) == 1
    assert (found.status, found.filled_qty, len(found.fills)) == ("FILLED", Decimal("0.5"), 1)
    assert (later.status, later.filled_qty, later.fills) == ("FILLED", Decimal("0.5"), found.fills)


def test_an_ioc_that_would_not_execute_is_cancelled_and_a_forgotten_order_reads_cancelled(spot, fake):
    async def work(s):
        ioc = await s.place(node(6, price="80000"), PERP)
        n = node(9, qty="1", price="90000", kind="limit")
        await s.place(n, PERP)
        await s.cancel(n, PERP)
        fake.status_window_ms = 0                                     # Kraken no longer reports the cancel
        return ioc, await s.order_state(n.client_order_id, PERP)
    ioc, gone = run(session(spot, fake), work)
    assert (ioc.status, ioc.filled_qty, ioc.reason) == ("CANCELLED", 0, "iocWouldNotExecute")
    assert (gone.status, gone.filled_qty, gone.qty) == ("CANCELLED", 0, Decimal("1"))


def test_a_wrong_futures_secret_is_refused_without_showing_it(spot, fake):
    with pytest.raises(AuthenticationError) as exc:
        run(session(spot, fake, fsecret=WRONG), lambda s: s.place(node(), PERP))
    assert WRONG not in str(exc.value) and FSECRET not in str(exc.value)
    assert fake.sent == []


def test_a_nonce_below_kraken_s_is_signed_again_from_its_clock(spot, fake):
    fake.clock_offset_ms = 3_600_000                                  # another machine, an hour ahead, used the key
    fake.last_nonce = fake.now_ms()
    state = run(session(spot, fake), lambda s: s.place(node(7), PERP))
    assert state.status == "FILLED" and len(fake.sent) == 1


# -- spot-only users --------------------------------------------------------------------------------------
def test_without_futures_keys_spot_is_as_before_and_perps_are_refused(spot):
    async def work(s):
        balances = await s.balances()
        with pytest.raises(InvalidOrder, match="futures_api_key"):
            await s.place(node(), PERP)
        return balances, await s.positions(), await s.funding_payments(0)
    balances, positions, funding = run(session(spot), work)
    assert perp_margin("USD") not in balances and balances["BTC"] == Decimal("1.5")
    assert positions is None and funding is None


# -- account ----------------------------------------------------------------------------------------------
def test_balances_add_the_flex_accounts_available_margin(spot, fake):
    fake.available = Decimal("12345.67")
    balances = run(session(spot, fake), lambda s: s.balances())
    assert balances[perp_margin("USD")] == Decimal("12345.67") and balances["USD"] > 0


def test_holdings_add_the_flex_accounts_collateral_without_its_unrealized_pnl(spot, fake):
    fake.collateral["XBT"] = Decimal("0.25")                 # BTC posted as collateral, in Kraken's name

    async def work(s):
        await s.place(node(9, qty="0.5", price=None, kind="market"), PERP)   # long 0.5 at 91000: 22.75 fee
        return await s.holdings()
    held = run(session(spot, fake), work)
    assert fake.available == Decimal("10000") - Decimal("22.75") and fake.position == Decimal("0.5")
    # spot: 100,000 USD, 1 BTC + 0.5 XBT.F; the flex account: its USD and XBT quantities, not the
    # position's -2.5 of unrealized P&L (portfolioValue), nor the XBT's USD value or haircut
    assert held == {"USD": Decimal("100000") + Decimal("9977.25"), "BTC": Decimal("1.5") + Decimal("0.25")}
    assert ("GET", "/derivatives/api/v3/accounts") in fake.requests


def test_holdings_are_spot_only_without_futures_keys_or_when_kraken_refuses_them(spot, fake):
    fake.collateral["XBT"] = Decimal("0.25")
    assert run(session(spot), lambda s: s.holdings()) == {"USD": Decimal("100000"), "BTC": Decimal("1.5")}
    assert run(session(spot, fake, fsecret=WRONG), lambda s: s.holdings()) == {"USD": Decimal("100000"), "BTC": Decimal("1.5")}
    assert ("GET", "/derivatives/api/v3/accounts") in fake.requests          # asked, refused: spot stands


def test_positions_are_signed_and_only_linear_perps(spot, fake):
    async def work(s):
        await s.place(node(8, side="sell", qty="0.3", price=None, kind="market"), PERP)
        return await s.positions()
    positions = run(session(spot, fake), work)
    assert [(p.venue_symbol, p.qty, p.entry_price) for p in positions] == [("PF_XBTUSD", Decimal("-0.3"), Decimal("90990.0"))]


def test_funding_payments_from_the_account_log(spot, fake, monkeypatch):
    monkeypatch.setattr(futures_module, "LOG_PAGE", 2)
    base = 1_765_000_000_000
    fake.add_log("funding rate change", base - 3_600_000, -1.5)       # before since: not asked for
    fake.add_log("futures trade", base + 1000)
    paid = fake.add_log("funding rate change", base + 2000, -0.25)
    fake.add_log("funding rate change", base + 3000, 0.0)              # no position: nothing moved
    got = fake.add_log("funding rate change", base + 4000, 0.125, contract="pf_ethusd")
    found = run(session(spot, fake), lambda s: s.funding_payments(base * 1_000_000))
    assert [(p.payment_id, p.venue_symbol, p.asset, p.amount) for p in found] == \
        [(str(paid["id"]), "PF_XBTUSD", "USD", Decimal("-0.25")), (str(got["id"]), "PF_ETHUSD", "USD", Decimal("0.125"))]
    assert found[0].venue_ts_ns == (base + 2000) * 1_000_000
    assert [r.get("from") for r in fake.log_requests] == [None, str(got["id"])]      # page 2 starts after page 1's last id
    assert all(r["info"] == "funding rate change" and r["sort"] == "asc" for r in fake.log_requests)


# -- the futures book socket ----------------------------------------------------------------------------
def test_book_snapshot_deltas_and_a_seq_gap_resubscribes(fake):
    async def go():
        feed = KrakenFuturesFeed({"futures_url": fake.url, "futures_ws_url": fake.url.replace("http", "ws") + "/ws/v1"})
        runner = FeedRunner(feed, [PERP], max_backoff_s=0.2).start()
        try:
            await until(lambda: runner.book(PERP) is not None, what="snapshot")
            first = runner.book(PERP)
            fake.push_level("buy", 90995.0, 1.5)
            await until(lambda: runner.book(PERP) and runner.book(PERP).best_bid.price == Decimal("90995"), what="delta")
            fake.skip_next_seq = True
            fake.push_level("sell", 91000.0, 0.0)
            await until(lambda: runner.stats.resyncs == 1, what="resubscribe")
            await until(lambda: runner.book(PERP) is not None, what="fresh snapshot")
            fake.push_trade("sell", 90990.0, 0.01)
            fake.push_trade("buy", 90000.0, 5.0, kind="block")
            await until(lambda: runner.trades["PF_XBTUSD"], what="trade")
            await asyncio.sleep(0.1)
            return first, runner.book(PERP), list(runner.trades["PF_XBTUSD"])
        finally:
            await runner.stop()
    first, after, trades = asyncio.run(go())
    assert [(lv.price, lv.size) for lv in first.asks] == [(Decimal("91000"), Decimal("2.0000"))]      # the qty 0 level is no level
    assert after.best_ask.price == Decimal("91000")                   # the fresh snapshot, not the lost delta's book
    assert [s["event"] for s in fake.subscriptions if s["feed"] == "book"] == ["subscribe", "unsubscribe", "subscribe"]
    assert [(t.side, t.price, t.size) for t in trades] == [(-1, Decimal("90990.0"), Decimal("0.01"))]


def test_recorded_futures_websocket_messages_parse():
    feed = KrakenFuturesFeed({})
    snap = feed.parse(sample("ws_futures_book_snapshot"))[0]
    assert (snap.kind, snap.seq, snap.bids[0], snap.asks[0]) == \
        ("snapshot", 326072249, (Decimal("34892.5"), Decimal("6385")), (Decimal("34911.5"), Decimal("20598")))
    delta = feed.parse(sample("ws_futures_book_delta"))[0]
    assert (delta.kind, delta.seq, delta.bids, delta.asks) == ("delta", 326094134, (), ((Decimal("34981"), Decimal("0")),))
    trade = feed.parse(sample("ws_futures_trade"))[0]
    assert (trade.symbol, trade.side, trade.price, trade.size, trade.ts_ns) == \
        ("PI_XBTUSD", -1, Decimal("34969.5"), Decimal("15000"), 1612266317519 * 1_000_000)
    assert feed.parse(sample("ws_futures_trade_snapshot")) == [] and feed.parse({"event": "info", "version": 1}) == []


def test_recorded_rest_answers_parse():
    from sequence_venue_kraken.futures import _fill, _funding

    f = _fill(sample("http_futures_fills")["fills"][1])
    assert (f.fill_id, f.qty, f.fee, f.fee_asset, f.liquidity) == \
        ("b1aa44b2-4f2a-4031-999c-ae1175c91580", Decimal("5000.0"), Decimal("0.00685589"), "ETH", "taker")
    # the account-log entry Kraken's docs era published (old_balance -> new_balance moved by realized_funding)
    p = _funding({"id": 1688, "date": "2019-07-11T00:00:00.000Z", "asset": "bch", "info": "funding rate change",
                  "old_balance": 0.01215847263, "new_balance": 0.01215715298, "realized_funding": -1.31965e-06,
                  "contract": "pf_bchusd"})
    assert (p.payment_id, p.venue_symbol, p.asset, p.amount) == ("1688", "PF_BCHUSD", "BCH", Decimal("-0.00000131965"))
