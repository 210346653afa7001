"""The Kalshi adapter through the real CLI and engine, live mode, against the fake server:
connect, venues (REST + signed websocket heartbeat), quote both legs from the live source,
buy YES and NO, a resting order amended in place, cancel, fills, positions, automatic
settlement through redeem, a venue refusal as a clear error, a resting order's later fill
learnt from the private stream, a live order routed and charged with its market's series
fee terms, which the engine had the session read (``prepare``) before admitting it, and
``fees`` showing a market's series terms, read the same way."""

import sys
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fake_kalshi import TICKER, FakeKalshi  # noqa: E402
from sequence_core.testing import live_world, check_stream_fill, make_pem  # noqa: E402
from sequence_venue_kalshi.signing import load_key  # noqa: E402

KEY_ID = "kalshi-cli-key-3"
PEM = make_pem("rsa")


@pytest.fixture
def world(tmp_path):
    yield from live_world(tmp_path / "home", FakeKalshi(KEY_ID, load_key(PEM).public_key()), "kalshi",
                          {"key_id": KEY_ID, "private_key": PEM},
                          lambda url: f'base_url = "{url}/trade-api/v2"\nws_url = "{url.replace("http", "ws")}/trade-api/ws/v2"\n')


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


def test_positions_cash_is_kalshis_balance_after_it_nets_yes_and_no(world):
    """Kalshi nets a YES and a NO of one market at once and pays $1 a pair back: after 5 YES
    then 3 NO the account holds 2 YES and the $3, so live positions show Kalshi's own cash
    (not the ledger's, which never saw the payout) and NAV counts it."""
    cli, server = world
    assert cli.json("buy", f"{TICKER}:YES", "5", "--venue", "kalshi")["graph"]["status"] == "FILLED"
    assert cli.json("buy", f"{TICKER}:NO", "3", "--venue", "kalshi", "--limit-price", "0.60")["graph"]["status"] == "FILLED"
    result = cli.json("positions")
    held = {r["instrument"]: r for r in result["rows"]}
    assert server.position == 2 and Decimal(held[f"{TICKER}:YES"]["qty"]) == 2 and f"{TICKER}:NO" not in held
    assert (held["USD"]["venue"], held["USD"]["kind"]) == ("kalshi", "fiat")
    assert Decimal(held["USD"]["qty"]) == server.balance == Decimal(result["summary"]["cash"])
    spent = sum((Decimal(f["price"]) * Decimal(f["qty"]) + Decimal(f["fee"]) for f in cli.json("fills")), Decimal(0))
    assert server.balance == Decimal("1000") - spent + 3                  # the 3 pairs' $3 is in it
    assert Decimal(result["summary"]["nav"]) == server.balance + Decimal(held[f"{TICKER}:YES"]["value_usd"])


def test_positions_cash_counts_what_a_resting_buy_holds(world):
    """A resting buy of 10 YES at $0.40 holds $4 of the $1000: Kalshi's balance says $996, but
    nothing was spent, so live positions show $1000 of cash and NAV stays $1000."""
    cli, server = world
    assert cli.json("buy", f"{TICKER}:YES", "10", "--venue", "kalshi", "--limit-price", "0.40")["graph"]["status"] != "FILLED"
    assert server.available() == Decimal("996") and server.balance == Decimal("1000")
    result = cli.json("positions")
    held = {r["instrument"]: r for r in result["rows"]}
    assert Decimal(held["USD"]["qty"]) == Decimal(result["summary"]["cash"]) == Decimal(result["summary"]["nav"]) == 1000


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


