"""The Kalshi adapter against the fake server: signing as Kalshi verifies it (RSA-PSS and
Ed25519), V2 YES-book orders for both legs, native amend and decrease, positions, balances,
automatic settlement, the websocket book (both legs from one market, gap -> fresh snapshot,
dropped socket -> no stale book), the private ``user_orders``/``fill`` stream, real published
payloads, faults (429, timeouts, 5xx, malformed answers, clock skew, bad credentials), and fee
estimates from each market's series terms once ``prepare`` has read them (none read before)."""

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
from fake_kalshi import PLAIN_TICKER, SETTLED_TICKER, TICKER, FakeKalshi  # noqa: E402
from sequence_core.errors import (AuthenticationError, InsufficientFunds, InvalidOrder, NetworkError,  # noqa: E402
                                  RateLimitExceeded, SequenceError)
from sequence_core.feeds import FeedRunner  # noqa: E402
from sequence_core.orders import NodeOrder  # noqa: E402
from sequence_core.testing import StreamProbe, drop_and_recover, make_pem, refused_login, running, shared_responses, until  # noqa: E402
from sequence_venue_kalshi import fees  # noqa: E402
from sequence_venue_kalshi.execution import KalshiSession, wire  # noqa: E402
from sequence_venue_kalshi.feed import KalshiFeed  # noqa: E402
from sequence_venue_kalshi.http import KalshiClient, error_from  # noqa: E402
from sequence_venue_kalshi.signing import load_key, message, sign, verify  # noqa: E402
from sequence_venue_kalshi.symbols import INSTRUMENTS, from_markets  # noqa: E402
from sequence_venue_kalshi.venue import KalshiVenue  # noqa: E402

KEY_ID = "a952bcbe-ec3b-4b5b-b8f9-11dae589608c"      # the docs' example key id
PEM = make_pem("rsa")
YES = next(i for i in INSTRUMENTS if i.symbol == TICKER and i.outcome == "YES")
NO = next(i for i in INSTRUMENTS if i.symbol == TICKER and i.outcome == "NO")
SAMPLES = shared_responses("kalshi", "ccxt_kalshi_http_responses.json")
# RFC 8032 test 1 secret key as PKCS#8 PEM (a public test vector, not a Kalshi key)
ED25519_PEM = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n-----END PRIVATE KEY-----\n"


@pytest.fixture
def fake():
    yield from running(FakeKalshi(KEY_ID, load_key(PEM).public_key()))


def session(fake, pem=PEM, key_id=KEY_ID, timeout_s=10.0) -> KalshiSession:
    return KalshiSession(KalshiClient(key_id, pem, fake.url + "/trade-api/v2", timeout_s=timeout_s),
                         {"ws_url": fake.url.replace("http", "ws") + "/trade-api/ws/v2"})


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


def test_holdings_count_the_cash_resting_orders_hold_and_balances_only_what_is_available(fake):
    """$1000, 10 YES bought (4.20 + 0.18 fee), then three resting orders: buy 10 YES at 0.30
    (holds $3), sell 6 YES at 0.50 (closes YES held: holds nothing), buy 5 NO at 0.45 (4 of them
    close the last YES held, 1 holds $0.45). Kalshi's balance drops by the $3.45 held while
    nothing was spent: holdings keep it, balances (what can be traded) do not."""
    async def work(s):
        await s.place(node(30, qty="10"), YES)
        await s.place(node(31, qty="10", price="0.30", kind="limit"), YES)
        await s.place(node(32, side="sell", qty="6", price="0.50", kind="limit"), YES)
        await s.place(node(33, qty="5", price="0.45", kind="limit"), NO)
        resting = (await s.holdings(), await s.balances())
        await s.cancel(node(31), YES)
        return resting, (await s.holdings(), await s.balances())
    (held, free), (held_after, free_after) = asyncio.run(using(session(fake), work))
    cash = Decimal("1000") - Decimal("4.20") - Decimal("0.18")
    assert len([o for o in fake.orders.values() if o["status"] == "resting"]) == 2 and fake.balance == cash
    assert held == {"USD": cash} and free["USD"] == cash - Decimal("3.45")
    assert held_after == {"USD": cash} and free_after["USD"] == cash - Decimal("0.45") == fake.available()   # cancelling frees $3


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
            fake.push_trade("0.42", "1.00", "no", legacy=True)     # the deprecated field alone still reads
            await until(lambda: len(runner.trades[NO.venue_symbol]) == 2)
            return runner.book(YES), runner.book(NO), runner.stats, runner.trades[YES.venue_symbol], runner.trades[NO.venue_symbol]
        finally:
            await runner.stop()
    yes, no, stats, (yes_trade, yes_legacy), (no_trade, no_legacy) = asyncio.run(go())
    assert yes.best_ask.price == Decimal("0.41") and no.best_ask is None
    books = [c for c in fake.commands if c["cmd"] == "subscribe" and c["params"]["channels"] == ["orderbook_delta"]]
    assert len(books) == 2 and stats.gaps >= 1                   # first, then once after the gap for both legs
    assert any(c["cmd"] == "unsubscribe" for c in fake.commands)
    assert (yes_trade.side, yes_trade.price, no_trade.side, no_trade.price) == (1, Decimal("0.41"), -1, Decimal("0.59"))
    assert (yes_legacy.side, no_legacy.side, no_legacy.price) == (-1, 1, Decimal("0.58"))     # a NO taker


