"""The Coinbase adapter against the fake server: JWT signing as Coinbase verifies it, orders,
native edit, a lost create answer found again, the websocket book (a sequence gap -> fresh
snapshot, dropped socket -> no stale book), the shared real payloads, and faults (429,
timeouts, 5xx, malformed answers, clock skew, bad credentials)."""

import asyncio
import base64
import json
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import load_pem_private_key

sys.path.insert(0, str(Path(__file__).parent))
from fake_coinbase import FakeCoinbase  # noqa: E402
from sequence_core.errors import (AuthenticationError, InsufficientFunds, InvalidOrder, NetworkError,  # noqa: E402
                                  OrderNotFound, RateLimitExceeded)
from sequence_core.feeds import FeedRunner  # noqa: E402
from sequence_core.orders import NodeOrder  # noqa: E402
from sequence_core.testing import drop_and_recover, make_pem, running, shared_responses, until  # noqa: E402
from sequence_venue_coinbase.execution import CoinbaseSession, _fill, _state  # noqa: E402
from sequence_venue_coinbase.feed import CoinbaseFeed  # noqa: E402
from sequence_venue_coinbase.http import CoinbaseClient  # noqa: E402
from sequence_venue_coinbase.signing import build_jwt, load_key, rest_uri  # noqa: E402
from sequence_venue_coinbase.symbols import INSTRUMENTS, from_products  # noqa: E402

NAME = "organizations/org-test/apiKeys/key-test"
PEM = make_pem("ec")
BTC = next(i for i in INSTRUMENTS if i.symbol == "BTC-USD")
SAMPLES = shared_responses("coinbase")

# coinbase-advanced-py tests/constants.py: the SDK's own test keys
SDK_NAME = "organizations/test-organization/apiKeys/test-api-key"
SDK_EC = ("-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIKwf3Uox30cRWzRBOPoPOH5p0Gpb0Dt8zUKXUEM5fMkGoAoGCCqGSM49\n"
          "AwEHoUQDQgAEbAtpLlSZYVOwYICz+uEyxcS29vRIujiES/gQ1DC7FV4zK4JuYE9v\nqDyGZQYjdXHLM7I6f/QnnOITL+dXYWBHRA==\n"
          "-----END EC PRIVATE KEY-----\n")
SDK_ED25519 = "k0BUni0p0vZG1BdpVjS6ogBJ7kxm630AJ2dN+tuputDOKsRAwgyrpEQLeBtS1znTmzPX6Xr2eOWpzx6nW8knkA=="


def public(pem: str):
    return load_pem_private_key(pem.encode(), None).public_key()


@pytest.fixture
def fake():
    yield from running(FakeCoinbase(NAME, public(PEM)))


def session(fake, pem=PEM, name=NAME, timeout_s=10.0) -> CoinbaseSession:
    return CoinbaseSession(CoinbaseClient(name, pem, fake.url, timeout_s=timeout_s))


def node(n=0, side="buy", qty="0.5", price="91000.00", kind="ioc", seq=0):
    gid = "graph_00000000c0de"
    return NodeOrder(f"{gid}:node_{n}:{seq}", gid, n, seq, "coinbase", "BTC-USD", side, Decimal(qty),
                     Decimal(price) if price else None, kind, "PENDING_NEW", 0, 0)


async def using(s: CoinbaseSession, work):
    try:
        return await work(s)
    finally:
        await s.close()


def parts(token: str):
    h, c, s = token.split(".")
    pad = lambda t: base64.urlsafe_b64decode(t + "=" * (-len(t) % 4))  # noqa: E731
    return json.loads(pad(h)), json.loads(pad(c)), pad(s), f"{h}.{c}".encode()


# -- signing ----------------------------------------------------------------------------------------
def test_ed25519_jwt_matches_openssl_over_the_same_signing_input():
    # Ed25519 is deterministic: the SDK's test key, a fixed time and nonce; the signature below is
    # `openssl pkeyutl -sign -rawin` (key: the SDK's TEST_ED25519_PKCS8_API_SECRET, the same key)
    # over "<header>.<claims>", base64url without padding.
    token = build_jwt(SDK_NAME, load_key(SDK_ED25519), rest_uri("GET", "api.coinbase.com", "/api/v3/brokerage/accounts"),
                      now=1700000000, nonce="00112233445566778899aabbccddeeff")
    header, claims, _, _ = parts(token)
    assert header == {"alg": "EdDSA", "kid": SDK_NAME, "nonce": "00112233445566778899aabbccddeeff", "typ": "JWT"}
    assert claims == {"sub": SDK_NAME, "iss": "cdp", "nbf": 1700000000, "exp": 1700000120,
                      "uri": "GET api.coinbase.com/api/v3/brokerage/accounts"}
    assert token.split(".")[2] == ("VKxvz0b5LzwhWX-Fz9sB1un4A3tuMxE5h_BbeY_tyyiZjwfoH7TDfKQYpucjbLrQcAjvRpEL1hXPGIS0SB3YAA")


