"""The Coinbase ``user`` channel: against the fake server through the core's runner (a JWT without
``uri`` per subscribe, order updates without fills while REST has them with their trade ids, a
refused JWT, a reconnect), and its parser on Coinbase-shaped messages (the shared sample,
terminal states, heartbeats and acks)."""

import asyncio
import base64
import json
import sys
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_private_key

sys.path.insert(0, str(Path(__file__).parent))
from fake_coinbase import FakeCoinbase  # noqa: E402
from sequence_core.errors import NetworkError  # noqa: E402
from sequence_core.orders import NodeOrder  # noqa: E402
from sequence_core.testing import StreamProbe, make_pem, refused_login, running, shared_responses, until  # noqa: E402
from sequence_venue_coinbase.execution import CoinbaseSession  # noqa: E402
from sequence_venue_coinbase.http import CoinbaseClient  # noqa: E402
from sequence_venue_coinbase.stream import CoinbaseUserStream, private_url  # noqa: E402
from sequence_venue_coinbase.symbols import INSTRUMENTS  # noqa: E402

NAME = "organizations/org-stream/apiKeys/key-stream"
PEM, OTHER_PEM = make_pem("ec"), make_pem("ec")
BTC = next(i for i in INSTRUMENTS if i.symbol == "BTC-USD")
BY_SYMBOL = {i.venue_symbol: i for i in INSTRUMENTS}
SAMPLES = shared_responses("coinbase")


@pytest.fixture
def fake():
    yield from running(FakeCoinbase(NAME, load_pem_private_key(PEM.encode(), None).public_key()))


def session(fake, pem=PEM) -> CoinbaseSession:
    return CoinbaseSession(CoinbaseClient(NAME, pem, fake.url, timeout_s=5), {"ws_url": fake.url.replace("http", "ws") + "/"})


def node(n=0, price="80000.00", qty="0.5", kind="limit"):
    gid = "graph_00000000beef"
    return NodeOrder(f"{gid}:node_{n}:0", gid, n, 0, "coinbase", "BTC-USD", "buy", Decimal(qty), Decimal(price), kind,
                     "PENDING_NEW", 0, 0)


def streaming(fake, work):
    """Run ``work(session, probe)`` with the session's own user stream subscribed."""
    async def go():
        s = session(fake)
        try:
            async with StreamProbe(s.user_stream(), INSTRUMENTS) as probe:
                await until(lambda: probe.runner.live and fake.private, what="user channel subscribed")
                return await work(s, probe)
        finally:
            await s.close()
    return asyncio.run(go())


def claims(token: str) -> dict:
    body = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def test_a_resting_fill_is_pushed_as_a_quantity_and_rest_then_names_the_fill(fake):
    resting = node(3, qty="0.5")

    async def work(s, probe):
        await s.place(resting, BTC)
        fake.fill_resting(resting.client_order_id, "0.2")
        await until(lambda: any(st.filled_qty for st in probe.states), what="the fill pushed")
        return probe.states, await s.order_state(resting.client_order_id, BTC)
    states, polled = streaming(fake, work)
    new, filled = states[0], states[-1]
    assert {st.client_order_id for st in states} == {resting.client_order_id}
    assert (new.status, new.filled_qty, new.price, new.qty) == ("NEW", 0, Decimal("80000.00"), Decimal("0.5"))
    # no fill in the push: the engine reads them over REST, which names each by its trade id
    assert (filled.status, filled.filled_qty, filled.fills, filled.qty) == ("PARTIALLY_FILLED", Decimal("0.2"), (), Decimal("0.5"))
    (fill,) = polled.fills
    assert (fill.qty, fill.price, fill.liquidity) == (Decimal("0.2"), Decimal("80000.00"), "maker") and fill.fill_id.startswith("t-")
    assert fake.logins == [True]


def test_edit_cancel_and_a_taker_fill_reach_the_stream(fake):
    async def work(s, probe):
        await s.place(node(0, price="91000.00", qty="0.1", kind="ioc"), BTC)
        await until(lambda: any(st.status == "FILLED" for st in probe.states), what="the IOC filled")
        resting = node(1, qty="0.02")
        await s.place(resting, BTC)
        await s.amend(resting, BTC, Decimal("80100.00"), Decimal("0.03"))
        await s.cancel(resting, BTC)
        await until(lambda: probe.states[-1].status == "CANCELLED", what="the cancel pushed")
        return probe.states
    states = streaming(fake, work)
    (taker,) = [st for st in states if st.status == "FILLED"]
    assert (taker.filled_qty, taker.fills) == (Decimal("0.1"), ())
    amended = next(st for st in states if st.price == Decimal("80100.00"))
    assert (amended.status, amended.qty) == ("NEW", Decimal("0.03"))
    assert (states[-1].status, states[-1].reason, states[-1].filled_qty) == ("CANCELLED", "User requested", 0)


