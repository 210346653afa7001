"""The Bitget adapter through the real CLI and engine, live mode, against the fake server:
spot, then USDT-M perps (buy, `positions --kind perp`, a flip, refusals, amend, stream fill), and a
unified account's fill through its v3 private stream."""

import sys
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fake_bitget import FakeBitget  # noqa: E402
from sequence_core.testing import LiveCli, live_world, check_stream_fill  # noqa: E402

KEY, SECRET, PASS = "bitget-cli-key", "bitget-cli-secret", "cli pass"


@pytest.fixture
def world(tmp_path):
    yield from live_world(tmp_path / "home", FakeBitget(KEY, SECRET, PASS), "bitget",
                          {"api_key": KEY, "api_secret": SECRET, "passphrase": PASS},
                          lambda url: f'base_url = "{url}"\nws_url = "{url.replace("http", "ws")}/v2/ws/public"\n')


def test_heartbeat_quote_buy_amend_cancel(world):
    cli, server = world
    (row,) = cli.json("venues")
    assert (row["venue"], row["state"]) == ("bitget", "ok") and "websocket" in row["detail"]
    q = cli.json("quote", "BTC-USDT")
    quote = (q.get("venues") or q.get("rows"))[0]
    assert (quote["bid"], quote["ask"]) == ("90990.00", "91000.00")
    assert cli.json("buy", "BTC-USDT", "0.01", "--venue", "bitget")["graph"]["status"] == "FILLED"
    (fill,) = cli.json("fills")
    assert (fill["fee"], fill["fee_asset"]) == ("0.00001", "BTC")      # the 0.1% fee was charged in BTC
    held = {r["instrument"]: r["qty"] for r in cli.json("positions", "--venue", "bitget")["rows"]}
    assert Decimal(held["BTC"]) == 1                # live positions are Bitget's assets (the fake's do not move)
    rest = cli.json("buy", "BTC-USDT", "0.02", "--venue", "bitget", "--limit-price", "80000.00")
    a = cli.json("amend", rest["nodes"][0]["node_order_id"], "--price", "80100.00")
    assert a["mode"] == "cancel_replace"
    assert sorted((o["price"], o["status"]) for o in server.orders.values() if o["price"] != "91000.00") == \
        [("80000.00", "cancelled"), ("80100.00", "live")]
    cli.json("cancel", rest["graph"]["graph_id"])
    assert all(o["status"] != "live" for o in server.orders.values())


def test_live_positions_count_the_futures_wallet_once(world):
    """Live cash is Bitget's spot USDT plus the USDT-M wallet, without the futures account's
    unrealized P&L (the perp rows carry it)."""
    cli, server = world
    server.futures_wallet, server.futures_upl = Decimal("2500.25"), Decimal("123.45")
    out = cli.json("positions", "--venue", "bitget")
    held = {r["instrument"]: r["qty"] for r in out["rows"]}
    assert Decimal(held["USDT"]) == Decimal("100000") + Decimal("2500.25")
    assert Decimal(out["summary"]["cash"]) == Decimal("102500.25")


def test_a_venue_refusal_reaches_the_user(world):
    cli, server = world
    server.refuse_next_place = ("45110", "less than the minimum order quantity")
    graph = cli.refused("buy", "BTC-USDT", "0.01", "--venue", "bitget")["graph"]
    assert graph["status"] == "REJECTED" and "bitget: less than the minimum order quantity (45110)" in graph["reason"]


def test_a_resting_order_filled_later_reaches_fills_through_the_private_stream(world):
    cli, server = world
    rest = cli.json("buy", "BTC-USDT", "0.02", "--venue", "bitget", "--limit-price", "80000.00")
    cid = next(k for k, o in server.orders.items() if o["status"] == "live")
    check_stream_fill(cli.json, server, rest["graph"]["graph_id"], cid, "0.02", "80000.00",
                      lambda: server.requests.count(("GET", "/api/v2/spot/trade/orderInfo")))


# -- USDT-M perpetuals ------------------------------------------------------------------------------
def test_perp_buy_then_positions_kind_perp_then_a_flipping_sell(world):
    cli, server = world
    q = cli.json("quote", "BTC-USDT-PERP")
    quote = (q.get("venues") or q.get("rows"))[0]
    assert (quote["venue"], quote["bid"], quote["ask"]) == ("bitget", "90990.0", "91000.0")
    d = cli.json("buy", "BTC-USDT-PERP", "0.01", "--venue", "bitget")
    assert d["graph"]["status"] == "FILLED"
    assert [(f["price"], f["qty"], f["fee_asset"]) for f in d["fills"]] == [("91000.0", "0.01", "USDT")]
    assert server.perp_places[0]["productType"] == "USDT-FUTURES" and server.perp_places[0]["marginMode"] == "crossed"
    rows = cli.json("positions", "--kind", "perp")["rows"]
    assert [(p["instrument"], p["venue"], p["kind"], p["qty"], p["entry"]) for p in rows] == \
        [("BTC-USDT-PERP", "bitget", "perp", "0.01", "91000.0")]
    assert ("GET", "/api/v2/mix/position/all-position") in server.requests
    assert cli.json("sell", "BTC-USDT-PERP", "0.03", "--venue", "bitget")["graph"]["status"] == "FILLED"
    (row,) = cli.json("positions", "--kind", "perp")["rows"]
    assert (row["qty"], row["entry"]) == ("-0.02", "90990.0")


