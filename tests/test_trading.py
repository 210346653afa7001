"""Level 2 through the real CLI and engine, on sandbox paper venues (acme, zeta, omega)."""

import json
import os
import signal
import sqlite3
import time
from decimal import Decimal

import pytest

from conftest import stop_engine
from sequence_core.testing import LiveCli


def j(r):
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def positions(seq):
    data = j(seq("--sandbox", "positions", "--output", "json"))
    return {(r["venue"], r["instrument"]): Decimal(r["qty"]) for r in data["rows"]}


def test_sor_buy_fills_and_moves_positions_exactly(trader):
    before = positions(trader)
    d = j(trader("--sandbox", "buy", "BTC-USD", "0.1", "--output", "json"))
    g = d["graph"]
    assert g["status"] == "FILLED" and Decimal(g["filled_qty"]) == Decimal("0.1")
    assert d["routing"] and any(leg["reason"] for leg in d["routing"][0]["legs"])
    after = positions(trader)
    by_venue = {}
    for f in d["fills"]:
        by_venue.setdefault(f["venue"], []).append(f)
    for venue, fills in by_venue.items():
        qty = sum(Decimal(f["qty"]) for f in fills)
        cost = sum(Decimal(f["qty"]) * Decimal(f["price"]) + Decimal(f["fee"]) for f in fills)
        assert after[(venue, "BTC")] == before.get((venue, "BTC"), 0) + qty
        cash = "USD" if venue != "zeta" else "USDC"
        assert after[(venue, cash)] == before[(venue, cash)] - cost     # exact decimal bookkeeping


def test_text_output_prints_graph_id_and_fills(trader):
    r = trader("--sandbox", "buy", "BTC-USD", "0.01")
    assert r.returncode == 0, r.stderr
    first = r.stdout.splitlines()[0]
    assert first.startswith("graph_") and "FILLED" in first and "BUY 0.01 BTC-USD" in first
    assert "taker" in r.stdout and "routing:" in r.stdout


def test_pinned_venue_and_spec_sell_example(trader):
    trader("--sandbox", "buy", "BTC-USD", "0.6", "--venue", "acme")
    d = j(trader("sell", "BTC-USD", "0.5", "--venue", "acme", "--limit-price", "75000", "--sandbox", "--output", "json"))
    assert d["graph"]["status"] == "FILLED" and {f["venue"] for f in d["fills"]} == {"acme"}
    assert all(Decimal(f["price"]) >= 75000 for f in d["fills"])


def test_resting_limit_then_amend_decrease_cancel(trader):
    d = j(trader("--sandbox", "buy", "ETH-USD", "1", "--venue", "acme", "--limit-price", "1000.00", "--output", "json"))
    assert d["graph"]["status"] == "WORKING"
    node = next(n for n in d["nodes"] if n["status"] == "NEW")
    assert node["node_order_id"].endswith(":0")
    listing = trader("--sandbox", "orders", "--symbol", "ETH-USD")
    assert "WORKING" in listing.stdout and "BUY" in listing.stdout and "NEW" in listing.stdout
    r = trader("--sandbox", "amend", node["node_order_id"])
    assert r.returncode == 1 and "at least one of --price or --qty" in r.stderr
    a = j(trader("--sandbox", "amend", node["node_order_id"], "--price", "1001.00", "--output", "json"))
    assert a["mode"] == "cancel_replace" and a["node"]["node_order_id"].endswith(":1") and a["node"]["limit_price"] == "1001.00"
    r = trader("--sandbox", "decrease", a["node"]["node_order_id"], "--by", "1")
    assert r.returncode == 1 and "would leave 0" in r.stderr
    dec = j(trader("--sandbox", "decrease", a["node"]["node_order_id"], "--by", "0.25", "--output", "json"))
    assert Decimal(dec["node"]["qty"]) == Decimal("0.75") and dec["node"]["node_order_id"].endswith(":2")
    c = j(trader("--sandbox", "cancel", d["graph"]["graph_id"], "--output", "json"))
    assert c["cancelled"] == [dec["node"]["node_order_id"]]
    again = trader("--sandbox", "cancel", d["graph"]["graph_id"])
    assert again.returncode == 1 and "has finished (CANCELLED, 0 of 0.75 filled)" in again.stderr, again.stderr


def test_a_resting_order_holds_its_cash_until_it_ends(trader):
    """A paper account, like a venue, cannot spend what an open order may still spend: the
    ledger moves only on fills, so two orders at once used to overdraw it."""
    rest = j(trader("--sandbox", "buy", "BTC-USD", "1", "--venue", "acme", "--limit-price", "80000.00", "--output", "json"))
    assert rest["graph"]["status"] == "WORKING"          # 80,000 + 160 fee held of acme's 100,000 USD
    r = trader("--sandbox", "buy", "BTC-USD", "0.5", "--venue", "acme")
    assert r.returncode == 1 and "insufficient balance" in r.stderr, r.stderr
    d = j(trader("--sandbox", "buy", "BTC-USD", "0.5", "--output", "json"))     # the SOR spends acme's rest only
    acme = sum(Decimal(f["qty"]) * Decimal(f["price"]) + Decimal(f["fee"]) for f in d["fills"] if f["venue"] == "acme")
    assert d["graph"]["status"] == "FILLED" and acme <= Decimal("19840")
    assert positions(trader)[("acme", "USD")] >= Decimal("80160")
    assert trader("engine", "stop").returncode == 0            # a restarted engine holds it again
    r = trader("--sandbox", "buy", "BTC-USD", "0.5", "--venue", "acme")
    assert r.returncode == 1 and "insufficient balance" in r.stderr, r.stderr
    trader("--sandbox", "cancel", rest["graph"]["graph_id"])
    assert j(trader("--sandbox", "buy", "BTC-USD", "0.5", "--venue", "acme", "--output", "json"))["graph"]["status"] == "FILLED"