def test_the_taker_side_reads_kalshis_fields_old_and_new():
    from sequence_venue_kalshi.feed import _taker_outcome

    assert [_taker_outcome(m) for m in ({"taker_outcome_side": "no", "taker_book_side": "ask", "taker_side": "no"},
                                        {"taker_book_side": "bid"}, {"taker_book_side": "ask"}, {"taker_side": "yes"})] == \
        ["no", "yes", "no", "yes"]


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


# -- the private orders and fills stream ----------------------------------------------------------
@pytest.mark.parametrize("inst,price", [(YES, "0.30"), (NO, "0.55")])
def test_a_resting_order_fill_arrives_on_the_private_stream_as_the_poll_reports_it(fake, inst, price):
    n = node(20, qty="10", price=price, kind="limit")

    async def go():
        s = session(fake)
        async with StreamProbe(s.user_stream(), INSTRUMENTS) as probe:
            await until(lambda: probe.runner.live and fake.private, what="stream subscribed")
            await s.place(n, inst)
            fake.fill_resting(n.client_order_id, "4")
            await until(lambda: any(st.fills for st in probe.states) and any(st.qty and st.filled_qty for st in probe.states),
                        what="the fill and the order update pushed")
            polled = await s.order_state(n.client_order_id, inst)
        await s.close()
        return probe.states, polled
    states, polled = asyncio.run(go())
    (pushed,) = [st for st in states if st.fills]
    (fill,), (rest,) = pushed.fills, polled.fills
    assert (pushed.client_order_id, pushed.venue_order_id) == (n.client_order_id, polled.venue_order_id)
    assert (fill.fill_id, fill.price, fill.qty, fill.fee, fill.liquidity) == (rest.fill_id, rest.price, rest.qty, rest.fee, rest.liquidity)
    # the node's own leg: a NO buy at 0.55 rests as a YES ask at 0.45 and fills at 0.55 NO
    assert (fill.price, fill.qty, fill.liquidity, fill.fee) == (Decimal(price), Decimal(4), "maker", Decimal("0.02"))
    update = next(st for st in states if st.qty and st.filled_qty)
    assert (update.status, update.filled_qty, update.qty, update.price) == ("PARTIALLY_FILLED", Decimal(4), Decimal(10), Decimal(price))


@pytest.mark.parametrize("kind,status", [("other_key", 401), ("unknown_id", 401), ("other_key", 403)])
def test_a_refused_handshake_is_a_login_error_that_never_shows_the_key(fake, kind, status):
    pem, key_id = (make_pem("rsa"), KEY_ID) if kind == "other_key" else (PEM, "not-a-key")
    fake.handshake_refusal = status
    s = session(fake, pem=pem, key_id=key_id)
    probe = refused_login(s.user_stream(), INSTRUMENTS)
    asyncio.run(s.close())
    error = probe.runner.stats.error
    assert f"kalshi refused the private websocket login (HTTP {status})" in error
    assert "PRIVATE KEY" not in error and pem.splitlines()[1] not in error
    assert not probe.runner.live and probe.connects == 0 and fake.private == [] and fake.logins[0] is False


