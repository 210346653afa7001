"""The Kalshi adapter against the fake server: signing as Kalshi verifies it (RSA-PSS and
Ed25519), V2 YES-book orders for both legs, native amend and decrease, positions, balances,
automatic settlement, the websocket book (both legs from one market, gap -> fresh snapshot,
dropped socket -> no stale book), real published payloads, and faults (429, timeouts, 5xx,
malformed answers, clock skew, bad credentials)."""

import asyncio
import base64
import json
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fake_kalshi import TICKER, FakeKalshi  # noqa: E402
from sequence_core.errors import AuthenticationError, InsufficientFunds, InvalidOrder, NetworkError, RateLimitExceeded  # noqa: E402
from sequence_core.feeds import FeedRunner  # noqa: E402
from sequence_core.orders import NodeOrder  # noqa: E402
from sequence_core.testing import drop_and_recover, make_pem, until  # noqa: E402
from sequence_venue_kalshi import fees  # noqa: E402
from sequence_venue_kalshi.execution import KalshiSession, wire  # noqa: E402
from sequence_venue_kalshi.feed import KalshiFeed  # noqa: E402
from sequence_venue_kalshi.http import KalshiClient, error_from  # noqa: E402
from sequence_venue_kalshi.signing import load_key, message, sign, verify  # noqa: E402
from sequence_venue_kalshi.symbols import INSTRUMENTS, from_markets  # noqa: E402

KEY_ID = "a952bcbe-ec3b-4b5b-b8f9-11dae589608c"      # the docs' example key id
PEM = make_pem("rsa")
YES = next(i for i in INSTRUMENTS if i.symbol == TICKER and i.outcome == "YES")
NO = next(i for i in INSTRUMENTS if i.symbol == TICKER and i.outcome == "NO")
SAMPLES = Path("/work/shared/data/responses/kalshi/ccxt_kalshi_http_responses.json")
for parent in Path(__file__).resolve().parents:
    if (parent / "shared" / "data" / "responses" / "kalshi").exists():
        SAMPLES = parent / "shared" / "data" / "responses" / "kalshi" / "ccxt_kalshi_http_responses.json"
        break
# RFC 8032 test 1 secret key as PKCS#8 PEM (a public test vector, not a Kalshi key)
ED25519_PEM = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n-----END PRIVATE KEY-----\n"


@pytest.fixture
def fake():
    server = FakeKalshi(KEY_ID, load_key(PEM).public_key())
    server.url = server.start()
    yield server
    server.stop()


def session(fake, pem=PEM, key_id=KEY_ID, timeout_s=10.0) -> KalshiSession:
    return KalshiSession(KalshiClient(key_id, pem, fake.url + "/trade-api/v2", timeout_s=timeout_s))


def node(n=0, side="buy", qty="5", price="0.42", kind="ioc"):
    gid = "graph_00000000feed"
    return NodeOrder(f"{gid}:node_{n}:0", gid, n, 0, "kalshi", TICKER, side, Decimal(qty),
                     Decimal(price) if price else None, kind, "PENDING_NEW", 0, 0)


async def using(s: KalshiSession, work):
    try:
        return await work(s)
    finally:
        await s.close()


def creates(fake) -> list[dict]:
    return [b for m, p, b in fake.bodies if (m, p) == ("POST", "/trade-api/v2/portfolio/events/orders")]


# -- signing --------------------------------------------------------------------------------------
def test_signed_string_is_timestamp_method_and_path_without_query():
    # https://docs.kalshi.com/getting_started/quick_start_authenticated_requests: sign
    # "1703123456789GET/trade-api/v2/portfolio/balance"; for ...orders?limit=5 sign only the path
    assert message(1703123456789, "get", "/trade-api/v2/portfolio/balance") == b"1703123456789GET/trade-api/v2/portfolio/balance"
    assert message("1", "GET", "/trade-api/v2/portfolio/orders?limit=5") == b"1GET/trade-api/v2/portfolio/orders"


def test_ed25519_signature_matches_an_independent_openssl_computation():
    # Kalshi publishes no worked example; this value is from
    # `openssl pkeyutl -sign -inkey ed.pem -rawin -in msg.txt | base64` over the docs' string
    # "1703123456789GET/trade-api/v2/portfolio/balance" with the RFC 8032 test-1 key
    assert sign(load_key(ED25519_PEM), 1703123456789, "GET", "/trade-api/v2/portfolio/balance") == (
        "caolQIFa1fF7caKRpD82JbF1w9tsbGMzaRudHdnCIwVEkhfFIlzIy4HeCQTeFteU9o8UTOmEvwbutRb9MEJbAA==")


