"""The Polymarket adapter against the fake venue: L1-derived credentials and L2 signing as the
fake verifies them, V2 orders (FAK, GTC, post-only, market), the client-order-id mapping after a
lost answer and a restart, the order-version switch, balances and Data API positions, relayer
redeem (and its errors), the websocket book (top-of-book check -> REST resync, dropped socket),
the private user channel (fills with the poll's ids, a refused key, reconnects, recorded
pushes), real published payloads, Protocol V2 markets (position ids by Gamma ``version``, Exchange V3
signing, no collateral-adapter redeem), and faults (429, 425 restarts, 503 post-only / cancel-only
modes, timeouts, malformed answers, clock skew, bad keys)."""

import asyncio
import json
import sys
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import fake_polymarket as fp  # noqa: E402
from sequence_core.errors import (AuthenticationError, InsufficientFunds, InvalidOrder, NetworkError,  # noqa: E402
                                  RateLimitExceeded, VenueError)
from sequence_core.feeds import FeedRunner  # noqa: E402
from sequence_core.market import event  # noqa: E402
from sequence_core.orders import NodeOrder  # noqa: E402
from sequence_core.sentlog import SentLog  # noqa: E402
from sequence_core.testing import StreamProbe, drop_and_recover, running, shared_responses, until  # noqa: E402
from sequence_venue_polymarket import relayer  # noqa: E402
from sequence_venue_polymarket.execution import OrderRecord, fills_of, order_state, position_of  # noqa: E402
from sequence_venue_polymarket.feed import PolymarketFeed  # noqa: E402
from sequence_venue_polymarket.http import error_for  # noqa: E402
from sequence_venue_polymarket.signing import ApiCreds  # noqa: E402
from sequence_venue_polymarket.symbols import INSTRUMENTS, from_gamma, instruments_of  # noqa: E402
from sequence_venue_polymarket.venue import PolymarketVenue  # noqa: E402

KEY = "0x" + "4c" * 32
SAMPLES = shared_responses("polymarket")
FED_YES = next(i for i in INSTRUMENTS if i.symbol == fp.FED and i.outcome == "YES")
RAIN_YES = event("polymarket", fp.RAIN, "YES", fp.RAIN_YES, "USDC", "0.01", "0.01", "rain", (fp.RAIN_YES,), "5")
VENUE = PolymarketVenue()


@pytest.fixture
def fake():
    yield from running(fp.FakePolymarket())


def settings(fake, tmp_path) -> dict:
    return {"base_url": fake.url, "gamma_url": fake.url + "/gamma", "data_url": fake.url + "/data-api",
            "relayer_url": fake.url + "/relayer", "ws_url": fake.url.replace("http", "ws") + "/ws/market",
            "state_path": str(tmp_path / "orders.jsonl"), "market_cache": str(tmp_path / "markets.json"),
            "relayer_poll_s": 0.01}


def creds(kind="2", **extra) -> dict:
    base = {"private_key": KEY, "signature_type": kind, "builder_api_key": fp.FakePolymarket().builder[0],
            "builder_secret": fp.FakePolymarket().builder[1], "builder_passphrase": fp.FakePolymarket().builder[2]}
    wallet = PolymarketVenue.wallet({"private_key": KEY}, {})
    if kind == "2":
        base["funder"] = relayer.derive_safe(wallet.address)
    elif kind == "1":
        base["funder"] = relayer.derive_proxy(wallet.address)
    return {**base, **extra}


def session(fake, tmp_path, **kw):
    return VENUE.execution_session(creds(**kw), settings(fake, tmp_path))


def node(n=0, side="buy", qty="10", price="0.52", kind="ioc", seq=0, symbol=fp.FED):
    gid = "graph_00000000feed"
    return NodeOrder(f"{gid}:node_{n}:{seq}", gid, n, seq, "polymarket", symbol, side, Decimal(qty),
                     Decimal(price) if price else None, kind, "PENDING_NEW", 0, 0)


async def warm(s, inst=FED_YES):
    """Credentials, version and market parameters fetched: the next request is the order itself."""
    await s.balances()
    await s.client.version()
    await s.params(inst.venue_symbol)


