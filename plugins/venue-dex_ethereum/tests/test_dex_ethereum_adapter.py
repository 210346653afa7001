"""The dex_ethereum adapter against the fake JSON-RPC node: EIP-1559 signing (published vectors),
ABI selectors, quotes as the book, swaps (market, limit, IOC; post-only refused) with approvals,
fills from receipt logs, reverts, a swap that never confirms (cancel = same-nonce replacement), a
nonce taken elsewhere, the journal (lost answers, a restart), balances, faults (bad key,
insufficient funds, 429, timeouts, 5xx, malformed answers, wrong chain), and native ETH (a sell
paid with value the router wraps, a buy unwrapped to the wallet in a multicall, the value + gas
refusal, the native_eth rule)."""

import asyncio
import json
import sys
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fake_dex_ethereum import FakeEthNode, Revert, bytes_array  # noqa: E402
from sequence_core.errors import AuthenticationError, ConfigError, InsufficientFunds, InvalidOrder, NetworkError, VenueError  # noqa: E402
from sequence_core.evm import selector  # noqa: E402
from sequence_core.keys import evm_address_of, parse_evm_private_key  # noqa: E402
from sequence_core.orders import NodeOrder  # noqa: E402
from sequence_venue_dex_ethereum import contracts as c  # noqa: E402
from sequence_venue_dex_ethereum import rlp  # noqa: E402
from sequence_venue_dex_ethereum.http import RpcClient  # noqa: E402
from sequence_venue_dex_ethereum.signing import Tx, decode, sign  # noqa: E402
from sequence_venue_dex_ethereum.symbols import INSTRUMENTS, instruments_for  # noqa: E402
from sequence_venue_dex_ethereum.venue import DexEthereumVenue  # noqa: E402

KEY = "0x" + "4c" * 32
WALLET = evm_address_of(parse_evm_private_key("k", KEY))
ETH, BTC = INSTRUMENTS
VENUE = DexEthereumVenue()
run = asyncio.run


@pytest.fixture
def node():
    server = FakeEthNode()
    server.url = server.start() + "/v2/" + server.key
    server.fund(WALLET, eth="1", USDC="10000", WETH="2", WBTC="0.1")
    server.approve_all(WALLET)                  # approvals are tested on their own
    yield server
    server.stop()


def session(node, tmp_path, url=None, **settings):
    base = {"state_path": str(tmp_path / "sent.jsonl"), "receipt_poll_s": 0.01, "approve_wait_s": 1,
            "cancel_wait_s": 1, "timeout_s": 2}
    return VENUE.execution_session({"private_key": KEY, "rpc_url_arbitrum": url or node.url}, {**base, **settings})


def order(n=0, side="buy", qty="0.5", price=None, kind="market", seq=0, symbol="ETH-USDC"):
    gid = "graph_00000000d0e1"
    return NodeOrder(f"{gid}:node_{n}:{seq}", gid, n, seq, "dex_ethereum", symbol, side, Decimal(qty),
                     Decimal(price) if price else None, kind, "PENDING_NEW", 0, 0)


def act(s, *calls):
    """Run coroutine factories on one session in one loop, then close it."""
    async def go():
        try:
            return [await f(s) for f in calls]
        finally:
            await s.close()
    return run(go())


def swaps(node):
    return [t for t in node.raws() if t.tx.data[:4] in (selector(c.SWAP_IN), selector(c.SWAP_OUT))]


# -- published vectors ------------------------------------------------------------------------------
# ethereumjs-monorepo packages/tx/test/json/eip1559.json
# (https://github.com/ethereumjs/ethereumjs-monorepo/blob/master/packages/tx/test/json/eip1559.json):
# chain 0x1e8e, to 0x...aaaa, empty data; signedTransactionRLP is the raw tx wrapped as one RLP string.
VECTORS = [
    (819, 43203529, 35552, 75853, 121212, "b87302f870821e8e8203338301284d8301d97c828ae094000000000000000000000000000000000000aaaa"
     "8402933bc980c080a0d067f2167008c59219652f91cbf8788dbca5f771f6e91e2b7657e85b78b472e0a01d305af9fe81fdba43f0dfcd400ed24dcace0a7e30d4e85701dcaaf484cd079e"),
    (353, 61901619, 32593, 38850, 136295, "b87202f86f821e8e8201618297c283021467827f5194000000000000000000000000000000000000aaaa"
     "8403b08b3380c001a004205678f13fc1d7b10feea6513dfa76e24418b6e08097d95c6f93a3b64e536da01d45ad61bfece43862de2cce7d2575a8c1d08c26c87f3cb5f26d7b0be54a91b2"),
    (119, 65456115, 62341, 24721, 107729, "b87002f86d821e8e778260918301a4d182f38594000000000000000000000000000000000000aaaa"
     "8403e6c7f380c001a0e38e239770801eb995498c821e55ac9c19ae09184bb27b34be105e02fe3b7615a067c64ca6bd6d9107e85fd581ab2e70a14b637eb36505bb40861ef9d6e800cab6"),
]
VECTOR_KEY = bytes.fromhex("8f2a55949038a9610f50fb23b5883af3b4ecb3c3bb792cbcefbd1542c692be63")


