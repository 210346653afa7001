"""Binance's user data streams against the fake server. Spot, over the WebSocket API: the signed
subscription, execution reports for a resting order's fill (with the trade id myTrades
reports), a refused subscription, and the published executionReport payloads. USD-M, a listenKey
stream on fapi's private route: a resting perp order's fill as userTrades reports it, reconnects
(a dropped socket, an expired key), the keepalive, a key without futures permission, and the
recorded ORDER_TRADE_UPDATE payloads."""

import asyncio
import json
import sys
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fake_binance import FakeBinance  # noqa: E402
from sequence_core.errors import NetworkError  # noqa: E402
from sequence_core.orders import NodeOrder  # noqa: E402
from sequence_core.testing import StreamProbe, refused_login, running, shared_responses, until  # noqa: E402
from sequence_venue_binance.execution import BinanceSession, perp_fill  # noqa: E402
from sequence_venue_binance.http import BinanceClient  # noqa: E402
from sequence_venue_binance.stream import BinanceFuturesUserStream, BinanceUserStream, signed_params  # noqa: E402
from sequence_venue_binance.symbols import INSTRUMENTS  # noqa: E402

KEY, SECRET = "stream-api-key-0001", "stream-secret-0001"
BTC = next(i for i in INSTRUMENTS if i.symbol == "BTC-USDT")
BTC_PERP = next(i for i in INSTRUMENTS if i.symbol == "BTC-USDT-PERP")
SAMPLES = shared_responses("binance", "python-ws")


@pytest.fixture
def fake():
    yield from running(FakeBinance(KEY, SECRET))


def user_stream(fake, secret=SECRET):
    return BinanceUserStream(BinanceClient(KEY, secret, fake.url), {"ws_api_url": fake.url.replace("http", "ws") + "/ws-api/v3"})


def resting(n=3):
    gid = "graph_00000000cafe"
    return NodeOrder(f"{gid}:node_{n}:0", gid, n, 0, "binance", "BTC-USDT", "buy", Decimal("0.5"), Decimal("90000.00"),
                     "limit", "PENDING_NEW", 0, 0)


def test_the_subscription_signs_the_sorted_params():
    # the WebSocket API's rule: every param but the signature, sorted by name, key=value joined by &
    p = signed_params("k", "s", 1700000000000)
    from sequence_venue_binance.signing import signature
    assert p["signature"] == signature("s", "apiKey=k&timestamp=1700000000000")


def test_a_resting_order_fill_arrives_as_an_execution_report_with_the_trade_id_mytrades_reports(fake):
    async def go():
        s = BinanceSession(BinanceClient(KEY, SECRET, fake.url))
        async with StreamProbe(user_stream(fake), INSTRUMENTS) as probe:
            await until(lambda: probe.runner.live and fake.private, what="subscribed")
            await s.place(resting(), BTC)
            fake.fill_resting(resting().client_order_id, "0.2")
            await until(lambda: any(st.fills for st in probe.states), what="fill reported")
            trades = await s.client.my_trades("BTCUSDT", int(probe.states[-1].venue_order_id))
        await s.close()
        return probe.states, trades
    states, trades = asyncio.run(go())
    (fill,) = states[-1].fills
    assert [st.status for st in states] == ["NEW", "PARTIALLY_FILLED"]
    assert (fill.price, fill.qty, fill.liquidity) == (Decimal("90000.00"), Decimal("0.2"), "maker")
    assert (fill.fee, fill.fee_asset) == (Decimal("0.2") * Decimal("0.001"), "BTC")  # the BTC commission, as charged
    assert fill.fill_id == str(trades[0]["id"])


def test_a_refused_subscription_never_shows_the_secret(fake):
    error = refused_login(user_stream(fake, secret="not-the-secret-xyz"), INSTRUMENTS).runner.stats.error
    assert "refused the private websocket login" in error and "not-the-secret-xyz" not in error
    assert fake.logins[0] is False and fake.private == []


