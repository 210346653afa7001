"""The Hyperliquid adapter through the real CLI and engine, live mode, against the fake server:
connect, venues (REST + websocket heartbeat), quote from the live source, buy, positions --kind
perp, a resting order modified in place, cancel, fills, a venue refusal, a resting order's
later fill learnt from the private order/fill stream, funding payments reaching the ledger, a
unified account (its USDC in the spot state) trading, and spot (HYPE-USDC: quote, a resting buy
amended and cancelled, a fill charged in HYPE, a sell checked against the HYPE held)."""

import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fake_hyperliquid import FakeHyperliquid  # noqa: E402
from sequence_core.journal import Journal  # noqa: E402
from sequence_core.keys import evm_address_of  # noqa: E402
from sequence_core.testing import LiveCli, live_world, check_stream_fill  # noqa: E402

KEY = "0x" + "3e" * 32


@pytest.fixture
def world(tmp_path):
    yield from live_world(tmp_path / "home", FakeHyperliquid(evm_address_of(bytes.fromhex(KEY[2:]))), "hyperliquid",
                          {"private_key": KEY},
                          lambda url: f'base_url = "{url}"\nws_url = "{url.replace("http", "ws")}/ws"\n')


def test_venues_shows_a_real_heartbeat(world):
    cli, server = world
    (row,) = cli.json("venues")
    assert (row["venue"], row["state"], row["mode"]) == ("hyperliquid", "ok", "live") and "websocket" in row["detail"]
    assert "clearinghouseState" in server.info_types and server.subscriptions
    assert KEY[2:] not in cli.run("venues").stdout


def test_quote_buy_positions_amend_cancel_fills(world):
    cli, server = world
    q = cli.json("quote", "BTC-USDC-PERP")
    row = (q.get("venues") or q.get("rows"))[0]
    assert (row["venue"], row["bid"], row["ask"]) == ("hyperliquid", "90990", "91000")

    d = cli.json("buy", "BTC-USDC-PERP", "0.01", "--venue", "hyperliquid")
    assert d["graph"]["status"] == "FILLED" and d["fills"][0]["price"] == "91000" and d["fills"][0]["fee_asset"] == "USDC"
    rows = cli.json("positions", "--kind", "perp")["rows"]
    assert [(p["instrument"], p["venue"], p["qty"], p["entry"]) for p in rows] == [("BTC-USDC-PERP", "hyperliquid", "0.01", "91000")]

    rest = cli.json("buy", "BTC-USDC-PERP", "0.02", "--venue", "hyperliquid", "--limit-price", "80000")
    node_id = rest["nodes"][0]["node_order_id"]
    a = cli.json("amend", node_id, "--price", "80100", "--qty", "0.03")
    assert a["mode"] == "native_atomic"
    resting = [o["order"] for o in server.orders.values() if o["status"] == "open"]
    assert [(o["limitPx"], o["sz"]) for o in resting] == [("80100", "0.03")]        # one live order, replaced in one action
    assert [a["type"] for a in server.actions] == ["order", "order", "batchModify"]
    cli.json("cancel", rest["graph"]["graph_id"])
    assert [o["status"] for o in server.orders.values() if o["order"]["cloid"] == resting[0]["cloid"]] == ["canceled", "canceled"]
    assert len(cli.json("fills")) == 1


def test_live_positions_count_the_perp_accounts_usdc_with_the_spot_usdc(world):
    """A standard account: the USDC row is the spot USDC plus the perp account's USDC (fees
    taken, without the BTC position's unrealized P&L, which the perp row carries)."""
    cli, server = world
    server.spot_usdc = Decimal("500")

    def usdc():
        report = cli.json("positions")
        return Decimal(next(r for r in report["rows"] if r["instrument"] == "USDC")["qty"]), report

    assert usdc()[0] == Decimal("100500")
    cli.json("buy", "BTC-USDC-PERP", "0.01", "--venue", "hyperliquid")
    held, report = usdc()
    (perp,) = [r for r in report["rows"] if r["instrument"] == "BTC-USDC-PERP"]
    assert Decimal(perp["unrealized_pnl"]) != 0
    assert held == Decimal("100500") - Decimal("0.4095")                 # 0.01 x 91000 x 0.045 % taker fee


def test_a_venue_refusal_is_a_clear_error(world):
    cli, server = world
    server.refuse_next_place = "Insufficient margin to place order. asset=0"
    graph = cli.refused("buy", "BTC-USDC-PERP", "0.01", "--venue", "hyperliquid")["graph"]
    assert graph["status"] == "REJECTED"
    assert "hyperliquid: Insufficient margin to place order. asset=0 (PerpMargin)" in graph["reason"]


def test_a_unified_account_trades_with_the_usdc_in_its_spot_state(world):
    # account-abstraction-modes: a unified account's perp withdrawable reads 0; its USDC is in the spot state
    cli, server = world
    server.abstraction = "unifiedAccount"
    d = cli.json("buy", "BTC-USDC-PERP", "0.01", "--venue", "hyperliquid")
    assert d["graph"]["status"] == "FILLED" and "userAbstraction" in server.info_types