@pytest.mark.parametrize("nonce,value,gas,tip,max_fee,signed_rlp", VECTORS)
def test_eip1559_signing_reproduces_ethereumjs_vectors_byte_for_byte(nonce, value, gas, tip, max_fee, signed_rlp):
    tx = Tx(0x1E8E, nonce, tip, max_fee, gas, "0x000000000000000000000000000000000000aaaa", value)
    signed = sign(tx, VECTOR_KEY)
    assert signed.raw == rlp.decode(bytes.fromhex(signed_rlp))
    back = decode(signed.raw)                                # what a node recovers
    assert back.tx == tx and back.sender == evm_address_of(VECTOR_KEY) and back.hash == signed.hash


def test_rlp_matches_the_published_examples():
    # https://ethereum.org/en/developers/docs/data-structures-and-encoding/rlp/#examples
    assert rlp.encode(b"dog") == bytes.fromhex("83646f67")
    assert rlp.encode([b"cat", b"dog"]) == bytes.fromhex("c88363617483646f67")
    assert rlp.encode(b"") == b"\x80" and rlp.encode([]) == b"\xc0" and rlp.encode(0) == b"\x80"
    assert rlp.encode(b"\x0f") == b"\x0f" and rlp.encode(1024) == bytes.fromhex("820400")
    assert rlp.encode([[], [[]], [[], [[]]]]) == bytes.fromhex("c7c0c1c0c3c0c1c0")
    lorem = b"Lorem ipsum dolor sit amet, consectetur adipisicing elit"
    assert rlp.encode(lorem) == bytes.fromhex("b838") + lorem and rlp.decode(rlp.encode(lorem)) == lorem


def test_abi_selectors_are_the_published_ones():
    # 4byte.directory / the contracts' verified ABIs on Arbiscan and Etherscan
    published = {c.Q_IN: "c6a5026a", c.Q_OUT: "bd21704a", c.SWAP_IN: "04e45aaf", c.SWAP_OUT: "5023b4df",
                 c.BALANCE_OF: "70a08231", c.ALLOWANCE: "dd62ed3e", c.APPROVE: "095ea7b3",
                 c.MULTICALL: "ac9650d8", c.UNWRAP_WETH9: "49404b7c", c.REFUND_ETH: "12210e8a"}
    assert {sig: selector(sig).hex() for sig in published} == published
    assert c.TRANSFER_TOPIC == "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
    assert c.revert_reason(c.error_data("Too little received")) == "Too little received"


def test_chains_and_symbols():
    assert [i.venue_symbol for i in INSTRUMENTS] == ["arbitrum:WETH/USDC:500", "arbitrum:WBTC/USDC:500"]
    assert [i.venue_symbol for i in instruments_for("ethereum")] == ["ethereum:WETH/USDC:500", "ethereum:WBTC/USDC:3000"]
    assert VENUE.label({}) == "dex:arb" and VENUE.label({"chain": "ethereum"}) == "dex:eth"
    assert VENUE.fee(instruments_for("ethereum")[1], Decimal("60000"), Decimal("1"), "taker") == Decimal("180") + Decimal("3.00")


# -- quotes -----------------------------------------------------------------------------------------
def test_quotes_are_a_one_level_book_for_the_configured_size(node):
    feed = VENUE.market_data({"rpc_url": node.url, "quote_size": {"ETH-USDC": "2"}})
    assert feed.ws_url is None

    async def go():
        try:
            return await feed.snapshot(ETH), await feed.snapshot(BTC)
        finally:
            await feed.close()
    eth, btc = run(go())
    # 3000 USDC/ETH, 0.05% from the input: buy 2 ETH costs 6000/0.9995, selling 2 ETH gets 5997
    assert eth.asks == ((Decimal("3001.51"), Decimal("2")),) and eth.bids == ((Decimal("2998.50"), Decimal("2")),)
    assert btc.asks[0][1] == Decimal("0.05") and btc.bids[0][0] == Decimal("59970.00")
    assert node.sent == []


def test_heartbeat_reads_chain_block_and_wallet(node):
    beat = run(VENUE.heartbeat({"private_key": KEY, "rpc_url_arbitrum": node.url}, {}))
    assert beat.state == "ok" and beat.detail == f"dex:arb: chain 42161 block {node.block_number}; wallet 1.000000 ETH"
    with pytest.raises(VenueError, match="chain 1, expected arbitrum"):
        node.chain_id = 1
        run(VENUE.heartbeat({"rpc_url_arbitrum": node.url}, {}))