def test_published_execution_reports_parse():
    eth = {"ETHUSDT": next(i for i in INSTRUMENTS if i.venue_symbol == "ETHUSDT")}
    stream = BinanceUserStream(None, {})

    def parse(name):
        sample = json.loads((SAMPLES / name).read_text())
        return stream.parse({"subscriptionId": 0, "event": sample["data"]}, eth)

    (trade,) = parse("ws_spot_execution_report_trade.json")
    (fill,) = trade.fills
    assert (trade.client_order_id, trade.status, trade.filled_qty) == ("O-12345-test-trade", "PARTIALLY_FILLED", Decimal("0.5"))
    assert (fill.fill_id, fill.price, fill.qty, fill.liquidity) == ("98765432", Decimal("2499.5"), Decimal("0.5"), "maker")
    assert (fill.fee, fill.fee_asset) == (Decimal("0.0005"), "ETH")               # the ETH commission, as charged
    (cancel,) = parse("ws_spot_execution_report_canceled.json")
    assert (cancel.status, cancel.fills, cancel.filled_qty) == ("CANCELLED", (), Decimal("0.1"))


def test_an_expiry_reason_is_the_state_reason_and_none_is_none():
    stream = BinanceUserStream(None, {})
    base = {"e": "executionReport", "E": 1, "s": "BTCUSDT", "c": "c1", "C": "", "x": "EXPIRED", "X": "EXPIRED",
            "r": "NONE", "i": 7, "l": "0", "z": "0", "L": "0", "n": "0", "N": None, "T": 1, "t": -1, "q": "1", "p": "90000"}
    (with_er,) = stream.parse({"subscriptionId": 0, "event": {**base, "eR": "EXECUTION_RULE_PRICE_RANGE_EXCEEDED"}}, {})
    (legacy,) = stream.parse({"subscriptionId": 0, "event": base}, {})
    (rejected,) = stream.parse({"subscriptionId": 0, "event": {**base, "X": "REJECTED", "r": "INSUFFICIENT_BALANCES"}}, {})
    assert (with_er.reason, legacy.reason, rejected.reason) == ("EXECUTION_RULE_PRICE_RANGE_EXCEEDED", "", "INSUFFICIENT_BALANCES")


def test_server_shutdown_on_the_websocket_api_subscribes_again_on_a_new_connection(fake):
    # serverShutdown (spot CHANGELOG 2026-05-06/2026-06-09): "please disconnect and open a new connection";
    # the fake sends it and keeps the old session open, so only the adapter can make the move
    async def go():
        async with StreamProbe(user_stream(fake), INSTRUMENTS) as probe:
            await until(lambda: probe.runner.live and fake.private, what="subscribed")
            fake.server_shutdown()
            await until(lambda: probe.connects == 2 and probe.runner.live, what="subscribed again")
            return probe.runner.stats.error
    error = asyncio.run(go())
    assert fake.logins == [True, True] and "serverShutdown" in error
    with pytest.raises(NetworkError):
        BinanceUserStream(None, {}).parse({"event": {"e": "serverShutdown", "E": 1770123456789}}, {})


# -- USD-M ---------------------------------------------------------------------------------------
def usdm_session(fake, **settings):
    ws = fake.url.replace("http", "ws")
    return BinanceSession(BinanceClient(KEY, SECRET, fake.url), {"base_url": fake.url, "ws_api_url": ws + "/ws-api/v3",
                                                                 "fapi_private_ws_url": ws + "/private/ws", **settings})


def resting_perp(n=5, qty="0.02"):
    gid = "graph_00000000beef"
    return NodeOrder(f"{gid}:node_{n}:0", gid, n, 0, "binance", "BTC-USDT-PERP", "buy", Decimal(qty), Decimal("80000.0"),
                     "limit", "PENDING_NEW", 0, 0)


