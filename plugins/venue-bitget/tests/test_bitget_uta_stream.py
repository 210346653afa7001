"""A unified trading account's private websocket (v3) against the fake server: the socket is
chosen at connect (v3 for a UTA, v2 for a Classic account), logs in as Bitget checks it, and
pushes a resting order's fill with the ``execId`` REST reports (spot and perp); a refused login
is said without the credentials; a dropped socket logs in and subscribes again; Bitget's
documented ``order`` and ``fill`` pushes parse."""

import asyncio
import sys
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fake_bitget import unified_account  # noqa: E402
from sequence_core.testing import StreamProbe, child_order, refused_login, until  # noqa: E402
from sequence_venue_bitget.execution import BitgetSession  # noqa: E402
from sequence_venue_bitget.http import _MODES, BitgetClient  # noqa: E402
from sequence_venue_bitget.symbols import INSTRUMENTS  # noqa: E402

KEY, SECRET, PASS = "bitget-uta-ws-key", "bitget-uta-ws-secret", "uta ws pass"
BTC = next(i for i in INSTRUMENTS if i.symbol == "BTC-USDT")
BTC_PERP = next(i for i in INSTRUMENTS if i.kind == "perp" and i.base == "BTC")
UTA_SUBSCRIBE = [{"op": "subscribe", "args": [{"instType": "UTA", "topic": "order"}, {"instType": "UTA", "topic": "fill"}]}]


@pytest.fixture
def fake():
    with unified_account(KEY, SECRET, PASS) as server:
        yield server


def session(fake, account="auto", secret=SECRET) -> BitgetSession:
    settings = {"account": account, "ws_url": fake.url.replace("http", "ws") + "/v2/ws/public"}
    return BitgetSession(BitgetClient(KEY, secret, PASS, fake.url), settings)


def node(n, inst, price):
    return child_order(n, inst, price=price, qty="0.5", order_type="limit", graph_id="graph_00000000a7b0")


def test_the_socket_is_chosen_at_connect_v3_for_a_uta_v2_for_classic(fake):
    async def connect(account):
        s = session(fake, account)
        try:
            stream = s.user_stream()
            return await stream.url(), stream.subscribe()
        finally:
            await s.close()
    url, subscribe = asyncio.run(connect("auto"))              # a UTA found at connect
    assert url == fake.url.replace("http", "ws") + "/v3/ws/private" and subscribe == UTA_SUBSCRIBE
    fake.requests.clear()
    assert asyncio.run(connect("uta"))[0].endswith("/v3/ws/private")
    assert ("GET", "/api/v3/account/settings") not in fake.requests     # the setting is taken as said
    fake.uta = False
    _MODES.clear()
    url, subscribe = asyncio.run(connect("auto"))              # a Classic account keeps v2
    assert url.endswith("/v2/ws/private") and [m["args"][0]["instType"] for m in subscribe] == ["SPOT", "USDT-FUTURES"]


@pytest.mark.parametrize("inst,price", [(BTC, "90000.00"), (BTC_PERP, "90000.0")], ids=["spot", "perp"])
def test_a_uta_resting_fill_arrives_on_the_v3_socket_with_the_exec_id_rest_reports(fake, inst, price):
    n = node(1, inst, price)

    async def go():
        s = session(fake)
        try:
            async with StreamProbe(s.user_stream(), INSTRUMENTS) as probe:
                await until(lambda: probe.runner.live and fake.uta_private, what="v3 stream logged in and subscribed")
                await s.place(n, inst)
                fake.fill_resting(n.client_order_id, "0.2")
                await until(lambda: any(st.fills for st in probe.states), what="fill pushed")
                await until(lambda: any(st.status == "PARTIALLY_FILLED" for st in probe.states), what="order pushed")
                rest = await s.order_state(n.client_order_id, inst)
            return probe.states, rest
        finally:
            await s.close()
    states, rest = asyncio.run(go())
    (pushed,) = [f for st in states for f in st.fills]
    assert pushed == rest.fills[0]                        # same execId, price, size, fee and time: counted once
    assert (pushed.price, pushed.qty, pushed.liquidity) == (Decimal(price), Decimal("0.2"), "maker")
    assert {st.client_order_id for st in states} == {n.client_order_id}
    assert [st.status for st in states if not st.fills] == ["NEW", "PARTIALLY_FILLED"]
    assert [st.filled_qty for st in states if not st.fills] == [Decimal(0), Decimal("0.2")]
    assert fake.uta_logins == [True] and fake.logins == []          # the v2 socket was never used
    assert fake.uta_private_args == UTA_SUBSCRIBE[0]["args"]


def test_a_refused_v3_login_is_said_without_the_credentials(fake):
    probe = refused_login(session(fake, "uta", secret="not-the-uta-secret").user_stream(), INSTRUMENTS)
    error = probe.runner.stats.error
    assert "refused the private websocket login" in error
    assert not any(word in error for word in ("not-the-uta-secret", KEY, PASS))
    assert fake.uta_logins[0] is False and fake.uta_private == [] and not probe.runner.live


