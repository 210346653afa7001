"""The Solana adapter against a fake JSON-RPC node and a fake Jupiter: published signing
vectors, swaps as orders (bounds, fills from what the chain moved), journal-before-send
(lost answers, restarts: the same bytes, never a second swap), failed / never-landing /
expired transactions, and faults (timeouts, 5xx, 429, malformed answers, bad keys)."""

import asyncio
import base64
import json
import sys
from decimal import Decimal
from pathlib import Path

import base58
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fake_solana import FEE, JUP, SOL, USDC, FakeChain, FakeJupiter, ata  # noqa: E402
from sequence_core.errors import (AuthenticationError, InsufficientFunds, InvalidOrder, NetworkError,  # noqa: E402
                                  RateLimitExceeded, VenueError)
from sequence_core.feeds import to_book  # noqa: E402
from sequence_core.orders import NodeOrder  # noqa: E402
from sequence_core.sentlog import SentLog  # noqa: E402
from sequence_core.testing import until  # noqa: E402
from sequence_venue_solana.execution import SentRecord, SolanaSession  # noqa: E402
from sequence_venue_solana.feed import SolanaFeed  # noqa: E402
from sequence_venue_solana.http import JupiterClient, RpcClient, describe, tx_error  # noqa: E402
from sequence_venue_solana.signing import b58, parse, public_key, sign_transaction  # noqa: E402
from sequence_venue_solana.symbols import INSTRUMENTS  # noqa: E402

SEED = bytes(range(1, 33))
KEYPAIR = SEED + public_key(SEED)
OWNER = b58(public_key(SEED))
SOL_USDC = next(i for i in INSTRUMENTS if i.symbol == "SOL-USDC")
JUP_USDC = next(i for i in INSTRUMENTS if i.symbol == "JUP-USDC")
FEE_SOL = Decimal(FEE) / 10**9


@pytest.fixture
def world():
    chain = FakeChain()
    jup = FakeJupiter(chain)
    chain.url, jup.url = chain.start(), jup.start()
    chain.fund(OWNER, sol="10", USDC="1000")
    yield chain, jup
    jup.stop()
    chain.stop()


def session(world, tmp_path, key="", **settings) -> SolanaSession:
    chain, jup = world
    settings = {"rebroadcast_s": 0, "confirm_wait_s": 0.05, **settings}
    return SolanaSession(RpcClient(chain.url, timeout_s=settings.pop("timeout_s", 5)), JupiterClient(jup.url, key),
                         KEYPAIR, SentLog(tmp_path / "sent.jsonl", SentRecord), settings)


def node(n=0, side="buy", qty="0.5", price="150.1", kind="ioc", inst=SOL_USDC):
    gid = "graph_00000000cafe"
    return NodeOrder(f"{gid}:node_{n}:0", gid, n, 0, "solana", inst.symbol, side, Decimal(qty),
                     Decimal(price) if price else None, kind, "PENDING_NEW", 0, 0)


def run(s: SolanaSession, work):
    async def go():
        try:
            return await work(s)
        finally:
            await s.close()
    return asyncio.run(go())