def test_an_amend_the_paper_account_cannot_pay_for_leaves_the_order_resting(trader):
    """Cancel-replace cancels before it places: an amend whose replacement the account cannot
    fund used to cancel the order, have the replacement refused, and exit 0 with nothing left."""
    rest = j(trader("--sandbox", "buy", "BTC-USD", "1", "--venue", "acme", "--limit-price", "80000.00", "--output", "json"))
    node = next(n for n in rest["nodes"] if n["status"] == "NEW")["node_order_id"]
    r = trader("--sandbox", "amend", rest["graph"]["graph_id"], "--qty", "2")      # 160,320 USD of acme's 100,000
    assert r.returncode == 1 and "insufficient balance on acme" in r.stderr and f"{node} is unchanged" in r.stderr, r.stderr
    view = j(trader("--sandbox", "orders", "--output", "json"))[0]
    assert view["graph"]["status"] == "WORKING" and view["graph"]["request"]["qty"] == "1"
    assert [(n["node_order_id"], n["status"]) for n in view["nodes"]] == [(node, "NEW")]
    a = j(trader("--sandbox", "amend", node, "--qty", "1.2", "--output", "json"))      # within the balance: done
    assert a["node"]["status"] == "NEW" and a["node"]["qty"] == "1.2"
    r = trader("--sandbox", "amend", a["node"]["node_order_id"], "--price", "0.01")   # 0.012 USD: under acme's 1 USD
    assert r.returncode == 1 and "under its minimum order" in r.stderr and "is unchanged" in r.stderr, r.stderr


def test_an_amend_whose_replacement_is_refused_is_an_error(trader):
    """Cancel-replace cancels first: when the venue then refuses the replacement (a post-only
    bid moved through the ask), the order no longer rests, and the amend says so (exit 1)
    instead of printing the replacement's REJECTED with exit 0; the order never grew."""
    j(trader("--sandbox", "buy", "ETH-USD", "0.5", "--venue", "acme", "--policy", "passive", "--horizon", "1m",
             "--output", "json"))
    deadline = time.time() + 10
    while (node := j(trader("--sandbox", "orders", "--output", "json"))[0]["nodes"][-1])["status"] != "NEW":
        assert time.time() < deadline, node
        time.sleep(0.1)
    assert node["order_type"] == "post_only"
    r = trader("--sandbox", "amend", node["node_order_id"], "--price", "9000.00", "--qty", "0.6")
    assert r.returncode == 1 and "refused the replacement" in r.stderr and "no longer rests" in r.stderr, r.stderr
    g = j(trader("--sandbox", "orders", "--output", "json"))[0]["graph"]
    assert g["request"]["qty"] == "0.5"


def test_a_live_order_with_no_venue_connected_says_so(trader):
    r = trader("buy", "BTC-USD", "0.1")
    assert r.returncode == 1 and "no connected venue lists 'BTC-USD' (it trades on acme" in r.stderr, r.stderr
    assert "sequence connect <venue>" in r.stderr and "--sandbox" in r.stderr


def test_a_remainder_no_venue_accepts_is_named_as_such():
    from sequence_core.engine.desk import _under_every_minimum
    from sequence_core.market import Instrument

    a = Instrument("a", "ETH-USDT", "ETHUSDT", "crypto", "ETH", "USDT", Decimal("0.01"), Decimal("0.0001"), Decimal("5"))
    b = Instrument("b", "ETH-USDC", "ETHUSDC", "crypto", "ETH", "USDC", Decimal("0.01"), Decimal("0.000001"), Decimal("1"))
    # a partial fill left 0.000008 ETH: under a's lot and, at 3,500, under b's 1 USDC minimum
    assert _under_every_minimum(Decimal("0.000008"), Decimal("3500"), {"a": a, "b": b}) == \
        "the remaining 0.000008 is under every venue's minimum order"
    assert _under_every_minimum(Decimal("0.0008"), Decimal("3500"), {"a": a, "b": b}) is None    # b takes 2.80 USDC


def test_fills_filter(trader):
    trader("--sandbox", "buy", "BTC-USD", "0.01", "--venue", "acme")
    trader("--sandbox", "buy", "ETH-USD", "0.01", "--venue", "acme")
    rows = j(trader("--sandbox", "fills", "--symbol", "ETH-USD", "--output", "json"))
    assert rows and {r["symbol"] for r in rows} == {"ETH-USD"}