# -- swaps ------------------------------------------------------------------------------------------
def test_market_buy_approves_then_swaps_and_the_fill_is_what_the_logs_moved(node, tmp_path):
    node.allowances.clear()
    (state,) = act(session(node, tmp_path), lambda s: s.place(order(qty="0.5"), ETH))
    approve, swap = node.raws()
    assert (approve.tx.nonce, swap.tx.nonce) == (0, 1) and approve.sender == swap.sender == WALLET
    assert approve.tx.to.lower() == c.CHAINS["arbitrum"].pairs[0].quote_token.address.lower()
    assert swap.tx.to.lower() == c.SWAP_ROUTER_02.lower() and swap.tx.chain_id == 42161
    assert swap.tx.max_fee == 2 * node.base_fee + node.tip and swap.tx.max_priority_fee == node.tip
    assert swap.tx.gas == 144000                                       # estimate 120000 × 1.2
    paid = Decimal("10000") - node.token_balance(WALLET, "USDC")
    quoted = Decimal("1500.750376")                                    # ceil(0.5 × 3000 / 0.9995)
    assert paid == quoted and c.words("0x" + swap.tx.data[4:].hex())[5] == 1508254128   # bound: quote × 1.005
    assert state.status == "FILLED" and state.venue_order_id == swap.hash and state.filled_qty == Decimal("0.5")
    (fill,) = state.fills
    gas_eth = Decimal(120000 * (node.base_fee + node.tip)).scaleb(-18)
    assert fill.fill_id == swap.hash and fill.fee_asset == "USDC" and fill.liquidity == "taker"
    assert abs(fill.price * fill.qty + paid * Decimal("0.0005") - paid) < Decimal("1e-9")   # price before the LP fee
    assert abs(fill.fee - (paid * Decimal("0.0005") + gas_eth * fill.price)) < Decimal("1e-9")
    assert node.token_balance(WALLET, "WETH") == Decimal("2.5")
    kinds = [json.loads(line)["client_order_id"] for line in (tmp_path / "sent.jsonl").read_text().splitlines()]
    assert kinds[:2] == ["approve:" + order().client_order_id, order().client_order_id]      # journaled before sent


def test_a_pending_approval_holds_the_swap_until_it_is_mined_and_is_never_sent_twice(node, tmp_path):
    node.allowances.clear()
    node.hold = True
    s = session(node, tmp_path)

    async def go(s):
        with pytest.raises(NetworkError, match="WETH approval 0x.* is not mined yet"):
            await s.place(order(side="sell"), ETH)
        node.hold = False
        node.mine()
        return await s.place(order(side="sell"), ETH)
    (state,) = act(s, go)
    approve, swap = node.raws()
    assert state.status == "FILLED" and approve.tx.data[:4] == selector(c.APPROVE) and swap.tx.nonce == 1


def test_limit_sell_is_bounded_by_the_limit_and_an_unmeetable_one_sends_nothing(node, tmp_path):
    s = session(node, tmp_path)
    sold, missed = act(s, lambda s: s.place(order(0, "sell", "1", "2990", "limit"), ETH),
                       lambda s: s.place(order(1, "sell", "1", "3100", "ioc"), ETH))
    swap = swaps(node)[0]
    assert c.words("0x" + swap.tx.data[4:].hex())[4:6] == [10 ** 18, 2990 * 10 ** 6]     # amountIn, amountOutMinimum
    assert sold.status == "FILLED" and node.token_balance(WALLET, "USDC") == Decimal("12998.5")
    assert abs(sold.fills[0].price - 3000) < Decimal("1e-9")
    assert missed.status == "CANCELLED" and "within the limit price" in missed.reason and "Too little received" in missed.reason
    assert len(swaps(node)) == 1


def test_buy_limit_bounds_the_input_and_post_only_is_refused(node, tmp_path):
    s = session(node, tmp_path)
    (state,) = act(s, lambda s: s.place(order(0, "buy", "0.01", "60500", "ioc", symbol="BTC-USDC"), BTC))
    swap = swaps(node)[0]
    assert c.words("0x" + swap.tx.data[4:].hex())[4:6] == [10 ** 6, 605 * 10 ** 6]        # amountOut, amountInMaximum
    assert state.status == "FILLED" and node.token_balance(WALLET, "WBTC") == Decimal("0.11")
    with pytest.raises(InvalidOrder, match="post-only"):
        act(session(node, tmp_path), lambda s: s.place(order(1, kind="post_only", price="2900"), ETH))


