"""The Kraken Futures private websocket (perp orders and fills pushed): against the fake futures
server through the core's runner (the challenge login signed as Kraken checks it, a fill with the
id ``/fills`` reports, a wrong secret refused, a reconnect with a fresh challenge), and its parser
on the payloads Kraken's docs and the shared recordings publish."""

import asyncio
import json
import sys
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fake_kraken import FakeKraken  # noqa: E402
from fake_kraken_futures import FakeKrakenFutures  # noqa: E402
from sequence_core.errors import AuthenticationError  # noqa: E402
from sequence_core.orders import NodeOrder  # noqa: E402
from sequence_core.testing import StreamProbe, refused_login, running, shared_responses, until  # noqa: E402
from sequence_venue_kraken.execution import KrakenSession  # noqa: E402
from sequence_venue_kraken.futures import KrakenFutures  # noqa: E402
from sequence_venue_kraken.futures_http import KrakenFuturesClient  # noqa: E402
from sequence_venue_kraken.futures_stream import KrakenFuturesUserStream  # noqa: E402
from sequence_venue_kraken.http import KrakenClient  # noqa: E402
from sequence_venue_kraken.stream import KrakenUserStream  # noqa: E402
from sequence_venue_kraken.symbols import INSTRUMENTS  # noqa: E402

KEY, SECRET = "kraken-key-0004", "a3Jha2VuLXNwb3Qtc2VjcmV0LTAwMDQ="                 # test bytes, not real keys
FKEY, FSECRET = "futures-key-0004", "a3Jha2VuLWZ1dHVyZXMtc2VjcmV0LTAwMDQ="
WRONG = "d3Jvbmctc2VjcmV0LWJ5dGVzLXh5eg=="
PERP = next(i for i in INSTRUMENTS if i.venue_symbol == "PF_XBTUSD")
BTC = next(i for i in INSTRUMENTS if i.symbol == "BTC-USD")
SAMPLES = shared_responses("kraken")


def sample(name: str):
    return json.loads((SAMPLES / f"{name}.json").read_text())


@pytest.fixture
def fake():
    yield from running(FakeKrakenFutures(FKEY, FSECRET))


@pytest.fixture
def spot():
    yield from running(FakeKraken(KEY, SECRET))


def session(spot, fake, fsecret=FSECRET) -> KrakenSession:
    futures = KrakenFutures(KrakenFuturesClient(FKEY, fsecret, fake.url, 5))
    return KrakenSession(KrakenClient(KEY, SECRET, spot.url, 5),
                         {"futures_url": fake.url, "futures_ws_url": fake.url.replace("http", "ws") + "/ws/v1"}, futures)


def node(n=0, qty="1", price="90000", kind="limit"):
    gid = "graph_00000000feed"
    return NodeOrder(f"{gid}:node_{n}:0", gid, n, 0, "kraken", "BTC-USD-PERP", "buy", Decimal(qty), Decimal(price), kind,
                     "PENDING_NEW", 0, 0)


def futures_stream(s: KrakenSession) -> KrakenFuturesUserStream:
    (stream,) = [st for st in s.user_streams() if isinstance(st, KrakenFuturesUserStream)]
    return stream


def streaming(spot, fake, work):
    """Run ``work(session, probe)`` with the session's futures stream subscribed to both feeds."""
    async def go():
        s = session(spot, fake)
        try:
            async with StreamProbe(futures_stream(s), INSTRUMENTS) as probe:
                await until(lambda: probe.runner.live and len(fake.private) == 2, what="open_orders and fills subscribed")
                return await work(s, probe)
        finally:
            await s.close()
    return asyncio.run(go())


# -- against the fake server ------------------------------------------------------------------------------
def test_a_resting_perp_fill_arrives_by_the_socket_with_the_fill_id_rest_reports(spot, fake):
    n = node(1)

    async def work(s, probe):
        placed = await s.place(n, PERP)
        await until(lambda: any(st.status == "NEW" for st in probe.states), what="the new order pushed")
        fake.fill_resting(n.client_order_id, "0.4")
        await until(lambda: any(st.fills for st in probe.states), what="the fill pushed")
        fake.fill_resting(n.client_order_id, "0.6")
        await until(lambda: sum(len(st.fills) for st in probe.states) == 2, what="the last fill pushed")
        return placed, list(probe.states), await s.order_state(n.client_order_id, PERP)
    placed, states, polled = streaming(spot, fake, work)
    assert placed.status == "NEW" and {st.client_order_id for st in states} == {n.client_order_id}
    new = next(st for st in states if st.status == "NEW")
    assert (new.venue_order_id, new.price, new.qty, new.fills) == (placed.venue_order_id, Decimal("90000.0"), Decimal("1"), ())
    pushed = [st for st in states if st.fills]
    assert [(st.status, st.filled_qty) for st in pushed] == [("PARTIALLY_FILLED", Decimal("0.4")), ("FILLED", Decimal("1.0"))]
    first = pushed[0].fills[0]
    assert (first.price, first.qty, first.fee, first.fee_asset, first.liquidity) == \
        (Decimal("90000.0"), Decimal("0.4"), Decimal("7.2"), "USD", "maker")              # 0.02% of 36,000 USD
    assert [f.fill_id for st in pushed for f in st.fills] == [f.fill_id for f in polled.fills]   # pushed + polled count once
    assert [f.fill_id for f in polled.fills] == [f["fill_id"] for f in fake.fills]
    assert all(st.status != "CANCELLED" for st in states)       # the full_fill removal is no cancel
    assert fake.logins == [True] and [b["feed"] for b in fake.private_subscribes] == ["open_orders", "fills"]


