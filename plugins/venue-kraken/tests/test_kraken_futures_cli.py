"""Kraken perps through the real CLI and engine, live mode, against both fakes (spot and Kraken
Futures): connect with futures keys, a perp buy and sell reach live positions, live cash and spot
rows count the flex account's collateral, funding from the
account log reaches realized P&L once, a resting perp order's later fill pushed on Kraken Futures'
private socket reaches ``sequence fills`` once, and a spot-only connection refuses a perp clearly."""

import sys
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fake_kraken import FakeKraken  # noqa: E402
from fake_kraken_futures import FakeKrakenFutures  # noqa: E402
from sequence_core.testing import LiveCli, funding_kept_once  # noqa: E402

KEY, SECRET = "kraken-cli-key-3", "a3Jha2VuLWNsaS1zZWNyZXQtMw=="
FKEY, FSECRET = "kraken-futures-cli-key-3", "a3Jha2VuLWZ1dHVyZXMtY2xpLXNlY3JldC0z"


def start(tmp_path, futures_keys: bool):
    spot, futures = FakeKraken(KEY, SECRET), FakeKrakenFutures(FKEY, FSECRET)
    url, furl = spot.start(), futures.start()
    cli = LiveCli(tmp_path / "home", "kraken,sim,synthetic")
    creds = {"api_key": KEY, "api_secret": SECRET}
    if futures_keys:
        creds.update(futures_api_key=FKEY, futures_api_secret=FSECRET)
    cli.connect("kraken", creds)
    ws, fws = url.replace("http", "ws"), furl.replace("http", "ws")
    cli.configure(f'[venues.kraken]\nbase_url = "{url}"\nws_url = "{ws}/v2"\nprivate_ws_url = "{ws}/auth/v2"\n'
                  f'futures_url = "{furl}"\nfutures_ws_url = "{fws}/ws/v1"\n')
    return cli, spot, futures


@pytest.fixture
def world(tmp_path):
    cli, spot, futures = start(tmp_path, True)
    futures.available = Decimal("100000")
    yield cli, futures
    cli.close()
    spot.stop()
    futures.stop()


def test_venues_checks_the_futures_keys_too(world):
    cli, futures = world
    (row,) = cli.json("venues")
    assert row["state"] == "ok" and "signed futures accounts" in row["detail"], row
    assert ("GET", "/derivatives/api/v3/accounts") in futures.requests


def test_a_perp_order_is_checked_against_the_futures_margin_not_spot_cash(world):
    cli, futures = world                       # spot holds 100,000 USD; Kraken Futures' flex account 10,000
    futures.available = Decimal("10000")
    r = cli.run("buy", "BTC-USD-PERP", "1.5", "--venue", "kraken")     # ~136,500 of notional: ~13,650 at 10x
    assert r.returncode == 1 and "as margin at 10x" in r.stderr and "available 10,000.00" in r.stderr, r.stdout + r.stderr
    assert futures.sent == [] and ("GET", "/derivatives/api/v3/accounts") in futures.requests


def test_a_perp_buy_and_sell_reach_live_positions(world):
    cli, futures = world
    d = cli.json("buy", "BTC-USD-PERP", "0.5", "--venue", "kraken")
    assert d["graph"]["status"] == "FILLED", d
    assert [(f["price"], f["qty"], f["fee_asset"], f["fee"]) for f in d["fills"]] == [("91000.0", "0.5", "USD", "22.75")]
    assert (futures.sent[-1]["symbol"], futures.sent[-1]["size"]) == ("PF_XBTUSD", "0.5")
    rows = cli.json("positions", "--kind", "perp")["rows"]
    assert [(r["instrument"], r["venue"], r["kind"], Decimal(r["qty"]), Decimal(r["entry"])) for r in rows] == \
        [("BTC-USD-PERP", "kraken", "perp", Decimal("0.5"), Decimal("91000"))]
    assert ("GET", "/derivatives/api/v3/openpositions") in futures.requests

    cli.json("sell", "BTC-USD-PERP", "0.8", "--venue", "kraken")                      # flips to short 0.3
    rows = cli.json("positions", "--kind", "perp")["rows"]
    assert [(Decimal(r["qty"]), Decimal(r["entry"])) for r in rows] == [(Decimal("-0.3"), Decimal("90990"))]


def test_live_positions_count_the_flex_collateral_beside_spot(world):
    """Live cash and spot rows are Kraken's totals: spot plus the Kraken Futures flex account's
    currencies (USD, and XBT as BTC), without the open perp's unrealized P&L, which its row shows."""
    cli, futures = world
    futures.collateral["XBT"] = Decimal("0.25")
    assert cli.json("buy", "BTC-USD-PERP", "0.5", "--venue", "kraken")["graph"]["status"] == "FILLED"
    d = cli.json("positions")
    held = {r["instrument"]: r for r in d["rows"] if r["venue"] == "kraken"}
    assert futures.available == Decimal("100000") - Decimal("22.75") and d["notes"] == []
    assert Decimal(held["USD"]["qty"]) == Decimal("100000") + futures.available     # spot + flex USD, pnl apart
    assert Decimal(held["BTC"]["qty"]) == Decimal("1.5") + Decimal("0.25")           # spot (XBT.F too) + flex XBT
    assert Decimal(held["BTC-USD-PERP"]["qty"]) == Decimal("0.5")


