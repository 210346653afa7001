"""The Kalshi adapter through the real CLI and engine, live mode, against the fake server:
connect, venues (REST + signed websocket heartbeat), quote both legs from the live source,
buy YES and NO, a resting order amended in place, cancel, fills, positions, automatic
settlement through redeem, a venue refusal as a clear error, and a resting order's later fill
learnt from the private stream."""

import sys
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fake_kalshi import TICKER, FakeKalshi  # noqa: E402
from sequence_core.testing import LiveCli, check_stream_fill, make_pem  # noqa: E402
from sequence_venue_kalshi.signing import load_key  # noqa: E402

KEY_ID = "kalshi-cli-key-3"
PEM = make_pem("rsa")


@pytest.fixture
def world(tmp_path):
    server = FakeKalshi(KEY_ID, load_key(PEM).public_key())
    url = server.start()
    cli = LiveCli(tmp_path / "home", "kalshi,sim,synthetic")
    cli.connect("kalshi", {"key_id": KEY_ID, "private_key": PEM})
    cli.configure(f'[venues.kalshi]\nbase_url = "{url}/trade-api/v2"\nws_url = "{url.replace("http", "ws")}/trade-api/ws/v2"\n')
    yield cli, server
    cli.close()
    server.stop()


def test_venues_shows_a_real_heartbeat(world):
    cli, server = world
    (row,) = cli.json("venues")
    assert (row["venue"], row["state"], row["mode"]) == ("kalshi", "ok", "live") and "websocket" in row["detail"]
    assert ("GET", "/trade-api/v2/portfolio/balance") in server.requests and server.subs     # signed REST and signed socket


def test_quote_buy_both_legs_amend_cancel_fills_positions_redeem(world):
    cli, server = world
    (yes,) = cli.json("quote", TICKER)["venues"]
    (no,) = cli.json("quote", f"{TICKER}:NO")["venues"]
    assert (yes["book"], yes["bid"], yes["ask"], yes["ask_size"]) == (f"{TICKER}:YES", "0.40", "0.42", "150")   # ask = 1 - NO bid
    assert (no["book"], no["bid"], no["ask"], no["ask_size"]) == (f"{TICKER}:NO", "0.58", "0.60", "100")

    d = cli.json("buy", f"{TICKER}:YES", "10", "--venue", "kalshi")
    assert d["graph"]["status"] == "FILLED" and Decimal(d["fills"][0]["price"]) == Decimal("0.42")
    assert Decimal(d["fills"][0]["fee"]) == Decimal("0.18")            # Kalshi's fee_cost: ceil(0.17052)
    no = cli.json("buy", f"{TICKER}:NO", "2", "--venue", "kalshi", "--limit-price", "0.60")
    assert no["graph"]["status"] == "FILLED"
    assert [b["side"] for m, p, b in server.bodies if p.endswith("/events/orders")] == ["bid", "ask"]
    assert len(cli.json("fills")) == 2

    rest = cli.json("buy", f"{TICKER}:YES", "5", "--venue", "kalshi", "--limit-price", "0.30")
    node_id = rest["nodes"][0]["node_order_id"]
    (order,) = [o for o in server.orders.values() if o["status"] == "resting"]
    cli.json("decrease", node_id, "--by", "2")
    assert [b for m, p, b in server.bodies if p.endswith("/decrease")] == [{"reduce_by": "2.00"}]   # Kalshi's decrease
    assert order["remaining_count_fp"] == "3.00"
    a = cli.json("amend", node_id, "--price", "0.31", "--qty", "6")
    assert a["mode"] == "native_atomic"
    assert (order["yes_price_dollars"], order["remaining_count_fp"], order["status"]) == ("0.3100", "6.00", "resting")
    assert len([o for o in server.orders.values() if o["status"] == "resting"]) == 1                 # changed in place
    cli.json("cancel", rest["graph"]["graph_id"])
    assert order["status"] == "canceled"

    held = {r["instrument"]: r for r in cli.json("positions")["rows"]}
    assert Decimal(held[f"{TICKER}:YES"]["qty"]) == server.position == 8       # Kalshi nets: 10 YES less 2 NO
    r = cli.run("redeem", TICKER, "--venue", "kalshi")
    assert r.returncode == 1 and "not resolved" in r.stderr           # still trading
    server.settle_market(TICKER, "yes")
    red = cli.json("redeem", TICKER, "--venue", "kalshi")
    assert (red["method"], red["winning_outcome"]) == ("auto_settlement", "YES")
    assert Decimal(red["paid"]) == Decimal("10")                      # each YES bought pays $1, the NO nothing


def test_a_venue_refusal_is_a_clear_error(world):
    cli, server = world
    server.markets[TICKER]["status"] = "closed"
    r = cli.run("buy", f"{TICKER}:YES", "10", "--venue", "kalshi")
    out = r.stdout + r.stderr
    assert "REJECTED" in r.stdout and f"kalshi: market {TICKER} is not open (market_closed)" in out, out


def test_a_resting_order_filled_later_reaches_fills_through_the_private_stream(world):
    cli, server = world
    rest = cli.json("buy", f"{TICKER}:YES", "5", "--venue", "kalshi", "--limit-price", "0.30")
    cid = next(o["client_order_id"] for o in server.orders.values() if o["status"] == "resting")
    # qty and price as Kalshi writes them (count_fp, yes_price_dollars), on the stream as over REST
    check_stream_fill(cli.json, server, rest["graph"]["graph_id"], cid, "5.00", "0.3000",
                      lambda: len([r for r in server.requests if r[0] == "GET" and r[1].startswith("/trade-api/v2/portfolio/orders/")]))