def test_rsa_pss_is_randomised_and_verifies_with_digest_length_salt(tmp_path):
    key = load_key(PEM)
    a, b = (sign(key, 1703123456789, "POST", "/trade-api/v2/portfolio/events/orders") for _ in range(2))
    assert a != b                                                    # PSS salts each signature
    assert verify(key.public_key(), a, 1703123456789, "POST", "/trade-api/v2/portfolio/events/orders")
    assert not verify(key.public_key(), a, 1703123456790, "POST", "/trade-api/v2/portfolio/events/orders")
    if shutil.which("openssl"):                                      # and an independent verifier agrees
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        (tmp_path / "pub.pem").write_bytes(key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
        (tmp_path / "msg").write_bytes(b"1703123456789POST/trade-api/v2/portfolio/events/orders")
        (tmp_path / "sig").write_bytes(base64.b64decode(a))
        r = subprocess.run(["openssl", "dgst", "-sha256", "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:32",
                            "-sigopt", "rsa_mgf1_md:sha256", "-verify", str(tmp_path / "pub.pem"), "-signature",
                            str(tmp_path / "sig"), str(tmp_path / "msg")], capture_output=True, text=True)
        assert "Verified OK" in r.stdout, r.stdout + r.stderr


def test_an_ed25519_key_trades_too(fake):
    fake.public_key = load_key(ED25519_PEM).public_key()
    state = asyncio.run(using(session(fake, pem=ED25519_PEM), lambda s: s.place(node(), YES)))
    assert state.status == "FILLED"


# -- orders ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("side,outcome,price,expected", [
    ("buy", "YES", "0.42", ("bid", "0.42")), ("sell", "YES", "0.40", ("ask", "0.40")),
    ("buy", "NO", "0.60", ("ask", "0.40")), ("sell", "NO", "0.58", ("bid", "0.42"))])
def test_both_legs_map_onto_the_yes_book(side, outcome, price, expected):
    # create-order-v2: "bid means buy YES, ask means sell YES"; selling YES is buying NO at 1 - price
    assert wire(side, outcome, Decimal(price)) == (expected[0], Decimal(expected[1]))


def test_ioc_buy_yes_fills_with_the_fee_kalshi_reports(fake):
    state = asyncio.run(using(session(fake), lambda s: s.place(node(), YES)))
    assert state.status == "FILLED" and state.filled_qty == Decimal("5")
    (f,) = state.fills
    assert (f.price, f.qty, f.liquidity, f.fee_asset) == (Decimal("0.42"), Decimal("5"), "taker", "USD")
    assert f.fee == Decimal("0.09") == fees.fee(Decimal("0.42"), Decimal("5"), "taker")     # ceil(0.08526)
    body = creates(fake)[0]
    assert body == {"ticker": TICKER, "client_order_id": node().client_order_id, "side": "bid", "count": "5.00",
                    "price": "0.4200", "time_in_force": "immediate_or_cancel", "self_trade_prevention_type": "taker_at_cross"}


def test_buy_no_is_an_ask_on_yes_and_fills_at_the_no_price(fake):
    state = asyncio.run(using(session(fake), lambda s: s.place(node(1, price="0.60"), NO)))
    assert (creates(fake)[0]["side"], creates(fake)[0]["price"]) == ("ask", "0.4000")
    assert state.status == "FILLED" and state.fills[0].price == Decimal("0.60") and state.price == Decimal("0.60")
    assert fake.position == Decimal("-5")                               # Kalshi's sign: NO is negative


def test_market_order_is_ioc_across_the_book(fake):
    state = asyncio.run(using(session(fake), lambda s: s.place(node(2, qty="3", price=None, kind="market"), YES)))
    assert (creates(fake)[0]["price"], creates(fake)[0]["time_in_force"]) == ("0.9900", "immediate_or_cancel")
    assert state.status == "FILLED" and state.fills[0].price == Decimal("0.42")          # filled at the book, not the cap


def test_post_only_that_would_cross_is_refused(fake):
    with pytest.raises(InvalidOrder, match="post only"):
        asyncio.run(using(session(fake), lambda s: s.place(node(3, price="0.45", kind="post_only"), YES)))
    assert creates(fake)[0]["post_only"] is True