def test_a_failing_handshake_is_not_called_a_bad_key_and_the_stream_recovers(fake):
    fake.server_error_next = 1                   # the handshake answers 500 once

    async def go():
        s = session(fake)
        async with StreamProbe(s.user_stream(), INSTRUMENTS) as probe:
            await until(lambda: probe.runner.stats.error, what="the failed handshake")
            error = probe.runner.stats.error
            await until(lambda: probe.runner.live and fake.private, what="the next handshake")
        await s.close()
        return error
    error = asyncio.run(go())
    assert "500" in error and "login" not in error


def test_the_stream_reconnects_asks_for_a_catch_up_and_still_pushes_fills(fake):
    n = node(21, qty="5", price="0.30", kind="limit")

    async def go():
        s = session(fake)
        async with StreamProbe(s.user_stream(), INSTRUMENTS) as probe:
            await until(lambda: probe.connects and fake.private, what="first connect")
            fake.drop_sockets()
            await until(lambda: probe.connects >= 2 and probe.runner.live and len(fake.private) == 2, what="reconnect")
            await s.place(n, YES)
            fake.fill_resting(n.client_order_id, "5")
            await until(lambda: any(st.fills for st in probe.states), what="a fill after the reconnect")
            reconnects = probe.runner.stats.reconnects
        await s.close()
        return reconnects, probe.states
    reconnects, states = asyncio.run(go())
    assert reconnects >= 1 and fake.logins[:2] == [True, True]         # each handshake signed afresh and accepted
    assert [st.fills[0].qty for st in states if st.fills] == [Decimal(5)]


def test_a_refused_subscription_ends_the_session_as_a_refused_login():
    stream = KalshiSession(KalshiClient(KEY_ID, PEM, "http://127.0.0.1:9/trade-api/v2")).user_stream()
    # websocket-connection: error code 9 "Authentication required - Channel requires authenticated connection"
    with pytest.raises(AuthenticationError, match="refused the private websocket login"):
        stream.parse({"id": 1, "type": "error", "msg": {"code": 9, "msg": "Authentication required"}}, {})
    with pytest.raises(NetworkError, match="code 17"):
        stream.parse({"id": 1, "type": "error", "msg": {"code": 17, "msg": "Internal error"}}, {})
    assert stream.parse({"id": 1, "type": "subscribed", "msg": {"channel": "fill", "sid": 2}}, {}) == []