def test_es256_jwt_is_raw_r_s_and_verifies_with_the_public_key():
    # the SDK's test_build_rest_jwt: its EC test key, claims sub/iss/uri, header kid/alg
    uri = "GET api.coinbase.com/api/v3/brokerage/accounts"
    header, claims, sig, signed_input = parts(build_jwt(SDK_NAME, load_key(SDK_EC), uri))
    assert (header["alg"], header["kid"], claims["sub"], claims["iss"], claims["uri"]) == ("ES256", SDK_NAME, SDK_NAME, "cdp", uri)
    assert claims["exp"] - claims["nbf"] == 120 and len(header["nonce"]) == 32
    assert len(sig) == 64                                     # JOSE r || s, not DER
    der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
    public(SDK_EC).verify(der, signed_input, ec.ECDSA(hashes.SHA256()))          # raises if wrong


def test_ed25519_keys_in_every_cdp_form_load_the_same_key():
    raw = base64.b64decode(SDK_ED25519)
    seed_only = base64.b64encode(raw[:32]).decode()
    pkcs8 = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJNAVJ4tKdL2RtQXaVY0uqIASe5MZut9ACdnTfrbqbrQ\n-----END PRIVATE KEY-----\n"
    sigs = {load_key(k).sign(b"x") for k in (SDK_ED25519, seed_only, pkcs8)}
    assert len(sigs) == 1


# -- orders ---------------------------------------------------------------------------------------------
def test_ioc_buy_fills_with_the_fee_in_quote(fake):
    state = asyncio.run(using(session(fake), lambda s: s.place(node(), BTC)))
    assert state.status == "FILLED" and state.filled_qty == Decimal("0.5")
    f = state.fills[0]
    assert (f.price, f.fee, f.fee_asset, f.liquidity) == (Decimal("91000.00"), Decimal("0.5") * Decimal("91000.00") * Decimal("0.012"),
                                                          "USD", "taker")
    (order,) = fake.orders.values()
    assert order["order_configuration"] == {"sor_limit_ioc": {"base_size": "0.5", "limit_price": "91000.00"}}
    assert order["client_order_id"] == node().client_order_id


def test_market_sell_sends_base_size(fake):
    state = asyncio.run(using(session(fake), lambda s: s.place(node(1, side="sell", qty="0.25", price=None, kind="market"), BTC)))
    assert state.filled_qty == Decimal("0.25") and state.fills[0].price == Decimal("90990.00")
    (order,) = fake.orders.values()
    assert order["side"] == "SELL" and order["order_configuration"] == {"market_market_ioc": {"base_size": "0.25"}}


def test_resting_limit_edit_in_place_then_cancel(fake):
    async def work(s):
        n = node(2, price="90000.00", kind="limit")
        placed = await s.place(n, BTC)
        amended = await s.amend(n, BTC, Decimal("89000.00"), None)           # price only: size sent as it is
        open_ = await s.open_orders(BTC)
        cancelled = await s.cancel(n, BTC)
        again = await s.cancel(n, BTC)                                         # already cancelled: its state, no error
        unknown = await s.order_state("sqnothing", BTC)
        return placed, amended, open_, cancelled, again, unknown
    placed, amended, open_, cancelled, again, unknown = asyncio.run(using(session(fake), work))
    assert placed.status == "NEW" and placed.price == Decimal("90000.00")
    assert amended.mode == "native_atomic" and (amended.state.price, amended.state.qty) == (Decimal("89000.00"), Decimal("0.5"))
    assert amended.state.venue_order_id == placed.venue_order_id and len(fake.orders) == 1     # the same order
    assert [o.client_order_id for o in open_] == [node(2).client_order_id]
    assert cancelled.status == again.status == "CANCELLED" and unknown is None