# -- published vectors --------------------------------------------------------------------------
@pytest.mark.parametrize("secret,public,message,sig", [
    # RFC 8032 section 7.1, TEST 1, 2 and 3 (https://www.rfc-editor.org/rfc/rfc8032#section-7.1)
    ("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
    ("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
    ("c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"),
])
def test_rfc8032_vectors(secret, public, message, sig):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    assert public_key(bytes.fromhex(secret)).hex() == public
    assert Ed25519PrivateKey.from_private_bytes(bytes.fromhex(secret)).sign(bytes.fromhex(message)).hex() == sig


def test_legacy_transaction_signs_as_wallet_core_publishes():
    # trustwallet/wallet-core tests/chains/Solana/TWSolanaTransaction.cpp, TEST SetPriorityFee
    # (https://github.com/trustwallet/wallet-core/blob/master/tests/chains/Solana/TWSolanaTransaction.cpp):
    # the updated transaction (stale signature in its slot), the key, and the signed result,
    # broadcast as 2ho7wZUX...Lr1h8 on mainnet.
    updated = base64.b64decode(
        "AX43+Ir2EDqf2zLEvgzFrCZKRjdr3wCdp8CnvYh6N0G/s86IueX9BbiNUl16iLRGvwREDfi2Srb0hmLNBFw1BwABAAIEODI+iWe7g68B9iwCy8bFkJKvsIEj"
        "350oSOpcv4gNnv/st+6qmqipl9lwMK6toB9TiL7LrJVfij+pKwr+pUKxfwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAwZGb+UhFzL/7K26csOb"
        "57yM5bvF9xJrLEObOkAAAAAboZ09wD3Y5HNUl7aN8bwpCqowev1hMu7fSgziLswUSgMDAAUCECcAAAICAAEMAgAAAOgDAAAAAAAAAwAJA+gDAAAAAAAA")
    expected = (
        "AVUye82Mv+/aWeU2G+B6Nes365mUU2m8iqcGZn/8kFJvw4wY6AgKGG+vJHaknHlCDwE1yi1SIMVUUtNCOm3kHg8BAAIEODI+iWe7g68B9iwCy8bFkJKvsIEj"
        "350oSOpcv4gNnv/st+6qmqipl9lwMK6toB9TiL7LrJVfij+pKwr+pUKxfwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAwZGb+UhFzL/7K26csOb"
        "57yM5bvF9xJrLEObOkAAAAAboZ09wD3Y5HNUl7aN8bwpCqowev1hMu7fSgziLswUSgMDAAUCECcAAAICAAEMAgAAAOgDAAAAAAAAAwAJA+gDAAAAAAAA")
    signed, txid, tx = sign_transaction(updated, bytes.fromhex("baf2b2dbbbad7ca96c1fa199c686f3d8fbd2c7b352f307e37e04f33df6741f18"))
    assert base64.b64encode(signed).decode() == expected and tx.version is None
    assert txid == "2ho7wZUXbDNz12xGfsXg2kcNMqkBAQjv7YNXNcVcuCmbC4p9FZe9ELeM2gMjq9MKQPpmE3nBW5pbdgwVCfNLr1h8"


def test_v0_transaction_signs_as_wallet_core_publishes():
    # trustwallet/wallet-core rust/tw_tests/tests/chains/solana/solana_sign.rs, test_solana_sign_raw_message_v0:
    # the published v0 transaction (broadcast on testnet as 4ffBzXxL...RqyP) with its signature
    # slot zeroed is what an aggregator hands over; signing it with the test's key gives it back.
    published = base58.b58decode(
        "6NijVxwQoDjqt6A41HXCK9kXwNDp48uLgvRyE8uz6NY5dEzaEDLzjzuMnc5TGatHZZUXehKrzUGzbg9jPSdn6pVsMc9TXNH6JGe5RJLmHwWey3MC1p8Hs2zh"
        "jw5P439P57NToatraDX9ZwvBtK4EzZzRjWbyGdicheTPjeYKCzvPCLxDkTFtPCM9VZGGXSN2Bne92NLDvf6ntNm5pxsPkZGxPe4w9Eq26gkE83hZyrYXKaiD"
        "h8TbqbHatSkw")
    tx = parse(published)
    assert (tx.version, tx.num_required) == (0, 1)
    assert [b58(k) for k in tx.account_keys] == ["6pEfiZjMycJY4VA2FtAbKgYvRwzXDpxY58Xp4b7FQCz9", "11111111111111111111111111111111"]
    assert b58(tx.recent_blockhash) == "HxKwWFTHixCu8aw35J1uxAX6yUhLHkFCdJJdK4y98Gyj"
    unsigned = published[:1] + bytes(64) + published[65:]
    signed, txid, _ = sign_transaction(unsigned, bytes.fromhex("833a053c59e78138a3ed090459bc6743cca6a9cbc2809a7bf5dbc7939b8775c8"))
    assert signed == published
    assert txid == "4ffBzXxLPYEEdCYpQGETkCTCCsH6iTdmKzwUZXZZgFemdhRpxQwboguFFoKCeGF3SsZPzuwwE7LbRwLgJbsyRqyP"


def test_a_transaction_needing_a_signer_we_lack_or_another_fee_payer_is_refused(world, tmp_path):
    chain, jup = world
    jup.foreign_payer_next = 1
    with pytest.raises(InvalidOrder, match="fee payer is .* not this wallet"):
        run(session(world, tmp_path), lambda s: s.place(node(), SOL_USDC))
    jup.extra_signer_next = 1
    with pytest.raises(InvalidOrder, match="also needs a signature from"):
        run(session(world, tmp_path), lambda s: s.place(node(1), SOL_USDC))
    with pytest.raises(InvalidOrder, match="not a Solana transaction"):
        sign_transaction(b"\x01\x00", SEED)
    assert chain.sends == []                                  # nothing was signed and sent


# -- swaps ----------------------------------------------------------------------------------------
def test_buy_is_an_exact_out_swap_filled_from_what_the_chain_moved(world, tmp_path):
    chain, jup = world
    state = run(session(world, tmp_path), lambda s: s.place(node(), SOL_USDC))
    assert state.status == "FILLED" and state.filled_qty == Decimal("0.5")
    (f,) = state.fills
    assert f.fill_id == state.venue_order_id and f.price == Decimal("150.1") and f.qty == Decimal("0.5")
    assert f.fee == (FEE_SOL * Decimal("150.1")).quantize(Decimal("0.000001")) and f.fee_asset == "USDC"
    assert jup.swaps[0]["quoteResponse"]["swapMode"] == "ExactOut" and jup.swaps[0]["userPublicKey"] == OWNER
    assert chain.lamports[OWNER] == 10 * 10**9 + 5 * 10**8 - FEE
    assert chain.tokens[(OWNER, USDC)] == 1000 * 10**6 - 75_050_000


def test_sell_is_exact_in_and_the_rent_of_a_new_token_account_is_not_a_cost(world, tmp_path):
    chain, _ = world
    chain.fund(OWNER, sol="10")                                 # no USDC account yet: the swap opens one
    state = run(session(world, tmp_path), lambda s: s.place(node(side="sell", qty="1", price=None, kind="market"), SOL_USDC))
    assert state.status == "FILLED" and state.fills[0].qty == Decimal("1") and state.fills[0].price == Decimal("149.9")
    bal = run(session(world, tmp_path), lambda s: s.balances())
    assert bal["USDC"] == Decimal("149.9") and bal["SOL"] < Decimal(9)


def test_a_market_order_is_bounded_by_the_slippage_setting(world, tmp_path):
    _, jup = world
    run(session(world, tmp_path, slippage_bps=100), lambda s: s.place(node(side="sell", qty="1", price=None, kind="market"),
                                                                      SOL_USDC))
    q = jup.swaps[0]["quoteResponse"]
    assert (q["swapMode"], q["slippageBps"], q["otherAmountThreshold"]) == ("ExactIn", 100, str(149_900_000 * 99 // 100))


def test_a_limit_bounds_the_swap_and_one_out_of_reach_sends_nothing(world, tmp_path):
    chain, jup = world
    state = run(session(world, tmp_path), lambda s: s.place(node(price="151"), SOL_USDC))
    q = jup.swaps[0]["quoteResponse"]
    assert state.status == "FILLED" and int(q["otherAmountThreshold"]) <= 75_500_000 and q["slippageBps"] == 59
    state = run(session(world, tmp_path), lambda s: s.place(node(1, price="150"), SOL_USDC))
    assert state.status == "EXPIRED" and "cannot fill within the limit 150" in state.reason
    assert len(jup.swaps) == 1 and len(chain.sends) == 1


def test_post_only_and_amend_are_refused_clearly(world, tmp_path):
    with pytest.raises(InvalidOrder, match="post-only is not possible"):
        run(session(world, tmp_path), lambda s: s.place(node(kind="post_only"), SOL_USDC))
    with pytest.raises(InvalidOrder, match="cannot be amended"):
        run(session(world, tmp_path), lambda s: s.amend(node(), SOL_USDC, Decimal("150"), None))


def test_a_swap_that_fails_on_chain_is_rejected_with_the_reason(world, tmp_path):
    chain, _ = world
    chain.revert_next = 1
    state = run(session(world, tmp_path), lambda s: s.place(node(), SOL_USDC))
    assert state.status == "REJECTED" and "6001" in state.reason and "SlippageToleranceExceeded" in state.reason
    assert chain.lamports[OWNER] == 10 * 10**9 - FEE            # a failed transaction still pays its fee


def test_a_swap_that_never_lands_stays_working_cannot_be_cancelled_then_expires(world, tmp_path):
    chain, _ = world
    chain.pending_next = 1

    async def work(s):
        placed = await s.place(node(), SOL_USDC)
        again = await s.order_state(node().client_order_id, SOL_USDC)       # re-broadcasts the same bytes
        with pytest.raises(InvalidOrder, match="cannot be recalled; it lands or expires by block height 1150"):
            await s.cancel(node(), SOL_USDC)
        working = await s.open_orders(SOL_USDC)
        chain.height = 1151
        return placed, again, working, await s.cancel(node(), SOL_USDC)
    placed, again, working, cancelled = run(session(world, tmp_path, confirm_wait_s=0), work)
    assert placed.status == again.status == "NEW" and [w.client_order_id for w in working] == [node().client_order_id]
    assert cancelled.status == "EXPIRED" and "can never land" in cancelled.reason
    assert len(chain.sends) >= 2 and len(set(chain.sends)) == 1 and chain.txs == {}


def test_a_swap_that_lands_as_its_blockhash_expires_is_read_as_landed_not_expired(world, tmp_path):
    """Unseen when its status was read, past its expiry height when the height was: it may have
    landed between the two reads, so the status is asked again before calling it EXPIRED."""
    chain, _ = world
    chain.pending_next = 1

    async def work(s):
        placed = await s.place(node(), SOL_USDC)
        statuses, answers = s.rpc.statuses, iter([[None], [{"err": {"InstructionError": [1, {"Custom": 6001}]},
                                                            "confirmationStatus": "confirmed"}]])

        async def landing(txids):
            return next(answers, None) or await statuses(txids)
        s.rpc.statuses = landing
        chain.height = 1151
        return placed, await s.order_state(node().client_order_id, SOL_USDC)
    placed, state = run(session(world, tmp_path, confirm_wait_s=0), work)
    assert placed.status == "NEW" and state.status == "REJECTED" and "6001" in state.reason


# -- journal before send --------------------------------------------------------------------------
def test_a_lost_answer_to_the_send_is_found_on_chain_not_sent_again(world, tmp_path):
    chain, jup = world
    chain.lose_next_send = 1

    async def work(s):
        with pytest.raises(NetworkError):
            await s.place(node(), SOL_USDC)
        return await s.order_state(node().client_order_id, SOL_USDC), await s.place(node(), SOL_USDC)
    found, retried = run(session(world, tmp_path), work)
    assert found.status == retried.status == "FILLED" and found.fills == retried.fills
    assert len(jup.swaps) == 1 and len(chain.sends) == 1 and len(chain.txs) == 1


def test_a_restart_re_sends_the_same_bytes_and_never_signs_a_second_swap(world, tmp_path):
    chain, jup = world
    chain.drop_next = 1                                         # the node said yes, the transaction got lost
    first = run(session(world, tmp_path, confirm_wait_s=0), lambda s: s.place(node(), SOL_USDC))
    assert first.status == "NEW"
    record = json.loads((tmp_path / "sent.jsonl").read_text().splitlines()[0])
    assert record["txid"] == first.venue_order_id and record["last_valid_height"] == 1150 and record["raw"] == chain.sends[0]
    again = run(session(world, tmp_path), lambda s: s.place(node(), SOL_USDC))       # a new process, same state file
    settled = run(session(world, tmp_path), lambda s: s.order_state(node().client_order_id, SOL_USDC))
    assert again.venue_order_id == first.venue_order_id and settled.status == "FILLED"
    assert len(jup.swaps) == 1 and chain.sends == [chain.sends[0]] * len(chain.sends) and len(chain.txs) == 1


def test_a_send_that_times_out_is_not_retried_and_is_found_once_it_lands(world, tmp_path):
    chain, jup = world
    chain.stall_next, chain.stall_s = 1, 0.8

    async def work(s):
        order = node()
        with pytest.raises(NetworkError, match="did not answer"):
            await s.place(order, SOL_USDC)
        await until(lambda: chain.txs, what="the stalled send to land")
        return await s.order_state(order.client_order_id, SOL_USDC)
    state = run(session(world, tmp_path, timeout_s=0.4), work)
    assert state.status == "FILLED" and len(chain.sends) == 1


def test_a_refused_first_send_is_rejected_with_the_nodes_reason(world, tmp_path):
    chain, _ = world
    chain.fund(OWNER, sol="1", USDC="10")

    async def work(s):
        with pytest.raises(InsufficientFunds, match="insufficient balance"):
            await s.place(node(), SOL_USDC)
        return await s.order_state(node().client_order_id, SOL_USDC), await s.place(node(), SOL_USDC)
    state, retried = run(session(world, tmp_path), work)
    assert state.status == retried.status == "REJECTED" and "custom program error 1" in state.reason
    assert len(chain.sends) == 1


# -- reads, market data, faults -------------------------------------------------------------------
def test_balances_read_sol_and_every_declared_token_by_canonical_name(world, tmp_path):
    chain, _ = world
    chain.fund(OWNER, sol="2.5", USDC="12.345678", JUP="7")
    assert run(session(world, tmp_path), lambda s: s.balances()) == {
        "SOL": Decimal("2.5"), "USDC": Decimal("12.345678"), "JUP": Decimal("7"), "BONK": Decimal(0)}


def test_quotes_for_the_configured_size_are_the_book(world):
    _, jup = world
    feed = SolanaFeed({"aggregator_url": jup.url, "quote_size": {"SOL-USDC": "6"}})

    async def go():
        try:
            return await feed.snapshot(SOL_USDC), await feed.snapshot(JUP_USDC)
        finally:
            await feed.close()
    sol, jupiter = asyncio.run(go())
    book = to_book("solana", SOL_USDC, sol)
    # 6 SOL walks two levels: (5 × 150.10 + 150.50) / 6 to buy, (5 × 149.90 + 149.50) / 6 to sell
    assert (book.best_ask.price, book.best_bid.price, book.best_ask.size) == (Decimal("150.1667"), Decimal("149.8333"), Decimal(6))
    assert (jupiter.asks[0], jupiter.bids[0]) == ((Decimal("0.521000"), Decimal(100)), (Decimal("0.519000"), Decimal(100)))
    assert feed.ws_url is None


def test_no_route_is_a_clear_invalid_order(world, tmp_path):
    with pytest.raises(InvalidOrder, match="Jupiter found no route: Could not find any route"):
        run(session(world, tmp_path), lambda s: s.place(node(qty="500", price="200"), SOL_USDC))


def test_a_bad_api_key_is_an_authentication_error_that_never_shows_a_secret(world, tmp_path):
    _, jup = world
    jup.api_key = "the-right-key"
    with pytest.raises(AuthenticationError, match="x-api-key") as refused:
        run(session(world, tmp_path, key="the-wrong-key-123"), lambda s: s.place(node(), SOL_USDC))
    text = str(refused.value) + repr(session(world, tmp_path, key="the-wrong-key-123").jupiter)
    assert "the-wrong-key-123" not in text and KEYPAIR.hex() not in text and base58.b58encode(KEYPAIR).decode() not in text
    assert "the-wrong-key" not in repr(session(world, tmp_path))


def test_a_bad_signature_is_refused_by_the_node_as_bad_credentials(world, tmp_path):
    chain, jup = world
    signed, _, _ = sign_transaction(base64.b64decode(_unsigned_swap(jup)), SEED)
    forged = signed[:1] + bytes([signed[1] ^ 1]) + signed[2:]
    with pytest.raises(AuthenticationError, match="signature verification failure"):
        send_raw(chain.url, forged)


def send_raw(url: str, raw: bytes) -> str:
    async def go():
        rpc = RpcClient(url)
        try:
            return await rpc.send(base64.b64encode(raw).decode())
        finally:
            await rpc.close()
    return asyncio.run(go())


def _unsigned_swap(jup) -> str:
    import urllib.request

    with urllib.request.urlopen(f"{jup.url}/swap/v1/quote?inputMint={USDC}&outputMint={SOL}&amount=1000&swapMode=ExactOut") as r:
        quote = json.loads(r.read())
    req = urllib.request.Request(f"{jup.url}/swap/v1/swap", json.dumps({"quoteResponse": quote, "userPublicKey": OWNER}).encode(),
                                 {"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read())["swapTransaction"]


def test_rate_limits_are_retried_for_reads_and_never_for_the_send(world, tmp_path):
    chain, jup = world
    jup.rate_limit_next = 1                                     # the quote: read again after Retry-After
    chain.rate_limit_next = 1                                   # getBalance: read again
    assert run(session(world, tmp_path), lambda s: s.balances())["SOL"] == Decimal(10)

    async def work(s):
        await s.jupiter.quote(USDC, SOL, 1000, "ExactOut", 0)
        chain.rate_limit_next = 1
        with pytest.raises(RateLimitExceeded):
            await s.place(node(), SOL_USDC)                     # quote + swap pass, the send meets the 429
        return await s.order_state(node().client_order_id, SOL_USDC)
    jup.rate_limit_next = 1
    state = run(session(world, tmp_path), work)
    assert state.status == "REJECTED" and "rate-limited" in state.reason and chain.sends == []


def test_timeouts_5xx_and_malformed_answers_on_reads_are_retried(world, tmp_path):
    chain, jup = world
    chain.stall_next, chain.stall_s = 1, 0.8
    chain.fail_next = 1                         # getBalance: 503, then no answer in time, then the answer
    assert run(session(world, tmp_path, timeout_s=0.4), lambda s: s.balances())["SOL"] == Decimal(10)
    assert chain.calls.count("getBalance") == 2 and chain.fail_next == chain.stall_next == 0
    jup.malformed_next = 1                      # the quote: an HTML page, then the quote
    state = run(session(world, tmp_path), lambda s: s.place(node(), SOL_USDC))
    assert state.status == "FILLED" and len(chain.sends) == 1 and jup.malformed_next == 0


def test_a_malformed_answer_to_the_send_is_resolved_by_asking_the_chain(world, tmp_path):
    chain, jup = world

    async def work(s):
        chain.malformed_next = 1        # the send is the first call to reach the node: its answer is not JSON
        with pytest.raises(NetworkError, match="malformed"):
            await s.place(node(), SOL_USDC)
        first = await s.order_state(node().client_order_id, SOL_USDC)       # unknown: the same bytes again
        return first, await s.order_state(node().client_order_id, SOL_USDC)
    first, second = run(session(world, tmp_path), work)
    assert first.status == "NEW" and second.status == "FILLED" and len(chain.sends) == 1 and len(jup.swaps) == 1


def test_transaction_errors_map_to_core_errors():
    assert isinstance(tx_error({"InstructionError": [3, {"Custom": 1}]}, "x"), InsufficientFunds)
    assert isinstance(tx_error("InsufficientFundsForFee", "x"), InsufficientFunds)
    assert isinstance(tx_error({"InstructionError": [1, {"Custom": 6001}]}, "x"), InvalidOrder)
    assert describe({"InstructionError": [1, {"Custom": 6017}]}) == \
        "instruction 1 failed: custom program error 6017 (0x1781, ExactOutAmountNotMatched)"
    assert "expired" in describe("BlockhashNotFound")


def test_an_expired_blockhash_is_refused_before_it_can_land(world, tmp_path):
    chain, _ = world
    signed, _, _ = sign_transaction(base64.b64decode(_unsigned_swap(world[1])), SEED)
    chain.height += 151
    with pytest.raises(VenueError, match="blockhash not found"):
        send_raw(chain.url, signed)
    assert ata(OWNER, USDC) and chain.txs == {}


def test_jup_usdc_fee_is_priced_through_a_sol_quote(world, tmp_path):
    chain, _ = world
    state = run(session(world, tmp_path), lambda s: s.place(node(qty="100", price="0.5210", inst=JUP_USDC), JUP_USDC))
    assert state.status == "FILLED" and state.fills[0].price == Decimal("0.521")
    assert state.fills[0].fee == (FEE_SOL * Decimal("149.9")).quantize(Decimal("0.000001"))
    assert chain.tokens[(OWNER, JUP)] == 100 * 10**6