def test_a_cancel_that_names_only_the_order_id_reaches_the_order(spot, fake):
    n = node(2)

    async def work(s, probe):
        await s.place(n, PERP)
        await s.cancel(n, PERP)
        await until(lambda: any(st.status == "CANCELLED" for st in probe.states), what="the cancel pushed")
        return probe.states[-1]
    gone = streaming(spot, fake, work)
    assert (gone.client_order_id, gone.status, gone.reason, gone.filled_qty) == (n.client_order_id, "CANCELLED", "cancelled_by_user", 0)


def test_a_wrong_secret_s_challenge_is_refused_clearly_without_showing_the_key(spot, fake):
    s = session(spot, fake, fsecret=WRONG)
    probe = refused_login(futures_stream(s), INSTRUMENTS)
    asyncio.run(s.close())
    error = probe.runner.stats.error
    assert "kraken futures refused the private websocket login" in error and "futures_api_secret" in error, error
    assert "Failed to subscribe to authenticated feed" in error
    assert not any(secret in error for secret in (FKEY, FSECRET, WRONG))
    assert fake.challenges and fake.logins[0] is False and fake.private == []


def test_a_challenge_without_a_key_is_a_refused_login():
    stream = KrakenFuturesUserStream(SimpleNamespace(), {})
    assert stream.logged_in({"event": "info", "version": 1}) is None
    assert stream.logged_in({"event": "error", "message": "Json Error"}) is False
    assert stream.logged_in({"event": "challenge", "message": "226aee50-88fc-4618-a42a-34f7709570b2"}) is True


def test_each_reconnect_asks_a_fresh_challenge_and_subscribes_again(spot, fake):
    n = node(3)

    async def work(s, probe):
        await s.place(n, PERP)
        fake.drop_sockets()
        await until(lambda: probe.connects >= 2 and probe.runner.live and len([p for p in fake.private if not p[0].closed]) == 2,
                    what="reconnect and resubscribe")
        fake.fill_resting(n.client_order_id, "1")
        await until(lambda: any(st.fills for st in probe.states), what="the fill after the reconnect")
        return probe.runner.stats.reconnects
    assert streaming(spot, fake, work) >= 1
    assert fake.logins[:2] == [True, True] and len(set(fake.challenges)) >= 2
    signed = [b["original_challenge"] for b in fake.private_subscribes]
    assert signed[:2] == [fake.challenges[0]] * 2 and signed[2:4] == [fake.challenges[1]] * 2


# -- the session offers it only with futures keys ----------------------------------------------------------
def test_the_futures_stream_is_offered_only_with_futures_keys_and_covers_perps_only(spot, fake):
    with_keys = session(spot, fake)
    spot_only = KrakenSession(KrakenClient(KEY, SECRET, spot.url, 5), {},
                              KrakenFutures(KrakenFuturesClient("", "", fake.url, 5)))
    try:
        assert [type(st) for st in with_keys.user_streams()] == [KrakenUserStream, KrakenFuturesUserStream]
        assert [type(st) for st in spot_only.user_streams()] == [KrakenUserStream]
        stream = futures_stream(with_keys)
        assert (stream.covers(PERP), stream.covers(BTC)) == (True, False)
        assert KrakenFuturesUserStream(None, {}).ping() is None       # protocol pings (heartbeat_s) keep it open
        assert asyncio.run(KrakenFuturesUserStream(None, {}).url()) == "wss://futures.kraken.com/ws/v1"
    finally:
        asyncio.run(with_keys.close())
        asyncio.run(spot_only.close())


# -- the parser on Kraken's published payloads -------------------------------------------------------------
def parser(sent=None) -> KrakenFuturesUserStream:
    """A stream whose session placed ``sent`` ({client id: {"order_id", "qty"}})."""
    futures = KrakenFutures(KrakenFuturesClient(FKEY, FSECRET, "http://127.0.0.1:9"))
    futures._sent.update(sent or {})
    return KrakenFuturesUserStream(futures, {})


def test_the_subscribe_messages_carry_the_key_the_challenge_and_its_signature():
    stream = parser()
    stream.logged_in({"event": "challenge", "message": "c100b894-1729-464d-ace1-52dbce11db42"})
    messages = stream.subscribe()
    assert [m["feed"] for m in messages] == ["open_orders", "fills"] and all(m["event"] == "subscribe" for m in messages)
    expected = stream.futures.client.signed_challenge("c100b894-1729-464d-ace1-52dbce11db42")
    assert all({k: m[k] for k in ("api_key", "original_challenge", "signed_challenge")} == expected for m in messages)
    assert stream.login() == [{"event": "challenge", "api_key": FKEY}] and FSECRET not in json.dumps(messages)