def test_edit_is_native_only_for_resting_limits_and_refusals_are_raised(fake):
    async def work(s):
        assert not s.native_amend(node(3, kind="ioc"), Decimal("1"), None)
        n = node(3, price="90000.00", kind="post_only")
        assert s.native_amend(n, Decimal("1"), None)
        await s.place(n, BTC)
        fake.fill_resting()
        await until(lambda: next(iter(fake.orders.values()))["status"] == "FILLED")
        with pytest.raises(InvalidOrder, match="ONLY_OPEN_ORDERS_CAN_BE_EDITED"):
            await s.amend(n, BTC, Decimal("89000.00"), None)
        return await s.order_state(n.client_order_id, BTC)
    state = asyncio.run(using(session(fake), work))
    assert state.status == "FILLED" and state.fills[0].liquidity == "maker"


def test_post_only_that_would_take_is_refused(fake):
    with pytest.raises(InvalidOrder, match="INVALID_LIMIT_PRICE_POST_ONLY"):
        asyncio.run(using(session(fake), lambda s: s.place(node(4, price="91500.00", kind="post_only"), BTC)))
    assert not fake.orders


@pytest.mark.parametrize("n,err,code", [(node(5, qty="5"), InsufficientFunds, "INSUFFICIENT_FUND"),
                                        (node(6, qty="0.000000001"), InvalidOrder, "INVALID_SIZE_PRECISION"),
                                        (node(7, price="91000.005"), InvalidOrder, "INVALID_PRICE_PRECISION")])
def test_order_refusals_map_to_core_errors(fake, n, err, code):
    with pytest.raises(err, match=code):
        asyncio.run(using(session(fake), lambda s: s.place(n, BTC)))


def test_lost_create_answer_is_found_by_client_order_id_and_a_second_place_is_the_same_order(fake):
    fake.lose_next_place = True
    n = node(8, qty="0.1")

    async def work(s):
        with pytest.raises(NetworkError):
            await s.place(n, BTC)                           # created at the venue, answer lost
        found = await s.order_state(n.client_order_id, BTC)
        replay = await s.place(n, BTC)                      # Coinbase returns the order, makes none
        return found, replay
    found, replay = asyncio.run(using(session(fake), work))          # a new session: no id kept
    assert found.status == "FILLED" and found.filled_qty == Decimal("0.1")
    assert replay.venue_order_id == found.venue_order_id and len(fake.orders) == 1
    assert [r for r in fake.requests if r == ("POST", "/api/v3/brokerage/orders")] == [("POST", "/api/v3/brokerage/orders")] * 2


def test_balances_and_fee_tier(fake):
    async def work(s):
        return await s.balances(), await s.fee_tier()
    balances, tier = asyncio.run(using(session(fake), work))
    assert balances == {"BTC": Decimal("1.00000000"), "USD": Decimal("100000.00")}
    assert tier == ("Intro 1", Decimal("0.006"), Decimal("0.012"))


# -- faults -----------------------------------------------------------------------------------------
def test_bad_credentials_are_authentication_errors_that_hide_the_key(fake):
    other = make_pem("ec")
    for pem, name in ((other, NAME), (PEM, "organizations/org-test/apiKeys/someone-else")):
        with pytest.raises(AuthenticationError) as err:
            asyncio.run(using(session(fake, pem, name), lambda s: s.balances()))
        text = str(err.value)
        assert "Unauthorized" in text and "PRIVATE KEY" not in text and other.split("\n")[1] not in text


def test_ed25519_key_signs_requests_the_venue_accepts(fake):
    from cryptography.hazmat.primitives.asymmetric import ed25519
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    key = ed25519.Ed25519PrivateKey.generate()
    secret = base64.b64encode(key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())).decode()
    fake.public_key = key.public_key()
    assert asyncio.run(using(session(fake, secret), lambda s: s.balances()))["BTC"] == Decimal("1")


def test_rate_limit_is_retried_for_reads_not_for_a_place(fake):
    fake.rate_limit_next = 2
    assert asyncio.run(using(session(fake), lambda s: s.balances()))["USD"] == Decimal("100000.00")
    fake.rate_limit_next = 1
    with pytest.raises(RateLimitExceeded):
        asyncio.run(using(session(fake), lambda s: s.place(node(9), BTC)))
    assert [r for r in fake.requests if r == ("POST", "/api/v3/brokerage/orders")] == [("POST", "/api/v3/brokerage/orders")]
    assert not fake.orders                                  # never placed, safe to route again


