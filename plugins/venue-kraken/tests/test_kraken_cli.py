"""The Kraken adapter through the real CLI and engine, live mode, against the fake server:
connect, venues (REST + websocket heartbeat), quote from the live source, buy, a resting
order amended in place, cancel, fills, a venue refusal shown clearly, and a resting order's
later fill learnt from the private executions stream (or by polling when Kraken refuses it)."""

import sys
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fake_kraken import FakeKraken  # noqa: E402
from sequence_core.testing import LiveCli, live_world, check_stream_fill  # noqa: E402

KEY, SECRET = "kraken-cli-key-2", "a3Jha2VuLWNsaS1zZWNyZXQtMg=="


@pytest.fixture
def world(tmp_path):
    yield from live_world(tmp_path / "home", FakeKraken(KEY, SECRET), "kraken", {"api_key": KEY, "api_secret": SECRET},
                          lambda url: f'base_url = "{url}"\nws_url = "{url.replace("http", "ws")}/v2"\n'
                                      f'private_ws_url = "{url.replace("http", "ws")}/auth/v2"\n')


def test_venues_shows_a_real_heartbeat(world):
    cli, server = world
    (row,) = cli.json("venues")
    assert (row["venue"], row["state"], row["mode"]) == ("kraken", "ok", "live") and "websocket" in row["detail"]
    assert ("POST", "/0/private/Balance") in server.requests and server.subscriptions


def test_a_venue_in_maintenance_is_down(world):
    cli, server = world
    server.status = "maintenance"
    (row,) = cli.json("venues")
    assert row["state"] == "down" and "maintenance" in row["detail"]


def test_quote_buy_amend_cancel_fills(world):
    cli, server = world
    q = cli.json("quote", "BTC-USD")
    rows = q.get("venues") or q.get("rows")
    assert {(r["venue"], r["bid"], r["ask"]) for r in rows} == {("kraken", "90990.0", "91000.0")}

    d = cli.json("buy", "BTC-USD", "0.01", "--venue", "kraken")
    assert d["graph"]["status"] == "FILLED" and d["fills"][0]["price"] == "91000.0"
    assert len(cli.json("fills")) == 1

    rest = cli.json("buy", "BTC-USD", "0.02", "--venue", "kraken", "--limit-price", "80000.0")
    node_id = rest["nodes"][0]["node_order_id"]
    a = cli.json("amend", node_id, "--price", "80100.0", "--qty", "0.03")
    assert a["mode"] == "native_atomic"
    resting = [(t, o) for t, o in server.orders.items() if o["status"] == "open"]
    assert [(o["descr"]["price"], o["vol"]) for _, o in resting] == [("80100.0", "0.03000000")]     # one order, changed in place
    cli.json("cancel", rest["graph"]["graph_id"])
    assert server.orders[resting[0][0]]["status"] == "canceled"


def test_a_venue_refusal_is_a_clear_error(world):
    cli, server = world
    server.refuse_next_place = "EOrder:Insufficient funds"
    r = cli.run("buy", "BTC-USD", "0.01", "--venue", "kraken")
    assert "REJECTED" in r.stdout and "EOrder:Insufficient funds" in r.stdout + r.stderr, r.stdout + r.stderr
    server.refuse_next_place = "EOrder:Insufficient funds"
    graph = cli.refused("buy", "BTC-USD", "0.01", "--venue", "kraken")["graph"]
    assert graph["status"] == "REJECTED" and "kraken: Insufficient funds (EOrder:Insufficient funds)" in graph["reason"]


def order_reads(server) -> int:
    return sum(server.requests.count(("POST", f"/0/private/{m}")) for m in ("QueryOrders", "OpenOrders", "ClosedOrders"))


def test_a_resting_order_filled_later_reaches_fills_through_the_private_stream(world):
    cli, server = world
    rest = cli.json("buy", "BTC-USD", "0.02", "--venue", "kraken", "--limit-price", "80000.0")
    cid = next(o["cl_ord_id"] for o in server.orders.values() if o["status"] == "open")
    check_stream_fill(cli.json, server, rest["graph"]["graph_id"], cid, "0.02", "80000.0", lambda: order_reads(server))
    # engine status names each socket the engine keeps and its state
    status = cli.engine_status("kraken user stream: live")
    assert "kraken user stream: live, 0 reconnect(s)" in status
    assert "kraken feed: live, 0 reconnect(s), 1/1 book(s) in sync" in cli.engine_status("1/1 book(s) in sync")


def test_a_refused_private_stream_leaves_the_fill_to_polling(world):
    cli, server = world
    server.ws_refusal = "EAccount:Invalid permissions"
    rest = cli.json("buy", "BTC-USD", "0.02", "--venue", "kraken", "--limit-price", "80000.0")
    LiveCli.wait(lambda: server.logins, "the engine's private stream subscribe")
    assert server.logins[0] is False and server.private == []
    cid = next(o["cl_ord_id"] for o in server.orders.values() if o["status"] == "open")
    server.fill_resting(cid, "0.02")
    fills = LiveCli.wait(lambda: cli.json("fills"), "the fill read by a poll")
    assert [(Decimal(f["price"]), Decimal(f["qty"]), f["liquidity"]) for f in fills] == \
        [(Decimal("80000.0"), Decimal("0.02"), "maker")]
    (entry,) = [o for o in cli.json("orders") if o["graph"]["graph_id"] == rest["graph"]["graph_id"]]
    assert [n["status"] for n in entry["nodes"]] == ["FILLED"]
    status = cli.engine_status("kraken user stream: down")
    assert "refused the private websocket login" in status and SECRET not in status
