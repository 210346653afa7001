"""The Kraken private ``executions`` stream: against the fake server through the core's runner
(token per connect, subscribe as the login, fills with the id REST reports, a refused token, a
reconnect), and its parser on Kraken-shaped reports (sparse updates, long client ids)."""

import asyncio
import sys
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import aiohttp
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fake_kraken import FakeKraken  # noqa: E402
from sequence_core.orders import NodeOrder  # noqa: E402
from sequence_core.testing import StreamProbe, refused_login, running, until  # noqa: E402
from sequence_venue_kraken.execution import KrakenSession, venue_client_id  # noqa: E402
from sequence_venue_kraken.http import KrakenClient  # noqa: E402
from sequence_venue_kraken.stream import KrakenUserStream, private_url  # noqa: E402
from sequence_venue_kraken.symbols import INSTRUMENTS  # noqa: E402

KEY = "kraken-key-0002"
SECRET = "a3Jha2VuLXN0cmVhbS1zZWNyZXQtYnl0ZXMtMDAwMg=="       # base64 of test bytes, not a real key
WRONG = "d3Jvbmctc2VjcmV0LWJ5dGVzLXh5eg=="
BTC = next(i for i in INSTRUMENTS if i.symbol == "BTC-USD")
BY_SYMBOL = {i.venue_symbol: i for i in INSTRUMENTS}


@pytest.fixture
def fake():
    yield from running(FakeKraken(KEY, SECRET))


def session(fake, secret=SECRET) -> KrakenSession:
    ws = fake.url.replace("http", "ws")
    return KrakenSession(KrakenClient(KEY, secret, fake.url, 5), {"ws_url": ws + "/v2", "private_ws_url": ws + "/auth/v2"})


def node(n=0, seq=0, price="80000.0", qty="0.5", kind="limit"):
    gid = "graph_00000000feed"
    return NodeOrder(f"{gid}:node_{n}:{seq}", gid, n, seq, "kraken", "BTC-USD", "buy", Decimal(qty), Decimal(price), kind,
                     "PENDING_NEW", 0, 0)


def streaming(fake, work, secret=SECRET):
    """Run ``work(session, probe)`` with the session's own stream logged in."""
    async def go():
        s = session(fake, secret)
        try:
            async with StreamProbe(s.user_stream(), INSTRUMENTS) as probe:
                await until(lambda: probe.runner.live and fake.private, what="executions subscribed")
                return await work(s, probe)
        finally:
            await s.close()
    return asyncio.run(go())


def test_a_resting_fill_arrives_with_the_engine_client_id_and_the_fill_id_rest_reports(fake):
    long_node = node(n=12, seq=3)                      # 19 characters: sent to Kraken as a UUID

    async def work(s, probe):
        await s.place(long_node, BTC)
        fake.fill_resting(venue_client_id(long_node.client_order_id), "0.2")
        await until(lambda: any(st.fills for st in probe.states), what="the fill pushed")
        return probe.states, await s.order_state(long_node.client_order_id, BTC)
    states, polled = streaming(fake, work)
    assert {st.client_order_id for st in states} == {long_node.client_order_id}
    (fill,) = states[-1].fills
    assert (states[-1].status, states[-1].filled_qty) == ("PARTIALLY_FILLED", Decimal("0.2"))
    assert (fill.price, fill.qty, fill.fee, fill.fee_asset, fill.liquidity) == \
        (Decimal("80000.0"), Decimal("0.2"), Decimal("40.0"), "USD", "maker")           # 0.25% of 16000 USD
    assert [f.fill_id for f in polled.fills] == [fill.fill_id]                             # stream + poll count once
    assert fake.logins == [True] and all(t["used"] for t in fake.tokens.values())


def test_a_taker_fill_and_then_amend_and_cancel_reach_the_stream(fake):
    async def work(s, probe):
        await s.place(node(0, price="91000.0", qty="0.1", kind="ioc"), BTC)
        await until(lambda: any(st.status == "FILLED" for st in probe.states), what="the IOC filled")
        taker = [st for st in probe.states if st.fills]
        resting = node(1, price="80000.0", qty="0.02")
        await s.place(resting, BTC)
        await s.amend(resting, BTC, Decimal("80100.0"), Decimal("0.03"))
        await s.cancel(resting, BTC)
        await until(lambda: probe.states[-1].status == "CANCELLED", what="the cancel pushed")
        return taker, [st for st in probe.states if st.client_order_id == resting.client_order_id]
    (taker,), resting = streaming(fake, work)
    assert (taker.fills[0].liquidity, taker.fills[0].fee) == ("taker", Decimal("36.4"))      # 0.40% of 9100 USD
    amended = next(st for st in resting if st.price == Decimal("80100.0"))
    assert (amended.status, amended.qty) == ("NEW", Decimal("0.03"))
    assert (resting[-1].status, resting[-1].reason, resting[-1].filled_qty) == ("CANCELLED", "User requested", 0)