def test_resting_amend_decrease_open_orders_cancel(fake):
    async def work(s):
        n = node(4, qty="10", price="0.30", kind="limit")
        placed = await s.place(n, YES)
        amended = await s.amend(n, YES, Decimal("0.31"), Decimal("12"))
        decreased = await s.amend(n, YES, None, Decimal("7"))
        open_yes, open_no = await s.open_orders(YES), await s.open_orders(NO)
        cancelled = await s.cancel(n, YES)
        again = await s.cancel(n, YES)                       # already cancelled: its state, no error
        unknown = await s.order_state("sqnothing", YES)
        return placed, amended, decreased, open_yes, open_no, cancelled, again, unknown
    placed, amended, decreased, open_yes, open_no, cancelled, again, unknown = asyncio.run(using(session(fake), work))
    assert placed.status == "NEW" and placed.qty == Decimal("10")
    assert amended.mode == "native_atomic" and (amended.state.price, amended.state.qty) == (Decimal("0.31"), Decimal("12"))
    assert amended.state.venue_order_id == placed.venue_order_id
    amend_body = next(b for m, p, b in fake.bodies if p.endswith("/amend"))
    assert amend_body == {"ticker": TICKER, "side": "bid", "price": "0.3100", "count": "12.00",
                          "client_order_id": node(4).client_order_id}
    assert decreased.state.qty == Decimal("7")
    assert next(b for m, p, b in fake.bodies if p.endswith("/decrease")) == {"reduce_by": "5.00"}
    assert [o.client_order_id for o in open_yes] == [node(4).client_order_id] and open_no == []
    assert cancelled.status == again.status == "CANCELLED" and unknown is None


def test_a_lost_answer_is_found_by_client_order_id(fake):
    asyncio.run(using(session(fake), lambda s: s.place(node(5, qty="2"), YES)))
    found = asyncio.run(using(session(fake), lambda s: s.order_state(node(5).client_order_id, YES)))   # a fresh session
    assert found.status == "FILLED" and found.filled_qty == Decimal("2")
    with pytest.raises(InvalidOrder, match="order_already_exists"):                  # and it is never placed twice
        asyncio.run(using(session(fake), lambda s: s.place(node(5, qty="2"), YES)))


def test_refusals_name_the_problem(fake):
    with pytest.raises(InsufficientFunds, match="insufficient_balance"):
        asyncio.run(using(session(fake), lambda s: s.place(node(6, qty="5000", price="0.30", kind="limit"), YES)))
    with pytest.raises(InvalidOrder, match="invalid count 1.50"):
        asyncio.run(using(session(fake), lambda s: s.place(node(7, qty="1.5", price="0.30", kind="limit"), YES)))
    with pytest.raises(InvalidOrder, match="invalid price 0.3050"):
        asyncio.run(using(session(fake), lambda s: s.place(node(8, price="0.305", kind="limit"), YES)))


def test_positions_balances_and_automatic_settlement(fake):
    async def work(s):
        await s.place(node(9, qty="10"), YES)
        before = await s.settle([YES, NO])
        fake.settle_market(TICKER, "yes")
        return await s.positions(), await s.balances(), before, await s.settle([YES, NO])
    positions, balances, before, settled = asyncio.run(using(session(fake), work))
    (p,) = positions
    assert (p.venue_symbol, p.qty, p.entry_price) == (TICKER, Decimal("10"), Decimal("0.42"))
    assert balances["USD"] == Decimal("1000") - Decimal("4.20") - Decimal("0.18") and balances[f"{TICKER}:YES"] == 10
    assert before is None                                                # still trading: nothing to redeem
    assert (settled.winning_outcome, settled.method, settled.payout_per_contract) == ("YES", "auto_settlement", Decimal("1"))


# -- faults ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["other_key", "unknown_id"])
def test_bad_credentials_are_authentication_errors_that_hide_the_key(fake, kind):
    pem, key_id = (make_pem("rsa"), KEY_ID) if kind == "other_key" else (PEM, "not-a-key")
    with pytest.raises(AuthenticationError) as err:
        asyncio.run(using(session(fake, pem=pem, key_id=key_id), lambda s: s.balances()))
    text = str(err.value)
    assert "authentication_error" in text and "PRIVATE KEY" not in text and pem.splitlines()[1] not in text


def test_rate_limit_is_retried_for_reads_never_for_a_place(fake):
    fake.rate_limit_next = 2
    assert asyncio.run(using(session(fake), lambda s: s.balances()))["USD"] == Decimal("1000")
    fake.rate_limit_next = 1
    with pytest.raises(RateLimitExceeded):
        asyncio.run(using(session(fake), lambda s: s.place(node(10), YES)))
    assert len([r for r in fake.requests if r == ("POST", "/trade-api/v2/portfolio/events/orders")]) == 1
    assert not fake.orders                                               # never placed: safe to route again