@pytest.mark.parametrize("args,expect", [
    (["buy", "BTC-USD", "-1"], "quantity must be greater than zero"),
    (["buy", "BTC-USD", "0"], "quantity must be greater than zero"),
    (["buy", "BTC-USD", "lots"], "quantity must be a number"),
    # more digits than Decimal's 28-digit context: arithmetic would round it to 1 (session 18)
    (["buy", "BTC-USD", "0.99999999999999999999999999999"], "quantity has 29 significant digits, more than the 28"),
    (["buy", "BTC-USD", "0.1", "--limit-price", "90000.000000000000000000000001"], "limit price has 29 significant digits"),
    (["buy", "BTC-USD", "0.1", "--limit-price", "abc"], "limit price must be a number"),
    (["buy", "BTC-USD", "0.1", "--venue", "acme", "--limit-price", "90000.001"], "off acme's tick size 0.01"),
    (["buy", "BTC-USD", "0.00001", "--venue", "acme"], "not a multiple of acme's lot size"),
    (["buy", "BTC-USD", "0.1", "--limit-price", "90000.001"], "off every venue's tick size for BTC-USD (the finest: 0.01 on acme)"),
    (["buy", "BTC-USD", "1e25"], "quantity 1e25 is too large: at most 12 digits before the point"),
    (["buy", "BTC-USD", "0.00015"], "not a multiple of any venue's lot size for BTC-USD (the finest: 0.0001 on acme)"),
    (["buy", "BTC-USD", "0.1", "--policy", "yolo"], "unknown policy 'yolo'; available: aggressive, iceberg, passive, sor, twap, vwap"),
    (["buy", "BTC-USD", "0.1", "--horizon", "5 minutes"], "--horizon must be a duration"),
    (["buy", "BTC-USD", "0.1", "--max-slippage", "65536"], "between 0 and 65535"),
    (["buy", "BTC-USD", "0.1", "--venue", "nowhere"], "unknown venue 'nowhere'"),
    (["buy", "BTC-USD", "50"], "insufficient balance"),
    (["sell", "ETH-USD", "30"], "insufficient balance"),
    (["buy", "KXTEST-26DEC31-T1:YES", "5", "--limit-price", "1.5"], "between 0 and 1"),
    (["buy", "KXTEST-26DEC31-T1:YES", "5", "--venue", "zeta"], "zeta does not list 'KXTEST-26DEC31-T1:YES'; it trades on acme"),
    (["cancel", "graph_ffffffffffff"], "unknown order"),
    (["cancel", "nonsense"], "not an order id"),
])
def test_bad_orders_are_refused_before_the_journal(trader, home, args, expect):
    r = trader("--sandbox", *args)
    assert r.returncode == 1 and r.stderr.startswith("Error: ") and expect in r.stderr, r.stderr
    db = home / "sandbox" / "journal.db"
    if db.exists():
        assert sqlite3.connect(db).execute("SELECT COUNT(*) FROM graphs").fetchone()[0] == 0


def test_a_routed_limit_rests_whole_on_a_venue_whose_lot_takes_it(trader):
    """The rest of a routed limit goes to a venue whose lot takes all of it (zeta: lot 0.01;
    acme and omega 0.0001): on zeta 0.0001 of it could never rest."""
    d = j(trader("--sandbox", "buy", "BTC-USD", "0.0101", "--limit-price", "1000.25", "--output", "json"))
    assert d["graph"]["status"] == "WORKING", d["graph"]
    [(venue, qty, price)] = [(n["venue"], Decimal(n["qty"]), Decimal(n["limit_price"])) for n in d["nodes"] if n["status"] == "NEW"]
    assert venue in ("acme", "omega") and qty == Decimal("0.0101") and price == Decimal("1000.25")


@pytest.mark.parametrize("side,price", [("buy", "1000.0"), ("sell", "1000.5")])
def test_a_child_price_goes_on_its_venues_tick_never_worse_than_the_limit(side, price):
    """A routed limit on a finer venue's tick (Desk.validate lets it through) rests on a coarser
    venue at that venue's nearest tick on the order's side of the limit."""
    from sequence_core.engine.context import GraphRuntime
    from sequence_core.market import spot
    from sequence_core.orders import OrderGraph, OrderRequest

    zeta = spot("zeta", "BTC", "USD", "BTCUSD", "0.5", "0.01")
    graph = OrderGraph("graph_1", "sandbox", OrderRequest("BTC-USD", side, Decimal("0.02"), None, Decimal("1000.25")),
                       "WORKING", 0, 0)
    node = GraphRuntime(None, graph, {"zeta": zeta}, nodes=[])._new_node("zeta", Decimal("0.02"), Decimal("1000.25"), "limit")
    assert node.limit_price == Decimal(price)


def test_rejecting_venue_mid_graph_is_routed_around(trader, home):
    """acme rejects every order: the graph records it and the SOR re-routes to omega."""
    home.mkdir(mode=0o700, exist_ok=True)
    (home / "config.toml").write_text('[sandbox.faults]\nacme = "reject"\n')
    d = j(trader("--sandbox", "buy", "BTC-USD", "0.05", "--output", "json"))
    statuses = {(n["venue"], n["status"]) for n in d["nodes"]}
    assert ("acme", "REJECTED") in statuses and d["graph"]["status"] == "FILLED"
    assert {f["venue"] for f in d["fills"]} == {"omega"}
    kinds = [e["kind"] for e in d["events"]]
    assert "reject" in kinds and "reroute" in kinds
    assert any("excluded after it failed" in leg["reason"] for leg in d["routing"][-1]["legs"])
    # the text shows every round: the first alone named acme while the fill came from omega
    text = trader("--sandbox", "buy", "BTC-USD", "0.05").stdout
    assert "routing, round 1 of " in text and "routing, round 2 of " in text, text
    block = text.split("routing, round 2 of ")[1].split("routing, round 3")[0].splitlines()[1:]
    assert [row.split()[0] for row in block if row.strip()] == ["omega"], text    # the venues it sent to