def test_a_swap_that_reverts_on_chain_is_rejected(node, tmp_path):
    node.revert_next = 1
    (state,) = act(session(node, tmp_path), lambda s: s.place(order(side="sell"), ETH))
    assert state.status == "REJECTED" and "reverted on chain" in state.reason and state.fills == ()
    assert node.token_balance(WALLET, "WETH") == Decimal("2")


def test_a_pending_swap_is_cancelled_by_a_same_nonce_replacement(node, tmp_path):
    node.hold = True
    s = session(node, tmp_path)

    async def release():
        node.hold = False                                 # the replacement is mined on arrival
        return None
    placed, opened, _, cancelled = act(s, lambda s: s.place(order(side="sell"), ETH), lambda s: s.open_orders(ETH),
                                       lambda s: release(), lambda s: s.cancel(order(side="sell"), ETH))
    assert placed.status == "NEW" and [o.venue_order_id for o in opened] == [placed.venue_order_id]
    swap, repl = node.raws()
    assert repl.tx.nonce == swap.tx.nonce and repl.tx.to == WALLET.lower() and repl.tx.value == 0 and repl.tx.data == b""
    assert repl.tx.max_fee * 8 >= swap.tx.max_fee * 9 and repl.tx.max_priority_fee * 8 >= swap.tx.max_priority_fee * 9
    assert cancelled.status == "CANCELLED" and repl.hash in cancelled.reason
    assert node.token_balance(WALLET, "WETH") == Decimal("2")
    records = [json.loads(line) for line in (tmp_path / "sent.jsonl").read_text().splitlines()]
    assert {r["kind"] for r in records} == {"swap", "cancel"}


def test_a_replacement_mined_between_the_reads_is_a_cancel_not_an_expiry(node, tmp_path):
    """The replacement lands after its receipt was read as missing and before the wallet's nonce
    is read: the swap was cancelled (found in CI as a swap wrongly EXPIRED)."""
    node.hold = True
    s = session(node, tmp_path)

    async def cancel_pending(s):
        state = await s.cancel(order(side="sell"), ETH)          # held: the replacement waits in the pool
        nonce = s.client.nonce

        async def mined_as_read(*args):
            node.hold = False
            node.mine()
            return await nonce(*args)
        s.client.nonce = mined_as_read
        return state, await s.order_state(order(side="sell").client_order_id, ETH)
    _, (pending, state) = act(s, lambda s: s.place(order(side="sell"), ETH), cancel_pending)
    assert pending.status == "NEW" and state.status == "CANCELLED" and "replacement" in state.reason


def test_cancel_after_the_swap_was_mined_is_filled(node, tmp_path):
    node.hold = True
    s = session(node, tmp_path)

    async def mine():
        node.mine()
    _, _, state = act(s, lambda s: s.place(order(side="sell"), ETH), lambda s: mine(), lambda s: s.cancel(order(side="sell"), ETH))
    assert state.status == "FILLED" and len(node.raws()) == 1


def test_a_nonce_taken_by_another_transaction_expires_the_swap(node, tmp_path):
    node.hold = True
    s = session(node, tmp_path)

    async def elsewhere():
        node.take_nonce(WALLET)
        node.mine()
    _, _, state, opened = act(s, lambda s: s.place(order(side="sell"), ETH), lambda s: elsewhere(),
                              lambda s: s.order_state(order(side="sell").client_order_id, ETH), lambda s: s.open_orders(ETH))
    assert state.status == "EXPIRED" and "nonce 0 was used by another transaction" in state.reason and opened == []


def test_a_swap_displaced_by_a_pricier_transaction_at_its_nonce_stays_pending_not_rejected(node, tmp_path):
    """A read that finds the swap gone from the pool re-sends its bytes; when a pricier transaction
    holds the nonce (the order's own cancel, sent while an engine poll was reading) the node says
    "replacement transaction underpriced". That is no verdict: the swap stays NEW, and once the
    other transaction is mined it is EXPIRED. (It was recorded as refused -> REJECTED, and a cancel
    racing the poll loop answered neither cancelled nor pending.)"""
    node.hold = True
    s = session(node, tmp_path)

    async def displace():
        swap = node.raws()[0].tx
        other = sign(Tx(node.chain_id, swap.nonce, swap.max_priority_fee * 2, swap.max_fee * 2, 21000, WALLET, 0, b""),
                     parse_evm_private_key("k", KEY))
        node.rpc_eth_sendRawTransaction("0x" + other.raw.hex())
    cid = order(side="sell").client_order_id

    async def mine():
        node.mine()
    _, _, pending, _, after = act(s, lambda s: s.place(order(side="sell"), ETH), lambda s: displace(),
                                  lambda s: s.order_state(cid, ETH), lambda s: mine(), lambda s: s.order_state(cid, ETH))
    assert pending.status == "NEW" and after.status == "EXPIRED"
    records = [json.loads(line) for line in (tmp_path / "sent.jsonl").read_text().splitlines()]
    assert all(r["status"] != "refused" for r in records)
    assert node.token_balance(WALLET, "WETH") == Decimal("2")


