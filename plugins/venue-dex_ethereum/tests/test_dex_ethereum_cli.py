"""The dex_ethereum adapter through the real CLI and engine, live mode, against the fake node:
connect, venues (chain + block + wallet heartbeat), quote (QuoterV2 as the book), buy and sell
--venue, fills, positions under the dex:arb label, a swap that never confirms cancelled by a
replacement transaction, and refusals (a revert on chain, insufficient balance) as clear errors
with the key never printed."""

import sys
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fake_dex_ethereum import FakeEthNode  # noqa: E402
from sequence_core.keys import evm_address_of, parse_evm_private_key  # noqa: E402
from sequence_core.testing import LiveCli  # noqa: E402

KEY = "0x" + "6e" * 32
WALLET = evm_address_of(parse_evm_private_key("k", KEY))


@pytest.fixture
def world(tmp_path):
    node = FakeEthNode()
    url = node.start() + "/v2/" + node.key
    node.fund(WALLET, eth="1", USDC="5000", WETH="0", WBTC="0")
    cli = LiveCli(tmp_path / "home", "dex_ethereum,sim,synthetic")
    cli.connect("dex_ethereum", {"private_key": KEY, "rpc_url_arbitrum": url})
    cli.configure('[venues.dex_ethereum]\nchain = "arbitrum"\nreceipt_poll_s = 0.01\ncancel_wait_s = 2\n')
    yield cli, node
    cli.close()
    node.stop()


def never_printed(*results):
    for r in results:
        assert KEY[2:] not in r.stdout + r.stderr and "test-key-123" not in r.stdout + r.stderr


def test_venues_shows_chain_block_and_wallet(world):
    cli, node = world
    (row,) = [r for r in cli.json("venues") if r["venue"] == "dex_ethereum"]
    assert (row["state"], row["mode"]) == ("ok", "live") and "chain 42161" in row["detail"] and "1.000000 ETH" in row["detail"]


def test_quote_buy_sell_fills_positions(world):
    cli, node = world
    q = cli.json("quote", "ETH-USDC")
    row = next(r for r in (q.get("venues") or q.get("rows")) if r["venue"] == "dex_ethereum")
    assert (Decimal(row["bid"]), Decimal(row["ask"])) == (Decimal("2998.50"), Decimal("3001.51"))

    b = cli.json("buy", "ETH-USDC", "0.5", "--venue", "dex_ethereum")
    assert b["graph"]["status"] == "FILLED", b
    assert node.token_balance(WALLET, "WETH") == Decimal("0.5")
    s = cli.json("sell", "ETH-USDC", "0.2", "--venue", "dex_ethereum")
    assert s["graph"]["status"] == "FILLED", s
    fills = cli.json("fills")
    assert sorted(f["qty"] for f in fills) == ["0.2", "0.5"] and {f["fee_asset"] for f in fills} == {"USDC"}
    assert all(f["fill_id"].startswith("0x") and len(f["fill_id"]) == 66 for f in fills)
    rows = cli.json("positions")
    rows = rows.get("rows", rows) if isinstance(rows, dict) else rows
    eth = next(r for r in rows if r["instrument"] == "ETH")
    assert node.token_balance(WALLET, "WETH") == Decimal("0.3")
    native = Decimal(node.native[WALLET.lower()]).scaleb(-18)                 # 1 ETH less the gas paid
    assert Decimal(eth["qty"]) == Decimal("0.3") + native and eth["label"] == "dex:arb"   # the wallet's ETH, both forms


def test_a_pending_swap_is_cancelled(world):
    cli, node = world
    node.approve_all(WALLET)
    node.hold = True
    b = cli.json("buy", "ETH-USDC", "0.1", "--venue", "dex_ethereum", "--limit-price", "3100")
    assert b["graph"]["status"] in ("WORKING", "ADMITTED") and len(node.pool) == 1
    node.hold = False                                    # the replacement mines on arrival
    r = cli.json("cancel", b["graph"]["graph_id"])
    assert r["cancelled"] == [b["nodes"][0]["node_order_id"]]
    (swap, repl) = node.raws()
    assert repl.tx.nonce == swap.tx.nonce and repl.hash.lower() in node.mined and swap.hash.lower() not in node.mined
    assert node.token_balance(WALLET, "WETH") == 0


