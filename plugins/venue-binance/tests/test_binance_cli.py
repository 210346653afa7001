"""The Binance adapter through the real CLI and engine, live mode, against the fake server:
connect, heartbeat, quote from the live source (REST snapshot, then the engine's websocket
book), buy, a resting order, native amend, cancel, fills; USD-M perps: buy, positions --kind
perp, a resting perp amended in place, a resting perp's later fill pushed on the USD-M user data
stream, bad input refused before anything is sent, and funding payments reaching the ledger once."""

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))   # the fake server beside this file
from fake_binance import FakeBinance  # noqa: E402
from sequence_core.testing import add_venue_setting  # noqa: E402

SEQUENCE = Path(sys.executable).parent / "sequence"
KEY, SECRET = "cli-api-key-0002", "cli-secret-0002"


@pytest.fixture
def world(tmp_path):
    server = FakeBinance(KEY, SECRET)
    url = server.start()
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEQUENCE_")}
    env.update(SEQUENCE_HOME=str(home), SEQUENCE_LOAD_PLUGINS="binance,sim,synthetic,twap", SEQUENCE_LOOPBACK_ONLY="1")

    def run(*args, stdin=""):
        return subprocess.run([str(SEQUENCE), *args], input=stdin, capture_output=True, text=True, env=env, timeout=60)

    assert run("connect", "binance", stdin=json.dumps({"api_key": KEY, "api_secret": SECRET})).returncode == 0
    ws = url.replace("http", "ws")
    (home / "config.toml").write_text(f'[venues.binance]\nbase_url = "{url}"\nws_url = "{ws}/ws"\nws_api_url = "{ws}/ws-api/v3"\n'
                                      f'fapi_ws_url = "{ws}/public/ws"\nfapi_private_ws_url = "{ws}/private/ws"\n')
    yield run, server, home
    info = home / "engine.json"
    if info.exists():
        try:
            os.kill(json.loads(info.read_text())["pid"], 9)
        except ProcessLookupError:
            pass
    server.stop()


def test_heartbeat_is_a_real_signed_call(world):
    run, server, _ = world
    rows = json.loads(run("venues", "--output", "json").stdout)
    assert rows[0]["venue"] == "binance" and rows[0]["state"] == "ok" and rows[0]["mode"] == "live"
    assert "websocket" in rows[0]["detail"] and server.subscriptions
    assert ("GET", "/api/v3/account") in server.requests


def test_heartbeat_down_with_a_wrong_secret(world):
    run, server, home = world
    run("connect", "binance", stdin=json.dumps({"api_key": KEY, "api_secret": "wrong"}))
    rows = json.loads(run("venues", "--output", "json").stdout)
    assert rows[0]["state"] in ("down", "stale") and "signature" in rows[0]["detail"].lower()
    assert "wrong" not in rows[0]["detail"]