def test_the_published_user_order_and_fill_messages_parse():
    # the examples of https://docs.kalshi.com/websockets/user-orders and .../user-fills
    order = {"type": "user_order", "sid": 22, "msg": {
        "order_id": "ee587a1c-8b87-4dcf-b721-9f6f790619fa", "user_id": "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
        "ticker": "FED-23DEC-T3.00", "status": "resting", "side": "yes", "is_yes": True, "yes_price_dollars": "0.3500",
        "fill_count_fp": "0.00", "remaining_count_fp": "10.00", "initial_count_fp": "10.00",
        "taker_fill_cost_dollars": "0.0000", "maker_fill_cost_dollars": "0.0000", "client_order_id": "my-order-1",
        "order_group_id": "og_123", "self_trade_prevention_type": "taker_at_cross", "created_time": "2024-12-01T10:00:00Z",
        "created_ts_ms": 1733047200000, "expiration_time": "2024-12-01T11:00:00Z", "expiration_ts_ms": 1733050800000,
        "subaccount_number": 0}}
    fill = {"type": "fill", "sid": 13, "msg": {
        "trade_id": "d91bc706-ee49-470d-82d8-11418bda6fed", "order_id": "ee587a1c-8b87-4dcf-b721-9f6f790619fa",
        "market_ticker": "HIGHNY-22DEC23-B53.5", "exchange_index": 2, "is_taker": True, "side": "yes",
        "yes_price_dollars": "0.750", "count_fp": "278.00", "action": "buy", "ts": 1671899397, "ts_ms": 1671899397000,
        "post_position_fp": "500.00", "purchased_side": "yes", "subaccount": 3}}
    s = KalshiSession(KalshiClient(KEY_ID, PEM, "http://127.0.0.1:9/trade-api/v2"))
    stream = s.user_stream()
    s._legs["ee587a1c-8b87-4dcf-b721-9f6f790619fa"] = "YES"        # as after placing or reading the order
    (state,) = stream.parse(order, {})
    assert (state.client_order_id, state.venue_order_id, state.status, state.filled_qty) == (
        "my-order-1", "ee587a1c-8b87-4dcf-b721-9f6f790619fa", "NEW", Decimal(0))
    assert (state.price, state.qty, state.venue_ts_ns) == (Decimal("0.35"), Decimal(10), 1733047200000 * 1_000_000)
    # the example has no fee_cost (the schema requires one): the fill is left to the poll, which
    # reads it with its fee; the state still says 278 filled, more than the engine holds
    (bare,) = stream.parse(fill, {})
    assert (bare.client_order_id, bare.filled_qty, bare.fills) == ("my-order-1", Decimal(278), ())
    (priced,) = stream.parse({**fill, "msg": {**fill["msg"], "fee_cost": "3.6800"}}, {})
    (f,) = priced.fills
    assert (f.fill_id, f.price, f.qty, f.fee, f.fee_asset, f.liquidity, f.venue_ts_ns) == (
        "d91bc706-ee49-470d-82d8-11418bda6fed", Decimal("0.75"), Decimal(278), Decimal("3.68"), "USD", "taker",
        1671899397000 * 1_000_000)
    s._legs["ee587a1c-8b87-4dcf-b721-9f6f790619fa"] = "NO"         # a NO node's order: the NO leg's price
    (no,) = stream.parse({**fill, "msg": {**fill["msg"], "fee_cost": "3.6800"}}, {})
    assert no.fills[0].price == Decimal("0.25")
    s._legs.clear()                                                # a leg this session never saw: no price guessed
    (unknown,) = stream.parse(order, {})
    assert unknown.price is None and stream.parse({**fill, "msg": {**fill["msg"], "fee_cost": "3.68"}}, {})[0].fills == ()


def test_a_stream_message_without_a_client_id_maps_back_through_the_session():
    s = KalshiSession(KalshiClient(KEY_ID, PEM, "http://127.0.0.1:9/trade-api/v2"))
    stream = s.user_stream()
    msg = {"order_id": "k-1", "ticker": "FED-23DEC-T3.00", "status": "resting", "side": "yes", "yes_price_dollars": "0.35",
           "fill_count_fp": "0.00", "remaining_count_fp": "10.00", "initial_count_fp": "10.00", "created_ts_ms": 1733047200000}
    assert stream.parse({"type": "user_order", "msg": msg}, {}) == []        # placed outside the engine: not ours
    s.remember("seq-node-1", "k-1")                                          # as placing or reading it does
    (state,) = stream.parse({"type": "user_order", "msg": msg}, {})
    assert (state.client_order_id, state.venue_order_id) == ("seq-node-1", "k-1")


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


# -- series fee terms: prepare reads them, fee() only looks them up ------------------------------
def leg(ticker, outcome="YES"):
    return next(i for i in INSTRUMENTS if i.symbol == ticker and i.outcome == outcome)


@pytest.fixture(autouse=True)
def no_prepared_terms():
    """Each test starts and ends with no prepared series terms: ``fees.TERMS`` is process-wide,
    and a market prepared by one test must not change another's fee estimates."""
    fees.TERMS.clear()
    fees.FAILED.clear()
    yield
    fees.TERMS.clear()
    fees.FAILED.clear()


def prepared(fake, *instruments):
    """``prepare`` each instrument through one session, as the engine's desk does before admission."""
    async def work(s):
        for inst in instruments:
            await s.prepare(inst)
    asyncio.run(using(session(fake), work))


def reads(fake, kind: str) -> list[str]:
    return [p.rsplit("/", 1)[1] for m, p in fake.requests if p.startswith(f"/trade-api/v2/{kind}/")]