def test_refusals_are_clear_errors(world):
    cli, node = world
    node.revert_next = 1
    r = cli.run("buy", "ETH-USDC", "0.1", "--venue", "dex_ethereum", "--output", "json")
    assert r.returncode == 1 and '"REJECTED"' in r.stdout and "reverted on chain (tx 0x" in r.stdout + r.stderr
    big = cli.run("buy", "ETH-USDC", "3", "--venue", "dex_ethereum")
    assert big.returncode == 1 and big.stderr.startswith("Error:") and "insufficient balance" in big.stderr
    never_printed(r, big)


def test_a_cancel_the_chain_has_not_confirmed_is_watched_to_its_end(world):
    """The replacement is still pending when `cancel` answers: the graph stays watched (a late
    fill would still be recorded) and ends CANCELLED once the replacement is mined."""
    cli, node = world
    node.approve_all(WALLET)
    node.hold = True
    b = cli.json("buy", "ETH-USDC", "0.1", "--venue", "dex_ethereum", "--limit-price", "3100")
    gid, nid = b["graph"]["graph_id"], b["nodes"][0]["node_order_id"]
    r = cli.json("cancel", gid)
    assert r["cancelled"] == [] and r["pending"] == [nid]
    (entry,) = [o for o in cli.json("orders") if o["graph"]["graph_id"] == gid]
    assert entry["graph"]["status"] == "WORKING"
    node.hold = False
    node.mine()                                           # the replacement wins the nonce
    done = LiveCli.wait(lambda: [o for o in cli.json("orders") if o["graph"]["graph_id"] == gid
                                 and o["graph"]["status"] not in ("WORKING", "ADMITTED")], "the graph's end")
    assert done[0]["graph"]["status"] == "CANCELLED" and [n["status"] for n in done[0]["nodes"]] == ["CANCELLED"]
    assert node.token_balance(WALLET, "WETH") == 0


def test_a_wallet_without_weth_sells_eth_from_its_native_balance(world):
    """native_eth = auto: admission checks a sell against what one order can spend (native ETH
    here, no WETH held), and the swap is paid with native ETH the router wraps."""
    cli, node = world
    node.approve_all(WALLET)
    before = node.native[WALLET.lower()]
    sold = cli.json("sell", "ETH-USDC", "0.1", "--venue", "dex_ethereum")
    assert sold["graph"]["status"] == "FILLED" and [Decimal(f["qty"]) for f in sold["fills"]] == [Decimal("0.1")]
    assert node.token_balance(WALLET, "WETH") == 0 and before - node.native[WALLET.lower()] > 10 ** 17     # 0.1 ETH + gas
    big = cli.run("sell", "ETH-USDC", "2", "--venue", "dex_ethereum")
    assert big.returncode == 1 and "insufficient balance" in big.stderr


def test_an_amend_while_the_cancel_is_pending_sends_no_replacement(world):
    """Cancel-replace of a swap still in the mempool: the cancel (a replacement transaction on
    its nonce) is pending, and the original may still be mined. A new swap sent beside it filled
    the order twice (0.2 of 0.1) when the original won its nonce."""
    cli, node = world
    node.approve_all(WALLET)
    node.hold = True
    b = cli.json("buy", "ETH-USDC", "0.1", "--venue", "dex_ethereum", "--limit-price", "3100")
    gid = b["graph"]["graph_id"]
    r = cli.run("amend", gid, "--price", "3150")
    assert r.returncode == 1 and "has not confirmed the cancel" in r.stderr and "no replacement was sent" in r.stderr, r.stderr
    (entry,) = [o for o in cli.json("orders") if o["graph"]["graph_id"] == gid]
    assert [n["node_order_id"] for n in entry["nodes"]] == [b["nodes"][0]["node_order_id"]]      # no second swap
    assert entry["graph"]["request"]["qty"] == "0.1" and len({s.tx.nonce for s in node.pool.values()}) == 1