def test_a_refused_subscription_is_a_refused_login_that_never_shows_the_token_or_secret(fake):
    fake.ws_refusal = "EAccount:Invalid permissions"
    s = session(fake)
    probe = refused_login(s.user_stream(), INSTRUMENTS)
    asyncio.run(s.close())
    error = probe.runner.stats.error
    assert "refused the private websocket login" in error and SECRET not in error
    assert not any(token in error for token in fake.tokens) and fake.tokens
    assert not probe.runner.live and probe.connects == 0 and fake.private == [] and fake.logins[0] is False


def test_a_wrong_secret_fails_at_the_token_call_as_a_login_error_that_hides_it(fake):
    s = session(fake, secret=WRONG)
    probe = refused_login(s.user_stream(), INSTRUMENTS)
    asyncio.run(s.close())
    error = probe.runner.stats.error
    assert "websocket token" in error and "Invalid signature" in error and WRONG not in error
    assert fake.tokens == {} and fake.logins == [] and probe.connects == 0


def test_each_reconnect_subscribes_with_a_fresh_token_and_asks_for_a_catch_up(fake):
    async def work(s, probe):
        fake.drop_sockets()
        await until(lambda: probe.connects >= 2 and probe.runner.live, what="reconnect")
        return probe.runner.stats.reconnects
    assert streaming(fake, work) >= 1
    assert fake.logins[:2] == [True, True] and len(fake.tokens) >= 2      # one token per connection


def test_a_token_older_than_15_minutes_is_refused_by_the_venue(fake):
    async def go():
        s = session(fake)
        stream = s.user_stream()
        await stream.url()
        fake.clock_offset_ms = 16 * 60 * 1000             # the token sat unused past its 15 minutes
        async with aiohttp.ClientSession() as http, http.ws_connect(stream.settings["private_ws_url"]) as ws:
            await ws.send_json(stream.login()[0])
            while (verdict := stream.logged_in(await ws.receive_json())) is None:
                pass
        await s.close()
        return verdict
    assert asyncio.run(go()) is False and fake.logins == [False]


# -- the parser on Kraken-shaped reports ------------------------------------------------------------
def parser(cids=None, txids=None) -> KrakenUserStream:
    return KrakenUserStream(SimpleNamespace(_cids=cids or {}, _txids=txids or {}, client=None), {})


def update(*entries, kind="update"):
    return {"channel": "executions", "type": kind, "data": list(entries)}


def test_sparse_reports_keep_the_client_id_their_first_report_gave():
    cid = "sq00000000feedn12s3"
    stream = parser(cids={venue_client_id(cid): cid})
    first = {"order_id": "OK4GJX-KSTLS-7DZZO5", "exec_type": "pending_new", "order_status": "pending_new",
             "cl_ord_id": venue_client_id(cid), "symbol": "BTC/USD", "order_qty": 0.01, "limit_price": 26500.0,
             "cum_qty": 0, "timestamp": "2023-09-22T10:33:05.709950Z"}
    # a trade as on https://docs.kraken.com/api/docs/websocket-v2/executions : no cl_ord_id, numbers as JSON numbers
    trade = {"order_id": "OK4GJX-KSTLS-7DZZO5", "exec_id": "TGBB7L-HT5LX-J3BZ4A", "exec_type": "trade",
             "trade_id": 62887576, "symbol": "BTC/USD", "side": "sell", "last_qty": 0.005, "last_price": 26599.9,
             "liquidity_ind": "t", "cost": 132.9995, "order_status": "partially_filled", "order_type": "limit",
             "timestamp": "2023-09-22T10:33:05.709993Z", "fee_usd_equiv": 0.3458, "cum_qty": 0.005,
             "cum_cost": 132.9995, "avg_price": 26599.9, "fees": [{"asset": "USD", "qty": 0.3458}]}
    cancel = {"order_id": "OK4GJX-KSTLS-7DZZO5", "exec_type": "canceled", "order_status": "canceled", "cum_qty": 0.005,
              "reason": "User requested", "timestamp": "2023-09-22T10:34:00.000000Z"}
    (new,) = stream.parse(update(first), BY_SYMBOL)
    (traded,) = stream.parse(update(trade), BY_SYMBOL)
    (gone,) = stream.parse(update(cancel), BY_SYMBOL)
    assert (new.client_order_id, new.status, new.price, new.qty) == (cid, "NEW", Decimal("26500.0"), Decimal("0.01"))
    assert (traded.client_order_id, traded.status, traded.filled_qty) == (cid, "PARTIALLY_FILLED", Decimal("0.005"))
    (fill,) = traded.fills
    assert (fill.fill_id, fill.price, fill.qty, fill.fee, fill.fee_asset, fill.liquidity, fill.venue_ts_ns) == \
        ("TGBB7L-HT5LX-J3BZ4A", Decimal("26599.9"), Decimal("0.005"), Decimal("0.3458"), "USD", "taker", 1695378785709993000)
    assert (gone.client_order_id, gone.status, gone.reason, gone.fills) == (cid, "CANCELLED", "User requested", ())
    assert stream.session._txids == {cid: "OK4GJX-KSTLS-7DZZO5"}