def test_fee_does_no_io_before_prepare_and_keeps_the_general_schedule(fake):
    venue = KalshiVenue()
    # KXBTCZ lists a maker fee, but nothing has read it: the general schedule, makers pay nothing
    assert venue.fee(YES, Decimal("0.50"), Decimal("100"), "maker") == 0
    assert venue.fee(YES, Decimal("0.50"), Decimal("100"), "taker") == Decimal("1.75")
    assert venue.fee_schedule() is fees.SCHEDULE and venue.fee_schedule_for(YES) is fees.SCHEDULE
    assert fake.requests == [] and fees.TERMS == {}


def test_prepare_reads_the_series_once_per_market_for_both_legs(fake):
    prepared(fake, YES, NO, YES)
    assert fake.series_reads == ["KXBTCZ"] and reads(fake, "events") == ["KXBTCZ-26DEC31"]
    assert reads(fake, "markets") == [TICKER]                  # market -> event -> series, once
    prepared(fake, NO)                                         # a new session: the module's cache still holds
    assert fake.series_reads == ["KXBTCZ"]
    prepared(fake, leg(PLAIN_TICKER))                          # another market: its own read
    assert fake.series_reads == ["KXBTCZ", "KXMLBHR"]


def test_prepare_reads_again_once_the_terms_are_an_hour_old(fake):
    prepared(fake, YES)
    terms, _ = fees.TERMS[TICKER]
    fees.TERMS[TICKER] = (terms, fees.TERMS[TICKER][1] - fees.TERMS_TTL_S)
    fake.series["KXBTCZ"]["fee_multiplier"] = 0.5
    prepared(fake, YES)
    assert fake.series_reads == ["KXBTCZ", "KXBTCZ"]
    assert fees.terms_for(TICKER).multiplier == Decimal("0.5")


@pytest.mark.parametrize("ticker,liquidity,expected", [
    (TICKER, "taker", "1.75"),         # quadratic_with_maker_fees x1: the general taker fee ...
    (TICKER, "maker", "0.44"),         # ... and makers pay 0.25 of it: ceil¢(0.0175 x 100 x 0.25) = 0.4375 -> 0.44
    (SETTLED_TICKER, "taker", "0"),    # flat x0: no fee at all
    (SETTLED_TICKER, "maker", "0"),
    (PLAIN_TICKER, "taker", "1.75"),   # quadratic x1, the general schedule: makers pay nothing
    (PLAIN_TICKER, "maker", "0"),
])
def test_once_prepared_fee_follows_the_markets_series(fake, ticker, liquidity, expected):
    venue = KalshiVenue()
    prepared(fake, leg(ticker))
    for outcome in ("YES", "NO"):                              # one market, one series
        assert venue.fee(leg(ticker, outcome), Decimal("0.50"), Decimal("100"), liquidity) == Decimal(expected)


def test_a_half_fee_series_and_its_schedule(fake):
    fake.series["KXBTCZ"]["fee_multiplier"] = 0.5
    venue = KalshiVenue()
    assert venue.fee(YES, Decimal("0.42"), Decimal("10"), "taker") == Decimal("0.18")    # not prepared: general
    prepared(fake, YES)
    assert venue.fee(YES, Decimal("0.42"), Decimal("10"), "taker") == Decimal("0.09")    # ceil¢(0.035 x 10 x 0.42 x 0.58)
    assert venue.fee(NO, Decimal("0.58"), Decimal("10"), "taker") == Decimal("0.09")
    schedule = venue.fee_schedule_for(YES)
    assert (schedule.tiers[0].name, schedule.tiers[0].maker, schedule.tiers[0].taker) == ("KXBTCZ", Decimal("0.00875"), Decimal("0.035"))
    assert "quadratic_with_maker_fees" in schedule.notes and "maker" in schedule.curve
    assert venue.fee_schedule() is fees.SCHEDULE                   # without a market: the general schedule