@pytest.mark.parametrize("args,words", [
    (("0.00005",), "quantity 0.00005 is not a multiple of bitget's lot size 0.0001"),     # under the minimum 0.0001
    (("0.0001", "--limit-price", "100.0"), "order notional 0.01 is under the minimum 5"),  # minTradeUSDT
    (("0.01", "--limit-price", "91000.05"), "off bitget's tick size 0.1"),
])
def test_bad_perp_input_is_an_error_before_anything_is_sent(world, args, words):
    cli, server = world
    r = cli.run("buy", "BTC-USDT-PERP", *args, "--venue", "bitget")
    assert r.returncode == 1 and words in r.stderr and r.stderr.startswith("Error:")
    assert server.perp_places == [] and ("POST", "/api/v2/mix/order/place-order") not in server.requests


def test_a_hedge_mode_account_is_refused_with_the_reason(world):
    cli, server = world
    server.pos_mode = "hedge_mode"
    graph = cli.refused("buy", "BTC-USDT-PERP", "0.01", "--venue", "bitget")["graph"]
    assert graph["status"] == "REJECTED" and "hedge mode" in graph["reason"] and server.perp_places == []


def test_a_resting_perp_order_is_amended_by_cancel_replace_then_cancelled(world):
    cli, server = world
    rest = cli.json("buy", "BTC-USDT-PERP", "0.02", "--venue", "bitget", "--limit-price", "80000.0")
    a = cli.json("amend", rest["nodes"][0]["node_order_id"], "--price", "80100.0")
    assert a["mode"] == "cancel_replace"
    assert sorted((o["price"], o["state"]) for o in server.perp_orders.values()) == [("80000.0", "canceled"), ("80100.0", "live")]
    cli.json("cancel", rest["graph"]["graph_id"])
    assert all(o["state"] == "canceled" for o in server.perp_orders.values())


def test_a_unified_account_resting_fill_reaches_fills_once_through_the_v3_stream(world):
    cli, server = world
    server.uta = True
    rest = cli.json("buy", "BTC-USDT", "0.02", "--venue", "bitget", "--limit-price", "80000.00")
    cid = next(k for k, o in server.orders.items() if o["status"] == "live")
    LiveCli.wait(lambda: server.uta_private, "the engine's v3 private stream login on its first order")
    assert server.uta_logins == [True] and server.logins == []
    reads = lambda: server.requests.count(("GET", "/api/v3/trade/order-info"))    # noqa: E731
    before = reads()
    server.fill_resting(cid, "0.02")
    fills = LiveCli.wait(lambda: cli.json("fills"), "the fill in `sequence fills`")
    (entry,) = [o for o in cli.json("orders") if o["graph"]["graph_id"] == rest["graph"]["graph_id"]]
    assert [n["status"] for n in entry["nodes"]] == ["FILLED"]
    assert [(f["price"], f["qty"], f["liquidity"]) for f in cli.json("fills")] == [("80000.00", "0.02", "maker")] and len(fills) == 1
    assert reads() - before <= 2            # with the stream live, not 4 REST reads a second


def test_a_resting_perp_order_filled_later_reaches_fills_through_the_private_stream(world):
    cli, server = world
    rest = cli.json("buy", "BTC-USDT-PERP", "0.02", "--venue", "bitget", "--limit-price", "80000.0")
    cid = next(k for k, o in server.perp_orders.items() if o["state"] == "live")
    check_stream_fill(cli.json, server, rest["graph"]["graph_id"], cid, "0.02", "80000.0",
                      lambda: server.requests.count(("GET", "/api/v2/mix/order/detail")))
    (row,) = cli.json("positions", "--kind", "perp")["rows"]
    assert (row["qty"], row["entry"]) == ("0.02", "80000.0")


def test_funding_booked_on_a_held_perp_reaches_the_ledger_once(world):
    """A starting engine reads the funding of the perps the ledger holds (then every 10 min):
    a restart reads the bills again and keeps only the new one."""
    cli, server = world
    assert cli.json("buy", "BTC-USDT-PERP", "0.01", "--venue", "bitget")["graph"]["status"] == "FILLED"
    held_ms = server.now_ms()                                         # the ledger holds the perp by now
    server.book_bill("BTCUSDT", "5", held_ms - 3_600_000)             # before it held the perp: not its own
    server.book_bill("BTCUSDT", "-0.0123", held_ms)
    server.book_bill("BTCUSDT", "0.004", held_ms + 1)
    realized = lambda: Decimal(cli.json("positions", "--kind", "perp")["summary"]["realized_pnl"])    # noqa: E731
    before = realized()
    for reads, total in ((1, "-0.0083"), (2, "-0.0093")):
        cli.restart_engine()                                          # reads funding as it starts
        LiveCli.wait(lambda: len(server.bill_reads) == reads, "the engine's funding read")
        # the last payment arrives in the same commit as the repeats (kept once, by billId)
        LiveCli.wait(lambda: realized() == before + Decimal(total), "the funding in the ledger's realized P&L")
        server.book_bill("BTCUSDT", "-0.001", server.now_ms())
    assert all(r["businessType"] == "contract_settle_fee" and int(r["startTime"]) > held_ms - 3_600_000 for r in server.bill_reads)


def test_a_configured_leverage_is_set_before_the_first_perp_order(world):
    cli, server = world
    cli.configure_venue("bitget", "leverage = 5")
    assert cli.json("buy", "BTC-USDT-PERP", "0.01", "--venue", "bitget")["graph"]["status"] == "FILLED"
    assert server.leverage == {"BTCUSDT": 5}
    assert server.requests.index(("POST", "/api/v2/mix/account/set-leverage")) < \
        server.requests.index(("POST", "/api/v2/mix/order/place-order"))