def test_a_snapshot_in_batches_of_50_logs_in_on_the_first_and_parses_the_rest_as_states(fake):
    # "Open orders are returned in the snapshot batched by 50" (api-reference .../websocket/user)
    template = {"product_id": "BTC-USD", "user_id": "u", "side": "BUY", "status": "OPEN", "created_time": "2026-12-07T10:00:00Z",
                "filled_size": "0", "average_filled_price": "0", "number_of_fills": "0", "total_fees": "0",
                "time_in_force": "GOOD_UNTIL_CANCELLED", "order_type": "LIMIT"}
    for i in range(51):
        fake.orders[f"0000-{i:06d}"] = {**template, "order_id": f"0000-{i:06d}", "client_order_id": f"other-{i}",
                                        "order_configuration": {"limit_limit_gtc": {"base_size": "0.01", "limit_price": "80000.00"}}}

    async def work(s, probe):
        await until(lambda: probe.states, what="the second snapshot batch")
        return probe.states
    (state,) = streaming(fake, work)                  # the first batch (50) was the login answer
    assert (state.client_order_id, state.status, state.qty, state.fills) == ("other-50", "NEW", Decimal("0.01"), ())
    assert fake.logins == [True]


def test_a_refused_jwt_is_a_refused_login_that_never_shows_the_key(fake):
    s = session(fake, pem=OTHER_PEM)                     # a key Coinbase does not know for this name
    probe = refused_login(s.user_stream(), INSTRUMENTS)
    asyncio.run(s.close())
    error = probe.runner.stats.error
    assert "refused the private websocket login" in error
    assert OTHER_PEM.splitlines()[1] not in error and "eyJ" not in error       # neither the key nor a JWT
    assert not probe.runner.live and probe.connects == 0 and fake.private == [] and fake.logins[0] is False


def test_each_reconnect_subscribes_again_with_a_fresh_jwt_and_asks_for_a_catch_up(fake):
    async def work(s, probe):
        fake.drop_sockets()
        await until(lambda: probe.connects >= 2 and probe.runner.live and len(fake.subscriptions) >= 4, what="reconnect")
        return probe.runner.stats.reconnects
    assert streaming(fake, work) >= 1
    assert fake.logins[:2] == [True, True]
    assert [c for k, c, _ in fake.subscriptions[:4]] == ["user", "heartbeats", "user", "heartbeats"]


# -- the parser on Coinbase-shaped messages -------------------------------------------------------
def parser(ids=None) -> CoinbaseUserStream:
    return CoinbaseUserStream(SimpleNamespace(_ids={} if ids is None else ids, client=None), {})


def update(*orders, kind="update"):
    return {"channel": "user", "client_id": "", "timestamp": "2026-04-07T14:31:00.5Z", "sequence_num": 7,
            "events": [{"type": kind, "orders": list(orders)}]}


def order(status, cum="0", leaves="0", **extra):
    return {"order_id": "a1b2c3d4-0000", "client_order_id": "sq00000000beefn1s0", "cumulative_quantity": cum,
            "leaves_quantity": leaves, "avg_price": "0", "total_fees": "0", "status": status, "product_id": "BTC-USD",
            "order_side": "BUY", "order_type": "Limit", "limit_price": "80000.00", "cancel_reason": "", "reject_reason": "",
            **extra}


def test_the_published_snapshot_parses_and_remembers_the_order_id():
    ids = {}
    message = json.loads((SAMPLES / "ws_user.json").read_text())
    (state,) = parser(ids).parse(message, BY_SYMBOL)
    assert (state.client_order_id, state.venue_order_id, state.status, state.filled_qty, state.fills) == \
        ("11111-000000-000001", "a1b2c3d4-e5f6-7890-abcd-ef1234567890", "NEW", 0, ())
    assert (state.qty, state.price, state.venue_ts_ns) == (Decimal("0.001"), None, 1775572206000000000)
    assert ids == {"11111-000000-000001": "a1b2c3d4-e5f6-7890-abcd-ef1234567890"}