def test_the_first_decisions_cap_holds_when_a_venue_rejects(trader, home):
    """A venue rejecting in the first round had its share re-routed under a cap from the
    remaining venues' touch: with --max-slippage 0 the order filled above the arrival touch."""
    home.mkdir(mode=0o700, exist_ok=True)
    (home / "config.toml").write_text('[sandbox.faults]\nacme = "reject"\n')
    for _ in range(3):
        r = trader("--sandbox", "buy", "BTC-USD", "3", "--max-slippage", "0", "--output", "json")
        d = json.loads(r.stdout)
        routed = [Decimal(leg["limit"]) for leg in d["routing"][0]["legs"] if Decimal(leg["qty"]) > 0]
        assert all(Decimal(f["price"]) <= max(routed) for f in d["fills"]) if routed else not d["fills"], (routed, d["fills"])


def test_rate_limited_venue_stops_cleanly_when_pinned(trader, home):
    home.mkdir(mode=0o700, exist_ok=True)
    (home / "config.toml").write_text('[sandbox.faults]\nacme = "ratelimit"\n')
    r = trader("--sandbox", "buy", "BTC-USD", "0.05", "--venue", "acme", "--output", "json")
    assert r.returncode == 1 and "Error: order graph_" in r.stderr and "REJECTED" in r.stderr, r.stderr
    d = json.loads(r.stdout)                    # a refused order exits 1; its journaled result is still printed
    assert d["graph"]["status"] == "REJECTED" and "429" in d["graph"]["reason"]


def test_timing_out_venue(trader, home):
    home.mkdir(mode=0o700, exist_ok=True)
    (home / "config.toml").write_text('[sandbox.faults]\nacme = "timeout"\n')
    d = j(trader("--sandbox", "buy", "BTC-USD", "0.05", "--output", "json", env={"SEQUENCE_ENGINE_SEND_TIMEOUT": "0.5"}))
    acme = [n for n in d["nodes"] if n["venue"] == "acme"]
    assert acme and acme[0]["status"] == "REJECTED" and "did not answer within 0.5s" in acme[0]["reason"]
    assert d["graph"]["status"] == "FILLED"


def test_a_place_nobody_answered_is_not_given_up(trader, home):
    """The venue received and matched the order but the answer and every read were lost: the
    node stays open, unconfirmed, and takes the venue's state once it answers; never sent twice.
    (What the venue made of it is the market's doing: the IOC child, limited at the level the
    router planned, fills, or expires when the book moved in the venue's 5 ms; a loaded CI
    machine saw the latter, and the test used to wait for FILLED.)"""
    home.mkdir(mode=0o700, exist_ok=True)
    (home / "config.toml").write_text('[sandbox.faults]\nacme = "lost_answer"\n')
    d = j(trader("--sandbox", "buy", "BTC-USD", "0.05", "--venue", "acme", "--output", "json"))
    (node,) = d["nodes"]
    assert d["graph"]["status"] == "WORKING" and node["status"] == "NEW" and node["reason"].startswith("unconfirmed")
    (home / "config.toml").write_text("")
    done = LiveCli.wait(lambda: [o for o in j(trader("--sandbox", "orders", "--output", "json"))
                                 if o["graph"]["status"] not in ("WORKING", "ADMITTED")], "the venue's answer reaching the order")
    (answered,) = done[0]["nodes"]
    venue = _paper_orders(home)
    assert len(venue) == 1                                           # never sent twice
    status, data = venue[0]
    filled = sum((Decimal(f["qty"]) for f in json.loads(data)["fills"]), Decimal(0))
    assert (answered["status"], Decimal(answered["filled_qty"])) == (status, filled) and status in ("FILLED", "EXPIRED")
    assert Decimal(done[0]["graph"]["filled_qty"]) == filled and not answered["reason"].startswith("unconfirmed")


def test_a_place_the_venue_never_received_is_rejected_once_it_answers(trader, home):
    home.mkdir(mode=0o700, exist_ok=True)
    (home / "config.toml").write_text('[sandbox.faults]\nacme = "down"\n')
    d = j(trader("--sandbox", "buy", "BTC-USD", "0.05", "--venue", "acme", "--output", "json"))
    assert d["graph"]["status"] == "WORKING" and d["nodes"][0]["status"] == "NEW"
    (home / "config.toml").write_text("")
    done = LiveCli.wait(lambda: [o for o in j(trader("--sandbox", "orders", "--output", "json"))
                                 if o["graph"]["status"] not in ("WORKING", "ADMITTED")], "the verdict")
    assert [n["status"] for n in done[0]["nodes"]] == ["REJECTED"] and "never received" in done[0]["nodes"][0]["reason"]
    assert len(_paper_orders(home)) == 0


def _paper_orders(home) -> list[tuple[str, str]]:
    """What the paper venue received: (status, order JSON) of each order."""
    return sqlite3.connect(home / "sandbox" / "paper.db").execute("SELECT status, data FROM orders").fetchall()


