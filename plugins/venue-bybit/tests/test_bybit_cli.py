"""The Bybit adapter through the real CLI and engine, live mode, against the fake server:
venues heartbeat, quote from the live source (spot, and a perp from the linear book), buy,
amend in place, cancel, fills, a refusal, funding on a held perp, ``leverage = 5`` set on the
perp before its first order."""

import sys
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fake_bybit import FakeBybit  # noqa: E402
from sequence_core.testing import live_world, check_stream_fill  # noqa: E402

KEY, SECRET = "bybit-cli-key-2", "bybit-cli-secret-2"


@pytest.fixture
def world(tmp_path):
    yield from live_world(tmp_path / "home", FakeBybit(KEY, SECRET), "bybit", {"api_key": KEY, "api_secret": SECRET},
                          lambda url: f'base_url = "{url}"\nws_url = "{url.replace("http", "ws")}/v5/public/spot"\n')


def test_heartbeat_quote_buy_amend_cancel(world):
    cli, server = world
    (row,) = cli.json("venues")
    assert (row["venue"], row["state"]) == ("bybit", "ok") and "websocket" in row["detail"]
    q = cli.json("quote", "BTC-USDT")
    quote = (q.get("venues") or q.get("rows"))[0]
    assert (quote["bid"], quote["ask"]) == ("90990.00", "91000.00")

    d = cli.json("buy", "BTC-USDT", "0.01", "--venue", "bybit")
    assert d["graph"]["status"] == "FILLED" and d["fills"][0]["fee_asset"] == "BTC"
    assert Decimal(d["fills"][0]["fee"]) == Decimal("0.00001")                # the 0.1% fee, out of the BTC bought
    held = {r["instrument"]: r["qty"] for r in cli.json("positions", "--venue", "bybit")["rows"]}
    assert Decimal(held["BTC"]) == 1                # live positions are Bybit's wallet (the fake's does not move)
    rest = cli.json("buy", "BTC-USDT", "0.02", "--venue", "bybit", "--limit-price", "80000.00")
    a = cli.json("amend", rest["nodes"][0]["node_order_id"], "--price", "80100.00")
    assert a["mode"] == "native_atomic"
    (resting,) = [o for o in server.orders.values() if o["orderStatus"] == "New"]
    assert resting["price"] == "80100.00"
    cli.json("cancel", rest["graph"]["graph_id"])
    assert resting["orderStatus"] == "Cancelled" and len(cli.json("fills")) == 1


def test_a_venue_refusal_reaches_the_user(world):
    cli, server = world
    server.refuse_next_place = (170130, "Order price exceeds the allowable range.")
    graph = cli.refused("buy", "BTC-USDT", "0.01", "--venue", "bybit")["graph"]
    assert graph["status"] == "REJECTED" and "bybit: Order price exceeds the allowable range. (170130)" in graph["reason"]


def test_a_resting_order_filled_later_reaches_fills_through_the_private_stream(world):
    cli, server = world
    rest = cli.json("buy", "BTC-USDT", "0.02", "--venue", "bybit", "--limit-price", "80000.00")
    link = next(k for k, o in server.orders.items() if o["orderStatus"] == "New")
    check_stream_fill(cli.json, server, rest["graph"]["graph_id"], link, "0.02", "80000.00",
                      lambda: server.requests.count(("GET", "/v5/order/realtime")))


def test_live_positions_show_the_perps_bybit_reports(world):
    cli, server = world
    server.positions = [{"symbol": "BTCUSDT", "side": "Sell", "size": "0.25", "avgPrice": "90000.00", "markPrice": "90995.00",
                         "unrealisedPnl": "-248.75", "positionIM": "2250", "liqPrice": "99000.00"}]
    d = cli.json("positions", "--kind", "perp")
    (row,) = d["rows"]
    assert (row["venue"], row["kind"], row["qty"], row["entry"]) == ("bybit", "perp", "-0.25", "90000.00")
    assert ("GET", "/v5/position/list") in server.requests



def test_a_perp_quote_reads_the_linear_book(world):
    cli, server = world
    q = cli.json("quote", "BTC-USDT-PERP")
    (quote,) = q.get("venues") or q.get("rows")
    assert (quote["venue"], quote["book"], quote["bid"], quote["ask"]) == ("bybit", "BTC-USDT-PERP", "91005.5", "91006.0")
    assert q["tick"] == "0.1"                                    # the perp's tick, not spot's


def test_funding_bybit_booked_on_a_held_perp_reaches_the_ledger(world):
    cli, server = world
    d = cli.json("buy", "BTC-USDT-PERP", "0.01", "--venue", "bybit")
    assert d["graph"]["status"] == "FILLED"
    server.positions = [{"symbol": "BTCUSDT", "side": "Buy", "size": "0.01", "avgPrice": "91000.00", "markPrice": "91005.75",
                         "unrealisedPnl": "0.06", "positionIM": "91", "liqPrice": ""}]
    before = cli.json("positions")["summary"]
    now = server.now_ms()
    row = {"category": "linear", "type": "SETTLEMENT", "currency": "USDT", "side": "Buy", "fee": "0", "cashFlow": "0"}
    server.transactions = [{**row, "id": "592324_BTCUSDT_1", "symbol": "BTCUSDT", "funding": "-0.0455", "transactionTime": str(now)},
                           {**row, "id": "592324_BTCUSDT_2", "symbol": "BTCUSDT", "funding": "0.0121", "transactionTime": str(now + 1)},
                           {**row, "id": "592324_SOLUSDT_3", "symbol": "SOLUSDT", "funding": "-7", "transactionTime": str(now + 2)}]
    cli.restart_engine()                           # the new engine's live desk reads funding as it starts

    def moved():
        after = cli.json("positions")["summary"]
        delta = Decimal(after["realized_pnl"]) - Decimal(before["realized_pnl"])
        return delta or None
    assert cli.wait(moved, "funding in the ledger", timeout_s=20) == Decimal("-0.0334")   # SOLUSDT is no perp here
    assert any(q.get("type") == "SETTLEMENT" for q in server.log_queries)


def test_a_configured_leverage_is_set_on_the_perp_before_the_first_perp_order(world):
    cli, server = world
    cli.configure_venue("bybit", "leverage = 5")
    assert cli.json("buy", "BTC-USDT", "0.01", "--venue", "bybit")["graph"]["status"] == "FILLED"
    assert server.leverage_sets == []                                   # spot: never
    assert cli.json("buy", "BTC-USDT-PERP", "0.01", "--venue", "bybit")["graph"]["status"] == "FILLED"
    assert server.leverage_sets == [("BTCUSDT", "5", 1)]                # leverage 5, before the perp order
    assert [o["category"] for o in server.orders.values()] == ["spot", "linear"]


def test_a_bad_leverage_setting_is_a_clear_config_error(world):
    cli, server = world
    cli.configure_venue("bybit", "leverage = 0")
    r = cli.run("buy", "BTC-USDT-PERP", "0.01", "--venue", "bybit")
    assert r.returncode == 1 and "[venues.bybit] leverage = 0 is not a positive whole number" in r.stderr, r.stdout + r.stderr
    assert server.orders == {}