def run(s, work):
    async def go():
        try:
            return await work(s)
        finally:
            await s.close()
    return asyncio.run(go())


# -- orders -----------------------------------------------------------------------------------------
def test_fak_buy_fills_and_the_order_id_is_the_signed_hash(fake, tmp_path):
    s = session(fake, tmp_path)
    state = run(s, lambda s: s.place(node(), FED_YES))
    assert state.status == "FILLED" and state.filled_qty == Decimal("10")
    (fill,) = state.fills
    assert (fill.price, fill.qty, fill.fee, fill.liquidity) == (Decimal("0.52"), Decimal("10"), Decimal("0"), "taker")
    rec = s.log.get(node().client_order_id)
    assert state.venue_order_id == rec.order_id and rec.order_id in fake.orders          # the CLOB's id is our hash
    assert rec.order["maker"] == creds()["funder"] and rec.order["signatureType"] == 2
    assert ("GET", "/auth/derive-api-key") in fake.requests                              # L1 before L2


def test_neg_risk_market_signs_for_its_exchange_and_charges_the_curve_fee(fake, tmp_path):
    state = run(session(fake, tmp_path), lambda s: s.place(node(1, symbol=fp.RAIN), RAIN_YES))
    # fd r=0.02 e=1, takers: 10 x 0.02 x 0.52 x 0.48
    assert state.status == "FILLED" and state.fills[0].fee == Decimal("0.04992")


def test_market_order_walks_the_book(fake, tmp_path):
    state = run(session(fake, tmp_path), lambda s: s.place(node(2, qty="150", price=None, kind="market"), FED_YES))
    assert state.filled_qty == Decimal("150")
    assert sorted(f.price for f in state.fills) == [Decimal("0.52"), Decimal("0.53")]


def test_resting_limit_then_cancel_and_open_orders(fake, tmp_path):
    async def work(s):
        n = node(3, price="0.40", kind="limit")
        placed = await s.place(n, FED_YES)
        open_ = await s.open_orders(FED_YES)
        cancelled = await s.cancel(n, FED_YES)
        again = await s.cancel(n, FED_YES)
        return placed, open_, cancelled, again, await s.order_state("sqnothing", FED_YES)
    placed, open_, cancelled, again, unknown = run(session(fake, tmp_path), work)
    assert placed.status == "NEW" and (placed.price, placed.qty) == (Decimal("0.40"), Decimal("10"))
    assert [o.client_order_id for o in open_] == [node(3).client_order_id]
    assert cancelled.status == again.status == "CANCELLED" and unknown is None


def test_post_only_that_would_cross_is_refused_and_an_unmatched_fak_is_a_cancel(fake, tmp_path):
    s = session(fake, tmp_path)

    async def work(s):
        with pytest.raises(InvalidOrder, match="crosses book"):
            await s.place(node(4, price="0.55", kind="post_only"), FED_YES)
        return await s.place(node(5, price="0.45"), FED_YES)
    killed = run(s, work)
    assert killed.status == "CANCELLED" and killed.filled_qty == 0 and "FAK" in killed.reason


def test_sell_of_held_tokens_and_bad_price_or_size(fake, tmp_path):
    async def work(s):
        await s.place(node(6), FED_YES)
        sold = await s.place(node(7, side="sell", qty="10", price="0.50"), FED_YES)
        with pytest.raises(InvalidOrder, match="tick"):
            await s.place(node(8, price="0.525", kind="limit"), FED_YES)              # refused before sending
        with pytest.raises(InvalidOrder, match="lower than the minimum"):
            await s.place(node(9, qty="2", price="0.40", kind="limit"), FED_YES)        # the venue's minimum
        return sold
    sold = run(session(fake, tmp_path), work)
    assert sold.status == "FILLED" and sold.fills[0].price == Decimal("0.50")
    assert not any(Decimal(o["price"]) == Decimal("0.525") for o in fake.orders.values())


def test_insufficient_balance_is_the_venue_message(fake, tmp_path):
    with pytest.raises(InsufficientFunds, match="not enough balance / allowance"):
        run(session(fake, tmp_path), lambda s: s.place(node(10, qty="5000", price="0.52", kind="limit"), FED_YES))