@pytest.mark.parametrize("point", ["after_journal", "after_send"])
def test_engine_crash_never_doubles_or_forgets(trader, home, point):
    """The engine dies right after journaling a child (not yet sent) or right after the venue
    took it (not yet recorded). On restart: reconciled, filled exactly once."""
    r = trader("--sandbox", "buy", "BTC-USD", "0.1", "--venue", "acme", env={"SEQUENCE_ENGINE_FAULT": point})
    assert r.returncode == 1 and "lost the connection to the engine" in r.stderr
    views = j(trader("--sandbox", "orders", "--output", "json"))      # restarts the engine: recovery
    deadline = time.time() + 10
    while views[0]["graph"]["status"] not in ("FILLED",) and time.time() < deadline:
        time.sleep(0.2)
        views = j(trader("--sandbox", "orders", "--output", "json"))
    graph, nodes = views[0]["graph"], views[0]["nodes"]
    assert graph["status"] == "FILLED" and Decimal(graph["filled_qty"]) == Decimal("0.1")
    held = positions(trader)
    assert held[("acme", "BTC")] == Decimal("1.1")     # 1 funded + 0.1 bought, not 1.2: nothing doubled
    # Every node reached the venue at most once: one paper order per node that was sent. (An
    # IOC child can also expire when the synthetic book ticks between routing and the match —
    # more likely on a loaded machine — and the SOR then sends one more child; that is a
    # re-route, not a double send.)
    reached = [n for n in nodes if "never reached the venue" not in (n["reason"] or "")]
    why = [(n["node_order_id"], n["status"], n["reason"]) for n in nodes]
    assert len(_paper_orders(home)) == len(reached), why
    if point == "after_journal":
        assert nodes[0]["status"] == "REJECTED" and "never reached the venue" in nodes[0]["reason"]
    else:   # the child the venue took before the crash was adopted from the venue, not sent again
        assert nodes[0]["status"] in ("FILLED", "EXPIRED") and nodes[0] in reached, why
        assert len(nodes) == 1 or nodes[0]["status"] == "EXPIRED", why
    events = j(trader("--sandbox", "orders", "--output", "json"))
    assert events


def test_sigkill_with_resting_order_then_cancel(trader, home):
    d = j(trader("--sandbox", "buy", "ETH-USD", "1", "--venue", "acme", "--limit-price", "1000.00", "--output", "json"))
    pid = json.loads((home / "engine.json").read_text())["pid"]
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.2)
    views = j(trader("--sandbox", "orders", "--output", "json"))
    assert views[0]["graph"]["status"] == "WORKING" and views[0]["nodes"][0]["status"] == "NEW"
    assert json.loads((home / "engine.json").read_text())["pid"] != pid
    c = j(trader("--sandbox", "cancel", views[0]["nodes"][0]["node_order_id"], "--output", "json"))
    assert c["cancelled"] == [d["nodes"][0]["node_order_id"]]


def test_event_contract_outcomes_are_kept_apart(trader):
    """YES and NO are one symbol's two books: each holding is marked at its own book's mid, and
    fills, orders and TCA name and filter each outcome (the NO holding was marked at YES's mid)."""
    for outcome, qty in (("NO", "7"), ("YES", "5")):
        j(trader("--sandbox", "buy", f"KXTEST-26DEC31-T1:{outcome}", qty, "--venue", "acme", "--limit-price", "0.99",
                 "--output", "json"))
    mids = {}
    for outcome in ("YES", "NO"):
        q = j(trader("--sandbox", "quote", f"KXTEST-26DEC31-T1:{outcome}", "--output", "json"))["venues"][0]
        mids[outcome] = (Decimal(q["bid"]) + Decimal(q["ask"])) / 2
    rows = {x["instrument"]: x for x in j(trader("--sandbox", "positions", "--output", "json"))["rows"] if x["venue"] == "acme"}
    for outcome in ("YES", "NO"):
        assert abs(Decimal(rows[f"KXTEST-26DEC31-T1:{outcome}"]["mark"]) - mids[outcome]) <= Decimal("0.01")
    no_fills = j(trader("--sandbox", "fills", "--symbol", "KXTEST-26DEC31-T1:NO", "--output", "json"))
    assert [(f["outcome"], f["side"], f["qty"]) for f in no_fills] == [("NO", "buy", "7")]
    assert len(j(trader("--sandbox", "fills", "--symbol", "KXTEST-26DEC31-T1", "--output", "json"))) == 2
    assert "KXTEST-26DEC31-T1:NO" in trader("--sandbox", "fills").stdout
    yes_orders = j(trader("--sandbox", "orders", "--symbol", "KXTEST-26DEC31-T1:YES", "--output", "json"))
    assert [v["graph"]["request"]["symbol"] for v in yes_orders] == ["KXTEST-26DEC31-T1:YES"]
    assert all(n["outcome"] == "YES" for v in yes_orders for n in v["nodes"])
    # TCA of the NO fill is against the NO book: a taker fill at the touch costs about the spread
    tca = j(trader("--sandbox", "tca", "--symbol", "KXTEST-26DEC31-T1:NO", "--output", "json"))
    total = tca["rows"][0]
    assert total["fills"] == 1 and 0 <= total["effective_spread_bps"] < 1000


def test_engine_commands_and_auth(trader, home):
    r = trader("engine", "status")
    assert r.returncode == 0 and "not running" in r.stdout
    assert "started" in trader("engine", "start").stdout
    assert "already running" in trader("engine", "start").stdout
    import http.client

    info = json.loads((home / "engine.json").read_text())
    assert oct((home / "engine.json").stat().st_mode & 0o777) == "0o600"
    conn = http.client.HTTPConnection("127.0.0.1", info["port"], timeout=5)
    conn.request("GET", "/v1/status", headers={"Authorization": "Bearer wrong"})
    assert conn.getresponse().status == 401
    assert "running" in trader("engine", "status").stdout
    assert "engine stopped" in trader("engine", "stop").stdout
    assert not (home / "engine.json").exists()