def test_nonce_too_low_at_first_send_re_signs_once_at_the_next_nonce(node, tmp_path):
    node.take_nonce_on_send = 1
    (state,) = act(session(node, tmp_path), lambda s: s.place(order(side="sell"), ETH))
    first, second = node.raws()
    assert (first.tx.nonce, second.tx.nonce) == (0, 1) and first.tx.data == second.tx.data
    assert state.status == "FILLED" and state.venue_order_id == second.hash


# -- the journal ------------------------------------------------------------------------------------
def test_a_lost_answer_is_found_by_its_journaled_hash_never_signed_twice(node, tmp_path):
    node.lose_next_send = 1
    s = session(node, tmp_path)

    async def place_then_read(s):
        with pytest.raises(NetworkError, match="eth_sendRawTransaction"):
            await s.place(order(side="sell"), ETH)
        return await s.order_state(order(side="sell").client_order_id, ETH)
    (state,) = act(s, place_then_read)
    assert state.status == "FILLED" and len(node.raws()) == 1


def test_a_send_the_node_never_got_is_rebroadcast_from_the_same_bytes(node, tmp_path):
    node.drop_next_send = 1
    s = session(node, tmp_path)

    async def place_then_retry(s):
        with pytest.raises(NetworkError):
            await s.place(order(side="sell"), ETH)
        return await s.place(order(side="sell"), ETH)            # the engine's retry of the same node
    (state,) = act(s, place_then_retry)
    assert state.status == "FILLED" and len(node.sent) == 2 and node.sent[0] == node.sent[1]


def test_a_restarted_session_reads_the_journal_instead_of_signing_again(node, tmp_path):
    node.hold = True
    (first,) = act(session(node, tmp_path), lambda s: s.place(order(side="sell"), ETH))
    node.pool.clear()                                 # the node restarted and forgot the pending tx
    node.hold = False
    (again,) = act(session(node, tmp_path), lambda s: s.place(order(side="sell"), ETH))
    assert first.status == "NEW" and again.status == "FILLED" and again.venue_order_id == first.venue_order_id
    assert len(set(node.sent)) == 1 and len(node.sent) == 2
    assert oct((tmp_path / "sent.jsonl").stat().st_mode & 0o777) == "0o600"


# -- account ----------------------------------------------------------------------------------------
def test_balances_are_keyed_by_canonical_asset(node, tmp_path):
    (bal,) = act(session(node, tmp_path), lambda s: s.balances())
    assert bal == {"native:ETH": Decimal(1), "ETH": Decimal(2), "WETH": Decimal(2), "USDC": Decimal(10000),
                   "BTC": Decimal("0.1"), "WBTC": Decimal("0.1"), "ETH:spendable": Decimal(2)}     # the larger: WETH
    (native,) = act(session(node, tmp_path, native_eth="always"), lambda s: s.balances())
    (weth_only,) = act(session(node, tmp_path, native_eth="never"), lambda s: s.balances())
    assert native["ETH:spendable"] == Decimal(1) and "ETH:spendable" not in weth_only
    (pos,) = act(session(node, tmp_path), lambda s: s.positions())
    assert pos is None


# -- errors and faults ------------------------------------------------------------------------------
def test_a_wrong_provider_key_is_an_authentication_error_naming_no_secret(node, tmp_path):
    bad = node.url.replace(node.key, "wrong-key-999")
    s = session(node, tmp_path, url=bad)
    with pytest.raises(AuthenticationError, match="RPC provider refused the key") as err:
        act(s, lambda s: s.balances())
    for secret in ("wrong-key-999", KEY[2:], KEY[2:].upper()):
        assert secret not in str(err.value) and secret not in repr(s) and secret not in repr(s.client)


def test_insufficient_funds_for_the_token_or_the_gas(node, tmp_path):
    with pytest.raises(InsufficientFunds, match="cannot pay the USDC"):
        act(session(node, tmp_path), lambda s: s.place(order(qty="5"), ETH))       # 15000 USDC, 10000 held
    node.native[WALLET.lower()] = 0
    with pytest.raises(InsufficientFunds, match="insufficient funds for gas") as err:
        act(session(node, tmp_path), lambda s: s.place(order(1, side="sell"), ETH))
    assert KEY[2:] not in str(err.value)
    (state,) = act(session(node, tmp_path), lambda s: s.order_state(order(1, side="sell").client_order_id, ETH))
    assert state.status == "REJECTED" and "insufficient funds" in state.reason