def test_an_events_override_wins_over_its_series(fake):
    fake.event_overrides["KXMLBHR-26APR292140KCATH-ATHLBUTLER4"] = {"fee_type_override": "quadratic_with_combo_maker_fees"}
    prepared(fake, leg(PLAIN_TICKER))
    # the series' multiplier (1) stays; makers pay 0.5 of the taker fee: ceil¢(0.035 x 100 x 0.25) = 0.875 -> 0.88
    assert KalshiVenue().fee(leg(PLAIN_TICKER), Decimal("0.50"), Decimal("100"), "maker") == Decimal("0.88")


def test_a_flat_series_with_a_fee_is_estimated_with_the_general_schedule(fake):
    fake.series["KXETHZ"]["fee_multiplier"] = 1      # the Specific Trading Fees Table is not published where we read
    prepared(fake, leg(SETTLED_TICKER))
    venue = KalshiVenue()
    assert venue.fee(leg(SETTLED_TICKER), Decimal("0.50"), Decimal("100"), "taker") == Decimal("1.75")  # still routable
    assert venue.fee_schedule_for(leg(SETTLED_TICKER)).tiers[0].taker == Decimal("0.07")


@pytest.mark.parametrize("breakage", ["missing", "malformed", "not a number"])
def test_a_failed_read_is_a_sequence_error_and_changes_nothing(fake, breakage):
    """The desk logs a SequenceError and admits the order; anything else would fail the order."""
    if breakage == "missing":
        del fake.series["KXBTCZ"]                                      # 404 not_found
    elif breakage == "malformed":
        fake.series["KXBTCZ"] = None                                   # the fake answers {"series": null}
    else:
        fake.series["KXBTCZ"]["fee_multiplier"] = "lots"
    with pytest.raises(SequenceError):
        prepared(fake, YES)
    assert fees.TERMS == {} and KalshiVenue().fee(YES, Decimal("0.50"), Decimal("100"), "maker") == 0
    reads = list(fake.series_reads)
    prepared(fake, YES)                          # within RETRY_S: not asked again, no error, no wait
    assert fake.series_reads == reads and fees.TERMS == {}


def test_a_failed_refresh_keeps_the_terms_already_read(fake):
    prepared(fake, YES)
    fees.TERMS[TICKER] = (fees.TERMS[TICKER][0], fees.TERMS[TICKER][1] - fees.TERMS_TTL_S)
    del fake.series["KXBTCZ"]                                        # the refresh fails
    with pytest.raises(SequenceError):
        prepared(fake, YES)
    assert fake.series_reads == ["KXBTCZ", "KXBTCZ"]
    assert KalshiVenue().fee(YES, Decimal("0.50"), Decimal("100"), "maker") == Decimal("0.44")   # still the series'


@pytest.mark.parametrize("terms,liquidity,expected", [
    (fees.SeriesFees("quadratic", Decimal(1)), "maker", "0"),
    (fees.SeriesFees("quadratic_with_maker_fees", Decimal(1)), "maker", "0.0175"),
    (fees.SeriesFees("quadratic_with_combo_maker_fees", Decimal(1)), "maker", "0.035"),
    (fees.SeriesFees("quadratic_with_maker_fees", Decimal("0.5")), "taker", "0.035"),
    (fees.SeriesFees("flat", Decimal(0)), "taker", "0"),
    (fees.SeriesFees("flat", Decimal(2)), "taker", "0.07"),            # formula unpublished: the general estimate
    (fees.SeriesFees("something_new", Decimal(1)), "taker", "0.07"),
])
def test_series_coefficients(terms, liquidity, expected):
    assert terms.coefficient(liquidity) == Decimal(expected)


def test_series_terms_parse_from_kalshis_objects():
    series = {"ticker": "KXFED", "fee_type": "quadratic_with_maker_fees", "fee_multiplier": 0.1}
    assert fees.from_series(series) == ("quadratic_with_maker_fees", Decimal("0.1"), "KXFED")     # no binary float
    assert fees.from_series(series, {"fee_type_override": None, "fee_multiplier_override": 0}) == (
        "quadratic_with_maker_fees", Decimal(0), "KXFED")
    assert fees.from_series(series, {"fee_type_override": "quadratic", "fee_multiplier_override": None}).fee_type == "quadratic"
    with pytest.raises(ValueError):
        fees.from_series({**series, "fee_multiplier": -1})


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