def test_timeouts_5xx_and_malformed_reads_are_retried(fake):
    fake.slow_next_s, fake.server_error_next, fake.malformed_next = 1.5, 1, 1
    balances = asyncio.run(using(session(fake, timeout_s=0.5), lambda s: s.balances()))
    assert balances["USD"] == Decimal("1000")
    fake.slow_next_s = 1.5
    with pytest.raises(NetworkError, match="did not answer"):           # a place is not resent
        asyncio.run(using(session(fake, timeout_s=0.5), lambda s: s.place(node(11), YES)))


def test_clock_skew_is_learnt_from_the_date_header(fake):
    fake.clock_offset_ms = 90_000

    async def work(s):
        return await s.balances(), s.client.clock.offset_ms
    balances, offset = asyncio.run(using(session(fake), work))
    assert balances["USD"] == Decimal("1000") and 88_000 < offset < 92_000


def test_error_bodies_old_and_new_shapes():
    assert "market_closed" in str(error_from(400, {"code": "market_closed", "message": "closed", "service": "x"}))
    assert isinstance(error_from(400, {"error": {"code": "insufficient_balance", "message": "no"}}), InsufficientFunds)
    assert isinstance(error_from(410, {"code": "deprecated_v1_order_endpoint", "message": "Please switch to the V2 endpoints"}),
                      InvalidOrder)


# -- market data ----------------------------------------------------------------------------------
def feed_for(fake, creds=True) -> KalshiFeed:
    return KalshiFeed({"base_url": fake.url, "ws_url": fake.url.replace("http", "ws") + "/trade-api/ws/v2"},
                      {"key_id": KEY_ID, "private_key": PEM} if creds else {})


def test_rest_book_serves_both_legs(fake):
    async def go():
        feed = feed_for(fake)
        try:
            return await feed.snapshot(YES), await feed.snapshot(NO)
        finally:
            await feed.close()
    yes, no = asyncio.run(go())
    assert max(yes.bids)[0] == Decimal("0.40") and min(yes.asks)[0] == Decimal("0.42")     # 1 - best NO bid 0.58
    assert max(no.bids)[0] == Decimal("0.58") and min(no.asks)[0] == Decimal("0.60")


def test_websocket_book_both_legs_gap_resync_and_trades(fake):
    async def go():
        runner = FeedRunner(feed_for(fake), [YES, NO]).start()
        try:
            await until(lambda: runner.book(YES) is not None and runner.book(NO) is not None, what="first snapshot")
            fake.push_delta("no", "0.59", "40")                    # a better NO bid: YES ask 0.41
            await until(lambda: runner.book(YES).best_ask.price == Decimal("0.41"))
            best = runner.book(NO).best_bid
            assert (best.price, best.size) == (Decimal("0.59"), Decimal("40"))
            fake.push_delta("yes", "0.40", "-100")                 # YES bid 0.40 gone: NO ask now 0.61
            await until(lambda: runner.book(NO).best_ask.price == Decimal("0.61"))
            fake.skip_next_seq = 1
            fake.push_delta("yes", "0.39", "-200")                 # lost in the gap, must still vanish
            await until(lambda: runner.stats.resyncs >= 1 and runner.book(YES) is not None
                        and runner.book(YES).best_bid is None, what="resync after gap")
            fake.push_trade("0.41", "3.00", "yes")
            await until(lambda: runner.trades[NO.venue_symbol])
            return runner.book(YES), runner.book(NO), runner.stats, runner.trades[YES.venue_symbol][0], runner.trades[NO.venue_symbol][0]
        finally:
            await runner.stop()
    yes, no, stats, yes_trade, no_trade = asyncio.run(go())
    assert yes.best_ask.price == Decimal("0.41") and no.best_ask is None
    books = [c for c in fake.commands if c["cmd"] == "subscribe" and c["params"]["channels"] == ["orderbook_delta"]]
    assert len(books) == 2 and stats.gaps >= 1                   # first, then once after the gap for both legs
    assert any(c["cmd"] == "unsubscribe" for c in fake.commands)
    assert (yes_trade.side, yes_trade.price, no_trade.side, no_trade.price) == (1, Decimal("0.41"), -1, Decimal("0.59"))


def test_dropped_socket_serves_no_stale_book(fake):
    stale, book = asyncio.run(drop_and_recover(feed_for(fake), YES, fake, lambda: fake.yes.__setitem__(Decimal("0.41"), Decimal("7"))))
    assert stale is None and book.best_bid.price == Decimal("0.41")


