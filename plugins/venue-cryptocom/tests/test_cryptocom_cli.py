"""The Crypto.com adapter through the real CLI and engine, live mode, against the fake exchange:
connect, venues (REST + websocket heartbeat), quote from the live source, buy, a resting order
amended in place, cancel, fills, and a refusal the user can read."""

import sys
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fake_cryptocom import FakeCryptocom  # noqa: E402
from sequence_core.testing import live_world, check_stream_fill, funding_kept_once  # noqa: E402

KEY, SECRET = "cdc-cli-key-2", "cdc-cli-secret-2"


@pytest.fixture
def world(tmp_path):
    yield from live_world(tmp_path / "home", FakeCryptocom(KEY, SECRET), "cryptocom", {"api_key": KEY, "api_secret": SECRET},
                          lambda url: f'base_url = "{url}/exchange/v1"\n'
                                      f'ws_url = "{url.replace("http", "ws")}/exchange/v1/market"\n')


def test_venues_shows_a_real_heartbeat(world):
    cli, server = world
    (row,) = cli.json("venues")
    assert (row["venue"], row["state"], row["mode"]) == ("cryptocom", "ok", "live") and "websocket" in row["detail"]
    assert ("POST", "/exchange/v1/private/user-balance") in server.requests and server.subscriptions


def test_quote_buy_amend_cancel_fills(world):
    cli, server = world
    q = cli.json("quote", "BTC-USD")
    row = (q.get("venues") or q.get("rows"))[0]
    assert (row["venue"], row["bid"], row["ask"]) == ("cryptocom", "90990.00", "91000.00")

    d = cli.json("buy", "BTC-USD", "0.01", "--venue", "cryptocom")
    assert d["graph"]["status"] == "FILLED" and d["fills"][0]["price"] == "91000.00"
    assert len(cli.json("fills")) == 1
    assert (Decimal(d["fills"][0]["fee"]), d["fills"][0]["fee_asset"]) == (Decimal("0.00005"), "BTC")  # 0.5% taker, in BTC
    held = {r["instrument"]: r for r in cli.json("positions", "--venue", "cryptocom")["rows"]}
    assert Decimal(held["BTC"]["qty"]) == 1         # live positions are Crypto.com's balances (the fake's do not move)

    rest = cli.json("buy", "BTC-USD", "0.02", "--venue", "cryptocom", "--limit-price", "80000.00")
    node_id = rest["nodes"][0]["node_order_id"]
    a = cli.json("amend", node_id, "--price", "80100.00", "--qty", "0.03")
    assert a["mode"] == "native_atomic"
    (resting,) = [o for o in server.orders.values() if o["status"] == "ACTIVE"]
    assert (resting["limit_price"], resting["quantity"]) == ("80100.00", "0.03")    # one order, changed in place
    cli.json("cancel", rest["graph"]["graph_id"])
    assert resting["status"] == "CANCELED"


def test_a_venue_refusal_is_a_clear_error(world):
    cli, server = world
    server.refuse_next_place = (306, "INSUFFICIENT_AVAILABLE_BALANCE", 500)
    graph = cli.refused("buy", "BTC-USD", "0.01", "--venue", "cryptocom")["graph"]
    assert graph["status"] == "REJECTED" and "cryptocom: insufficient available balance (306)" in graph["reason"]


def test_a_resting_order_filled_later_reaches_fills_through_the_user_stream(world):
    cli, server = world
    rest = cli.json("buy", "BTC-USD", "0.02", "--venue", "cryptocom", "--limit-price", "80000.00")
    cid = next(k for k, o in server.orders.items() if o["status"] == "ACTIVE")
    check_stream_fill(cli.json, server, rest["graph"]["graph_id"], cid, "0.02", "80000.00",
                      lambda: len([b for b in server.bodies if b.get("method") == "private/get-order-detail"]))