def test_invalid_size_and_a_pool_too_thin_for_the_size(node, tmp_path):
    with pytest.raises(InvalidOrder, match="whole number of WBTC units"):
        act(session(node, tmp_path), lambda s: s.place(order(qty="0.000000001", symbol="BTC-USDC"), BTC))
    with pytest.raises(InvalidOrder, match="cannot quote 500 ETH"):
        act(session(node, tmp_path), lambda s: s.place(order(qty="500"), ETH))
    assert node.sent == []


def test_rate_limits_are_retried_for_reads_and_never_for_a_send(node, tmp_path):
    node.limit_method = {"eth_getBalance": 2}
    (bal,) = act(session(node, tmp_path), lambda s: s.balances())
    assert bal["native:ETH"] == 1 and node.calls.count("eth_getBalance") == 3      # two 429s, then the answer
    node.limit_method = {"eth_sendRawTransaction": 1}
    s = session(node, tmp_path)

    async def place(s):
        with pytest.raises(VenueError, match="rate-limited eth_sendRawTransaction"):
            await s.place(order(side="sell"), ETH)
        return await s.place(order(side="sell"), ETH)            # journaled: re-sent as the same bytes
    (state,) = act(s, place)
    assert state.status == "FILLED" and len(swaps(node)) == 1


def test_timeouts_5xx_and_malformed_answers_on_reads_are_retried(node, tmp_path):
    node.slow_s, node.slow_next = 1.5, 1
    (bal,) = act(session(node, tmp_path, timeout_s=0.5), lambda s: s.balances())
    assert bal["USDC"] == 10000 and node.calls.count("eth_getBalance") == 2
    node.malformed_next, node.fail_method = 1, {"eth_call": 1}
    (bal,) = act(session(node, tmp_path), lambda s: s.balances())
    assert bal["ETH"] == 2


def test_a_send_that_times_out_or_answers_5xx_is_not_retried_and_is_read_back(node, tmp_path):
    node.slow_s = 1.5

    async def place(s, n):
        node.slow_next = 0
        await s.check_chain()
        with pytest.raises(NetworkError) as err:
            if n == 0:
                node.limit_method, node.slow_next = {}, 0
                node.slow_on_send = 1
            else:
                node.lose_next_send = 1
            await s.place(order(n, side="sell"), ETH)
        await asyncio.sleep(1.2 if n == 0 else 0)                # the node finishes the slow send
        return str(err.value), await s.order_state(order(n, side="sell").client_order_id, ETH)
    (slow, state), = act(session(node, tmp_path, timeout_s=0.5), lambda s: place(s, 0))
    assert "did not answer eth_sendRawTransaction within 0.5s" in slow and state.status == "FILLED"
    (lost, state), = act(session(node, tmp_path), lambda s: place(s, 1))
    assert "HTTP 502" in lost and state.status == "FILLED"
    assert node.calls.count("eth_sendRawTransaction") == 2 and len(set(node.sent)) == 2


def test_a_node_of_another_chain_or_a_forged_signature_is_refused(node, tmp_path):
    node.chain_id = 1
    with pytest.raises(VenueError, match="chain 1"):
        act(session(node, tmp_path), lambda s: s.place(order(side="sell"), ETH))
    assert node.sent == []
    node.chain_id = 42161
    key = parse_evm_private_key("k", KEY)
    other_chain = sign(Tx(1, 0, 1, 10 ** 9, 21000, WALLET), key).raw
    forged = bytearray(sign(Tx(42161, 0, 1, 10 ** 9, 21000, WALLET), key).raw)
    forged[-1] ^= 1                                                        # s changed: another signer recovers

    async def go():
        client = RpcClient(node.url)
        try:
            with pytest.raises(AuthenticationError, match="invalid chain id for signer"):
                await client.send_raw(other_chain)
            with pytest.raises(InsufficientFunds, match="insufficient funds"):
                await client.send_raw(bytes(forged))
        finally:
            await client.close()
    run(go())


def test_amend_is_refused_and_the_engine_cancels_and_replaces_instead(node, tmp_path):
    s = session(node, tmp_path)
    assert s.amend_mode == "cancel_replace" and not s.native_amend(order(), Decimal("3000"), None)
    with pytest.raises(InvalidOrder, match="cannot be amended"):
        act(s, lambda s: s.amend(order(), ETH, Decimal("3000"), None))


# -- native ETH (SwapRouter02 wraps the value sent / unwrapWETH9 in a multicall) ---------------------
ROUTER = c.SWAP_ROUTER_02.lower()


def receipt_gas(node, tx_hash):
    receipt = node.mined[tx_hash.lower()][1]
    return int(receipt["gasUsed"], 16) * int(receipt["effectiveGasPrice"], 16)


