"""Each execution policy end to end through the CLI and the engine, in sandbox."""

import json
import time
from decimal import Decimal



def j(r):
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def wait_terminal(seq, graph_id, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        views = j(seq("--sandbox", "orders", "--output", "json"))
        g = next(v for v in views if v["graph"]["graph_id"] == graph_id)
        if g["graph"]["status"] not in ("ADMITTED", "WORKING"):
            return g
        time.sleep(0.3)
    raise AssertionError(f"{graph_id} still working after {timeout}s")


def test_twap_returns_after_admission_then_fills_in_slices(trader):
    d = j(trader("--sandbox", "buy", "BTC-USD", "0.03", "--policy", "twap", "--horizon", "3s", "--output", "json"))
    assert d["graph"]["status"] in ("ADMITTED", "WORKING")               # returned after admission
    g = wait_terminal(trader, d["graph"]["graph_id"])
    assert g["graph"]["status"] == "FILLED" and Decimal(g["graph"]["filled_qty"]) == Decimal("0.03")
    times = sorted(n["created_ns"] for n in g["nodes"])
    assert len(times) >= 2 and (times[-1] - times[0]) / 1e9 > 1.0     # spread over the horizon


def test_twap_without_horizon_is_refused(trader):
    r = trader("--sandbox", "buy", "BTC-USD", "0.03", "--policy", "twap")
    assert r.returncode == 1 and "needs --horizon" in r.stderr


def test_iceberg_shows_one_clip_and_can_be_cancelled(trader):
    d = j(trader("--sandbox", "buy", "ETH-USD", "1", "--policy", "iceberg", "--venue", "acme", "--limit-price", "1000.00", "--output", "json"))
    time.sleep(1.5)
    views = j(trader("--sandbox", "orders", "--output", "json"))
    g = next(v for v in views if v["graph"]["graph_id"] == d["graph"]["graph_id"])
    working = [n for n in g["nodes"] if n["status"] == "NEW"]
    assert len(working) == 1 and Decimal(working[0]["qty"]) == Decimal("0.1")
    c = j(trader("--sandbox", "cancel", d["graph"]["graph_id"], "--output", "json"))
    assert c["cancelled"] == [working[0]["node_order_id"]]


def test_passive_posts_at_the_touch_never_crossing(trader):
    d = j(trader("--sandbox", "sell", "BTC-USD", "0.01", "--policy", "passive", "--venue", "acme", "--horizon", "3s", "--output", "json"))
    g = wait_terminal(trader, d["graph"]["graph_id"])
    assert all(n["order_type"] == "post_only" for n in g["nodes"])
    fills = j(trader("--sandbox", "fills", "--output", "json"))
    assert all(f["liquidity"] == "maker" for f in fills if f["graph_id"] == d["graph"]["graph_id"])


def test_aggressive_takes_now_within_the_cap(trader):
    d = j(trader("--sandbox", "buy", "BTC-USD", "0.2", "--policy", "aggressive", "--max-slippage", "20", "--output", "json"))
    assert d["graph"]["status"] == "FILLED"
    assert all(f["liquidity"] == "taker" for f in d["fills"])
    best = min(Decimal(leg["limit"]) for leg in d["routing"][0]["legs"] if leg["limit"])
    assert all(Decimal(f["price"]) <= best * Decimal("1.002") for f in d["fills"])


def test_vwap_fills_over_its_horizon(trader):
    d = j(trader("--sandbox", "sell", "ETH-USD", "0.5", "--policy", "vwap", "--horizon", "3s", "--output", "json"))
    g = wait_terminal(trader, d["graph"]["graph_id"])
    assert g["graph"]["status"] == "FILLED"


def test_a_passive_order_one_venue_cannot_pay_for_is_refused_not_overdrawn(trader, home):
    """Admission checks the desk's cash across venues; passive rests the whole order on one
    venue, whose paper account (like a venue) refuses what it cannot pay for: the policy stops
    after three refusals and no balance goes negative."""
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    (home / "config.toml").write_text('[sandbox.funding]\ndefault = "20000"\n')
    (home / "config.toml").chmod(0o600)
    d = j(trader("--sandbox", "buy", "BTC-USD", "0.5", "--policy", "passive", "--horizon", "60s", "--output", "json"))
    g = wait_terminal(trader, d["graph"]["graph_id"])
    assert g["graph"]["status"] == "REJECTED" and "insufficient balance on" in g["graph"]["reason"]
    assert len(g["nodes"]) == 3 and all(n["status"] == "REJECTED" for n in g["nodes"])
    cash = j(trader("--sandbox", "positions", "--output", "json"))["rows"]
    assert all(Decimal(r["qty"]) >= 0 for r in cash)


def test_a_passive_order_rests_on_a_venue_that_can_pay_for_it(trader, home):
    """Only the venue quoting the worst bid can pay for the order: passive rests there, not on
    the best bid's venue, which would refuse it."""
    rows = j(trader("--sandbox", "quote", "BTC-USD", "--output", "json"))["venues"]     # quoting funds nothing
    worst = min((r for r in rows if r["book"] != "BTC-USDT"), key=lambda r: Decimal(r["bid"]))["venue"]
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    (home / "config.toml").write_text(f'[sandbox.funding]\ndefault = "1000"\n{worst} = "100000"\n')
    (home / "config.toml").chmod(0o600)
    d = j(trader("--sandbox", "buy", "BTC-USD", "0.5", "--policy", "passive", "--horizon", "2s", "--output", "json"))
    g = wait_terminal(trader, d["graph"]["graph_id"])
    assert {n["venue"] for n in g["nodes"]} == {worst} and g["graph"]["status"] != "REJECTED", g


def _volume_profile_note(seq, graph_id) -> dict:
    steps = j(seq("--sandbox", "trace", graph_id, "--output", "json"))["steps"]
    return next(s["detail"] for s in steps if s["kind"] == "volume_profile")


def test_vwap_learns_the_intraday_curve_from_recorded_trades(trader, home):
    """With a day of trades for its books in the store, VWAP slices by their hourly curve (said
    in the order's trace); without one, by its default curve."""
    from sequence_core.store import Store

    d = j(trader("--sandbox", "buy", "BTC-USD", "0.01", "--policy", "vwap", "--horizon", "2s", "--output", "json"))
    wait_terminal(trader, d["graph"]["graph_id"])
    assert _volume_profile_note(trader, d["graph"]["graph_id"])["source"] == "default curve"
    day0, hour, scale = 19_943 * 86_400 * 10**9, 3600 * 10**9, 10**9
    times = [day0 + h * hour for h in range(24)]
    Store(home / "data").write("trades", "acme", "BTC-USD", "p", {
        "ts_exchange": times, "ts_recv": times, "trade_id": [str(h) for h in range(24)], "side": [1] * 24,
        "price": [90_000 * scale] * 24, "size": [(3 if h == 14 else 1) * scale for h in range(24)]})
    trader("engine", "stop")                                       # a fresh engine: nothing cached
    d = j(trader("--sandbox", "buy", "BTC-USD", "0.01", "--policy", "vwap", "--horizon", "2s", "--output", "json"))
    assert wait_terminal(trader, d["graph"]["graph_id"])["graph"]["status"] == "FILLED"
    note = _volume_profile_note(trader, d["graph"]["graph_id"])
    assert note["source"] == "learned from the recorded trades"
    assert note["hourly_share_pct"][14] == round(100 * 3 / 26, 2) and note["hourly_share_pct"][0] == round(100 / 26, 2)


def test_spec_level2_examples_run_as_written(sequence, home):
    """Every Level 2 example of the spec, exactly as written, on a fresh sandbox with the
    installed venues (the user's first session)."""
    from conftest import stop_engine

    examples = [
        ["buy", "ETH-USD", "50"],
        ["buy", "ETH-USD", "50", "--urgency", "high", "--max-slippage", "10"],
        ["sell", "BTC-USD", "0.5", "--venue", "coinbase", "--limit-price", "75000"],
        ["buy", "BTC-USD", "1", "--policy", "twap", "--horizon", "5m"],
        ["buy", "fed-decision-in-october", "10", "--venue", "polymarket", "--limit-price", "0.55"],
    ]
    try:
        for args in examples:
            r = sequence(*args, "--sandbox")
            assert r.returncode == 0, (args, r.stderr)
            assert r.stdout.startswith("graph_"), (args, r.stdout)
        assert sequence("--sandbox", "orders").returncode == 0
        assert sequence("--sandbox", "fills").returncode == 0
        for args in (["redeem", "KXBTCZ-26DEC31-T99000", "--venue", "kalshi"],
                     ["redeem", "fed-decision-in-october", "--venue", "polymarket"]):
            r = sequence("--sandbox", *args)
            assert r.returncode == 0, (args, r.stderr)
    finally:
        stop_engine(home)