def test_event_contract_buy_and_redeem(trader):
    yes = j(trader("--sandbox", "buy", "KXTEST-26DEC31-T1:YES", "10", "--venue", "acme", "--limit-price", "0.99", "--output", "json"))
    no = j(trader("--sandbox", "buy", "KXTEST-26DEC31-T1:NO", "5", "--venue", "acme", "--limit-price", "0.99", "--output", "json"))
    assert yes["graph"]["status"] == no["graph"]["status"] == "FILLED"
    # a sell is checked against the outcome held: 4 of the 10 YES, and never more NO than held
    sold = j(trader("--sandbox", "sell", "KXTEST-26DEC31-T1:YES", "4", "--venue", "acme", "--limit-price", "0.01", "--output", "json"))
    assert sold["graph"]["status"] == "FILLED"
    too_many = trader("--sandbox", "sell", "KXTEST-26DEC31-T1:NO", "6", "--venue", "acme", "--limit-price", "0.01")
    assert too_many.returncode == 1 and "insufficient" in too_many.stderr
    held = positions(trader)
    assert held[("acme", "KXTEST-26DEC31-T1:YES")] == 6 and held[("acme", "KXTEST-26DEC31-T1:NO")] == 5
    cash_before = held[("acme", "USD")]
    r = j(trader("--sandbox", "redeem", "KXTEST-26DEC31-T1", "--venue", "acme", "--output", "json"))
    won = r["winning_outcome"]
    assert r["method"] == "paper_resolution" and Decimal(r["paid"]) == (6 if won == "YES" else 5)
    after = j(trader("--sandbox", "positions", "--include-closed", "--output", "json"))
    rows = {(x["venue"], x["instrument"]): x for x in after["rows"]}
    assert rows[("acme", "KXTEST-26DEC31-T1:YES")]["status"] == "redeemed"
    assert Decimal(rows[("acme", "USD")]["qty"]) == cash_before + Decimal(r["paid"])
    default = j(trader("--sandbox", "positions", "--output", "json"))
    assert ("acme", "KXTEST-26DEC31-T1:YES") not in {(x["venue"], x["instrument"]) for x in default["rows"]}
    # the hidden rows' realized P&L and fees still count in the summary (it read $0.00)
    for k in ("realized_pnl", "fees"):
        assert default["summary"][k] == after["summary"][k]
    assert Decimal(default["summary"]["realized_pnl"]) != 0
    again = j(trader("--sandbox", "redeem", "KXTEST-26DEC31-T1", "--venue", "acme", "--output", "json"))
    assert again["paid"] == "0" and again["winning_outcome"] == won          # resolution never changes
    elsewhere = trader("--sandbox", "redeem", "KXTEST-26DEC31-T1", "--venue", "zeta")
    assert elsewhere.returncode == 1 and "zeta does not list 'KXTEST-26DEC31-T1'; it trades on acme" in elsewhere.stderr


def test_a_resolved_market_takes_no_orders_and_cancels_what_rests(trader):
    """Once a redeem has resolved a paper market, it closes as a venue's does: buying the
    winning side at the losing price was a riskless profit, and bids kept resting."""
    rest = j(trader("--sandbox", "buy", "KXTEST-26DEC31-T1:YES", "10", "--venue", "acme", "--limit-price", "0.01",
                    "--output", "json"))
    assert rest["graph"]["status"] == "WORKING"
    won = j(trader("--sandbox", "redeem", "KXTEST-26DEC31-T1", "--venue", "acme", "--output", "json"))["winning_outcome"]
    r = trader("--sandbox", "buy", f"KXTEST-26DEC31-T1:{won}", "3", "--venue", "acme", "--output", "json")
    assert r.returncode == 1 and f"has resolved on acme ({won} won)" in r.stderr, r.stderr
    assert json.loads(r.stdout)["graph"]["status"] == "REJECTED"
    deadline = time.time() + 10
    while (g := j(trader("--sandbox", "orders", "--output", "json"))[-1])["graph"]["status"] == "WORKING":
        assert time.time() < deadline
        time.sleep(0.2)
    assert g["graph"]["graph_id"] == rest["graph"]["graph_id"] and g["graph"]["status"] == "EXPIRED"
    assert g["nodes"][0]["status"] == "CANCELLED" and "the market resolved" in g["nodes"][0]["reason"]
    bad = trader("--sandbox", "redeem", "BTC-USD", "--venue", "acme")
    assert bad.returncode == 1 and "not an event contract" in bad.stderr


