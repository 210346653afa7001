"""The OKX adapter through the real CLI and engine, live mode, against the fake server:
connect, venues (REST + websocket heartbeat), quote from the live source, buy, a resting
order amended in place, cancel, fills; perp funding read into the ledger; ``leverage = 5`` set on
the swap before its first order."""

import sys
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fake_okx import FakeOkx  # noqa: E402
from sequence_core.testing import live_world, check_stream_fill, funding_kept_once  # noqa: E402

KEY, SECRET, PASS = "okx-cli-key-2", "okx-cli-secret-2", "cli pass"


@pytest.fixture
def world(tmp_path):
    yield from live_world(tmp_path / "home", FakeOkx(KEY, SECRET, PASS), "okx",
                          {"api_key": KEY, "api_secret": SECRET, "passphrase": PASS},
                          lambda url: f'base_url = "{url}"\nws_url = "{url.replace("http", "ws")}/ws/v5/public"\n')


def test_venues_shows_a_real_heartbeat(world):
    cli, server = world
    (row,) = cli.json("venues")
    assert (row["venue"], row["state"], row["mode"]) == ("okx", "ok", "live") and "websocket" in row["detail"]
    assert ("GET", "/api/v5/account/balance") in server.requests and server.subscriptions


def test_quote_buy_amend_cancel_fills(world):
    cli, server = world
    q = cli.json("quote", "BTC-USDT")
    row = (q.get("venues") or q.get("rows"))[0]
    assert (row["venue"], row["bid"], row["ask"]) == ("okx", "90990.0", "91000.0")

    d = cli.json("buy", "BTC-USDT", "0.01", "--venue", "okx")
    assert d["graph"]["status"] == "FILLED" and d["fills"][0]["price"] == "91000.0"
    assert len(cli.json("fills")) == 1
    (fill,) = cli.json("fills")
    assert (Decimal(fill["fee"]), fill["fee_asset"]) == (Decimal("0.00001"), "BTC")   # the 0.1% fee was charged in BTC
    held = {r["instrument"]: r["qty"] for r in cli.json("positions", "--venue", "okx")["rows"]}
    assert Decimal(held["BTC"]) == 1                # live positions are OKX's cashBal (the fake's does not move)

    rest = cli.json("buy", "BTC-USDT", "0.02", "--venue", "okx", "--limit-price", "80000.0")
    node_id = rest["nodes"][0]["node_order_id"]
    a = cli.json("amend", node_id, "--price", "80100.0", "--qty", "0.03")
    assert a["mode"] == "native_atomic"
    resting = [o for o in server.orders.values() if o["state"] == "live"]
    assert [(o["px"], o["sz"]) for o in resting] == [("80100.0", "0.03")]       # one order, changed in place
    d = cli.json("decrease", node_id, "--by", "0.01")                          # from the amended size, not the first
    assert d["mode"] == "native_atomic" and d["node"]["qty"] == "0.02" and resting[0]["sz"] == "0.02"
    cli.json("cancel", rest["graph"]["graph_id"])
    assert [o["state"] for o in server.orders.values() if o["ordId"] == resting[0]["ordId"]] == ["canceled"]


def test_a_venue_refusal_is_a_clear_error(world):
    cli, server = world
    server.refuse_next_place = ("51137", "Your opening price has triggered the limit price")
    r = cli.run("buy", "BTC-USDT", "0.01", "--venue", "okx")
    assert "REJECTED" in r.stdout and "(51137)" in r.stdout + r.stderr, r.stdout + r.stderr
    server.refuse_next_place = ("51137", "Your opening price has triggered the limit price")
    graph = cli.refused("buy", "BTC-USDT", "0.01", "--venue", "okx")["graph"]
    assert graph["status"] == "REJECTED" and "okx: Your opening price has triggered the limit price (51137)" in graph["reason"]


def test_a_resting_order_filled_later_reaches_fills_through_the_private_stream(world):
    cli, server = world
    rest = cli.json("buy", "BTC-USDT", "0.02", "--venue", "okx", "--limit-price", "80000.0")
    cid = next(o["clOrdId"] for o in server.orders.values() if o["state"] == "live")
    check_stream_fill(cli.json, server, rest["graph"]["graph_id"], cid, "0.02", "80000.0",
                      lambda: server.requests.count(("GET", "/api/v5/trade/order")))


