"""The Solana adapter through the real CLI and engine, live mode, against the fake node and
the fake Jupiter: connect, venues (node + aggregator + wallet heartbeat), quote, buy, sell,
fills, positions, a transaction that cannot be cancelled and then expires, and refusals."""

import json
import sys
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fake_solana import FakeChain, FakeJupiter  # noqa: E402
from sequence_core.testing import LiveCli, make_solana_keypair  # noqa: E402
from sequence_venue_solana.signing import b58, public_key  # noqa: E402

KEYPAIR = make_solana_keypair()
OWNER = b58(public_key(bytes(json.loads(KEYPAIR))[:32]))


@pytest.fixture
def world(tmp_path):
    chain = FakeChain()
    jup = FakeJupiter(chain, api_key="jup-cli-key")
    rpc_url, jup_url = chain.start(), jup.start()
    chain.fund(OWNER, sol="10", USDC="1000")
    cli = LiveCli(tmp_path / "home", "solana,sim,synthetic")
    cli.connect("solana", {"keypair": KEYPAIR, "rpc_url": rpc_url, "api_key": "jup-cli-key"})
    cli.configure(f'[venues.solana]\naggregator_url = "{jup_url}"\nrebroadcast_s = 0\nconfirm_wait_s = 1\n'
                  f'quote_size = "1"\n')
    yield cli, chain, jup
    cli.close()
    jup.stop()
    chain.stop()


def test_venues_shows_a_real_heartbeat(world):
    cli, chain, _ = world
    (row,) = cli.json("venues")
    assert (row["venue"], row["state"], row["mode"]) == ("solana", "ok", "live")
    assert "block height 1000" in row["detail"] and "getBalance" in row["detail"]
    assert {"getVersion", "getBlockHeight", "getBalance"} <= set(chain.calls)


def test_quote_buy_sell_fills_positions(world):
    cli, chain, _ = world
    q = cli.json("quote", "SOL-USDC")
    row = (q.get("venues") or q.get("rows"))[0]
    assert (row["venue"], row["bid"], row["ask"]) == ("solana", "149.9000", "150.1000")

    d = cli.json("buy", "SOL-USDC", "0.5", "--venue", "solana")
    assert d["graph"]["status"] == "FILLED" and d["fills"][0]["price"] == "150.1"
    s = cli.json("sell", "SOL-USDC", "0.2", "--venue", "solana")
    assert s["graph"]["status"] == "FILLED" and s["fills"][0]["price"] == "149.9"
    fills = cli.json("fills")
    assert sorted((f["side"], f["qty"]) for f in fills) == [("buy", "0.5"), ("sell", "0.2")]
    assert chain.tokens[(OWNER, "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v")] == 1000 * 10**6 - 75_050_000 + 29_980_000
    positions = cli.run("positions")
    assert positions.returncode == 0 and "SOL" in positions.stdout, positions.stdout
    held = {r["instrument"]: Decimal(r["qty"]) for r in cli.json("positions")["rows"]}
    assert held["SOL"] == Decimal(chain.lamports[OWNER]).scaleb(-9) > 10      # the wallet's: 10 + 0.3 less the fees
    assert KEYPAIR not in positions.stdout + positions.stderr


def test_a_sent_swap_cannot_be_cancelled_and_expires(world):
    cli, chain, _ = world
    chain.pending_next = 1
    d = cli.json("buy", "SOL-USDC", "0.5", "--venue", "solana")
    assert d["graph"]["status"] == "WORKING" and d["nodes"][0]["status"] == "NEW"
    r = cli.run("cancel", d["graph"]["graph_id"])
    assert r.returncode == 1 and "Error:" in r.stderr and "cannot be recalled" in r.stderr and "1150" in r.stderr
    chain.height = 1151
    entry = LiveCli.wait(lambda: [o for o in cli.json("orders") if o["graph"]["graph_id"] == d["graph"]["graph_id"]
                                  and o["graph"]["status"] != "WORKING"], "the expiry reaching the order")
    assert entry[0]["nodes"][0]["status"] == "EXPIRED" and "can never land" in entry[0]["nodes"][0]["reason"]


def test_refusals_are_clear_errors_and_never_print_the_key(world):
    cli, chain, _ = world
    chain.revert_next = 1
    graph = cli.refused("buy", "SOL-USDC", "0.5", "--venue", "solana")["graph"]
    assert graph["status"] == "REJECTED" and "SlippageToleranceExceeded" in graph["reason"]
    r = cli.run("buy", "SOL-USDC", "100", "--venue", "solana")         # the wallet's USDC, read from the chain
    assert r.returncode == 1 and r.stderr.startswith("Error:") and "insufficient balance" in r.stderr
    shown = cli.run("buy", "SOL-USDC", "0.5", "--venue", "solana").stdout + r.stdout + r.stderr
    assert KEYPAIR not in shown and "jup-cli-key" not in shown and len(chain.txs) == 2
