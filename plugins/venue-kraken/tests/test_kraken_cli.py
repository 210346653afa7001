"""The Kraken adapter through the real CLI and engine, live mode, against the fake server:
connect, venues (REST + websocket heartbeat), quote from the live source, buy, a resting
order amended in place, cancel, fills, and a venue refusal shown clearly."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fake_kraken import FakeKraken  # noqa: E402
from sequence_core.testing import LiveCli  # noqa: E402

KEY, SECRET = "kraken-cli-key-2", "a3Jha2VuLWNsaS1zZWNyZXQtMg=="


@pytest.fixture
def world(tmp_path):
    server = FakeKraken(KEY, SECRET)
    url = server.start()
    cli = LiveCli(tmp_path / "home", "kraken,sim,synthetic")
    cli.connect("kraken", {"api_key": KEY, "api_secret": SECRET})
    cli.configure(f'[venues.kraken]\nbase_url = "{url}"\nws_url = "{url.replace("http", "ws")}/v2"\n')
    yield cli, server
    cli.close()
    server.stop()


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
    graph = cli.json("buy", "BTC-USD", "0.01", "--venue", "kraken")["graph"]
    assert graph["status"] == "REJECTED" and "kraken: Insufficient funds (EOrder:Insufficient funds)" in graph["reason"]