def test_trace_lifecycle_in_order_with_deltas(trader, home):
    d = j(trader("--sandbox", "buy", "BTC-USD", "0.05", "--venue", "acme", "--output", "json"))
    node = next(n["node_order_id"] for n in d["nodes"] if n["status"] == "FILLED")
    t = j(trader("--sandbox", "trace", node, "--output", "json"))
    kinds = [s["kind"] for s in t["steps"]]
    for a, b in [("sor_admission", "edge_dispatch"), ("edge_dispatch", "venue_ack"), ("venue_ack", "first_fill"), ("first_fill", "terminal")]:
        assert kinds.index(a) < kinds.index(b), kinds
    ts = [s["ts_ns"] for s in t["steps"]]
    assert ts == sorted(ts) and t["steps"][0]["since_start_ns"] == 0
    assert all(s["since_prev_ns"] == s["ts_ns"] - p["ts_ns"] for p, s in zip(t["steps"], t["steps"][1:]))
    ack = next(s for s in t["steps"] if s["kind"] == "venue_ack")
    assert ack["venue_ts_ns"] and ack["venue_gap_ns"] == ack["ts_ns"] - ack["venue_ts_ns"]
    text = trader("--sandbox", "trace", d["graph"]["graph_id"])
    assert text.returncode == 0 and "venue_ack" in text.stdout and ("µs" in text.stdout or "ms" in text.stdout)
    stop_engine(home)                                     # works from the journal alone
    assert trader("--sandbox", "trace", node).returncode == 0
    missing = trader("--sandbox", "trace", "graph_000000000000")
    assert missing.returncode == 1 and "unknown order" in missing.stderr
    live = trader("trace", node)
    assert live.returncode == 1 and "sandbox order" in live.stderr


def test_lifecycle_event_stream_long_poll(trader, home):
    import http.client
    import threading

    trader("engine", "start")
    info = json.loads((home / "engine.json").read_text())

    def get(path):
        conn = http.client.HTTPConnection("127.0.0.1", info["port"], timeout=20)
        conn.request("GET", path, headers={"Authorization": f"Bearer {info['token']}"})
        return json.loads(conn.getresponse().read())

    first = get("/v1/sandbox/events?after=0")
    start = first["last_id"]
    result = {}
    waiter = threading.Thread(target=lambda: result.update(get(f"/v1/sandbox/events?after={start}&wait=15")))
    waiter.start()
    time.sleep(0.3)
    d = j(trader("--sandbox", "buy", "BTC-USD", "0.01", "--venue", "acme", "--output", "json"))
    waiter.join()
    kinds = [e["kind"] for e in result["events"]]
    assert kinds[0] == "sor_admission" and all(e["graph_id"] == d["graph"]["graph_id"] for e in result["events"])
    assert result["last_id"] > start
    rest = get(f"/v1/sandbox/events?after={result['last_id']}")
    everything = [e["kind"] for e in result["events"] + rest["events"]]
    assert "terminal" in everything                               # resuming from last_id misses nothing


STUCK_ENGINE = """
import http.server, signal, sys
signal.signal(signal.SIGTERM, signal.SIG_IGN)          # a shutdown that never ends
class H(http.server.BaseHTTPRequestHandler):
    def _ok(self):
        self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers(); self.wfile.write(b"{}")
    do_GET = do_POST = _ok
    def log_message(self, *a): pass
server = http.server.HTTPServer(("127.0.0.1", 0), H)
print(server.server_address[1], flush=True)
server.serve_forever()
"""


def test_engine_stop_ends_an_engine_whose_shutdown_hangs(home, monkeypatch):
    """`engine stop` returns with the engine gone: one stuck in its shutdown is killed after
    the stop timeout (returning while it ran made the next `engine start` fail)."""
    import subprocess
    import sys

    import msgspec

    from sequence_core import engine_client
    from sequence_core.home import ensure_home

    monkeypatch.setattr(engine_client, "STOP_TIMEOUT_S", 0.5)
    proc = subprocess.Popen([sys.executable, "-c", STUCK_ENGINE], stdout=subprocess.PIPE, text=True)
    try:
        port = int(proc.stdout.readline())
        info = engine_client.EngineInfo(proc.pid, port, "seq_test", "0", 0)
        (ensure_home() / "engine.json").write_bytes(msgspec.json.encode(info))
        assert engine_client.stop_engine().pid == proc.pid
        assert proc.wait(timeout=5) == -9                        # killed, and stop returned only then
        assert engine_client.engine_info() is None and not (ensure_home() / "engine.json").exists()
    finally:
        proc.kill()
        proc.wait()


def test_trace_on_the_replay_source_shows_no_gap_across_two_clocks(sequence, home):
    """Paper fills on the replay source carry the recording's time; our steps are wall time.
    A gap between the two clocks would be the recording's age, not a latency."""
    from conftest import require_shared_data

    capture = require_shared_data() / "market" / "binance-multi-2024-08-08" / "spot_btcusdt_20240808.gz"
    sequence.env["SEQUENCE_LOAD_PLUGINS"] = "binance,sim,replay"
    assert sequence("data", "ingest", str(capture)).returncode == 0
    (home / "config.toml").write_text('[market_data]\nsource = "replay"\n')
    try:
        d = j(sequence("--sandbox", "buy", "BTC-USDT", "0.001", "--venue", "binance", "--output", "json"))
        t = j(sequence("--sandbox", "trace", d["graph"]["graph_id"], "--output", "json"))
    finally:
        stop_engine(home)
    stamped = [s for s in t["steps"] if s["venue_ts_ns"]]
    assert stamped and all(s["venue_gap_ns"] is None for s in stamped)