def records(tmp_path):
    path = tmp_path / "sent.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.mark.parametrize("chain", ["arbitrum", "ethereum"])        # aeWETH mint logs / WETH9 Deposit events
def test_a_sell_without_weth_is_paid_in_native_eth_which_the_router_wraps(tmp_path, chain):
    node = FakeEthNode(chain)
    node.url = url = node.start() + "/v2/" + node.key
    try:
        node.fund(WALLET, eth="2", USDC="10000")                    # no WETH, no approval at all
        inst = instruments_for(chain)[0]
        s = session(node, tmp_path, chain=chain, rpc_url=url)
        state, bal = act(s, lambda s: s.place(order(side="sell", qty="0.5"), inst), lambda s: s.balances())
        (swap,) = node.raws()                                       # no approve transaction
        args = c.words("0x" + swap.tx.data[4:].hex())
        weth = c.CHAINS[chain].pairs[0].base_token.address.lower()
        assert swap.tx.to.lower() == ROUTER and swap.tx.data[:4] == selector(c.SWAP_IN) and swap.tx.value == 5 * 10 ** 17
        assert args[0] == int(weth, 16) and args[3] == int(WALLET, 16) and args[4] == swap.tx.value   # tokenIn WETH
        assert node.executed[swap.hash.lower()] == ["exactInputSingle"]
        assert node.native.get(ROUTER, 0) == 0 and node.balances.get((weth, ROUTER), 0) == 0   # nothing left at the router
        gas = receipt_gas(node, swap.hash)
        assert node.native[WALLET.lower()] == 2 * 10 ** 18 - 5 * 10 ** 17 - gas                 # qty + gas
        assert node.token_balance(WALLET, "WETH") == 0 and node.token_balance(WALLET, "USDC") == Decimal("11499.25")
        assert state.status == "FILLED" and state.fills[0].qty == Decimal("0.5") and abs(state.fills[0].price - 3000) < Decimal("1e-9")
        assert bal["native:ETH"] == Decimal(2 * 10 ** 18 - 5 * 10 ** 17 - gas).scaleb(-18) and bal["ETH"] == 0
        rec = records(tmp_path)[0]                                  # the line written before the send
        assert (rec["native"], rec["value"], rec["tx_hash"]) == ("pay", 5 * 10 ** 17, swap.hash)  # journaled with its value
    finally:
        node.stop()


def test_a_buy_can_be_delivered_as_native_eth_through_multicall_and_unwrap(node, tmp_path):
    (state,) = act(session(node, tmp_path, native_eth="always"), lambda s: s.place(order(side="buy", qty="0.5"), ETH))
    (swap,) = node.raws()
    assert swap.tx.data[:4] == selector(c.MULTICALL) and swap.tx.value == 0
    inner = bytes_array(swap.tx.data[4:], 0)
    assert [x[:4] for x in inner] == [selector(c.SWAP_OUT), selector(c.UNWRAP_WETH9)]
    out_args, unwrap_args = c.words("0x" + inner[0][4:].hex()), c.words("0x" + inner[1][4:].hex())
    assert out_args[3] == 2 and out_args[4] == 5 * 10 ** 17                      # recipient ADDRESS_THIS, amountOut
    assert unwrap_args == [5 * 10 ** 17, int(WALLET, 16)]                      # amountMinimum = qty, to the wallet
    assert node.executed[swap.hash.lower()] == ["multicall", "exactOutputSingle", "unwrapWETH9"]
    gas = receipt_gas(node, swap.hash)
    assert node.native[WALLET.lower()] == 10 ** 18 + 5 * 10 ** 17 - gas and node.token_balance(WALLET, "WETH") == 2
    assert node.token_balance(WALLET, "USDC") == Decimal("10000") - Decimal("1500.750376")
    assert node.native.get(ROUTER, 0) == 0 and node.balances.get((node.weth, ROUTER), 0) == 0
    (fill,) = state.fills
    paid = Decimal("1500.750376")
    assert state.status == "FILLED" and fill.qty == Decimal("0.5") and abs(fill.price * fill.qty + paid * Decimal("0.0005") - paid) < Decimal("1e-9")


def test_a_native_multicall_that_reverts_on_chain_undoes_the_swap(node, tmp_path):
    node.revert_next = 1
    (state,) = act(session(node, tmp_path, native_eth="always"), lambda s: s.place(order(side="buy", qty="0.5"), ETH))
    (swap,) = node.raws()
    assert state.status == "REJECTED" and node.executed[swap.hash.lower()] == []
    assert node.native[WALLET.lower()] == 10 ** 18 - receipt_gas(node, swap.hash) and node.token_balance(WALLET, "USDC") == 10000