def test_bad_api_credentials_are_authentication_errors_that_hide_them(fake, tmp_path):
    s = session(fake, tmp_path)
    secret = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlYw=="
    s.client.creds = ApiCreds("00000000-0000-4000-8000-000000000000", secret, "a passphrase")
    with pytest.raises(AuthenticationError) as err:
        run(s, lambda s: s.balances())
    assert "Invalid api key" in str(err.value) and secret not in str(err.value) and "a passphrase" not in str(err.value)
    assert KEY[2:] not in str(err.value)


def test_derive_falls_back_to_creating_the_key(fake, tmp_path):
    fake.key_exists = False
    assert run(session(fake, tmp_path), lambda s: s.balances())["USDC"] == Decimal("1000")
    assert ("POST", "/auth/api-key") in fake.requests


def test_rate_limit_is_retried_for_reads_never_for_a_place(fake, tmp_path):
    s = session(fake, tmp_path)

    async def work(s):
        await warm(s)
        fake.rate_limit_next = 2
        balances = await s.balances()
        fake.rate_limit_next = 1
        with pytest.raises(RateLimitExceeded):
            await s.place(node(11), FED_YES)
        posted = [r for r in fake.requests if r == ("POST", "/order")]
        retried = await s.place(node(11), FED_YES)                 # the engine's retry: same signed order
        return balances, posted, retried
    balances, posted, retried = run(s, work)
    assert balances["pUSD"] == Decimal("1000") and len(posted) == 1
    assert retried.status == "FILLED" and len(fake.orders) == 1


def test_lost_answer_is_found_by_client_order_id_and_not_sent_twice(fake, tmp_path):
    s = session(fake, tmp_path)
    s.client.rest.timeout_s = 0.5

    async def work(s):
        await warm(s)
        fake.lose_next_answer_s = 1.0                              # the venue takes it; the answer is lost
        with pytest.raises(NetworkError, match="did not answer"):
            await s.place(node(12), FED_YES)
        found = await s.order_state(node(12).client_order_id, FED_YES)
        again = await s.place(node(12), FED_YES)
        return found, again
    found, again = run(s, work)
    assert found.status == again.status == "FILLED" and len(fake.orders) == 1
    assert [r for r in fake.requests if r == ("POST", "/order")] == [("POST", "/order")]
    # a restarted session reads the same signed order from its log
    assert run(session(fake, tmp_path), lambda s: s.order_state(node(12).client_order_id, FED_YES)).status == "FILLED"


def test_version_switch_re_signs_and_an_unknown_version_is_refused(fake, tmp_path):
    s = session(fake, tmp_path)

    async def work(s):
        await s.client.version()                                   # cached: 2
        fake.version = 3
        switched = await s.place(node(13), FED_YES)
        fake.version = 1
        await s.client.version(refresh=True)
        with pytest.raises(InvalidOrder, match="order version 1"):
            await s.place(node(14), FED_YES)
        return switched
    switched = run(s, work)
    assert switched.status == "FILLED" and s.log.get(node(13).client_order_id).version == 3
    assert [r for r in fake.requests if r == ("POST", "/order")] == [("POST", "/order")] * 2    # refused, then re-signed


def test_malformed_read_is_retried_and_clock_skew_is_learnt(fake, tmp_path):
    fake.clock_offset_ms = 90_000                                  # the fake refuses timestamps 30 s off
    s = session(fake, tmp_path)

    async def work(s):
        await s.balances()
        fake.malformed_next = 1
        return await s.balances(), s.client.clock.offset_ms
    balances, offset = run(s, work)
    assert balances["USDC"] == Decimal("1000") and 88_000 < offset < 92_000


def test_a_timeout_or_5xx_on_a_read_retries_and_a_5xx_on_a_place_is_an_error(fake, tmp_path):
    s = session(fake, tmp_path)
    s.client.rest.timeout_s = 0.3

    async def work(s):
        await warm(s)
        fake.delay_next_s = 0.6
        after_timeout = await s.balances()
        fake.fail_next = 500
        after_5xx = await s.balances()
        fake.fail_next = 503
        with pytest.raises(NetworkError, match="HTTP 503"):
            await s.place(node(20), FED_YES)
        return after_timeout, after_5xx
    after_timeout, after_5xx = run(s, work)
    assert after_timeout["USDC"] == after_5xx["USDC"] == Decimal("1000")
    assert [r for r in fake.requests if r == ("POST", "/order")] == [("POST", "/order")] and not fake.orders