def test_a_dropped_v3_socket_logs_in_and_subscribes_again(fake):
    n = node(2, BTC, "90000.00")

    async def go():
        s = session(fake, "uta")
        try:
            async with StreamProbe(s.user_stream(), INSTRUMENTS) as probe:
                await until(lambda: probe.runner.live and fake.uta_private, what="first connect")
                fake.drop_sockets()
                await until(lambda: probe.connects >= 2 and probe.runner.live and len(fake.uta_private) == 2, what="reconnect")
                await s.place(n, BTC)
                await s.cancel(n, BTC)
                await until(lambda: any(st.status == "CANCELLED" for st in probe.states), what="cancel pushed")
            return probe.states, probe.runner.stats.reconnects
        finally:
            await s.close()
    states, reconnects = asyncio.run(go())
    assert reconnects >= 1 and fake.uta_logins == [True, True]
    assert fake.uta_private_args == UTA_SUBSCRIBE[0]["args"] * 2
    assert [(st.client_order_id, st.status) for st in states] == [(n.client_order_id, "NEW"), (n.client_order_id, "CANCELLED")]


# https://www.bitget.com/api-doc/uta/websocket/private/Order-Channel (the documented push)
DOCUMENTED_ORDER_PUSH = {"action": "snapshot", "arg": {"instType": "UTA", "topic": "order"}, "data": [
    {"category": "usdt-futures", "symbol": "BTCUSDT", "orderId": "xxx", "clientOid": "xxx", "price": "", "qty": "0.001",
     "amount": "1000", "holdMode": "hedge_mode", "holdSide": "long", "delegateType": "normal", "tradeSide": "open",
     "orderType": "market", "timeInForce": "gtc", "side": "buy", "marginMode": "crossed", "marginCoin": "USDT",
     "reduceOnly": "no", "cumExecQty": "0.001", "cumExecValue": "83.1315", "avgPrice": "83131.5", "totalProfit": "0",
     "orderStatus": "filled", "cancelReason": "", "leverage": "20", "feeDetail": [{"feeCoin": "USDT", "fee": "0.0332526"}],
     "createdTime": "1742367838101", "updatedTime": "1742367838115", "stpMode": "none"}], "ts": 1742367838124}
# https://www.bitget.com/api-doc/uta/websocket/private/Fill-Channel (the documented push)
DOCUMENTED_FILL_PUSH = {"data": [
    {"symbol": "BTCUSDT", "orderType": "market", "updatedTime": "1736378720623", "side": "buy", "orderId": "1288888888888888888",
     "execPnl": "0", "feeDetail": [{"feeCoin": "USDT", "fee": "0.569958"}], "execTime": "1736378720623", "tradeScope": "taker",
     "tradeSide": "open", "execId": "1288888888888888888", "execLinkId": "1288888888888888888", "execPrice": "94993",
     "holdSide": "long", "execValue": "949.93", "category": "USDT-FUTURES", "execQty": "0.01", "clientOid": "1288888888888888889"}],
    "arg": {"instType": "UTA", "topic": "fill"}, "action": "snapshot", "ts": 1733904123981}


def test_documented_order_and_fill_pushes_parse():
    from sequence_venue_bitget.stream import BitgetUserStream

    stream = BitgetUserStream(BitgetClient(KEY, SECRET, PASS, "http://127.0.0.1:9"), {})
    by_symbol = {i.venue_symbol: i for i in INSTRUMENTS}
    (order,) = stream.parse(DOCUMENTED_ORDER_PUSH, by_symbol)
    assert (order.client_order_id, order.venue_order_id, order.status, order.filled_qty, order.fills) == \
        ("xxx", "xxx", "FILLED", Decimal("0.001"), ())
    assert (order.price, order.qty, order.venue_ts_ns) == (None, Decimal("0.001"), 1742367838115_000_000)   # a market order
    (state,) = stream.parse(DOCUMENTED_FILL_PUSH, by_symbol)
    (fill,) = state.fills
    assert (state.client_order_id, state.venue_order_id, state.status) == ("1288888888888888889", "1288888888888888888", "NEW")
    assert (fill.fill_id, fill.price, fill.qty, fill.fee, fill.fee_asset, fill.liquidity, fill.venue_ts_ns) == \
        ("1288888888888888888", Decimal("94993"), Decimal("0.01"), Decimal("0.569958"), "USDT", "taker", 1736378720623_000_000)
    # the category in either case; margin, coin-M and USDC-M items are not ours
    item = DOCUMENTED_FILL_PUSH["data"][0]
    lower = {**DOCUMENTED_FILL_PUSH, "data": [{**item, "category": "usdt-futures"}]}
    assert stream.parse(lower, by_symbol) == [state]
    for cat in ("MARGIN", "COIN-FUTURES", "usdc-futures"):
        assert stream.parse({**DOCUMENTED_FILL_PUSH, "data": [{**item, "category": cat}]}, by_symbol) == []
    # an order placed without a client id (not one of ours) is skipped, not a malformed message
    anonymous = {k: v for k, v in item.items() if k != "clientOid"}
    assert stream.parse({**DOCUMENTED_FILL_PUSH, "data": [anonymous]}, by_symbol) == []
    # acks and the keepalive answer are not order updates
    assert stream.parse({"event": "subscribe", "arg": {"instType": "UTA", "topic": "fill"}}, by_symbol) == []
    assert stream.parse("pong", by_symbol) == []