def test_an_edited_market_data_source_is_refused_until_the_engine_restarts(trader, home):
    """The engine kept the source it started with while `quote` (the CLI) read the new one:
    quotes and fills came from two different markets, with no word of it."""
    assert j(trader("--sandbox", "buy", "BTC-USD", "0.01", "--output", "json"))["graph"]["status"] == "FILLED"
    (home / "config.toml").write_text('[market_data.synthetic]\nseed = 7\n')
    time.sleep(0.2)               # the engine looks at config.toml at most every 0.1 s (one stat per order costs)
    r = trader("--sandbox", "buy", "BTC-USD", "0.01")
    assert r.returncode == 1 and "[market_data] changed since the engine started" in r.stderr, r.stderr
    assert "sequence engine stop" in r.stderr
    assert trader("engine", "stop").returncode == 0
    d = j(trader("--sandbox", "buy", "BTC-USD", "0.01", "--output", "json"))
    assert d["graph"]["status"] == "FILLED" and "seed 7" in d["events"][0]["detail"]["source"]


def test_a_venue_call_that_times_out_is_said_not_a_bare_504(home):
    """aiohttp answers a handler's TimeoutError with a bare 504, which the CLI printed as
    'Error: HTTP 504' (a cancel racing a resumed policy near its horizon)."""
    import asyncio as aio

    from aiohttp.test_utils import TestClient, TestServer

    from sequence_core.engine.server import Engine

    engine = Engine("t0ken")

    async def slow(request):
        raise TimeoutError

    async def run():
        app = engine.app()
        app.router.add_post("/v1/sandbox/slow", slow)
        async with TestClient(TestServer(app)) as client:
            resp = await client.post("/v1/sandbox/slow", headers={"Authorization": "Bearer t0ken"})
            return resp.status, await resp.json()

    status, body = aio.run(run())
    assert status == 504 and "timed out during POST /v1/sandbox/slow" in body["error"] and body["type"] == "NetworkError"


def test_a_routed_order_no_venue_could_take_whole_is_refused():
    """A share is never larger than the order: under every venue's minimum quantity or notional
    it was journaled only to end EXPIRED (exit 0)."""
    from sequence_core.engine.desk import Desk
    from sequence_core.errors import InvalidOrder
    from sequence_core.market import spot
    from sequence_core.orders import OrderRequest

    venues = {"a": spot("a", "BTC", "USD", "BTCUSD", "0.01", "0.00001", min_notional="5"),
              "b": spot("b", "BTC", "USD", "BTCUSD", "0.1", "0.00000001", min_qty="0.00001")}
    with pytest.raises(InvalidOrder, match=r"under every venue's minimum quantity / notional: a 0 / 5, b 0.00001 / 0"):
        Desk._check_minimums(OrderRequest("BTC-USD", "buy", Decimal("0.00000123")), venues, Decimal("90000"))
    Desk._check_minimums(OrderRequest("BTC-USD", "buy", Decimal("0.00002")), venues, Decimal("90000"))    # b takes it
    Desk._check_minimums(OrderRequest("BTC-USD", "buy", Decimal("0.0001")), venues, Decimal("90000"))     # both


def test_ctrl_c_while_waiting_says_the_order_may_keep_working(trader, home):
    """Ctrl-C of a waiting `buy` said only "Error: aborted", while the order it had admitted
    kept working: a user believing it would buy again."""
    home.mkdir(mode=0o700, exist_ok=True)
    (home / "config.toml").write_text('[sandbox.faults]\nacme = "timeout"\n')
    assert trader("--sandbox", "engine", "start").returncode == 0
    p = trader.popen("--sandbox", "buy", "BTC-USD", "0.05", "--venue", "acme")
    time.sleep(2.0)                                   # admitted; the venue never answers
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=30)
    assert p.returncode == 1 and "if it was admitted it keeps working" in err, err
    listed = j(trader("--sandbox", "orders", "--output", "json"))
    assert [v["graph"]["request"]["venue"] for v in listed] == ["acme"]


def test_an_amend_the_engine_died_inside_is_finished_after_the_restart(trader, home):
    """The engine died between an amend's cancel and its replacement: after the restart the
    order was cancelled for good (graph EXPIRED), though the user never asked for a cancel."""
    d = j(trader("--sandbox", "buy", "ETH-USD", "1", "--venue", "acme", "--limit-price", "1000.00", "--output", "json"))
    graph_id = d["graph"]["graph_id"]
    assert trader("--sandbox", "engine", "stop").returncode == 0
    r = trader("--sandbox", "amend", graph_id, "--price", "999.00", env={"SEQUENCE_ENGINE_FAULT": "after_journal"})
    assert r.returncode == 1 and "lost the connection to the engine" in r.stderr     # died before sending it
    view = next(v for v in j(trader("--sandbox", "orders", "--output", "json")) if v["graph"]["graph_id"] == graph_id)
    working = [n for n in view["nodes"] if n["status"] == "NEW"]
    assert view["graph"]["status"] == "WORKING" and [n["limit_price"] for n in working] == ["999.00"], view
    resting = [o for o in _paper_orders(home) if o[0] == "NEW"]
    assert len(resting) == 1, resting


def test_engine_status_says_a_desk_that_cannot_start(trader, home):
    """A malformed sandbox journal left the engine "running" with no word of it: only a later
    order said the ledger was unusable."""
    (home / "sandbox").mkdir(parents=True, mode=0o700, exist_ok=True)
    (home / "sandbox" / "journal.db").write_bytes(b"SQLite format 3\x00" + b"\x07" * 5000)
    assert trader("--sandbox", "engine", "start").returncode == 0
    status = trader("engine", "status")
    assert status.returncode == 0 and "sandbox: cannot start: ledger" in status.stdout and "unusable" in status.stdout, status.stdout
    data = j(trader("engine", "status", "--output", "json"))
    assert "unusable" in data["unavailable"]["sandbox"]