def test_trading_restrictions_name_themselves(fake, tmp_path):
    """A restart answers 425 (retry shortly), then post-only mode and cancel-only mode answer 503
    with their reason (docs trading/matching-engine, resources/error-codes)."""
    async def work(s):
        await warm(s)
        fake.restriction_next = "restart"
        with pytest.raises(NetworkError, match="matching engine is restarting"):
            await s.place(node(21), FED_YES)
        fake.restriction_next = "post_only"
        with pytest.raises(InvalidOrder, match="only post-only orders are taken for about 95 s more"):
            await s.place(node(22), FED_YES)
        fake.restriction_next = "cancel_only"
        with pytest.raises(InvalidOrder, match="cancel-only"):
            await s.place(node(23), FED_YES)
        return await s.place(node(24), FED_YES)
    assert run(session(fake, tmp_path), work).status == "FILLED" and len(fake.orders) == 1
    assert [r for r in fake.requests if r == ("POST", "/order")] == [("POST", "/order")] * 4    # none retried


# -- Polymarket Protocol V2 markets -----------------------------------------------------------------
SNOW_ANY = event("polymarket", fp.SNOW, "YES", "0", "USDC", "0.01", "0.01", "snow", (), "5")


def test_a_v2_market_trades_its_position_ids_signed_for_exchange_v3(fake, tmp_path):
    """Gamma's version "v2" picks positionIds over the bookless clobTokenIds beside them, and a
    position id is signed for Exchange V3 (domain "3") though /version says 2."""
    async def work(s):
        mk = await s.market(SNOW_ANY)
        yes, _ = instruments_of(mk)
        return mk, yes, await s.place(node(25, symbol=fp.SNOW), yes)
    s = session(fake, tmp_path)
    mk, yes, state = run(s, work)
    assert mk.version == "v2" and mk.tokens == {"YES": fp.SNOW_YES, "NO": fp.SNOW_NO} and yes.venue_symbol == fp.SNOW_YES
    rec = s.log.get(node(25).client_order_id)
    assert state.status == "FILLED" and rec.version == 3 and rec.order["tokenId"] == fp.SNOW_YES
    assert [r for r in fake.requests if r == ("POST", "/order")] == [("POST", "/order")]  # no version round trip


def test_gamma_without_version_is_read_as_before(fake, tmp_path):
    fake.gamma_legacy = True
    mk = run(session(fake, tmp_path), lambda s: s.market(FED_YES))
    assert mk.version == "v1" and mk.tokens == {"YES": fp.FED_YES, "NO": fp.FED_NO}


def test_a_v2_market_is_not_redeemed_through_the_collateral_adapter(fake, tmp_path):
    async def work(s):
        yes, _ = instruments_of(await s.market(SNOW_ANY))
        await s.place(node(26, symbol=fp.SNOW), yes)
        fake.winners[fp.SNOW_CID] = fp.SNOW_YES
        await s.settle([yes])
    with pytest.raises(InvalidOrder, match="Protocol V2 market.*Router"):
        run(session(fake, tmp_path), work)
    assert not fake.relayer_txs and not fake.redeemed


# -- account and settlement -------------------------------------------------------------------------
def test_balances_and_positions_come_from_the_venue(fake, tmp_path):
    async def work(s):
        await s.place(node(15), FED_YES)
        return await s.balances(), await s.positions()
    balances, positions = run(session(fake, tmp_path), work)
    assert balances["USDC"] == Decimal("994.8") and balances[f"{fp.FED}:YES"] == Decimal("10")
    assert [(p.venue_symbol, p.qty) for p in positions] == [(fp.FED_YES, Decimal("10"))]
    assert fake.position_user == creds()["funder"]                  # the funder's positions, not the EOA's