def test_live_buy_fills_through_the_adapter(world):
    run, server, _ = world
    r = run("buy", "BTC-USDT", "0.01", "--venue", "binance", "--output", "json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["graph"]["mode"] == "live" and d["graph"]["status"] == "FILLED"
    assert d["fills"][0]["price"] == "91000.00" and d["fills"][0]["venue"] == "binance"
    placed = [o for o in server.orders.values()]
    assert len(placed) == 1 and placed[0]["clientOrderId"] == d["nodes"][0]["node_order_id"].replace("graph_", "sq").replace(":node_", "n").replace(":", "s")
    fills = json.loads(run("fills", "--output", "json").stdout)
    assert len(fills) == 1
    assert ["btcusdt@depth@100ms", "btcusdt@trade"] in server.subscriptions     # the engine keeps the book live
    rows = json.loads(run("positions", "--venue", "binance", "--output", "json").stdout)["rows"]
    # the venue's BTC (live positions show what Binance holds): the 1 BTC held before, plus the
    # 0.01 bought less the 0.1% commission Binance took out of it
    assert Decimal(next(r for r in rows if r["instrument"] == "BTC")["qty"]) == Decimal("1.00999") == Decimal(server.spot_btc)


def test_live_positions_are_what_binance_holds(world):
    """Live cash and spot rows are Binance's own totals (free plus locked, the spot wallet and the
    USD-M wallet), not the ledger's account of Sequence's fills alone: before any trade the USDT
    is there, and after a buy and a sell no holding goes negative and the USDT is Binance's."""
    run, server, _ = world
    server.spot_locked = {"USDT": "500"}                # in an open order placed elsewhere
    before = json.loads(run("positions", "--output", "json").stdout)
    held = {r["instrument"]: r for r in before["rows"]}
    assert (held["USDT"]["venue"], held["USDT"]["kind"]) == ("binance", "crypto")
    assert Decimal(held["USDT"]["qty"]) == Decimal("100000") + 500 + server.f_wallet
    btc = held["BTC"]
    assert Decimal(btc["qty"]) == 1 and btc["entry_known"] is False and btc["entry"] == btc["mark"]   # basis unknown
    assert Decimal(btc["unrealized_pnl"]) == 0 and before["notes"] == []
    assert Decimal(before["summary"]["cash"]) == Decimal("150500")
    assert Decimal(before["summary"]["nav"]) == Decimal("150500") + Decimal(btc["value_usd"]) > Decimal("150500")

    for side in ("buy", "sell"):
        r = run(side, "BTC-USDT", "0.01", "--venue", "binance", "--output", "json")
        assert r.returncode == 0 and json.loads(r.stdout)["graph"]["status"] == "FILLED", r.stderr
    after = json.loads(run("positions", "--output", "json").stdout)
    held = {r["instrument"]: r for r in after["rows"]}
    assert all(Decimal(r["qty"]) >= 0 for r in after["rows"])
    assert Decimal(held["USDT"]["qty"]) == Decimal(server.spot_usdt) + 500 + server.f_wallet
    assert Decimal(server.spot_usdt) == Decimal("100000") - Decimal("910.00") + Decimal("909.90") - Decimal("0.9099")
    assert Decimal(held["BTC"]["qty"]) == Decimal(server.spot_btc) == Decimal("0.99999")
    assert Decimal(after["summary"]["realized_pnl"]) != 0        # the ledger's realized P&L stays on the BTC row


def test_live_resting_order_then_cancel(world):
    run, server, _ = world
    d = json.loads(run("buy", "BTC-USDT", "0.01", "--venue", "binance", "--limit-price", "80000.00", "--output", "json").stdout)
    assert d["graph"]["status"] == "WORKING"
    c = run("cancel", d["graph"]["graph_id"], "--output", "json")
    assert c.returncode == 0, c.stderr
    assert [o["status"] for o in server.orders.values()] == ["CANCELED"]


def test_live_insufficient_balance_is_refused_before_sending(world):
    run, server, _ = world
    r = run("buy", "BTC-USDT", "5", "--venue", "binance")                 # 455k USDT > 100k at the venue
    assert r.returncode == 1 and "insufficient balance" in r.stderr
    assert not server.orders


def test_live_quote_is_the_venues_own_book(world):
    run, server, _ = world
    r = run("quote", "BTC-USDT", "--output", "json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    row = d["venues"][0] if "venues" in d else d["rows"][0]
    assert row["venue"] == "binance" and row["bid"] == "90990.00" and row["ask"] == "91000.00"
    assert ("GET", "/api/v3/depth") in server.requests
    assert row["age_ms"] >= 0 and d["at_ns"] >= row["ts_ns"]      # read after the quote's moment: was -100 ms


def test_live_amend_of_quantity_is_native(world):
    run, server, _ = world
    d = json.loads(run("buy", "BTC-USDT", "0.02", "--venue", "binance", "--limit-price", "80000.00", "--output", "json").stdout)
    node_id = d["nodes"][0]["node_order_id"]
    a = run("amend", node_id, "--qty", "0.01", "--output", "json")
    assert a.returncode == 0, a.stderr
    assert json.loads(a.stdout)["mode"] == "native_atomic"
    (order,) = server.orders.values()
    assert order["origQty"] == "0.01" and order["status"] == "NEW"       # the same order, smaller
    p = run("amend", node_id, "--price", "80001.00", "--output", "json")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["mode"] == "cancel_replace"
    assert sorted(o["status"] for o in server.orders.values()) == ["CANCELED", "NEW"]
    # more than the account can pay for: refused before cancel-replace cancels the order, which
    # rests on (admission refused such a new order, but an amend went out and lost the original)
    big = run("amend", json.loads(p.stdout)["node"]["node_order_id"], "--qty", "100")
    assert big.returncode == 1 and "insufficient balance on binance: the amended order needs" in big.stderr, big.stderr
    assert sorted(o["status"] for o in server.orders.values()) == ["CANCELED", "NEW"]


def test_a_resting_order_filled_later_reaches_fills_through_the_user_data_stream(world):
    from sequence_core.testing import check_stream_fill

    run, server, _ = world
    d = json.loads(run("buy", "BTC-USDT", "0.02", "--venue", "binance", "--limit-price", "80000.00", "--output", "json").stdout)
    (cid,) = server.orders
    check_stream_fill(lambda *a: json.loads(run(*a, "--output", "json").stdout), server, d["graph"]["graph_id"], cid,
                      "0.02", "80000.00", lambda: server.requests.count(("GET", "/api/v3/order")))


def test_live_perp_buy_then_positions_show_binances_position(world):
    run, server, _ = world
    r = run("buy", "BTC-USDT-PERP", "0.01", "--venue", "binance", "--output", "json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["graph"]["status"] == "FILLED"
    (fill,) = d["fills"]
    assert (fill["price"], fill["qty"], fill["fee_asset"]) == ("91000.0", "0.01", "USDT")
    (order,) = server.f_orders.values()
    assert (order["symbol"], order["type"], order["timeInForce"], order["executedQty"]) == ("BTCUSDT", "LIMIT", "IOC", "0.01")
    p = run("positions", "--kind", "perp", "--output", "json")
    assert p.returncode == 0, p.stderr
    (row,) = json.loads(p.stdout)["rows"]
    assert (row["instrument"], row["venue"], row["kind"], row["qty"]) == ("BTC-USDT-PERP", "binance", "perp", "0.01")
    assert Decimal(row["entry"]) == Decimal("91000.0")
    assert ("GET", "/fapi/v3/positionRisk") in server.requests


def test_live_perp_and_spot_orders_are_each_checked_against_their_own_wallet(world):
    """Spot USDT and USD-M margin are separate wallets at Binance: a perp buy spends margin the
    spot wallet does not have, a spot buy the spot wallet cannot pay is refused before sending,
    and so is a perp buy once the margin wallet is empty."""
    run, server, _ = world
    server.spot_usdt = "10"
    perp = run("buy", "BTC-USDT-PERP", "0.01", "--venue", "binance", "--output", "json")
    assert perp.returncode == 0 and json.loads(perp.stdout)["graph"]["status"] == "FILLED", perp.stderr
    spot = run("buy", "BTC-USDT", "0.02", "--venue", "binance", "--limit-price", "91000.00")
    assert spot.returncode == 1 and "insufficient balance" in spot.stderr and "available 10.00" in spot.stderr
    server.f_wallet = Decimal(0)
    server.spot_usdt = "100000"
    again = run("buy", "BTC-USDT-PERP", "0.01", "--venue", "binance")
    assert again.returncode == 1 and "insufficient balance" in again.stderr
    assert len(server.f_orders) == 1 and not server.orders        # the refused two never reached Binance


def test_live_resting_perp_is_amended_in_place(world):
    run, server, _ = world
    d = json.loads(run("buy", "ETH-USDT-PERP", "0.05", "--venue", "binance", "--limit-price", "2500.00", "--output", "json").stdout)
    assert d["graph"]["status"] == "WORKING"
    a = run("amend", d["nodes"][0]["node_order_id"], "--price", "2501.50", "--output", "json")
    assert a.returncode == 0, a.stderr
    assert json.loads(a.stdout)["mode"] == "native_atomic"
    (order,) = server.f_orders.values()
    assert (order["price"], order["status"], order["timeInForce"]) == ("2501.50", "NEW", "GTC")


def test_live_perp_bad_input_is_refused_before_anything_is_sent(world):
    run, server, _ = world
    off_tick = run("buy", "BTC-USDT-PERP", "0.01", "--venue", "binance", "--limit-price", "90000.05")
    assert off_tick.returncode == 1 and "off binance's tick size 0.1" in off_tick.stderr
    off_lot = run("buy", "BTC-USDT-PERP", "0.0005", "--venue", "binance")
    assert off_lot.returncode == 1 and "lot size 0.001" in off_lot.stderr
    small = run("buy", "BTC-USDT-PERP", "0.001", "--venue", "binance")          # 91 USDT < Binance's 100
    assert small.returncode == 1 and "under the minimum 100" in small.stderr
    assert not server.f_orders and not [r for r in server.requests if r[0] == "POST" and r[1].endswith("/order")]


class UsdmPrivate:
    """The fake's USD-M private side, as ``check_stream_fill`` reads a venue's private stream."""

    def __init__(self, server):
        self.server = server

    @property
    def private(self):
        return self.server.f_private

    @property
    def logins(self):
        return self.server.f_logins

    def fill_resting(self, cid: str, qty: str) -> None:
        self.server.fill_resting_perp(cid, qty)


def test_a_resting_perp_filled_later_reaches_fills_through_the_usdm_stream(world):
    from sequence_core.testing import check_stream_fill

    run, server, _ = world
    d = json.loads(run("buy", "BTC-USDT-PERP", "0.01", "--venue", "binance", "--limit-price", "80000.0", "--output", "json").stdout)
    assert d["graph"]["status"] == "WORKING"
    (cid,) = server.f_orders
    check_stream_fill(lambda *a: json.loads(run(*a, "--output", "json").stdout), UsdmPrivate(server), d["graph"]["graph_id"],
                      cid, "0.01", "80000.0", lambda: server.requests.count(("GET", "/fapi/v1/order")))
    assert server.f_events == ["ORDER_TRADE_UPDATE"] and server.f_key_posts == 1    # one key, one socket
    assert server.logins == [True]                    # the spot stream runs beside it (both live: slow polling)


def test_live_perp_funding_reaches_the_ledger_once(world):
    """The engine reads funding when it starts (then every 10 minutes) for a venue where the
    ledger holds a perp: Binance's FUNDING_FEE rows from the first perp fill on, each once."""
    from sequence_core.testing import LiveCli

    run, server, _ = world
    assert run("buy", "BTC-USDT-PERP", "0.01", "--venue", "binance").returncode == 0
    ((trade,),) = server.f_trades.values()
    server.book_funding("BTCUSDT", "-7", trade["time"] - 3_600_000)     # before the ledger held the perp: not its own
    (paid,) = server.settle_funding("0.0001")                            # the long pays 0.01 x 90995 x 0.0001
    server.book_funding("DOGEUSDT", "3")                                 # a perp Sequence does not list: skipped

    def realized():
        return json.loads(run("positions", "--output", "json").stdout)["summary"]["realized_pnl"]

    def reads():
        return [int(r["startTime"]) for r in server.f_requests if r["_path"] == "/fapi/v1/income"]

    def restart():                                                       # an engine reads funding as it starts
        assert run("engine", "stop").returncode == 0 and run("engine", "start").returncode == 0

    restart()
    LiveCli.wait(lambda: Decimal(realized()) == Decimal("-0.09099500"), "the funding payment in the ledger")
    first = len(reads())
    restart()
    LiveCli.wait(lambda: len(reads()) > first, "a second funding read")
    assert Decimal(realized()) == Decimal("-0.09099500")                 # read again, kept once
    assert trade["time"] <= reads()[0] <= paid["time"]                   # the first read starts at the perp's fill,
    assert reads()[-1] == paid["time"] - 3_600_000                       # the next an hour before the payment kept


def test_a_configured_leverage_is_set_on_the_perp_before_the_first_perp_order(world):
    run, server, home = world
    add_venue_setting(home, "binance", "leverage = 5")
    r = run("buy", "BTC-USDT-PERP", "0.01", "--venue", "binance", "--output", "json")
    assert r.returncode == 0 and json.loads(r.stdout)["graph"]["status"] == "FILLED", r.stderr
    assert server.f_leverage_sets == [("BTCUSDT", 5, 0)]                # leverage 5, before the perp order
    assert len(server.f_orders) == 1


def test_a_bad_leverage_setting_is_a_clear_config_error(world):
    run, server, home = world
    add_venue_setting(home, "binance", "leverage = 2.5")
    r = run("buy", "BTC-USDT-PERP", "0.01", "--venue", "binance")
    assert r.returncode == 1 and "[venues.binance] leverage = 2.5 is not a positive whole number" in r.stderr, r.stdout + r.stderr
    assert server.f_orders == {}


def test_a_twap_resumed_after_an_engine_restart_routes_on_balances_read_again(world):
    """The balances admission read die with the engine: a resumed TWAP routed every slice on
    none ("capped by balance 0") and ended PARTIALLY_FILLED while the venue held 100,000 USDT."""
    from sequence_core.testing import LiveCli

    run, server, _ = world
    r = run("buy", "BTC-USDT", "0.004", "--venue", "binance", "--policy", "twap", "--horizon", "4s", "--output", "json")
    assert r.returncode == 0, r.stderr
    graph = json.loads(r.stdout)["graph"]["graph_id"]
    assert run("engine", "stop").returncode == 0 and run("engine", "start").returncode == 0

    def status():
        return json.loads(run("orders", "--output", "json").stdout)[0]["graph"]

    LiveCli.wait(lambda: status()["status"] not in ("ADMITTED", "WORKING"), "the TWAP to finish", timeout_s=30)
    g = status()
    assert g["graph_id"] == graph and g["status"] == "FILLED" and Decimal(g["filled_qty"]) == Decimal("0.004"), g


def test_live_orders_price_on_the_live_books_whatever_market_data_names(world):
    """`[market_data] source` picks sandbox's market and what `quote` reads; a live desk that
    took it priced real orders' arrival mid and slippage cap on a synthetic or recorded book."""
    run, server, home = world
    with open(home / "config.toml", "a") as fh:
        fh.write('[market_data]\nsource = "synthetic"\n')
    r = run("buy", "BTC-USDT", "0.01", "--venue", "binance", "--output", "json")
    assert r.returncode == 0, r.stderr
    admission = json.loads(r.stdout)["events"][0]["detail"]
    assert admission["source"].startswith("live") and "synthetic" not in admission["source"], admission