def test_the_docs_subscribe_answers_and_a_refusal_after_them():
    stream = parser()
    # https://docs.kraken.com/api/docs/futures-api/websocket/open_orders "Response Success"
    for feed in ("open_orders", "fills"):
        assert stream.parse({"event": "subscribed", "feed": feed, "api_key": "CMl2SeSn09Tz+2tWuzPiPUjaXEQRGq6qv5UaexXuQ3SnahDQU/gO3aT+",
                             "original_challenge": "226aee50-88fc-4618-a42a-34f7709570b2",
                             "signed_challenge": "RE0DVOc7vS6pzcEjGWd/WJRRBWb54RkyvV+AZQSRl4+rap8Rlk64diR+Z9DQILm7qxncswMmJyvP/2vgzqqh+g=="},
                            {}) == []
    assert stream.parse({"event": "alert", "message": "Bad request"}, {}) == []          # logged, not a refused login
    fresh = parser()
    with pytest.raises(AuthenticationError, match="subscribed_failed"):
        fresh.parse({"event": "subscribed_failed", "feed": "fills"}, {})


def test_the_recorded_open_orders_messages_parse():
    stream = parser({"ours-1": {"order_id": "660c6b23-8007-48c1-a7c9-4893f4572e8c", "qty": Decimal("2")}})
    snap = sample("ws_futures_open_orders_snapshot")                  # a stop order without a client id
    assert stream.parse(snap, {}) == []                               # not this engine's: left alone
    snap["orders"][0]["cli_ord_id"] = "ours-0"
    (state,) = stream.parse(snap, {})
    assert (state.client_order_id, state.venue_order_id, state.status, state.filled_qty, state.price, state.venue_ts_ns) == \
        ("ours-0", "723ba95f-13b7-418b-8fcf-ab7ba6620555", "NEW", 0, Decimal("34900"), 1612275024153 * 1_000_000)
    delta = sample("ws_futures_open_orders_delta")
    delta["order"]["cli_ord_id"] = "ours-2"
    (placed,) = stream.parse(delta, {})
    assert (placed.status, placed.price, placed.reason) == ("NEW", Decimal("10640.0"), "")
    # the recorded cancel names only the order id: known from what this session placed
    (gone,) = stream.parse(sample("ws_futures_open_orders_cancel"), {})
    assert (gone.client_order_id, gone.status, gone.reason, gone.qty) == ("ours-1", "CANCELLED", "cancelled_by_user", Decimal("2"))
    (post,) = stream.parse(sample("ws_futures_open_orders_cancel_post_only"), {})
    assert (post.client_order_id, post.status, post.reason) == \
        ("O-20250306-001", "CANCELLED", "post_order_failed_because_it_would_filled")
    full = sample("ws_futures_open_orders_delta_full_fill")           # removed because it filled: the fills feed says so
    full["order"]["cli_ord_id"] = "ours-3"
    assert stream.parse(full, {}) == []


def test_the_recorded_fills_messages_parse_as_the_rest_fill_does():
    from sequence_venue_kraken.futures import _fill

    stream = parser({"ours-eth": {"order_id": "a08aed17-f1a6-4db6-876c-2de5df84951c", "qty": Decimal("0.001")}})
    delta = sample("ws_futures_fills_delta")
    delta["fills"][0].pop("cli_ord_id")                                # known by its order id as well
    (state,) = stream.parse(delta, {})
    (fill,) = state.fills
    assert (state.client_order_id, state.status, state.filled_qty) == ("ours-eth", "FILLED", Decimal("0.001"))
    assert (fill.fill_id, fill.price, fill.qty, fill.fee, fill.fee_asset, fill.liquidity, fill.venue_ts_ns) == \
        ("6a22a3fb-e18e-4e76-b841-8689735c9158", Decimal("3162.0"), Decimal("0.001"), Decimal("0.001581"), "USD", "taker",
         1765185437003 * 1_000_000)
    snap = sample("ws_futures_fills_snapshot")
    for f in snap["fills"]:
        f["cli_ord_id"] = "ours-" + f["order_id"][:4]
    states = stream.parse(snap, {})
    # the docs' websocket and REST examples carry the same fill: one id, one fee, one liquidity
    rest = _fill(sample("http_futures_fills")["fills"][1])
    pushed = next(st.fills[0] for st in states if st.fills[0].fill_id == rest.fill_id)
    assert (pushed.fill_id, pushed.qty, pushed.fee_asset, pushed.liquidity) == (rest.fill_id, rest.qty, rest.fee_asset, rest.liquidity)
    assert abs(pushed.fee - rest.fee) < Decimal("0.00000001")
    assert stream.parse({"feed": "heartbeat", "time": 1}, {}) == [] and stream.parse({"event": "info", "version": 1}, {}) == []