def test_a_live_order_is_routed_with_its_series_fee_the_engine_prepared(world):
    cli, server = world
    server.series["KXBTCZ"]["fee_multiplier"] = 0.5          # this series charges half the general fee
    d = cli.json("buy", f"{TICKER}:YES", "10")                 # no --venue: the smart order router decides
    (leg,) = [l for l in d["routing"][0]["legs"] if l["venue"] == "kalshi"]
    # ceil¢(0.035 x 10 x 0.42 x 0.58) = 0.09 on 4.20: 214.29 bps (the general schedule's 0.18 would be 428.57)
    assert "214.29 bps taker" in leg["reason"], leg["reason"]
    assert d["graph"]["status"] == "FILLED" and Decimal(d["fills"][0]["fee"]) == Decimal("0.09")   # Kalshi charges the same
    assert server.series_reads == ["KXBTCZ"]                   # the engine prepared the market before admitting it
    cli.json("buy", f"{TICKER}:NO", "2", "--venue", "kalshi", "--limit-price", "0.60")
    assert server.series_reads == ["KXBTCZ"]                   # the other leg, same market: kept in the engine


def test_an_unreadable_series_leaves_the_order_on_the_general_schedule(world):
    cli, server = world
    del server.series["KXBTCZ"]                                # Kalshi answers 404 for the series
    d = cli.json("buy", f"{TICKER}:YES", "10", "--venue", "kalshi")
    assert d["graph"]["status"] == "FILLED"                    # the failure was logged, the order went on
    (leg,) = [l for l in d["routing"][0]["legs"] if l["venue"] == "kalshi"]
    assert "428.57 bps taker" in leg["reason"], leg["reason"]  # estimated with the general schedule
    assert server.series_reads == ["KXBTCZ"]
    log = (cli.home / "logs" / "engine.log").read_text()
    assert f"preparing {TICKER} for admission failed (kalshi: series not found" in log, log[-2000:]


def test_fees_shows_the_markets_own_series_terms_read_from_kalshi(world):
    """The spec's `fees <kalshi ticker> --venues kalshi`: live, it reads that market's series
    (market -> event -> series) and shows its terms, not only the general schedule."""
    cli, server = world
    server.series["KXBTCZ"]["fee_multiplier"] = 0.5
    (row,) = cli.json("fees", f"{TICKER}:YES", "--venues", "kalshi")
    assert (Decimal(row["taker"]), Decimal(row["maker"])) == (Decimal("0.035"), Decimal("0.00875"))   # 0.07 and its 0.25 maker share, x 0.5
    assert "series KXBTCZ: fee_type quadratic_with_maker_fees, fee_multiplier 0.5" in row["notes"]
    assert server.series_reads == ["KXBTCZ"]
    r = cli.run("fees", TICKER, "--venues", "kalshi")
    assert r.returncode == 0 and "0.035" in r.stdout and "fee_multiplier 0.5" in r.stdout, r.stdout + r.stderr


def test_fees_says_when_a_markets_terms_cannot_be_read(world):
    cli, server = world
    del server.series["KXBTCZ"]                                # Kalshi answers 404 for the series
    (row,) = cli.json("fees", f"{TICKER}:YES", "--venues", "kalshi")
    assert Decimal(row["taker"]) == Decimal("0.07")            # the general schedule stands
    assert row["notes"].startswith("this market's own fee terms could not be read (kalshi: series not found"), row["notes"]
    sandbox = cli.json("--sandbox", "fees", TICKER, "--venues", "kalshi")
    assert Decimal(sandbox[0]["taker"]) == Decimal("0.07") and server.series_reads == ["KXBTCZ"]   # sandbox reads nothing


def test_preview_estimates_with_the_markets_series_terms(world):
    """The SDK's preview() (live) reads the market's terms as `fees` does: a half-fee series
    estimates half the general fee. Run in its own process, as a program would."""
    import json
    import subprocess

    cli, server = world
    server.series["KXBTCZ"]["fee_multiplier"] = 0.5
    script = ("import json; from sequence_core.client import Sequence; "
              f"rows = Sequence().preview('{TICKER}:YES', 'buy', 10, venue='kalshi').rows; "
              "print(json.dumps([str(r.fee) for r in rows]))")
    out = subprocess.run([sys.executable, "-c", script], env=cli.env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    # ceil¢(0.035 x 10 x 0.42 x 0.58) = 0.09 (the general schedule: 0.18)
    assert [Decimal(f) for f in json.loads(out.stdout)] == [Decimal("0.09")] and server.series_reads == ["KXBTCZ"]