def test_malformed_read_is_retried_and_clock_skew_resyncs(fake):
    fake.malformed_next = 1
    fake.clock_offset_ms = 300_000                          # our JWTs look expired to the venue

    async def work(s):
        balances = await s.balances()
        return balances, s.client.clock.offset_ms
    balances, offset = asyncio.run(using(session(fake), work))
    assert balances["BTC"] == Decimal("1") and 299_000 < offset < 301_000


def test_5xx_is_retried_for_reads_and_a_place_that_times_out_is_found_afterwards(fake):
    fake.server_error_next = 2
    assert asyncio.run(using(session(fake), lambda s: s.balances()))["BTC"] == Decimal("1")
    fake.lose_next_place = True
    with pytest.raises(NetworkError, match="HTTP 502"):
        asyncio.run(using(session(fake), lambda s: s.place(node(10), BTC)))

    n = node(11, qty="0.2")

    async def work(s):
        fake.stall = (1, 0.8)                               # the order is made, its answer comes too late
        with pytest.raises(NetworkError, match="did not answer"):
            await s.place(n, BTC)
        await until(lambda: any(o["client_order_id"] == n.client_order_id for o in list(fake.orders.values())))
        return await s.order_state(n.client_order_id, BTC)
    state = asyncio.run(using(session(fake, timeout_s=0.3), work))
    assert state.status == "FILLED" and state.filled_qty == Decimal("0.2")
    assert len([r for r in fake.requests if r == ("POST", "/api/v3/brokerage/orders")]) == 2     # each sent once


def test_create_refusal_takes_the_specific_reason_and_rate_headers_are_followed():
    from sequence_core.rest import RateLimiter
    from sequence_venue_coinbase.http import refused_create, usage

    # the shape Coinbase answers a buy it cannot fund with (HTTP 200)
    err = refused_create({"success": False, "failure_reason": "UNKNOWN_FAILURE_REASON", "order_id": "",
                          "error_response": {"error": "UNKNOWN_FAILURE_REASON", "message": "Insufficient balance in source account",
                                             "error_details": "", "preview_failure_reason": "PREVIEW_INSUFFICIENT_FUND"}})
    assert isinstance(err, InsufficientFunds) and str(err) == "coinbase: Insufficient balance in source account (PREVIEW_INSUFFICIENT_FUND)"
    limiter = RateLimiter(30)
    usage({"x-ratelimit-limit": "30", "x-ratelimit-remaining": "0"}, limiter)
    assert limiter.tokens < 1                                # the next call waits for the venue's budget


def test_unknown_order_is_not_found(fake):
    async def work(s):
        return await s.client.order("0000-nope")
    with pytest.raises(OrderNotFound, match="NOT_FOUND"):
        asyncio.run(using(session(fake), work))


def test_client_order_ids_fit_the_128_character_limit_and_a_longer_one_is_refused(fake):
    # Coinbase changelog 2025-Aug-14: client_order_id over 128 characters is an invalid argument
    from sequence_core.orders import client_order_id

    assert len(client_order_id(f"graph_{16**13 - 1:013x}:node_9999:9999")) <= 128   # the engine's longest
    gid = "graph_" + "f" * 130
    long_node = NodeOrder(f"{gid}:node_0:0", gid, 0, 0, "coinbase", "BTC-USD", "buy", Decimal("0.1"),
                          Decimal("91000.00"), "ioc", "PENDING_NEW", 0, 0)
    assert len(long_node.client_order_id) > 128
    with pytest.raises(InvalidOrder, match="INVALID_ARGUMENT"):
        asyncio.run(using(session(fake), lambda s: s.place(long_node, BTC)))
    assert not fake.orders


# -- market data --------------------------------------------------------------------------------------
def feed_for(fake) -> CoinbaseFeed:
    return CoinbaseFeed({"base_url": fake.url, "ws_url": fake.url.replace("http", "ws") + "/"})