def test_the_session_streams_spot_and_usdm_orders_on_two_sockets(fake):
    both = usdm_session(fake).user_streams()
    assert [type(s) for s in both] == [BinanceUserStream, BinanceFuturesUserStream]
    assert [type(s) for s in usdm_session(fake, usdm_stream=False).user_streams()] == [BinanceUserStream]
    assert [type(s) for s in usdm_session(fake, usdm_stream="false").user_streams()] == [BinanceUserStream]


def test_a_resting_perp_fill_arrives_on_the_usdm_stream_as_user_trades_reports_it(fake):
    node = resting_perp()

    async def go():
        s = usdm_session(fake)
        async with StreamProbe(s.user_streams()[1], INSTRUMENTS) as probe:
            await until(lambda: probe.runner.live and fake.f_private, what="the USD-M stream")
            await s.place(node, BTC_PERP)
            fake.fill_resting_perp(node.client_order_id, "0.005")
            await until(lambda: any(st.fills for st in probe.states), what="the fill pushed")
            polled = await s.order_state(node.client_order_id, BTC_PERP)
        await s.close()
        return probe.states, polled
    states, polled = asyncio.run(go())
    assert [(st.client_order_id, st.status, st.filled_qty) for st in states] == \
        [(node.client_order_id, "NEW", Decimal(0)), (node.client_order_id, "PARTIALLY_FILLED", Decimal("0.005"))]
    (pushed,) = states[-1].fills
    (read,) = polled.fills
    assert pushed == read                                     # id, price, qty, fee, asset, liquidity, time: one fill
    assert (pushed.fill_id, pushed.price, pushed.qty, pushed.liquidity, pushed.fee_asset) == \
        (str(fake.f_trades[int(polled.venue_order_id)][0]["id"]), Decimal("80000.0"), Decimal("0.005"), "maker", "USDT")
    assert pushed.fee == Decimal("0.005") * Decimal("80000.0") * Decimal("0.0002")
    assert fake.f_events == ["ORDER_TRADE_UPDATE"] and fake.f_logins == [True]
    assert fake.private == []                                 # the spot socket was never involved


def test_the_usdm_stream_reconnects_with_a_fresh_key_and_catches_up(fake):
    async def go():
        s = usdm_session(fake)
        async with StreamProbe(s.user_streams()[1], INSTRUMENTS) as probe:
            await until(lambda: probe.connects == 1, what="connected")
            first_key = fake.f_listen_key
            fake.drop_sockets()
            await until(lambda: probe.connects == 2 and probe.runner.live, what="reconnected after a drop")
            fake.expire_listen_key()
            await until(lambda: probe.connects == 3 and probe.runner.live, what="reconnected after the key expired")
            error = probe.runner.stats.error
            await s.place(resting_perp(6), BTC_PERP)
            await until(lambda: probe.states, what="updates on the new key")
        await s.close()
        return first_key, error, probe.runner.stats
    first_key, error, stats = asyncio.run(go())
    assert stats.reconnects == 2 and fake.f_key_posts == 3          # a POST /fapi/v1/listenKey before each connect
    assert fake.f_logins == [True, True, True] and fake.f_listen_key != first_key
    assert "listenKey expired" in error and first_key not in error


def test_the_keepalive_extends_the_key_and_a_lost_key_is_replaced(fake):
    async def go():
        s = usdm_session(fake)
        stream = s.user_streams()[1]
        stream.keepalive_s = 0.05
        async with StreamProbe(stream, INSTRUMENTS) as probe:
            await until(lambda: fake.f_keepalives >= 2, what="PUT /fapi/v1/listenKey")
            fake.f_listen_key = None                                    # gone at Binance: the next PUT gets -1125
            await until(lambda: stream._key_lost, what="the refused keepalive")
            await s.place(resting_perp(7), BTC_PERP)                   # the next message ends the session
            await until(lambda: probe.connects == 2 and probe.runner.live, what="reconnected with a new key")
        await s.close()
        return probe.runner.stats
    stats = asyncio.run(go())
    assert stats.reconnects == 1 and fake.f_key_posts == 2 and fake.f_listen_key is not None
    puts = [r for r in fake.requests if r == ("PUT", "/fapi/v1/listenKey")]
    assert len(puts) >= 3


