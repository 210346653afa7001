"""The Crypto.com adapter through the real CLI and engine, live mode, against the fake exchange:
connect, venues (REST + websocket heartbeat), quote from the live source, buy, a resting order
amended in place, cancel, fills, and a refusal the user can read."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fake_cryptocom import FakeCryptocom  # noqa: E402
from sequence_core.testing import LiveCli, check_stream_fill  # noqa: E402

KEY, SECRET = "cdc-cli-key-2", "cdc-cli-secret-2"


@pytest.fixture
def world(tmp_path):
    server = FakeCryptocom(KEY, SECRET)
    url = server.start()
    cli = LiveCli(tmp_path / "home", "cryptocom,sim,synthetic")
    cli.connect("cryptocom", {"api_key": KEY, "api_secret": SECRET})
    cli.configure(f'[venues.cryptocom]\nbase_url = "{url}/exchange/v1"\n'
                  f'ws_url = "{url.replace("http", "ws")}/exchange/v1/market"\n')
    yield cli, server
    cli.close()
    server.stop()


def test_venues_shows_a_real_heartbeat(world):
    cli, server = world
    (row,) = cli.json("venues")
    assert (row["venue"], row["state"], row["mode"]) == ("cryptocom", "ok", "live") and "websocket" in row["detail"]
    assert ("POST", "/exchange/v1/private/user-balance") in server.requests and server.subscriptions


def test_quote_buy_amend_cancel_fills(world):
    cli, server = world
    q = cli.json("quote", "BTC-USD")
    row = (q.get("venues") or q.get("rows"))[0]
    assert (row["venue"], row["bid"], row["ask"]) == ("cryptocom", "90990.00", "91000.00")

    d = cli.json("buy", "BTC-USD", "0.01", "--venue", "cryptocom")
    assert d["graph"]["status"] == "FILLED" and d["fills"][0]["price"] == "91000.00"
    assert len(cli.json("fills")) == 1
    held = {r["instrument"]: r for r in cli.json("positions", "--venue", "cryptocom")["rows"]}
    assert held["BTC"]["qty"] == "0.00995"          # the 0.5% taker fee was taken in BTC, from the BTC received

    rest = cli.json("buy", "BTC-USD", "0.02", "--venue", "cryptocom", "--limit-price", "80000.00")
    node_id = rest["nodes"][0]["node_order_id"]
    a = cli.json("amend", node_id, "--price", "80100.00", "--qty", "0.03")
    assert a["mode"] == "native_atomic"
    (resting,) = [o for o in server.orders.values() if o["status"] == "ACTIVE"]
    assert (resting["limit_price"], resting["quantity"]) == ("80100.00", "0.03")    # one order, changed in place
    cli.json("cancel", rest["graph"]["graph_id"])
    assert resting["status"] == "CANCELED"


def test_a_venue_refusal_is_a_clear_error(world):
    cli, server = world
    server.refuse_next_place = (306, "INSUFFICIENT_AVAILABLE_BALANCE", 500)
    graph = cli.json("buy", "BTC-USD", "0.01", "--venue", "cryptocom")["graph"]
    assert graph["status"] == "REJECTED" and "cryptocom: insufficient available balance (306)" in graph["reason"]


def test_a_resting_order_filled_later_reaches_fills_through_the_user_stream(world):
    cli, server = world
    rest = cli.json("buy", "BTC-USD", "0.02", "--venue", "cryptocom", "--limit-price", "80000.00")
    cid = next(k for k, o in server.orders.items() if o["status"] == "ACTIVE")
    check_stream_fill(cli.json, server, rest["graph"]["graph_id"], cid, "0.02", "80000.00",
                      lambda: len([b for b in server.bodies if b.get("method") == "private/get-order-detail"]))