def test_a_trade_that_completes_the_order_may_say_partially_filled_and_the_filled_report_ends_it():
    # https://docs.kraken.com/exchange/api-reference/unified-ws/executions (Spot): "A trade event can report
    # order_status: partially_filled even when that trade fills the entire order. A separate exec_type:
    # filled update reports completion"
    stream = parser(txids={"sq00000000feedn0s0": "OAAAAA-BBBBB-CCCCCC"})
    trade = {"order_id": "OAAAAA-BBBBB-CCCCCC", "exec_id": "TXXXXX-YYYYY-ZZZZZZ", "exec_type": "trade", "last_qty": 0.5,
             "last_price": 90000.0, "liquidity_ind": "m", "cum_qty": 0.5, "order_status": "partially_filled",
             "fees": [{"asset": "USD", "qty": 112.5}], "symbol": "BTC/USD", "timestamp": "2024-01-01T00:00:00Z"}
    filled = {"order_id": "OAAAAA-BBBBB-CCCCCC", "exec_type": "filled", "order_status": "filled",
              "timestamp": "2024-01-01T00:00:00Z"}
    (traded,) = stream.parse(update(trade), BY_SYMBOL)
    (done,) = stream.parse(update(filled), BY_SYMBOL)
    assert (traded.status, traded.filled_qty, len(traded.fills)) == ("PARTIALLY_FILLED", Decimal("0.5"), 1)
    assert (done.status, done.filled_qty, done.fills) == ("FILLED", Decimal("0.5"), ())
    assert stream._orders == {}                           # a terminal order is forgotten


def test_an_order_this_session_placed_is_known_by_its_txid_and_others_are_skipped():
    stream = parser(txids={"sq00000000feedn0s0": "OAAAAA-BBBBB-CCCCCC"})
    ours = {"order_id": "OAAAAA-BBBBB-CCCCCC", "exec_type": "filled", "order_status": "filled", "cum_qty": 0.5,
            "timestamp": "2024-01-01T00:00:00Z"}
    theirs = {"order_id": "OZZZZZ-ZZZZZ-ZZZZZZ", "exec_type": "new", "order_status": "new", "timestamp": "2024-01-01T00:00:00Z"}
    states = stream.parse(update(theirs, ours), BY_SYMBOL)
    assert [(s.client_order_id, s.status, s.filled_qty) for s in states] == [("sq00000000feedn0s0", "FILLED", Decimal("0.5"))]


def test_a_trade_without_fees_is_left_to_the_poll_and_acks_heartbeats_are_no_states():
    stream = parser(txids={"sq00000000feedn0s0": "OAAAAA-BBBBB-CCCCCC"})
    trade = {"order_id": "OAAAAA-BBBBB-CCCCCC", "exec_id": "TXXXXX-YYYYY-ZZZZZZ", "exec_type": "trade", "last_qty": 0.1,
             "last_price": 90000.0, "liquidity_ind": "m", "cum_qty": 0.1, "order_status": "partially_filled",
             "timestamp": "2024-01-01T00:00:00Z"}
    (state,) = stream.parse(update(trade), BY_SYMBOL)
    assert (state.status, state.filled_qty, state.fills) == ("PARTIALLY_FILLED", Decimal("0.1"), ())
    for other in ({"channel": "heartbeat"}, {"method": "pong", "time_in": "x", "time_out": "y"},
                  {"channel": "status", "type": "update", "data": [{"system": "online"}]}):
        assert stream.parse(other, BY_SYMBOL) == []


def test_the_subscribe_ack_is_the_login_verdict():
    stream = parser()
    assert stream.logged_in({"method": "subscribe", "result": {"channel": "executions", "snapshot": True},
                             "success": True, "time_in": "t", "time_out": "t"}) is True
    assert stream.logged_in({"error": "ESession:Invalid session", "method": "subscribe", "req_id": 42,
                             "success": False, "time_in": "t", "time_out": "t"}) is False
    assert stream.logged_in({"channel": "status", "type": "update", "data": []}) is None
    stream._token = "tok"
    assert stream.login() == [{"method": "subscribe", "params": {"channel": "executions", "token": "tok",
                                                                 "snap_orders": True, "snap_trades": False}}]
    assert stream.ping() == {"method": "ping"}


def test_the_private_url_is_the_setting_else_the_public_hosts_auth_sibling():
    assert private_url({}) == "wss://ws-auth.kraken.com/v2"
    assert private_url({"ws_url": "wss://ws.kraken.com/v2"}) == "wss://ws-auth.kraken.com/v2"
    assert private_url({"ws_url": "wss://beta-ws.kraken.com/v2"}) == "wss://beta-ws-auth.kraken.com/v2"
    assert private_url({"ws_url": "wss://ws.kraken.com/v2", "private_ws_url": "ws://127.0.0.1:9/auth/v2"}) == \
        "ws://127.0.0.1:9/auth/v2"