def test_a_key_without_futures_permission_leaves_the_spot_stream_alone(fake):
    fake.futures_refused = True

    async def go():
        s = usdm_session(fake)
        spot, usdm = s.user_streams()
        async with StreamProbe(spot, INSTRUMENTS) as spot_probe, StreamProbe(usdm, INSTRUMENTS) as usdm_probe:
            await until(lambda: spot_probe.runner.live and "USD-M" in usdm_probe.runner.stats.error, what="both tried")
            await s.place(resting(), BTC)
            fake.fill_resting(resting().client_order_id, "0.2")
            await until(lambda: any(st.fills for st in spot_probe.states), what="the spot fill")
        await s.close()
        return spot_probe, usdm_probe
    spot_probe, usdm_probe = asyncio.run(go())
    assert spot_probe.connects == 1 and fake.logins == [True]
    error = usdm_probe.runner.stats.error
    assert usdm_probe.connects == 0 and "-2015" in error and "usdm_stream = false" in error
    assert SECRET not in error and KEY not in error
    assert fake.f_logins == []                                   # no socket without a key


def test_recorded_order_trade_updates_parse():
    usdm = {"BTCUSDT_PERP": BTC_PERP, "ETHUSDT_PERP": next(i for i in INSTRUMENTS if i.venue_symbol == "ETHUSDT_PERP"),
            "BTCUSDT": BTC}
    stream = BinanceFuturesUserStream(None, {})
    responses = SAMPLES.parent

    def parse(name):
        return stream.parse(json.loads((responses / name).read_text()), usdm)

    # Binance's documented example (https://developers.binance.com/docs/derivatives/usds-margined-futures/
    # user-data-streams/Event-Order-Update), as NautilusTrader records it
    (trade,) = parse("futures/user_data_json/order_update_trade.json")
    (fill,) = trade.fills
    assert (trade.client_order_id, trade.venue_order_id, trade.status, trade.filled_qty, trade.price, trade.qty) == \
        ("TEST", "8886774", "PARTIALLY_FILLED", Decimal("0.001"), Decimal("7100.50"), Decimal("0.001"))
    assert fill == perp_fill({"id": 12345678, "price": "7100.50", "qty": "0.001", "commission": "0.01000000",
                              "commissionAsset": "USDT", "maker": True, "time": 1568879465651}, BTC_PERP)
    assert (fill.fill_id, fill.fee, fill.fee_asset, fill.liquidity) == ("12345678", Decimal("0.01"), "USDT", "maker")
    # a /stream-mode envelope, ETHUSDT: the perp, never the spot book of that name
    (reduce,) = parse("python-ws/ws_futures_order_update_trade_reduce_only_qty.json")
    (fill,) = reduce.fills
    assert (reduce.status, reduce.filled_qty, fill.fill_id, fill.price, fill.qty, fill.fee, fill.liquidity) == \
        ("FILLED", Decimal("1.000"), "9988776655", Decimal("2500.00"), Decimal("1.000"), Decimal("0.50000000"), "taker")
    (new,) = parse("futures/user_data_json/order_update_new.json")
    assert (new.status, new.fills, new.filled_qty, new.price) == ("NEW", (), Decimal(0), None)
    assert stream.parse({"result": None, "id": 1}, usdm) == []
    assert stream.parse(json.loads((responses / "futures/user_data_json/account_update.json").read_text()), usdm) == []
    with pytest.raises(NetworkError, match="listenKey expired"):
        stream.parse({"e": "listenKeyExpired", "E": "1736996475556", "listenKey": "k"}, usdm)