def test_settle_is_none_until_resolved_then_redeems_through_the_relayer(fake, tmp_path):
    async def work(s):
        await s.place(node(16), FED_YES)
        before = await s.settle([FED_YES])
        fake.winners[fp.FED_CID] = fp.FED_YES
        return before, await s.settle([FED_YES])
    before, after = run(session(fake, tmp_path), work)
    assert before is None
    assert (after.method, after.winning_outcome, after.payout_per_contract) == ("relayer_redeem", "YES", Decimal(1))
    assert after.reference.startswith("0x") and fake.redeemed == [{"token": fp.FED_YES, "size": Decimal("10")}]
    assert fake.cash == Decimal("1004.8")


def test_proxy_wallet_redeems_through_the_proxy_factory(fake, tmp_path):
    async def work(s):
        await s.place(node(17, symbol=fp.RAIN), RAIN_YES)
        fake.winners[fp.RAIN_CID] = fp.RAIN_NO
        return await s.settle([RAIN_YES])
    done = run(session(fake, tmp_path, kind="1"), work)
    assert done.winning_outcome == "NO" and fake.redeemed and fake.relayer_txs
    assert next(iter(fake.relayer_txs.values()))["type"] == "PROXY"


@pytest.mark.parametrize("fault,message", [("relayer_error_next", "relayer refused the transaction: execution reverted"),
                                           ("relayer_tx_fails", "ended STATE_FAILED")])
def test_relayer_errors_are_clear(fake, tmp_path, fault, message):
    async def work(s):
        await s.place(node(18), FED_YES)
        fake.winners[fp.FED_CID] = fp.FED_YES
        setattr(fake, fault, "execution reverted" if fault == "relayer_error_next" else True)
        await s.settle([FED_YES])
    with pytest.raises(VenueError, match=message):
        run(session(fake, tmp_path), work)


def test_an_eoa_cannot_redeem_through_the_relayer(fake, tmp_path):
    async def work(s):
        await s.place(node(19), FED_YES)
        fake.winners[fp.FED_CID] = fp.FED_YES
        await s.settle([FED_YES])
    with pytest.raises(InvalidOrder, match="EOA"):
        run(session(fake, tmp_path, kind="0"), work)


# -- websocket --------------------------------------------------------------------------------------
def feed_for(fake) -> PolymarketFeed:
    feed = PolymarketFeed({"base_url": fake.url, "ws_url": fake.url.replace("http", "ws") + "/ws/market"})
    feed.heartbeat_s = 0.1
    return feed


def test_websocket_book_checks_the_top_and_resyncs(fake):
    async def go():
        runner = FeedRunner(feed_for(fake), [FED_YES]).start()
        try:
            await until(lambda: runner.book(FED_YES) is not None, what="first book")
            fake.push_change(fp.FED_YES, "BUY", "0.51", "40")
            await until(lambda: runner.book(FED_YES).best_bid.price == Decimal("0.51"))
            fake.change_quietly(fp.FED_YES, "SELL", "0.52", "0")          # a lost price_change
            fake.push_change(fp.FED_YES, "BUY", "0.48", "70")             # its best_ask says 0.53
            await until(lambda: runner.stats.gaps == 1 and runner.book(FED_YES) is not None
                        and runner.book(FED_YES).best_ask.price == Decimal("0.53"), what="resync after a lost delta")
            fake.corrupt_next_top = True
            fake.push_change(fp.FED_YES, "SELL", "0.60", "5")
            await until(lambda: runner.stats.gaps == 2 and runner.book(FED_YES) is not None, what="resync after a bad top")
            fake.push_trade(fp.FED_YES, "0.53", "12", "BUY")
            await until(lambda: runner.trades[fp.FED_YES])
            await until(lambda: fake.pings > 0, what="PING keepalive")
            return runner.book(FED_YES), runner.stats, runner.trades[fp.FED_YES][0]
        finally:
            await runner.stop()
    book, stats, trade = asyncio.run(go())
    assert book.best_bid.price == Decimal("0.51") and book.best_ask.price == Decimal("0.53")
    assert stats.resyncs >= 3 and trade.side == 1 and trade.size == Decimal("12")
    assert fp.FED_YES in fake.subscriptions[0]


def test_dropped_socket_serves_no_stale_book(fake):
    stale, book = asyncio.run(drop_and_recover(feed_for(fake), FED_YES, fake,
                                               lambda: fake.change_quietly(fp.FED_YES, "BUY", "0.51", "9")))
    assert stale is None and book.best_bid.price == Decimal("0.51")