def test_a_perp_quote_buy_and_sell_reach_live_positions(world):
    cli, server = world
    q = cli.json("quote", "BTC-USD-PERP")
    row = (q.get("venues") or q.get("rows"))[0]
    assert (row["venue"], row["bid"], row["ask"]) == ("cryptocom", "90990.0", "91000.0")       # at the perp's tick
    d = cli.json("buy", "BTC-USD-PERP", "0.5", "--venue", "cryptocom")
    assert d["graph"]["status"] == "FILLED"
    assert [(f["price"], f["qty"], f["fee_asset"]) for f in d["fills"]] == [("91000.00", "0.5", "USD")]
    placed = [b["params"] for b in server.bodies if b["method"] == "private/create-order"]
    assert placed[-1]["instrument_name"] == "BTCUSD-PERP"
    rows = cli.json("positions", "--kind", "perp")["rows"]
    assert [(r["instrument"], r["venue"], r["kind"], r["qty"], r["entry"]) for r in rows] == \
        [("BTC-USD-PERP", "cryptocom", "perp", "0.5", "91000")]
    cli.json("sell", "BTC-USD-PERP", "0.8", "--venue", "cryptocom")                  # flips to short 0.3
    rows = cli.json("positions", "--kind", "perp")["rows"]
    assert [(r["qty"], r["entry"]) for r in rows] == [("-0.3", "90990")]


def test_a_perp_order_beside_an_isolated_position_is_refused_with_what_to_change(world):
    cli, server = world
    server.isolated = [{"account_id": "a", "quantity": "0.1", "cost": "9100", "open_position_pnl": "0",
                        "open_pos_cost": "9100", "session_pnl": "0", "update_timestamp_ms": "1",
                        "instrument_name": "BTCUSD-PERP", "type": "PERPETUAL_SWAP", "isolation_id": "19848526",
                        "isolation_type": "ISOLATED_MARGIN"}]
    graph = cli.refused("buy", "BTC-USD-PERP", "0.5", "--venue", "cryptocom")["graph"]
    assert graph["status"] == "REJECTED" and "isolated-margin BTCUSD-PERP position" in graph["reason"]
    assert "cross-margin position only" in graph["reason"]
    assert ("POST", "/exchange/v1/private/create-order") not in server.requests


def test_funding_booked_on_a_held_perp_reaches_realized_pnl_once(world):
    """The engine reads funding as it starts where the ledger holds a perp: Crypto.com's
    FUNDING journal rows from the first perp fill on reach realized P&L, each once."""
    cli, server = world
    assert cli.json("buy", "BTC-USD-PERP", "0.5", "--venue", "cryptocom")["graph"]["status"] == "FILLED"
    before = Decimal(cli.json("positions")["summary"]["realized_pnl"])
    now = server.now_ms()
    server.add_funding("BTCUSD-PERP", "-7", now - 3_600_000)          # before the ledger held the perp: not its own
    paid = server.add_funding("BTCUSD-PERP", "-1.25", now + 1)
    got = server.add_funding("BTCUSD-PERP", "0.40", now + 2)
    server.add_funding("DOGEUSD-PERP", "9", now + 3)                  # a perp this adapter does not list: skipped
    rows = funding_kept_once(cli, server.transaction_queries, before, Decimal("-0.85"))
    assert rows == [(f"{paid['journal_id']}:BTCUSD-PERP", "BTC-USD-PERP", "USD", "-1.25"),
                    (f"{got['journal_id']}:BTCUSD-PERP", "BTC-USD-PERP", "USD", "0.40")]
    assert {q["journal_type"] for q in server.transaction_queries} == {"FUNDING"}


def test_a_configured_leverage_is_set_before_the_first_perp_order(world):
    cli, server = world
    cli.configure_venue("cryptocom", "leverage = 5")
    assert cli.json("buy", "BTC-USD-PERP", "0.01", "--venue", "cryptocom")["graph"]["status"] == "FILLED"
    assert server.account_leverage == 5 and server.leverage_sets == [5]
    calls = [b["method"] for b in server.bodies]
    assert calls.index("private/change-account-leverage") < calls.index("private/create-order")