def test_websocket_book_follows_sequence_and_resyncs_on_a_gap(fake):
    async def go():
        runner = FeedRunner(feed_for(fake), [BTC]).start()
        try:
            await until(lambda: runner.book(BTC) is not None, what="first snapshot")
            fake.push_book(bids={"90995.00": "1.5"})
            await until(lambda: runner.book(BTC).best_bid.price == Decimal("90995.00"))
            await asyncio.sleep(0.5)                        # heartbeats interleave: no false gap
            assert runner.stats.gaps == 0
            fake.skip_next_seq = 1
            fake.push_book(asks={"91000.00": "0"})
            await until(lambda: runner.stats.gaps == 1 and runner.book(BTC) is not None, what="resync after gap")
            fake.push_trade("91010.00", "0.3", "SELL")
            await until(lambda: runner.trades["BTC-USD"])
            return runner.book(BTC), runner.stats, runner.trades["BTC-USD"][0]
        finally:
            await runner.stop()
    book, stats, trade = asyncio.run(go())
    assert book.best_ask.price == Decimal("91010.00")         # the removed level stays removed after the resync
    assert book.best_bid.price == Decimal("90995.00")
    level2 = [s for s in fake.subscriptions if s[1] == "level2"]
    assert [s[0] for s in level2] == ["subscribe", "unsubscribe", "subscribe"] and stats.resyncs == 1
    assert trade.side == 1 and trade.size == Decimal("0.3")   # a resting SELL was taken by a buyer


def test_dropped_socket_serves_no_stale_book(fake):
    stale, book = asyncio.run(drop_and_recover(feed_for(fake), BTC, fake, lambda: fake.bids.__setitem__("90993.00", "4")))
    assert stale is None and book.best_bid.price == Decimal("90993.00")


def test_rest_snapshot_for_quotes(fake):
    async def go():
        feed = feed_for(fake)
        try:
            return await feed.snapshot(BTC, 10)
        finally:
            await feed.close()
    snap = asyncio.run(go())
    assert snap.bids[0] == (Decimal("90990.00"), Decimal("2")) and snap.asks[0] == (Decimal("91000.00"), Decimal("2"))


def test_published_payloads_parse():
    feed = CoinbaseFeed({})
    feed.subscribe([BTC])
    snap = feed.parse(json.loads((SAMPLES / "ws_l2_data_snapshot.json").read_text()))[0]
    upd = feed.parse(json.loads((SAMPLES / "ws_l2_data_update.json").read_text()))[0]
    assert snap.kind == "snapshot" and snap.bids[0] == (Decimal("68900.00"), Decimal("1.50000000"))
    assert snap.asks[-1] == (Decimal("68902.00"), Decimal("0.80000000"))
    assert upd.kind == "delta" and upd.asks == ((Decimal("68901.00"), Decimal("0")),)
    trades = CoinbaseFeed({}).parse(json.loads((SAMPLES / "ws_market_trades.json").read_text()))
    assert [(t.price, t.side) for t in trades] == [(Decimal("68900.50"), -1), (Decimal("68900.00"), 1)]
    assert CoinbaseFeed({}).parse(json.loads((SAMPLES / "ws_heartbeats.json").read_text())) == []
    insts = from_products(json.loads((SAMPLES / "http_products.json").read_text())["products"])
    btc = next(i for i in insts if i.venue_symbol == "BTC-USD")
    assert (btc.symbol, btc.tick_size, btc.lot_size, btc.min_notional, btc.status) == \
        ("BTC-USD", Decimal("0.01"), Decimal("0.00000001"), Decimal("1"), "trading")
    assert not from_products(json.loads((SAMPLES / "http_products_future.json").read_text())["products"])
    order = _state(json.loads((SAMPLES / "http_order.json").read_text())["order"])
    assert (order.status, order.filled_qty, order.price, order.qty) == ("PARTIALLY_FILLED", Decimal("0.001"),
                                                                        Decimal("10000.00"), Decimal("0.001"))
    fill = _fill(json.loads((SAMPLES / "http_fills.json").read_text())["fills"][0])
    assert (fill.fill_id, fill.fee, fill.fee_asset, fill.liquidity) == ("1111-11111-111111", Decimal("1.14"), "USD", "maker")
    listed = [_state(o) for o in json.loads((SAMPLES / "http_orders_list.json").read_text())["orders"]]
    assert listed[0].status == "NEW" and listed[1].status == "FILLED"
    book = json.loads((SAMPLES / "http_product_book.json").read_text())["pricebook"]
    assert book["bids"][0] == {"price": "68923.66", "size": "0.17189468"}


def test_a_skipped_sequence_number_in_published_shape_is_a_gap():
    from sequence_core.feeds import BookGap

    feed = CoinbaseFeed({})
    feed.subscribe([BTC])
    feed.parse(json.loads((SAMPLES / "ws_l2_data_snapshot.json").read_text()))           # sequence_num 0
    with pytest.raises(BookGap):
        feed.parse(json.loads((SAMPLES / "ws_market_trades.json").read_text()))           # 5: 1..4 missing