# -- the private orders stream (CLOB user channel) -------------------------------------------------
def test_a_resting_order_fill_arrives_on_the_private_stream_with_the_fill_rest_reports(fake, tmp_path):
    s, n = session(fake, tmp_path), node(30, price="0.40", kind="limit")

    async def go():
        async with StreamProbe(s.user_stream(), [FED_YES, RAIN_YES]) as probe:
            await until(lambda: probe.runner.live and fake.private, what="stream logged in")
            placed = await s.place(n, FED_YES)
            await until(lambda: probe.states, what="the placement pushed")
            fake.fill_resting(placed.venue_order_id, "4")
            await until(lambda: any(st.fills for st in probe.states), what="the fill pushed")
            tid = fake.trades[-1]["id"]
            for status in ("MINED", "CONFIRMED"):                    # the same trade, pushed again
                fake.advance_trade(tid, status)
            await until(lambda: sum(1 for st in probe.states if st.fills) == 3, what="MINED and CONFIRMED pushed")
            rest = await s.order_state(n.client_order_id, FED_YES)   # the poll's view of the same order
            seen = probe.runner.stats.messages
            fake.advance_trade(tid, "FAILED")
            await until(lambda: probe.runner.stats.messages > seen, what="the FAILED push")   # it carries no fill
        await s.close()
        return placed, tid, probe.states, rest
    placed, tid, states, rest = asyncio.run(go())
    assert (states[0].client_order_id, states[0].status, states[0].filled_qty) == (n.client_order_id, "NEW", 0)
    assert any(st.status == "PARTIALLY_FILLED" and st.filled_qty == Decimal("4") for st in states)   # the order UPDATE
    pushed = [st.fills for st in states if st.fills]
    assert len(pushed) == 3 and pushed[0] == pushed[1] == pushed[2] == rest.fills     # one fill, one id: counted once
    (fill,) = rest.fills
    assert fill.fill_id == f"{tid}:{placed.venue_order_id.lower()[:18]}"
    assert (fill.price, fill.qty, fill.fee, fill.liquidity) == (Decimal("0.40"), Decimal("4"), Decimal(0), "maker")


def test_a_refused_key_is_a_login_error_that_never_shows_the_secret(fake, tmp_path, caplog):
    s = session(fake, tmp_path)
    secret = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlYw=="
    s.client.creds = ApiCreds("00000000-0000-4000-8000-000000000000", secret, "a passphrase")

    async def go():
        async with StreamProbe(s.user_stream(), [FED_YES]) as probe:
            await until(lambda: "refused" in probe.runner.stats.error, what="the refusal")
        await s.close()
        return probe
    probe = asyncio.run(go())
    error = probe.runner.stats.error
    assert "polymarket refused the private websocket login" in error and "Invalid api key" in error
    for hidden in (secret, "a passphrase", KEY[2:]):
        assert hidden not in error and hidden not in caplog.text
    assert not probe.runner.live and probe.connects == 0
    assert fake.logins[0] is False and fake.private == []                # the channel dropped it without a word
    assert ("GET", "/balance-allowance") in fake.requests                # so the CLOB was asked about the key


def test_the_stream_reconnects_keeps_alive_and_asks_for_a_catch_up_each_time(fake, tmp_path):
    s = session(fake, tmp_path)
    stream = s.user_stream()
    stream.heartbeat_s = 0.1

    async def go():
        async with StreamProbe(stream, [FED_YES]) as probe:
            await until(lambda: probe.connects and fake.pings > 1, what="first connect and PINGs")
            fake.drop_sockets()
            await until(lambda: probe.connects >= 2 and probe.runner.live, what="reconnect")
            reconnects = probe.runner.stats.reconnects
        await s.close()
        return reconnects
    assert asyncio.run(go()) >= 1 and fake.logins[:2] == [True, True]
    assert fake.requests.count(("GET", "/auth/derive-api-key")) == 1     # credentials derived once, reused


