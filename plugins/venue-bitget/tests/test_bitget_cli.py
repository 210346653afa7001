"""The Bitget adapter through the real CLI and engine, live mode, against the fake server."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fake_bitget import FakeBitget  # noqa: E402
from sequence_core.testing import LiveCli, check_stream_fill  # noqa: E402

KEY, SECRET, PASS = "bitget-cli-key", "bitget-cli-secret", "cli pass"


@pytest.fixture
def world(tmp_path):
    server = FakeBitget(KEY, SECRET, PASS)
    url = server.start()
    cli = LiveCli(tmp_path / "home", "bitget,sim,synthetic")
    cli.connect("bitget", {"api_key": KEY, "api_secret": SECRET, "passphrase": PASS})
    cli.configure(f'[venues.bitget]\nbase_url = "{url}"\nws_url = "{url.replace("http", "ws")}/v2/ws/public"\n')
    yield cli, server
    cli.close()
    server.stop()


def test_heartbeat_quote_buy_amend_cancel(world):
    cli, server = world
    (row,) = cli.json("venues")
    assert (row["venue"], row["state"]) == ("bitget", "ok") and "websocket" in row["detail"]
    q = cli.json("quote", "BTC-USDT")
    quote = (q.get("venues") or q.get("rows"))[0]
    assert (quote["bid"], quote["ask"]) == ("90990.00", "91000.00")
    assert cli.json("buy", "BTC-USDT", "0.01", "--venue", "bitget")["graph"]["status"] == "FILLED"
    rest = cli.json("buy", "BTC-USDT", "0.02", "--venue", "bitget", "--limit-price", "80000.00")
    a = cli.json("amend", rest["nodes"][0]["node_order_id"], "--price", "80100.00")
    assert a["mode"] == "cancel_replace"
    assert sorted((o["price"], o["status"]) for o in server.orders.values() if o["price"] != "91000.00") == \
        [("80000.00", "cancelled"), ("80100.00", "live")]
    cli.json("cancel", rest["graph"]["graph_id"])
    assert all(o["status"] != "live" for o in server.orders.values())


def test_a_venue_refusal_reaches_the_user(world):
    cli, server = world
    server.refuse_next_place = ("45110", "less than the minimum order quantity")
    graph = cli.json("buy", "BTC-USDT", "0.01", "--venue", "bitget")["graph"]
    assert graph["status"] == "REJECTED" and "bitget: less than the minimum order quantity (45110)" in graph["reason"]


def test_a_resting_order_filled_later_reaches_fills_through_the_private_stream(world):
    cli, server = world
    rest = cli.json("buy", "BTC-USDT", "0.02", "--venue", "bitget", "--limit-price", "80000.00")
    cid = next(k for k, o in server.orders.items() if o["status"] == "live")
    check_stream_fill(cli.json, server, rest["graph"]["graph_id"], cid, "0.02", "80000.00",
                      lambda: server.requests.count(("GET", "/api/v2/spot/trade/orderInfo")))