def test_an_unsigned_handshake_is_refused(fake):
    async def go():
        runner = FeedRunner(feed_for(fake, creds=False), [YES], max_backoff_s=0.2).start()
        try:
            await until(lambda: runner.stats.reconnects >= 1, what="a refused handshake")
            return runner.book(YES), runner.stats.error
        finally:
            await runner.stop()
    book, error = asyncio.run(go())
    assert book is None and "401" in error


def test_published_payloads_parse():
    samples = json.loads(SAMPLES.read_text())
    book = samples["GET /markets/KXELONMARS-99/orderbook"]["orderbook_fp"]
    feed = KalshiFeed({})
    feed.parse({"type": "subscribed", "id": 1, "msg": {"channel": "orderbook_delta", "sid": 4}})
    yes, no = feed.parse({"type": "orderbook_snapshot", "sid": 4, "seq": 1, "msg": {
        "market_ticker": "KXELONMARS-99", "yes_dollars_fp": book["yes_dollars"], "no_dollars_fp": book["no_dollars"]}})
    assert max(yes.bids)[0] == Decimal("0.08") and min(yes.asks) == (Decimal("0.12"), Decimal("1967.33"))
    market = samples["GET /markets/KXELONMARS-99"]["market"]
    assert (market["yes_bid_dollars"], market["yes_ask_dollars"]) == ("0.0800", "0.1200")     # Kalshi's own top of book agrees
    (delta_yes, delta_no) = feed.parse({"type": "orderbook_delta", "sid": 4, "seq": 2, "msg": {
        "market_ticker": "KXELONMARS-99", "price_dollars": "0.0800", "delta_fp": "-444.32", "side": "yes", "ts_ms": 1}})
    assert delta_yes.bids == ((Decimal("0.0800"), Decimal(0)),) and delta_no.asks == ((Decimal("0.9200"), Decimal(0)),)
    insts = from_markets(samples["GET /markets?tickers=KXELONMARS-99,KXCOLONIZEMARS-50"]["markets"])
    assert [(i.venue_symbol, i.tick_size, i.lot_size, i.status) for i in insts] == [
        ("KXELONMARS-99", Decimal("0.01"), Decimal("0.01"), "trading"), ("KXELONMARS-99:NO", Decimal("0.01"), Decimal("0.01"), "trading"),
        ("KXCOLONIZEMARS-50", Decimal("0.001"), Decimal("0.01"), "trading"),
        ("KXCOLONIZEMARS-50:NO", Decimal("0.001"), Decimal("0.01"), "trading")]


# -- fees -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("revenue,trade_fee,rounding,change", [
    # https://docs.kalshi.com/getting_started/fee_rounding worked examples, fill 1 of each (precision $0.01)
    ("-0.0550", "0.0085", "0.0065", "-0.07"),       # 1 contract at $0.055
    ("-0.1500", "0.0041", "0.0059", "-0.16"),       # 0.30 contracts at $0.50
    ("-0.009903", "0.0005", "0.009597", "-0.02"),   # 0.03 contracts at $0.3301
])
def test_fee_rounding_follows_the_documented_examples(revenue, trade_fee, rounding, change):
    assert fees.fill_fee(Decimal(revenue), Decimal(trade_fee)) == (Decimal(rounding), Decimal(change))


def test_trade_fee_is_ceiled_to_the_centicent():
    assert fees.trade_fee(Decimal("0.055"), Decimal("1"), fees.TAKER_COEFFICIENT) == Decimal("0.0037")   # 0.00363825
    assert fees.fee(Decimal("0.50"), Decimal("0.30"), "taker") == Decimal("0.01")   # 0.00525 -> balance floored to the cent


def test_client_keeps_the_basic_tier_token_buckets():
    # rate_limits: Basic Read 200 tokens/s (two-second bucket), Write 100 tokens/s (one second);
    # an order costs 10 tokens, so the eleventh order in a burst must wait for the refill
    client = KalshiClient(KEY_ID, PEM, "http://127.0.0.1:9/trade-api/v2")
    assert (client.read_bucket.capacity, client.read_bucket.period_s) == (400, 2.0)
    assert (client.write_bucket.capacity, client.write_bucket.period_s) == (100, 1.0)

    async def burst():
        for _ in range(10):
            await client.write_bucket.acquire(10)
        waited = client.write_bucket.waited_s
        await client.write_bucket.acquire(10)
        return waited, client.write_bucket.waited_s
    before, after = asyncio.run(burst())
    assert before == 0 and after > 0