def test_a_resting_order_amended_then_filled_reaches_fills_through_the_private_stream(world):
    cli, server = world
    rest = cli.json("buy", "BTC-USDC-PERP", "0.02", "--venue", "hyperliquid", "--limit-price", "80000")
    graph_id, node_id = rest["graph"]["graph_id"], rest["nodes"][0]["node_order_id"]
    LiveCli.wait(lambda: server.private, "the engine's order/fill subscriptions")
    cli.json("amend", node_id, "--price", "80100", "--qty", "0.02")     # the venue pushes the old oid as canceled
    time.sleep(0.5)
    (entry,) = [o for o in cli.json("orders") if o["graph"]["graph_id"] == graph_id]
    assert [n["status"] for n in entry["nodes"]] == ["NEW"]              # a modify is not the order's end
    cloid = next(o["order"]["cloid"] for o in server.orders.values() if o["status"] == "open")
    check_stream_fill(cli.json, server, graph_id, cloid, "0.02", "80100", lambda: server.info_types.count("orderStatus"))


def test_funding_the_venue_books_reaches_the_ledger_once(world):
    cli, server = world

    def realized():
        return Decimal(cli.json("positions")["summary"]["realized_pnl"])

    server.add_funding("BTC", "-9", server.now_ms() - 3_600_000)     # before the ledger held the perp: not its own
    cli.json("buy", "BTC-USDC-PERP", "0.01", "--venue", "hyperliquid")
    start = realized()
    now = server.now_ms()
    server.add_funding("BTC", "-0.75", now, szi="0.01")              # a long paying, then receiving
    server.add_funding("BTC", "0.25", now + 1, szi="0.01")
    assert not server.funding_asked                                  # no perp held at the first start: not asked
    cli.restart_engine()                                             # the engine reads funding as it starts
    LiveCli.wait(lambda: realized() == start - Decimal("0.5"), "the funding in the ledger", timeout_s=10)
    cli.restart_engine()                                             # read again, from an hour before the last kept
    LiveCli.wait(lambda: len(server.funding_asked) == 2, "the second read", timeout_s=10)
    assert server.funding_asked[1] == now + 1 - Journal.FUNDING_OVERLAP_NS // 1_000_000
    time.sleep(0.3)                                                  # what the engine does with the answer
    assert realized() == start - Decimal("0.5")                      # kept once, by payment id


def test_spot_quote_buy_amend_cancel_fills_and_a_sell_checked_against_the_base_held(world):
    cli, server = world
    server.spot_usdc = Decimal("1000")
    q = cli.json("quote", "HYPE-USDC")
    row = (q.get("venues") or q.get("rows"))[0]
    assert (row["venue"], row["bid"], row["ask"]) == ("hyperliquid", "29.990", "30.010")   # at the tick declared

    rest = cli.json("buy", "HYPE-USDC", "1", "--venue", "hyperliquid", "--limit-price", "30")
    node_id = rest["nodes"][0]["node_order_id"]
    (live,) = [o for o in server.orders.values() if o["status"] == "open"]
    assert (live["order"]["coin"], live["order"]["limitPx"], live["order"]["sz"]) == ("@107", "30", "1")
    assert server.actions[-1]["orders"][0]["a"] == 10107
    a = cli.json("amend", node_id, "--price", "29.5", "--qty", "2")
    assert a["mode"] == "native_atomic" and [x["type"] for x in server.actions] == ["order", "batchModify"]
    cli.json("cancel", rest["graph"]["graph_id"])
    assert not [o for o in server.orders.values() if o["status"] == "open"]

    d = cli.json("buy", "HYPE-USDC", "2", "--venue", "hyperliquid", "--limit-price", "30.01")
    assert d["graph"]["status"] == "FILLED"
    (fill,) = cli.json("fills")
    assert (fill["price"], fill["qty"], fill["fee_asset"]) == ("30.01", "2", "HYPE")     # the fee in the base received
    # spotClearinghouseState: 2 HYPE bought less the 0.0014 HYPE fee is all a sell may spend
    sold = cli.run("sell", "HYPE-USDC", "5", "--venue", "hyperliquid", "--limit-price", "29.99")
    assert sold.returncode == 1 and "only 1.9986" in sold.stderr and "held across hyperliquid" in sold.stderr
    assert cli.json("sell", "HYPE-USDC", "1.5", "--venue", "hyperliquid", "--limit-price", "29.99")["graph"]["status"] == "FILLED"


def test_a_configured_leverage_is_set_before_the_first_perp_order(world):
    cli, server = world
    cli.configure_venue("hyperliquid", "leverage = 5")
    assert cli.json("buy", "BTC-USDC-PERP", "0.01", "--venue", "hyperliquid")["graph"]["status"] == "FILLED"
    assert server.leverage == {"BTC": (5, True)}
    assert [a["type"] for a in server.actions] == ["updateLeverage", "order"]
