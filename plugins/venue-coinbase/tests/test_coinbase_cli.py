"""The Coinbase adapter through the real CLI and engine, live mode, against the fake server:
connect, venues (REST + websocket heartbeat), quote from the live source, buy, a resting
order edited in place, cancel, fills, a venue refusal shown as a clear error, and a resting
order's later fill learned from the ``user`` channel (then read with its trade id over REST)."""

import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_private_key

sys.path.insert(0, str(Path(__file__).parent))
from fake_coinbase import FakeCoinbase  # noqa: E402
from sequence_core.testing import LiveCli, live_world, check_stream_fill, make_pem  # noqa: E402

NAME = "organizations/org-cli/apiKeys/key-cli"
PEM = make_pem("ec")


@pytest.fixture
def world(tmp_path):
    yield from live_world(tmp_path / "home", FakeCoinbase(NAME, load_pem_private_key(PEM.encode(), None).public_key()),
                          "coinbase", {"api_key_name": NAME, "private_key": PEM},
                          lambda url: f'base_url = "{url}"\nws_url = "{url.replace("http", "ws")}/"\n')


def test_venues_shows_a_real_heartbeat(world):
    cli, server = world
    (row,) = cli.json("venues")
    assert (row["venue"], row["state"], row["mode"]) == ("coinbase", "ok", "live") and "websocket" in row["detail"]
    assert ("GET", "/api/v3/brokerage/accounts") in server.requests and server.subscriptions


def test_quote_buy_amend_cancel_fills(world):
    cli, server = world
    q = cli.json("quote", "BTC-USD")
    row = (q.get("venues") or q.get("rows"))[0]
    assert (row["venue"], row["bid"], row["ask"]) == ("coinbase", "90990.00", "91000.00")

    d = cli.json("buy", "BTC-USD", "0.01", "--venue", "coinbase")
    assert d["graph"]["status"] == "FILLED" and d["fills"][0]["price"] == "91000.00"
    assert len(cli.json("fills")) == 1

    rest = cli.json("buy", "BTC-USD", "0.02", "--venue", "coinbase", "--limit-price", "80000.00")
    node_id = rest["nodes"][0]["node_order_id"]
    a = cli.json("amend", node_id, "--price", "80100.00", "--qty", "0.03")
    assert a["mode"] == "native_atomic"
    resting = [o for o in server.orders.values() if o["status"] == "OPEN"]
    assert [o["order_configuration"]["limit_limit_gtc"] for o in resting] == \
        [{"base_size": "0.03", "limit_price": "80100.00", "post_only": False}]          # one order, edited in place
    cli.json("cancel", rest["graph"]["graph_id"])
    assert server.orders[resting[0]["order_id"]]["status"] == "CANCELLED"


def test_a_venue_refusal_is_a_clear_error(world):
    cli, server = world
    server.refuse_next_place = ("INSUFFICIENT_FUND", "Insufficient balance in source account")
    graph = cli.refused("buy", "BTC-USD", "0.01", "--venue", "coinbase")["graph"]
    assert graph["status"] == "REJECTED"
    assert "coinbase: Insufficient balance in source account (INSUFFICIENT_FUND)" in graph["reason"]
    assert not server.orders


def test_a_resting_order_filled_later_reaches_fills_through_the_user_channel(world):
    cli, server = world
    rest = cli.json("buy", "BTC-USD", "0.02", "--venue", "coinbase", "--limit-price", "80000.00")
    (cid,) = [o["client_order_id"] for o in server.orders.values() if o["status"] == "OPEN"]

    def reads() -> list[int]:
        return [i for i, (_, p) in enumerate(server.requests) if p.startswith("/api/v3/brokerage/orders/historical/0000-")]

    # the engine reads its resting orders once when the stream connects (after the place's own
    # read); the fill comes after that, so only the push (the filled quantity, no fill in it) can
    # make the engine read the order again before its next 5 s check
    LiveCli.wait(lambda: server.private_at and [i for i in reads()[1:] if i >= server.private_at[0]],
                 "the catch-up read after the stream connected")
    check_stream_fill(cli.json, server, rest["graph"]["graph_id"], cid, "0.02", "80000.00", lambda: len(reads()))