def test_recorded_user_channel_pushes_parse(tmp_path):
    """python-ws/*.json and ws_user_*.json: Polymarket user-channel pushes recorded in
    NautilusTrader's test data (/work/shared/data/README.md names the origin)."""
    ours = {"sqa1n0s0": ("0x0f76f4dc6eaf3332f4100f2e8a0b4a927351dd64646b7bb12f37df775c657a78", "GTC"),
            "sqa1n1s0": ("0xab679e56242324e15e59cfd488cd0f12e4fd71b153b9bfb57518898b9983145e", "GTC"),
            "sqa1n2s0": ("0x1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdef12", "GTC"),
            "sqa1n3s0": ("0xc6e99c14f1c7cae9e0538eb2d45a4d8b93ffd743e850edd1502a8c85700be5d3", "GTC"),
            "sqa1n4s0": ("0x78xx", "FOK")}
    log = SentLog(tmp_path / "orders.jsonl", OrderRecord)
    for cid, (oid, kind) in ours.items():
        log.put(OrderRecord(cid, oid, "256", {}, kind, False, 2, False))
    # a new session reads the log, as after a restart
    stream = VENUE.execution_session(creds(), {"state_path": str(tmp_path / "orders.jsonl")}).user_stream()
    parse = lambda name: stream.parse(sample(name), {})                                   # noqa: E731

    (placed,) = parse("python-ws/order_placement.json")
    assert (placed.client_order_id, placed.status, placed.filled_qty, placed.price, placed.qty) == (
        "sqa1n0s0", "NEW", 0, Decimal("0.513"), Decimal("5"))
    (made,) = parse("python-ws/user_trade1.json")        # MINED; ours is one of six maker orders
    (fill,) = made.fills
    assert (made.client_order_id, fill.fill_id) == ("sqa1n1s0", "83b5c849-620e-4c23-b63b-2e779c04a6e7:0xab679e56242324e1")
    assert (fill.price, fill.qty, fill.fee, fill.liquidity, fill.venue_ts_ns) == (
        Decimal("0.518"), Decimal("5"), Decimal(0), "maker", 1725868859 * 10 ** 9)

    taker = sample("ws_user_trade_msg.json")             # CONFIRMED; ours is the taker order
    (held,) = stream.parse(taker, {})
    assert held.fills == () and held.filled_qty == Decimal("25.0")     # no fee parameters yet: the poll reads it
    stream.session._fd[taker["market"]] = {"r": 0.02, "e": 1}
    (took,) = stream.parse(taker, {})
    assert took.fills == fills_of({"id": ours["sqa1n2s0"][0]}, [taker], "USDC", {"r": 0.02, "e": 1})   # the poll's fill
    assert (took.fills[0].fill_id, took.fills[0].fee, took.fills[0].liquidity) == ("trade-0xabcdef1234", Decimal("0.125"), "taker")
    assert stream.parse({**taker, "status": "FAILED"}, {}) == []

    (cancelled,) = parse("python-ws/order_cancel.json")
    assert (cancelled.client_order_id, cancelled.status, cancelled.filled_qty) == ("sqa1n3s0", "CANCELLED", Decimal("5"))
    (killed,) = parse("ws_user_order_fok_killed.json")
    assert (killed.client_order_id, killed.status, killed.filled_qty) == ("sqa1n4s0", "CANCELLED", 0)
    assert parse("ws_user_order_venue_cancel.json") == []                # not an order of ours
    both = stream.parse([sample("python-ws/order_placement.json"), sample("python-ws/order_cancel.json")], {})
    assert [st.client_order_id for st in both] == ["sqa1n0s0", "sqa1n3s0"] and stream.parse("PONG", {}) == []
    assert stream.logged_in("PONG") is True and stream.logged_in(sample("python-ws/order_cancel.json")) is True
    assert stream.logged_in("NO NEW ASSETS") is None


# -- published payloads -----------------------------------------------------------------------------
def sample(name):
    return json.loads((SAMPLES / name).read_text())