def test_funding_from_the_account_log_reaches_realized_pnl_once(world):
    cli, futures = world
    assert cli.json("buy", "BTC-USD-PERP", "0.5", "--venue", "kraken")["graph"]["status"] == "FILLED"
    before = Decimal(cli.json("positions")["summary"]["realized_pnl"])
    now = futures.now_ms()
    futures.add_log("funding rate change", now - 3_600_000, -7.0)      # before the ledger held the perp
    paid = futures.add_log("funding rate change", now + 1, -1.25)
    futures.add_log("futures trade", now + 2)
    got = futures.add_log("funding rate change", now + 3, 0.4)
    rows = funding_kept_once(cli, futures.log_requests, before, Decimal("-0.85"))
    assert [(r[0], r[1], r[2], Decimal(r[3])) for r in rows] == \
        [(str(paid["id"]), "BTC-USD-PERP", "USD", Decimal("-1.25")), (str(got["id"]), "BTC-USD-PERP", "USD", Decimal("0.4"))]


def test_a_resting_perp_fill_pushed_on_the_futures_socket_reaches_fills_once(world):
    cli, futures = world
    rest = cli.json("buy", "BTC-USD-PERP", "0.5", "--venue", "kraken", "--limit-price", "90000")
    assert rest["graph"]["status"] != "FILLED" and futures.fills == []
    cid = next(o["cliOrdId"] for o in futures.orders.values() if o["state"] == "open")
    reads = lambda: futures.requests.count(("POST", "/derivatives/api/v3/orders/status"))  # noqa: E731
    # a part first: pushed at once, then read again by the engine's slow poll (same fill id): one fill
    LiveCli.wait(lambda: futures.private, "the engine's futures stream on its first perp order")
    futures.fill_resting(cid, "0.2")
    (part,) = LiveCli.wait(lambda: cli.json("fills"), "the pushed part fill in `sequence fills`")
    assert part["fill_id"] == futures.fills[0]["fill_id"]
    before = reads()
    LiveCli.wait(lambda: reads() > before, "the engine's poll of the order with the stream live", timeout_s=10)
    assert [f["fill_id"] for f in cli.json("fills")] == [part["fill_id"]]
    # the rest: the engine learns it from the socket, with no more than the slow poll's reads
    before = reads()
    futures.fill_resting(cid, "0.3")
    fills = LiveCli.wait(lambda: f if len(f := cli.json("fills")) == 2 else None, "the pushed last fill in `sequence fills`")
    assert sorted(f["fill_id"] for f in fills) == sorted(f["fill_id"] for f in futures.fills)
    assert sorted((f["price"], f["qty"], f["liquidity"]) for f in fills) == [("90000.0", "0.2", "maker"), ("90000.0", "0.3", "maker")]
    (entry,) = [o for o in cli.json("orders") if o["graph"]["graph_id"] == rest["graph"]["graph_id"]]
    assert [n["status"] for n in entry["nodes"]] == ["FILLED"] and reads() - before <= 2
    assert sum(Decimal(f["fee"]) for f in fills) == Decimal("9")       # 0.02% maker of 45,000 USD, in USD
    assert futures.logins == [True] and [b["feed"] for b in futures.private_subscribes] == ["open_orders", "fills"]
    status = cli.engine_status("kraken futures user stream: live")
    assert "kraken user stream: live" in status
    rows = cli.json("positions", "--kind", "perp")["rows"]
    assert [(Decimal(r["qty"]), Decimal(r["entry"])) for r in rows] == [(Decimal("0.5"), Decimal("90000"))]


def test_a_spot_only_connection_trades_spot_and_refuses_perps_clearly(tmp_path):
    cli, spot, futures = start(tmp_path, False)
    try:
        assert cli.json("buy", "BTC-USD", "0.01", "--venue", "kraken")["graph"]["status"] == "FILLED"
        graph = cli.refused("buy", "BTC-USD-PERP", "0.5", "--venue", "kraken")["graph"]
        assert graph["status"] == "REJECTED" and "futures_api_key" in graph["reason"], graph
        assert futures.sent == [] and not any(p.startswith("/derivatives/api/v3/sendorder") for _, p in futures.requests)
    finally:
        cli.close()
        spot.stop()
        futures.stop()


def test_a_configured_leverage_is_set_before_the_first_perp_order(world):
    cli, futures = world
    cli.configure_venue("kraken", "leverage = 5")
    assert cli.json("buy", "BTC-USD-PERP", "0.01", "--venue", "kraken")["graph"]["status"] == "FILLED"
    assert futures.leverage == {"PF_XBTUSD": 5}
    assert futures.requests.index(("PUT", "/derivatives/api/v3/leveragepreferences")) < \
        futures.requests.index(("POST", "/derivatives/api/v3/sendorder"))