def test_a_native_sell_is_refused_when_native_eth_cannot_cover_value_plus_gas(node, tmp_path):
    node.fund(WALLET, eth="0.5", USDC="10000", WETH="0.1")          # WETH does not cover 0.5
    with pytest.raises(InsufficientFunds, match=r"needs 0\.5 ETH \+ up to 0\.00000\d+ ETH gas, but the wallet holds "
                                                r"0\.5 native ETH \(WETH held: 0\.1; native_eth = 'auto'\); nothing was sent"):
        act(session(node, tmp_path), lambda s: s.place(order(0, side="sell", qty="0.5"), ETH))
    with pytest.raises(InsufficientFunds, match=r"needs 0\.6 ETH, but the wallet holds 0\.5 native ETH"):
        act(session(node, tmp_path), lambda s: s.place(order(1, side="sell", qty="0.6"), ETH))
    assert node.sent == [] and records(tmp_path) == [] and node.calls.count("eth_estimateGas") == 1   # nothing signed
    (none,) = act(session(node, tmp_path), lambda s: s.order_state(order(0, side="sell").client_order_id, ETH))
    assert none is None
    (state,) = act(session(node, tmp_path), lambda s: s.place(order(2, side="sell", qty="0.499"), ETH))   # room for gas
    assert state.status == "FILLED" and node.raws()[0].tx.value == 499 * 10 ** 15


def test_weth_covering_the_sell_is_spent_as_before_and_never_means_weth_only(node, tmp_path):
    (state,) = act(session(node, tmp_path), lambda s: s.place(order(0, side="sell", qty="0.5"), ETH))
    (swap,) = node.raws()
    assert state.status == "FILLED" and swap.tx.value == 0 and swap.tx.data[:4] == selector(c.SWAP_IN)
    assert node.executed[swap.hash.lower()] == ["exactInputSingle"] and node.token_balance(WALLET, "WETH") == Decimal("1.5")
    assert node.native[WALLET.lower()] == 10 ** 18 - receipt_gas(node, swap.hash)          # gas only
    (bought,) = act(session(node, tmp_path), lambda s: s.place(order(1, side="buy", qty="0.5"), ETH))
    assert bought.status == "FILLED" and node.token_balance(WALLET, "WETH") == 2              # auto: buys deliver WETH
    node.fund(WALLET, eth="5", WETH="0")
    with pytest.raises(InsufficientFunds, match="cannot pay the WETH"):
        act(session(node, tmp_path, native_eth="never"), lambda s: s.place(order(2, side="sell", qty="0.5"), ETH))
    with pytest.raises(ConfigError, match="native_eth = 'sometimes' is not supported"):
        session(node, tmp_path, native_eth="sometimes")


def test_always_sells_native_eth_even_with_weth_held(node, tmp_path):
    (state,) = act(session(node, tmp_path, native_eth="always"), lambda s: s.place(order(side="sell", qty="0.5"), ETH))
    (swap,) = node.raws()
    assert state.status == "FILLED" and swap.tx.value == 5 * 10 ** 17 and node.token_balance(WALLET, "WETH") == 2


def test_the_fake_router_refunds_unspent_eth_only_with_refund_eth(node):
    """Exact output paid in ETH leaves the surplus at the router unless refundETH follows (the
    router-sdk rule; this adapter never pays exact output in ETH)."""
    p = c.CHAINS["arbitrum"].pairs[0]
    swap = c.swap_exact_out(p.base_token, p.quote_token, p.fee, WALLET, 1500 * 10 ** 6, 6 * 10 ** 17)
    cost = int(Decimal(1500) / 3000 / Decimal("0.9995") * 10 ** 18) + 1        # WETH in for 1500 USDC out
    node.fund(WALLET, eth="2", USDC="0")
    node.execute(WALLET, ROUTER, c.multicall([swap, selector(c.REFUND_ETH)]), dry=False, value=6 * 10 ** 17)
    assert node.native.get(ROUTER, 0) == 0 and node.native[WALLET.lower()] == 2 * 10 ** 18 - cost
    node.execute(WALLET, ROUTER, c.multicall([swap]), dry=False, value=6 * 10 ** 17)
    assert node.native[ROUTER] == 6 * 10 ** 17 - cost and node.native[WALLET.lower()] == 2 * 10 ** 18 - cost - 6 * 10 ** 17
    assert node.token_balance(WALLET, "USDC") == 3000
    before = (dict(node.native), dict(node.balances))
    with pytest.raises(Revert, match="Insufficient WETH9"):       # a failing step undoes the whole multicall
        node.execute(WALLET, ROUTER, c.multicall([swap, c.unwrap_weth9(1, WALLET)]), dry=False, value=6 * 10 ** 17)
    assert (dict(node.native), dict(node.balances)) == before