@pytest.mark.parametrize("status,cum,leaves,extra,expected", [
    ("PENDING", "0", "0.5", {}, ("NEW", "0", "", Decimal("0.5"))),
    ("OPEN", "0.2", "0.3", {}, ("PARTIALLY_FILLED", "0.2", "", Decimal("0.5"))),
    ("CANCEL_QUEUED", "0", "0.5", {}, ("NEW", "0", "", Decimal("0.5"))),
    ("FILLED", "0.5", "0", {}, ("FILLED", "0.5", "", None)),
    ("CANCELLED", "0", "0", {"cancel_reason": "User requested"}, ("CANCELLED", "0", "User requested", None)),
    ("EXPIRED", "0", "0", {}, ("EXPIRED", "0", "", None)),
    ("FAILED", "0", "0", {"reject_reason": "INSUFFICIENT_FUND"}, ("REJECTED", "0", "INSUFFICIENT_FUND", None)),
    # filled, then cancelled: kept open so the engine reads the fills over REST before closing it
    ("CANCELLED", "0.2", "0", {"cancel_reason": "User requested"}, ("PARTIALLY_FILLED", "0.2", "", Decimal("0.2"))),
])
def test_each_status_maps_and_no_terminal_state_hides_unread_fills(status, cum, leaves, extra, expected):
    (state,) = parser().parse(update(order(status, cum, leaves, **extra)), BY_SYMBOL)
    assert (state.status, state.filled_qty, state.reason, state.qty) == (expected[0], Decimal(expected[1]), *expected[2:])
    assert state.fills == () and state.client_order_id == "sq00000000beefn1s0"


def test_heartbeats_and_acks_are_no_states_and_an_error_after_login_reconnects():
    stream = parser()
    for name in ("ws_heartbeats.json", "ws_subscriptions.json"):
        assert stream.parse(json.loads((SAMPLES / name).read_text()), BY_SYMBOL) == []
    assert stream.parse({"channel": "user", "events": [{"type": "snapshot", "orders": [], "positions": {}}]}, BY_SYMBOL) == []
    with pytest.raises(NetworkError, match="subscribe or unsubscribe required"):
        stream.parse({"type": "error", "message": "subscribe or unsubscribe required"}, BY_SYMBOL)
    with pytest.raises(NetworkError) as err:                # a text carrying a token is not repeated
        stream.parse({"type": "error", "message": "bad jwt eyJhbGciOiJFUzI1NiJ9.e30.sig"}, BY_SYMBOL)
    assert "eyJ" not in str(err.value)


def test_the_user_snapshot_or_its_ack_accepts_the_login_and_an_error_refuses_it():
    stream = parser()
    assert stream.logged_in({"type": "error", "message": "authentication failure"}) is False
    assert stream.logged_in(update(kind="snapshot")) is True
    assert stream.logged_in({"channel": "subscriptions", "sequence_num": 1,
                             "events": [{"subscriptions": {"user": ["00000000-0000-0000-0000-000000000000"]}}]}) is True
    assert stream.logged_in(json.loads((SAMPLES / "ws_subscriptions.json").read_text())) is None      # no user in it
    assert stream.logged_in(json.loads((SAMPLES / "ws_heartbeats.json").read_text())) is None


def test_each_subscribe_carries_its_own_jwt_without_uri():
    client = CoinbaseClient(NAME, PEM, "http://127.0.0.1:9")
    stream = CoinbaseUserStream(SimpleNamespace(_ids={}, client=client), {})
    (user,), (beats,) = stream.login(), stream.subscribe()
    assert {k: v for k, v in user.items() if k != "jwt"} == {"type": "subscribe", "channel": "user"}
    assert {k: v for k, v in beats.items() if k != "jwt"} == {"type": "subscribe", "channel": "heartbeats"}
    assert user["jwt"] != beats["jwt"]
    c = claims(user["jwt"])
    assert (c["sub"], c["iss"], c["exp"] - c["nbf"]) == (NAME, "cdp", 120) and "uri" not in c
    asyncio.run(client.close())


def test_the_private_url_is_the_setting_else_the_user_host_of_ws_url():
    assert private_url({}) == "wss://advanced-trade-ws-user.coinbase.com"
    assert private_url({"ws_url": "wss://advanced-trade-ws.coinbase.com"}) == "wss://advanced-trade-ws-user.coinbase.com"
    assert private_url({"ws_url": "wss://advanced-trade-ws.coinbase.com/"}) == "wss://advanced-trade-ws-user.coinbase.com/"
    assert private_url({"ws_url": "ws://127.0.0.1:8123/"}) == "ws://127.0.0.1:8123/"      # serves the user channel too
    assert private_url({"ws_url": "wss://advanced-trade-ws.coinbase.com", "private_ws_url": "ws://127.0.0.1:9/u"}) == \
        "ws://127.0.0.1:9/u"