def test_published_market_data_payloads_parse():
    feed = PolymarketFeed({})
    snap = feed.book_update(sample("clob_book_response.json"))
    assert snap.kind == "snapshot" and max(snap.bids)[0] == Decimal("0.50") and min(snap.asks)[0] == Decimal("0.51")
    (ws_book,) = feed.parse(sample("ws_market_book_msg.json"))
    assert ws_book.symbol.startswith("7132") and len(ws_book.asks) == 2
    (delta,) = feed.parse(sample("ws_market_price_change_msg.json"))
    assert delta.kind == "delta" and delta.bids == ((Decimal("0.51"), Decimal("150.0")),) and delta.checksum is not None
    assert len(feed.parse({"event_type": "price_change", **sample("ws_quotes.json")})) == 2      # two assets
    (trade,) = feed.parse(sample("ws_market_last_trade_msg.json"))
    assert trade.side == 1 and trade.price == Decimal("0.51") and trade.size == Decimal("25.0")
    assert feed.parse(sample("ws_market_tick_size_msg.json")) == [] and feed.parse("PONG") == []
    ccxt = sample("ccxt_polymarket_http_responses.json")["CLOB GET /book?token_id=<YES token>"]
    book = feed.book_update(ccxt)
    assert max(book.bids)[0] == Decimal("0.005") and min(book.asks)[0] == Decimal("0.995")


def test_published_order_trade_and_position_payloads_parse():
    state = order_state("sq1", sample("http_open_order.json"))
    assert (state.status, state.filled_qty, state.price) == ("PARTIALLY_FILLED", Decimal("25.0000"), Decimal("0.5000"))
    assert order_state("sq2", sample("http_open_order_sell_fok.json")).status == "FILLED"
    page = sample("http_open_orders_page.json")
    assert [order_state("", o).status for o in page["data"]] == ["NEW", "PARTIALLY_FILLED"]
    report = sample("http_trade_report.json")
    taker = fills_of({"id": report["taker_order_id"]}, [report], "USDC", {"r": 0.02, "e": 1})
    assert taker[0].qty == Decimal("25.0000") and taker[0].liquidity == "taker" and taker[0].fee == Decimal("0.125")
    maker = fills_of({"id": report["maker_orders"][1]["order_id"]}, [report], "USDC", {"r": 0.02, "e": 1})
    assert (maker[0].qty, maker[0].fee, maker[0].liquidity) == (Decimal("5.0000"), Decimal(0), "maker")
    page = sample("http_trades_page.json")
    assert fills_of({"id": page["data"][0]["taker_order_id"]}, page["data"], "USDC", None)[0].venue_ts_ns == 1704067200 * 10 ** 9
    rows = sample("data_api_positions_response.json")
    assert position_of(rows[0]).qty == Decimal("150.5") and position_of(rows[2]).entry_price == Decimal("0.3")
    assert error_for(sample("http_order_response_failed.json")["errorMsg"]).__class__ is InsufficientFunds


def test_gamma_markets_resolve_to_binary_instruments():
    mk = from_gamma(sample("gamma_market.json"))
    yes, no = instruments_of(mk)
    assert (mk.condition_id, mk.tick, mk.min_size, mk.neg_risk) == (
        "0x78443f961b9a65869dcb39359de9960165c7e5cbad0904eac7f29cd77872a63b", "0.01", "5", False)
    assert yes.venue_symbol.startswith("1042398980") and no.outcome == "NO" and "YES = Up, NO = Down" in yes.title
    closed = from_gamma(sample("gamma_market_closed_binary_accepting_true.json"))
    assert closed.closed and closed.labels == {"YES": "Yes", "NO": "No"}
    assert from_gamma({"slug": "x", "conditionId": "0x1", "clobTokenIds": "[\"1\", \"2\", \"3\"]", "outcomes": "[]"}) is None
    # Protocol V2 (docs migrate/polymarket-v2/api-integrations): the ids follow ``version``
    base = {"slug": "x", "conditionId": "0x1", "outcomes": "[\"Yes\", \"No\"]", "clobTokenIds": "[\"11\", \"12\"]",
            "positionIds": ["21", "22"]}
    assert from_gamma({**base, "version": "v1"}).tokens == {"YES": "11", "NO": "12"}
    assert from_gamma({**base, "version": "v2"}).tokens == {"YES": "21", "NO": "22"}
    assert from_gamma({**base, "version": "v3"}) is None and from_gamma({**base, "clobTokenIds": "[\"0xab\", \"12\"]"}) is None
