"""The Polymarket adapter through the real CLI and engine, live mode, against the fake venue:
connect, venues (REST + websocket heartbeat), quote from the live source, buy by slug (a declared
market and one resolved from Gamma), a resting order amended by cancel-replace, cancel, fills,
positions, a venue refusal, a resting order's later fill learnt from the user channel, and
redeem of a resolved market through the relayer."""

import sys
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import fake_polymarket as fp  # noqa: E402
from sequence_core.testing import check_stream_fill, live_world  # noqa: E402
from sequence_venue_polymarket.relayer import derive_safe  # noqa: E402
from sequence_venue_polymarket.signing import Wallet  # noqa: E402

KEY = "0x" + "5d" * 32


@pytest.fixture
def world(tmp_path):
    server = fp.FakePolymarket()
    key, secret, passphrase = server.builder
    yield from live_world(tmp_path / "home", server, "polymarket",
                          {"private_key": KEY, "signature_type": "2", "funder": derive_safe(Wallet(KEY).address),
                           "builder_api_key": key, "builder_secret": secret, "builder_passphrase": passphrase},
                          lambda url: f'base_url = "{url}"\nws_url = "{url.replace("http", "ws")}/ws/market"\n'
                                      f'gamma_url = "{url}/gamma"\ndata_url = "{url}/data-api"\nrelayer_url = "{url}/relayer"\n'
                                      f'relayer_poll_s = 0.01\nmarkets = ["{fp.RAIN}"]\n')


def test_venues_shows_a_real_heartbeat(world):
    cli, server = world
    (row,) = [r for r in cli.json("venues") if r["venue"] == "polymarket"]
    assert (row["state"], row["mode"]) == ("ok", "live") and "websocket" in row["detail"]
    assert ("GET", "/auth/derive-api-key") in server.requests and ("GET", "/balance-allowance") in server.requests
    assert server.subscriptions


def test_quote_buy_amend_cancel_fills_positions(world):
    cli, server = world
    q = cli.json("quote", f"{fp.FED}:YES")
    row = next(r for r in (q.get("venues") or q.get("rows")) if r["venue"] == "polymarket")
    assert (row["bid"], row["ask"]) == ("0.50", "0.52")

    d = cli.json("buy", f"{fp.FED}:YES", "10", "--venue", "polymarket")
    assert d["graph"]["status"] == "FILLED" and d["fills"][0]["price"] == "0.52"

    rain = cli.json("buy", f"{fp.RAIN}:YES", "10", "--venue", "polymarket")       # resolved through Gamma
    assert rain["graph"]["status"] == "FILLED" and server.holdings[fp.RAIN_YES] == 10
    assert len(cli.json("fills")) == 2

    rest = cli.json("buy", f"{fp.FED}:YES", "10", "--venue", "polymarket", "--limit-price", "0.40")
    node_id = rest["nodes"][0]["node_order_id"]
    a = cli.json("amend", node_id, "--price", "0.41")
    assert a["mode"] == "cancel_replace"
    live = [o for o in server.orders.values() if o["status"] == "LIVE"]
    assert [o["price"] for o in live] == ["0.41"]                                   # the old one cancelled
    cli.json("cancel", rest["graph"]["graph_id"])
    assert not [o for o in server.orders.values() if o["status"] == "LIVE"]

    held = {r["instrument"]: Decimal(r["qty"]) for r in cli.json("positions", "--venue", "polymarket")["rows"]}
    assert held[f"{fp.FED}:YES"] == held[f"{fp.RAIN}:YES"] == 10                      # as the Data API reports them


def test_a_venue_refusal_is_a_clear_error(world):
    cli, server = world
    server.refuse_next_place = "the market is not yet ready to process new orders"
    graph = cli.refused("buy", f"{fp.FED}:YES", "10", "--venue", "polymarket")["graph"]
    assert graph["status"] == "REJECTED" and "polymarket: the market is not yet ready to process new orders" in graph["reason"]


def test_a_resting_order_filled_later_reaches_fills_through_the_private_stream(world):
    cli, server = world
    rest = cli.json("buy", f"{fp.FED}:YES", "10", "--venue", "polymarket", "--limit-price", "0.40")
    (oid,) = [k for k, o in server.orders.items() if o["status"] == "LIVE"]
    check_stream_fill(cli.json, server, rest["graph"]["graph_id"], oid, "10", "0.40",
                      lambda: sum(1 for _, path in server.requests if path.startswith("/data/order/")))


def test_redeem_a_resolved_market_through_the_relayer(world):
    cli, server = world
    cli.json("buy", f"{fp.FED}:YES", "10", "--venue", "polymarket")
    r = cli.run("redeem", fp.FED, "--venue", "polymarket")
    assert r.returncode == 1 and "has not resolved yet" in r.stderr
    server.winners[fp.FED_CID] = fp.FED_YES
    done = cli.json("redeem", fp.FED, "--venue", "polymarket")
    assert (done["method"], done["winning_outcome"], Decimal(done["paid"])) == ("relayer_redeem", "YES", 10)
    assert done["reference"].startswith("0x") and server.redeemed and server.relayer_nonce == 1


def test_a_market_with_fee_parameters_is_not_shown_or_routed_as_free(world):
    """The rain market charges takers rate 0.02 (its CLOB 'fd'): `fees` showed 0 and the SOR
    netted its price with 0 bps while the fill was charged ~96 bps."""
    from sequence_venue_polymarket import fees

    fees.FD.clear()
    fees.FAILED.clear()
    cli, _ = world
    rows = cli.json("fees", f"{fp.RAIN}:YES", "--venues", "polymarket")
    row = next(r for r in rows if r["venue"] == "polymarket")
    assert row["taker"] == "0.02" and "rate 0.02, exponent 1" in row["notes"], row
    d = cli.json("buy", f"{fp.RAIN}:YES", "10", "--venue", "polymarket")
    charged = sum(Decimal(f["fee"]) for f in d["fills"])
    decision = next(e for e in d["events"] if e["kind"] == "sor_decision")["detail"]
    leg = next(leg for leg in decision["legs"] if leg["venue"] == "polymarket")
    assert charged > 0 and "bps taker" in leg["reason"] and "after 0.00 bps taker" not in leg["reason"], (charged, leg)
    free = next(r for r in cli.json("fees", f"{fp.FED}:YES", "--venues", "polymarket") if r["venue"] == "polymarket")
    assert free["taker"] == "0"                                       # a market without fees stays free