def test_a_perp_buy_and_sell_reach_live_positions_in_base_units(world):
    cli, server = world
    d = cli.json("buy", "BTC-USDT-PERP", "0.5", "--venue", "okx")
    assert d["graph"]["status"] == "FILLED"
    assert [(f["price"], f["qty"], f["fee_asset"]) for f in d["fills"]] == [("91000.0", "0.5", "USDT")]
    assert (server.placed[-1]["instId"], server.placed[-1]["sz"], server.placed[-1]["tdMode"]) == ("BTC-USDT-SWAP", "50", "cross")
    rows = cli.json("positions", "--kind", "perp")["rows"]
    assert [(r["instrument"], r["venue"], r["kind"], r["qty"], r["entry"]) for r in rows] == \
        [("BTC-USDT-PERP", "okx", "perp", "0.5", "91000")]
    assert ("GET", "/api/v5/account/positions") in server.requests

    cli.json("sell", "BTC-USDT-PERP", "0.8", "--venue", "okx")                       # flips to short 0.3
    rows = cli.json("positions", "--kind", "perp")["rows"]
    assert [(r["qty"], r["entry"]) for r in rows] == [("-0.3", "90990")]


def test_perp_input_off_the_lot_or_a_hedge_mode_account_is_a_clear_error(world):
    cli, server = world
    r = cli.run("buy", "BTC-USDT-PERP", "0.00015", "--venue", "okx")
    assert r.returncode == 1 and "lot size 0.0001" in r.stderr, r.stdout + r.stderr
    server.pos_mode = "long_short_mode"
    graph = cli.refused("buy", "BTC-USDT-PERP", "0.5", "--venue", "okx")["graph"]
    assert graph["status"] == "REJECTED" and "long/short (hedge) position mode" in graph["reason"]
    assert server.placed == [] and ("POST", "/api/v5/trade/order") not in server.requests


def test_funding_booked_on_a_held_perp_reaches_realized_pnl_once(world):
    """The engine reads funding as it starts (then every 10 min) where the ledger holds a perp:
    OKX's funding bills from the first perp fill on reach realized P&L, each once."""
    cli, server = world
    assert cli.json("buy", "BTC-USDT-PERP", "0.5", "--venue", "okx")["graph"]["status"] == "FILLED"
    before = Decimal(cli.json("positions")["summary"]["realized_pnl"])
    now = server.now_ms()
    server.add_funding("BTC-USDT-SWAP", "-7", now - 3_600_000)      # before the ledger held the perp: not its own
    paid = server.add_funding("BTC-USDT-SWAP", "-1.25", now + 1)
    got = server.add_funding("BTC-USDT-SWAP", "0.40", now + 2)
    server.add_funding("DOGE-USDT-SWAP", "9", now + 3)              # a swap this adapter does not list: skipped
    rows = funding_kept_once(cli, server.bill_queries, before, Decimal("-0.85"))
    assert rows == [(paid["billId"], "BTC-USDT-PERP", "USDT", "-1.25"), (got["billId"], "BTC-USDT-PERP", "USDT", "0.40")]
    assert {(q["instType"], q["type"]) for _, q in server.bill_queries} == {("SWAP", "8")}


def test_a_configured_leverage_is_set_on_the_swap_before_the_first_perp_order(world):
    cli, server = world
    cli.configure_venue("okx", "leverage = 5")
    assert cli.json("buy", "BTC-USDT", "0.01", "--venue", "okx")["graph"]["status"] == "FILLED"
    assert server.leverage_sets == []                                   # spot: never
    assert cli.json("buy", "BTC-USDT-PERP", "0.5", "--venue", "okx")["graph"]["status"] == "FILLED"
    assert server.leverage_sets == [("BTC-USDT-SWAP", "5", 1)]          # leverage 5, before the perp order
    assert server.placed[-1]["instId"] == "BTC-USDT-SWAP"
    # admission checks a perp order's margin at that leverage (100,000 USDT held): ~182,000 of
    # notional needs ~36,400 at 5x; ~546,000 needs ~109,000, refused before anything is sent
    assert cli.json("buy", "BTC-USDT-PERP", "2", "--venue", "okx")["graph"]["status"] == "FILLED"
    placed = len(server.placed)
    big = cli.run("buy", "BTC-USDT-PERP", "6", "--venue", "okx")
    assert big.returncode == 1 and "as margin at 5x" in big.stderr and len(server.placed) == placed, big.stderr


def test_a_bad_leverage_setting_is_a_clear_config_error(world):
    cli, server = world
    cli.configure_venue("okx", 'leverage = "5x"')
    r = cli.run("buy", "BTC-USDT-PERP", "0.5", "--venue", "okx")
    assert r.returncode == 1 and "[venues.okx] leverage = '5x' is not a positive whole number" in r.stderr, \
        r.stdout + r.stderr
    assert server.placed == []
