"""The OKX adapter against the fake server: signing as OKX verifies it, orders, native amend,
the websocket book (gap and checksum -> fresh snapshot, dropped socket -> no stale book),
real published payloads, and faults (429, malformed answers, clock skew, bad credentials);
USDT perpetual swaps: contracts <-> base units, positions, hedge-mode refusal, perp books
and the private stream."""

import asyncio
import json
import re
import sys
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fake_okx import FakeOkx  # noqa: E402
from sequence_core.errors import AuthenticationError, InsufficientFunds, InvalidOrder, RateLimitExceeded  # noqa: E402
from sequence_core.feeds import FeedRunner  # noqa: E402
from sequence_core.orders import NodeOrder  # noqa: E402
from sequence_core.testing import StreamProbe, drop_and_recover, refused_login, running, shared_responses, until  # noqa: E402
from sequence_venue_okx.execution import OkxSession  # noqa: E402
from sequence_core.feeds import interleaved_crc32  # noqa: E402
from sequence_venue_okx.feed import OkxFeed  # noqa: E402
from sequence_venue_okx.http import OkxClient  # noqa: E402
from sequence_venue_okx.signing import signature, timestamp  # noqa: E402
from sequence_venue_okx.symbols import INSTRUMENTS, base, contracts, from_instruments  # noqa: E402

KEY, SECRET, PASS = "okx-key-0001", "okx-secret-0001", "okx pass 1"
BTC = next(i for i in INSTRUMENTS if i.symbol == "BTC-USDT")
PERP = next(i for i in INSTRUMENTS if i.symbol == "BTC-USDT-PERP")
SAMPLES = shared_responses("okx")


@pytest.fixture
def fake():
    yield from running(FakeOkx(KEY, SECRET, PASS))


def session(fake, secret=SECRET, passphrase=PASS) -> OkxSession:
    return OkxSession(OkxClient(KEY, secret, passphrase, fake.url))


def node(n=0, side="buy", qty="0.5", price="91000.0", kind="ioc"):
    gid = "graph_00000000feed"
    return NodeOrder(f"{gid}:node_{n}:0", gid, n, 0, "okx", "BTC-USDT", side, Decimal(qty),
                     Decimal(price) if price else None, kind, "PENDING_NEW", 0, 0)


async def using(s: OkxSession, work):
    try:
        return await work(s)
    finally:
        await s.close()


def test_signature_follows_the_documented_prehash():
    # OKX documents the formula with this timestamp, path and secret but no signature; the value
    # below is from `openssl dgst -sha256 -hmac <secret> -binary | base64` over the same prehash
    ts = timestamp(1607418537715)
    assert ts == "2020-12-08T09:08:57.715Z"                       # the docs' timestamp format
    assert signature("22582BD0CFF14C41EDBF1AB98506286D", ts, "get", "/api/v5/account/balance?ccy=BTC") == \
        "HiZhvSfMtWJA3uUIVXV3a/bSXNPCWvYFXoGCVS8V4zY="


def test_ioc_buy_fills_with_the_fee_in_the_base_received(fake):
    state = asyncio.run(using(session(fake), lambda s: s.place(node(), BTC)))
    assert state.status == "FILLED" and state.filled_qty == Decimal("0.5")
    f = state.fills[0]
    assert f.price == Decimal("91000.0") and (f.fee, f.fee_asset) == (Decimal("0.0005"), "BTC") and f.liquidity == "taker"


def test_market_buy_sends_its_size_in_base(fake):
    state = asyncio.run(using(session(fake), lambda s: s.place(node(1, qty="0.25", price=None, kind="market"), BTC)))
    assert state.filled_qty == Decimal("0.25")


def test_resting_amend_native_then_cancel(fake):
    async def work(s):
        n = node(2, price="90000.0", kind="limit")
        placed = await s.place(n, BTC)
        amended = await s.amend(n, BTC, Decimal("89000.0"), Decimal("0.4"))
        open_ = await s.open_orders(BTC)
        cancelled = await s.cancel(n, BTC)
        again = await s.cancel(n, BTC)                               # already cancelled: its state, no error
        unknown = await s.order_state("sqnothing", BTC)
        return placed, amended, open_, cancelled, again, unknown
    placed, amended, open_, cancelled, again, unknown = asyncio.run(using(session(fake), work))
    assert placed.status == "NEW"
    assert amended.mode == "native_atomic" and (amended.state.price, amended.state.qty) == (Decimal("89000.0"), Decimal("0.4"))
    assert amended.state.venue_order_id == placed.venue_order_id                  # the same order
    assert [o.client_order_id for o in open_] == [node(2).client_order_id]
    assert cancelled.status == again.status == "CANCELLED" and unknown is None


def test_post_only_that_would_take_is_cancelled_by_the_venue(fake):
    state = asyncio.run(using(session(fake), lambda s: s.place(node(3, price="91500.0", kind="post_only"), BTC)))
    assert state.status == "CANCELLED" and state.filled_qty == 0


def test_insufficient_balance_is_the_item_code(fake):
    with pytest.raises(InsufficientFunds, match="51008"):
        asyncio.run(using(session(fake), lambda s: s.place(node(4, qty="5"), BTC)))


@pytest.mark.parametrize("secret,passphrase,code", [("wrong-secret", PASS, "50113"), (SECRET, "wrong pass", "50105")])
def test_bad_credentials_are_authentication_errors_that_hide_them(fake, secret, passphrase, code):
    with pytest.raises(AuthenticationError) as err:
        asyncio.run(using(session(fake, secret, passphrase), lambda s: s.balances()))
    assert code in str(err.value) and secret not in str(err.value) and passphrase not in str(err.value)


def test_rate_limit_is_retried_for_reads_not_for_a_place(fake):
    fake.rate_limit_next = 2
    assert asyncio.run(using(session(fake), lambda s: s.balances()))["USDT"] == Decimal("100000")
    fake.rate_limit_next = 1
    with pytest.raises(RateLimitExceeded):
        asyncio.run(using(session(fake), lambda s: s.place(node(5), BTC)))
    assert [r for r in fake.requests if r == ("POST", "/api/v5/trade/order")] == [("POST", "/api/v5/trade/order")]
    assert node(5).client_order_id not in fake.orders                   # never placed, safe to route again


def test_malformed_read_is_retried_and_clock_skew_resyncs(fake):
    fake.malformed_next = 1
    fake.clock_offset_ms = 90_000

    async def work(s):
        balances = await s.balances()
        return balances, s.client.clock.offset_ms
    balances, offset = asyncio.run(using(session(fake), work))
    assert balances["BTC"] == Decimal("1") and 89_000 < offset < 91_000


def feed_for(fake) -> OkxFeed:
    return OkxFeed({"base_url": fake.url, "ws_url": fake.url.replace("http", "ws") + "/ws/v5/public"})


def test_websocket_book_checks_sequence_and_checksum(fake):
    # OKX now sends no initial snapshot push: the book starts from GET /market/books (400 levels,
    # the channel's depth) and a gap is repaired from it again, not by subscribing anew
    fake.zero_checksum = False                                 # the legacy CRC32, still verified when sent

    async def go():
        runner = FeedRunner(feed_for(fake), [BTC]).start()
        try:
            await until(lambda: runner.book(BTC) is not None, what="first snapshot")
            fake.push_book(bids={"90995.0": "1.5"})
            await until(lambda: runner.book(BTC).best_bid.price == Decimal("90995.0"))
            fake.skip_next_seq = 1
            fake.push_book(asks={"91000.0": "0"})
            await until(lambda: runner.stats.gaps == 1 and runner.book(BTC) is not None, what="resync after gap")
            fake.corrupt_next_checksum = True
            fake.push_book(bids={"90996.0": "0.5"})
            await until(lambda: runner.stats.gaps == 2 and runner.book(BTC) is not None
                        and runner.book(BTC).best_bid.price == Decimal("90996.0"), what="resync after checksum")
            fake.push_trade("91010.0", "0.3", "sell")
            await until(lambda: runner.trades["BTC-USDT"])
            return runner.book(BTC), runner.stats, runner.trades["BTC-USDT"][0]
        finally:
            await runner.stop()
    book, stats, trade = asyncio.run(go())
    assert book.best_ask.price == Decimal("91010.0")          # the removed level stays removed after the resync
    books_subs = [s for s in fake.subscriptions if s["channel"] == "books"]
    assert len(books_subs) == 1 and stats.resyncs == 3        # REST: first, after the gap, after the checksum
    assert fake.book_queries == [("BTC-USDT", 400)] * 3
    assert trade.side == -1 and trade.size == Decimal("0.3")


def test_dropped_socket_serves_no_stale_book(fake):
    stale, book = asyncio.run(drop_and_recover(feed_for(fake), BTC, fake, lambda: fake.bids.__setitem__("90993.0", "4")))
    assert stale is None and book.best_bid.price == Decimal("90993.0")


def test_published_payloads_parse():
    feed = OkxFeed({})
    snap = feed.parse(json.loads((SAMPLES / "ws_books_snapshot.json").read_text()))[0]
    upd = feed.parse(json.loads((SAMPLES / "ws_books_update.json").read_text()))[0]
    assert snap.kind == "snapshot" and snap.seq == 123456 and upd.prev_seq == 123456 and upd.seq == 123457
    assert snap.asks[0] == (Decimal("8476.98"), Decimal("415"))
    (trade,) = feed.parse(json.loads((SAMPLES / "ws_trades.json").read_text()))
    assert trade.side == 1 and trade.price == Decimal("42219.9")
    insts = from_instruments(json.loads((SAMPLES / "http_get_instruments_spot.json").read_text())["data"])
    assert (insts[0].symbol, insts[0].tick_size, insts[0].min_qty, insts[0].status) == ("BTC-USD", Decimal("0.1"), Decimal("0.00001"), "trading")


def test_checksum_matches_the_documented_construction():
    # OKX's docs: "bid:ask" pairs interleaved, e.g. "3366.1:7:3366.8:9:..."; CRC32 as signed int32
    bids = [(Decimal("3366.1"), Decimal("7")), (Decimal("3366"), Decimal("6"))]
    asks = [(Decimal("3366.8"), Decimal("9")), (Decimal("3368"), Decimal("8")), (Decimal("3372"), Decimal("8"))]
    import zlib
    raw = zlib.crc32(b"3366.1:7:3366.8:9:3366:6:3368:8:3372:8")
    assert interleaved_crc32(bids, asks) == (raw - (1 << 32) if raw >= 1 << 31 else raw)


# -- the private orders stream ---------------------------------------------------------------------
def user_stream(fake, secret=SECRET):
    from sequence_venue_okx.stream import OkxUserStream

    settings = {"ws_url": fake.url.replace("http", "ws") + "/ws/v5/public"}
    return OkxUserStream(OkxClient(KEY, secret, PASS, fake.url), settings)


def test_a_resting_order_fill_arrives_on_the_private_stream_with_the_fill_id_rest_reports(fake):
    async def go():
        s = session(fake)
        async with StreamProbe(user_stream(fake), INSTRUMENTS) as probe:
            await until(lambda: probe.runner.live and fake.private, what="stream logged in and subscribed")
            await s.place(node(3, price="90000.0", kind="limit"), BTC)
            fake.fill_resting(node(3).client_order_id, "0.2")
            await until(lambda: any(st.fills for st in probe.states), what="fill pushed")
            rest_fills = await s.client.fills("BTC-USDT", probe.states[-1].venue_order_id)
        await s.close()
        return probe.states[-1], rest_fills
    state, rest_fills = asyncio.run(go())
    (fill,) = state.fills
    assert (state.status, state.filled_qty) == ("PARTIALLY_FILLED", Decimal("0.2"))
    assert (fill.price, fill.qty, fill.liquidity) == (Decimal("90000.0"), Decimal("0.2"), "maker")
    assert (fill.fee, fill.fee_asset) == (Decimal("0.2") * Decimal("0.0008"), "BTC")    # as charged
    assert fill.fill_id == rest_fills[0]["tradeId"]          # a poll of the same fill dedupes on it


def test_a_refused_private_login_is_an_auth_error_that_never_shows_the_secret(fake):
    probe = refused_login(user_stream(fake, secret="not-the-secret-xyz"), INSTRUMENTS)
    error, live, connects = probe.runner.stats.error, probe.runner.live, probe.connects
    assert "refused the private websocket login" in error and "not-the-secret-xyz" not in error
    assert not live and connects == 0 and fake.private == [] and fake.logins[0] is False


def test_the_stream_reconnects_and_asks_for_a_catch_up_each_time(fake):
    async def go():
        async with StreamProbe(user_stream(fake), INSTRUMENTS) as probe:
            await until(lambda: probe.connects, what="first connect")
            fake.drop_sockets()
            await until(lambda: probe.connects >= 2 and probe.runner.live, what="reconnect")
            return probe.runner.stats.reconnects
    assert asyncio.run(go()) >= 1 and fake.logins[:2] == [True, True]


def test_the_published_orders_pushes_parse_spot_in_base_and_swaps_from_contracts():
    from sequence_venue_okx.stream import OkxUserStream

    by_symbol = {i.venue_symbol: i for i in INSTRUMENTS}
    message = json.loads((SAMPLES / "ws_orders.json").read_text())          # BTC-USDT-SWAP: sizes in contracts
    (state,) = OkxUserStream(None, {}).parse(message, by_symbol)
    (fill,) = state.fills
    assert (state.client_order_id, state.status, state.filled_qty) == ("001BTCUSDT20250106001", "FILLED", Decimal("0.0003"))
    assert (fill.fill_id, fill.price, fill.qty, fill.fee, fill.fee_asset, fill.liquidity) == \
        ("1518905529", Decimal("103698.9"), Decimal("0.0003"), Decimal("0.021776769"), "USDT", "maker")
    spot = json.loads((SAMPLES / "ws_orders_ioc.json").read_text())          # BTC-USDT: sizes in BTC
    (state,) = OkxUserStream(None, {}).parse(spot, by_symbol)
    assert (state.client_order_id, state.filled_qty, state.qty) == ("IOC-TEST-001", Decimal("0.02"), Decimal("0.05"))
    # a later state push that repeats the tradeId with fillSz "0" is no fill: recorded under that
    # id it would hide the real one
    (o,) = message["data"]
    (again,) = OkxUserStream(None, {}).parse({**message, "data": [{**o, "fillSz": "0"}]}, by_symbol)
    assert again.fills == () and again.filled_qty == Decimal("0.0003")


# -- USDT perpetual swaps ------------------------------------------------------------------------------
def pnode(n=0, side="buy", qty="0.5", price="91000.0", kind="ioc"):
    gid = "graph_00000000beef"
    return NodeOrder(f"{gid}:node_{n}:0", gid, n, 0, "okx", "BTC-USDT-PERP", side, Decimal(qty),
                     Decimal(price) if price else None, kind, "PENDING_NEW", 0, 0)


def test_the_recorded_swap_specs_are_the_declared_perps_in_base_units():
    recorded = from_instruments(json.loads((SAMPLES / "http_get_instruments_swap.json").read_text())["data"])
    assert [i.venue_symbol for i in recorded] == ["ETH-USDT-SWAP", "BTC-USDT-SWAP"]     # inverse BTC-USD-SWAP left out
    declared = {i.venue_symbol: i for i in INSTRUMENTS}
    for r in recorded:
        d = declared[r.venue_symbol]
        assert (r.symbol, r.kind, r.quote, r.tick_size, r.lot_size, r.min_qty, r.min_notional, r.status) == \
            (d.symbol, "perp", "USDT", d.tick_size, d.lot_size, d.min_qty, Decimal(0), "trading")
    btc, eth, sol = (declared[f"{c}-USDT-SWAP"] for c in ("BTC", "ETH", "SOL"))
    assert (btc.symbol, btc.tick_size, btc.lot_size, btc.min_qty) == ("BTC-USDT-PERP", Decimal("0.1"), Decimal("0.0001"), Decimal("0.0001"))
    assert (eth.symbol, eth.tick_size, eth.lot_size) == ("ETH-USDT-PERP", Decimal("0.01"), Decimal("0.001"))
    assert (sol.symbol, sol.tick_size, sol.lot_size) == ("SOL-USDT-PERP", Decimal("0.01"), Decimal("0.01"))
    assert len({i.venue_symbol for i in INSTRUMENTS}) == len(INSTRUMENTS)                # unique next to spot


def test_base_units_and_contracts_convert_exactly_and_a_partial_lot_is_refused():
    assert f"{contracts(PERP, Decimal('0.5')):f}" == "50" and f"{contracts(PERP, Decimal('0.0123')):f}" == "1.23"
    assert base(PERP, "50") == Decimal("0.5") and str(base(PERP, "1.23")) == "0.0123"
    assert contracts(BTC, Decimal("0.00015")) == Decimal("0.00015")                   # spot sizes are base units
    with pytest.raises(InvalidOrder, match=re.escape("0.00015 BTC is not a whole number of BTC-USDT-SWAP lots: "
                                                     "the step is 0.0001 BTC (0.01 contracts of 0.01 BTC)")):
        contracts(PERP, Decimal("0.00015"))
    with pytest.raises(InvalidOrder, match=re.escape("0.00005 BTC is under the BTC-USDT-SWAP minimum of 0.0001 BTC")):
        contracts(PERP, Decimal("0.00005"))


def test_a_perp_ioc_buy_is_sent_in_contracts_and_positions_show_the_signed_size_and_entry(fake):
    async def work(s):
        state = await s.place(pnode(1), PERP)
        return state, await s.positions(), await s.balances()
    state, positions, balances = asyncio.run(using(session(fake), work))
    sent = fake.placed[-1]
    assert (sent["instId"], sent["tdMode"], sent["side"], sent["sz"], sent["ordType"], sent["px"]) == \
        ("BTC-USDT-SWAP", "cross", "buy", "50", "ioc", "91000.0")
    assert "posSide" not in sent and "tgtCcy" not in sent                            # net mode; tgtCcy is spot-only
    assert (state.status, state.filled_qty, state.qty) == ("FILLED", Decimal("0.5"), Decimal("0.5"))
    (f,) = state.fills
    assert (f.price, f.qty, f.fee_asset, f.liquidity) == (Decimal("91000.0"), Decimal("0.5"), "USDT", "taker")
    assert f.fee == Decimal("0.5") * Decimal("91000.0") * Decimal("0.0005")               # 0.05% of the notional, charged
    (p,) = positions
    assert (p.venue_symbol, p.qty, p.entry_price, p.mark_price) == ("BTC-USDT-SWAP", Decimal("0.5"), Decimal("91000"), Decimal("90995.0"))
    assert (p.unrealized_pnl, p.margin) == (Decimal("-2.5"), Decimal("4549.75")) and p.liquidation_price < p.entry_price
    assert balances["USDT"] == Decimal("100000")


def test_a_perp_sell_flips_the_position_and_a_buy_closes_it(fake):
    async def work(s):
        await s.place(pnode(1, qty="0.5"), PERP)
        await s.place(pnode(2, side="sell", qty="0.8", price="90990.0"), PERP)
        flipped = await s.positions()
        await s.place(pnode(3, qty="0.3"), PERP)
        return flipped, await s.positions()
    flipped, closed = asyncio.run(using(session(fake), work))
    (p,) = flipped
    assert (p.qty, p.entry_price) == (Decimal("-0.3"), Decimal("90990"))                # short 30 contracts
    assert closed == []
    assert [b["sz"] for b in fake.placed] == ["50", "80", "30"]
    assert fake.requests.count(("GET", "/api/v5/account/config")) == 1                 # the account mode, read once


def test_a_resting_perp_post_only_is_amended_in_contracts_then_cancelled(fake):
    async def work(s):
        n = pnode(4, price="90000.0", kind="post_only")
        placed = await s.place(n, PERP)
        amended = await s.amend(n, PERP, Decimal("89000.0"), Decimal("0.4"))
        open_, spot_open = await s.open_orders(PERP), await s.open_orders(BTC)
        cancelled = await s.cancel(n, PERP)
        return placed, amended, open_, spot_open, cancelled
    placed, amended, open_, spot_open, cancelled = asyncio.run(using(session(fake), work))
    resting = fake.orders[pnode(4).client_order_id]
    assert (placed.status, placed.qty, fake.placed[-1]["ordType"]) == ("NEW", Decimal("0.5"), "post_only")
    assert (resting["px"], resting["sz"]) == ("89000.0", "40")                         # newSz in contracts
    assert (amended.state.price, amended.state.qty, amended.state.venue_order_id) == \
        (Decimal("89000.0"), Decimal("0.4"), placed.venue_order_id)
    assert [(o.client_order_id, o.qty) for o in open_] == [(pnode(4).client_order_id, Decimal("0.4"))] and spot_open == []
    assert cancelled.status == "CANCELLED" and resting["state"] == "canceled"


@pytest.mark.parametrize("qty,price,what", [
    ("0.00015", "91000.0", "is not a whole number of BTC-USDT-SWAP lots"),
    ("0.00005", "91000.0", "is under the BTC-USDT-SWAP minimum of 0.0001 BTC"),
    ("0.5", "91000.05", "price 91000.05 is off the BTC-USDT-SWAP tick of 0.1"),
])
def test_bad_perp_input_is_a_clear_error_before_anything_is_sent(fake, qty, price, what):
    with pytest.raises(InvalidOrder, match=re.escape(what)):
        asyncio.run(using(session(fake), lambda s: s.place(pnode(5, qty=qty, price=price, kind="limit"), PERP)))
    with pytest.raises(InvalidOrder, match=re.escape(what)):
        asyncio.run(using(session(fake), lambda s: s.amend(pnode(5), PERP, Decimal(price), Decimal(qty))))
    assert fake.requests == []


@pytest.mark.parametrize("pos_mode,acct_lv,what", [
    ("long_short_mode", "2", "okx: the account is in long/short (hedge) position mode"),
    ("net_mode", "1", "okx: the account is in Spot mode (acctLv 1), which cannot trade perpetual swaps"),
])
def test_a_hedge_mode_or_spot_mode_account_is_refused_and_spot_still_trades(fake, pos_mode, acct_lv, what):
    fake.pos_mode, fake.acct_lv = pos_mode, acct_lv
    with pytest.raises(InvalidOrder, match=re.escape(what)):
        asyncio.run(using(session(fake), lambda s: s.place(pnode(6), PERP)))
    assert ("POST", "/api/v5/trade/order") not in fake.requests and fake.orders == {}
    assert asyncio.run(using(session(fake), lambda s: s.place(node(7), BTC))).status == "FILLED"


def test_the_recorded_position_and_pending_swap_order_parse_to_base_units():
    from sequence_venue_okx.execution import _position, _state

    row = json.loads((SAMPLES / "http_get_positions.json").read_text())["data"][0]     # 0.5 contracts, isolated
    p = _position(row, PERP)
    assert (p.venue_symbol, p.qty, p.entry_price, p.mark_price, p.unrealized_pnl, p.margin, p.liquidation_price) == \
        ("BTC-USDT-SWAP", Decimal("0.005"), Decimal("10000"), Decimal("10000"), Decimal("0"), Decimal("0.5"), Decimal("9000"))
    assert _position({**row, "posSide": "short"}, PERP).qty == Decimal("-0.005")           # hedge mode's short row
    order = json.loads((SAMPLES / "http_get_orders_pending.json").read_text())["data"][0]  # sz 0.10 contracts
    s = _state(order, PERP)
    assert (s.client_order_id, s.status, s.qty, s.price, s.filled_qty) == \
        ("client-order-1", "NEW", Decimal("0.001"), Decimal("103500"), Decimal(0))


def test_perp_books_stream_in_base_units_and_the_checksum_is_checked_over_contracts(fake):
    fake.zero_checksum = False

    async def go():
        snap = await feed_for(fake).snapshot(PERP)
        runner = FeedRunner(feed_for(fake), [PERP]).start()
        try:
            await until(lambda: runner.book(PERP) is not None, what="perp snapshot")
            fake.push_book(bids={"90995.0": "150"}, inst_id="BTC-USDT-SWAP")
            await until(lambda: runner.book(PERP).best_bid.price == Decimal("90995.0"))
            gaps_before = runner.stats.gaps
            fake.corrupt_next_checksum = True
            fake.push_book(asks={"91000.0": "0"}, inst_id="BTC-USDT-SWAP")
            await until(lambda: runner.stats.gaps == 1 and runner.book(PERP) is not None
                        and runner.book(PERP).best_ask.price == Decimal("91010.0"), what="resync after checksum")
            fake.push_trade("91010.0", "25", "buy", inst_id="BTC-USDT-SWAP")
            await until(lambda: runner.trades["BTC-USDT-SWAP"])
            return snap, gaps_before, runner.book(PERP), runner.trades["BTC-USDT-SWAP"][0]
        finally:
            await runner.stop()
    snap, gaps_before, book, trade = asyncio.run(go())
    assert snap.asks[0] == (Decimal("91000.0"), Decimal("2")) and snap.bids[1] == (Decimal("90980.0"), Decimal("3"))
    assert gaps_before == 0                                       # a matching checksum over contract counts
    assert (book.best_bid.price, book.best_bid.size, book.best_ask.size) == (Decimal("90995.0"), Decimal("1.5"), Decimal("3"))
    assert (trade.side, trade.size) == (1, Decimal("0.25"))
    assert [s["instId"] for s in fake.subscriptions if s["channel"] == "books"] == ["BTC-USDT-SWAP"]


def test_a_zero_checksum_is_no_checksum_as_okx_now_sends_it(fake):
    fake.zero_checksum = True

    async def go():
        runner = FeedRunner(feed_for(fake), [BTC, PERP]).start()
        try:
            await until(lambda: runner.book(BTC) is not None and runner.book(PERP) is not None, what="snapshots")
            fake.push_book(bids={"90995.0": "1.5"})
            fake.push_book(asks={"90999.0": "70"}, inst_id="BTC-USDT-SWAP")
            await until(lambda: runner.book(BTC).best_bid.price == Decimal("90995.0")
                        and runner.book(PERP).best_ask.size == Decimal("0.7"))
            return runner.stats
        finally:
            await runner.stop()
    stats = asyncio.run(go())
    assert stats.gaps == 0 and stats.resyncs == 2              # one REST snapshot per book, on connect


def test_the_legacy_initial_snapshot_push_still_seeds_the_book(fake):
    fake.ws_snapshots, fake.zero_checksum = True, False        # OKX before August 2026

    async def go():
        runner = FeedRunner(feed_for(fake), [BTC]).start()
        try:
            await until(lambda: runner.book(BTC) is not None, what="first book")
            fake.push_book(bids={"90995.0": "1.5"})
            await until(lambda: runner.book(BTC).best_bid.price == Decimal("90995.0"))
            return runner.stats
        finally:
            await runner.stop()
    stats = asyncio.run(go())
    assert stats.gaps == 0


def _update(prev, seq, bids=()):
    return {"arg": {"channel": "books", "instId": "BTC-USDT"}, "action": "update",
            "data": [{"asks": [], "bids": [list(b) for b in bids], "ts": "1", "checksum": 0, "prevSeqId": prev, "seqId": seq}]}


def test_updates_join_a_rest_snapshot_as_okx_documents():
    # https://www.okx.com/docs-v5/log_en/ "How to manage a local order book correctly": drop
    # buffered updates with seqId <= the snapshot's; the first kept has prevSeqId <= snapshot
    # seqId < seqId; then prevSeqId chains; a maintenance reset has seqId < prevSeqId
    from sequence_core.feeds import BookGap, BookUpdate, LocalBook

    feed = OkxFeed({})
    book = LocalBook("okx", "BTC-USDT")
    book.reset(BookUpdate("BTC-USDT", "snapshot", ((Decimal("90990.0"), Decimal("2")),), (), 105))
    (stale,) = feed.parse(_update(100, 103, [("90990.0", "9", "0", "1")]))
    assert book.apply(stale) is False and book.bids[Decimal("90990.0")] == Decimal("2")
    (straddling,) = feed.parse(_update(103, 107, [("90991.0", "1", "0", "1")]))
    assert book.apply(straddling) and book.seq == 107
    (quiet,) = feed.parse(_update(107, 107))                   # no change: seqId == prevSeqId
    book.apply(quiet)
    (reset,) = feed.parse(_update(107, 3))                     # seqId reset after maintenance
    assert book.apply(reset) and book.seq == 3
    assert book.apply(feed.parse(_update(3, 4))[0]) and book.seq == 4
    book.reset(BookUpdate("BTC-USDT", "snapshot", (), (), 105))
    with pytest.raises(BookGap):                               # the snapshot is older than the stream
        book.apply(feed.parse(_update(106, 110))[0])


def test_a_resting_perp_fill_arrives_on_the_private_stream_in_base_units(fake):
    async def go():
        s = session(fake)
        async with StreamProbe(user_stream(fake), INSTRUMENTS) as probe:
            await until(lambda: probe.runner.live and fake.private, what="stream logged in and subscribed")
            await s.place(pnode(8, price="90000.0", kind="limit"), PERP)
            fake.fill_resting(pnode(8).client_order_id, "20")
            await until(lambda: any(st.fills for st in probe.states), what="fill pushed")
            rest_fills = await s.client.fills("BTC-USDT-SWAP", probe.states[-1].venue_order_id, "SWAP")
        await s.close()
        return probe.states[-1], rest_fills
    state, rest_fills = asyncio.run(go())
    (fill,) = state.fills
    assert (state.status, state.filled_qty, state.qty) == ("PARTIALLY_FILLED", Decimal("0.2"), Decimal("0.5"))
    assert (fill.price, fill.qty, fill.fee_asset, fill.liquidity) == (Decimal("90000.0"), Decimal("0.2"), "USDT", "maker")
    assert fill.fee == Decimal("0.2") * Decimal("90000.0") * Decimal("0.0002")
    assert fill.fill_id == rest_fills[0]["tradeId"] and rest_fills[0]["fillSz"] == "20"


# -- perp funding from the account bills ---------------------------------------------------------------
DAY_MS, HOUR_MS = 86_400_000, 3_600_000


def test_a_recorded_funding_bill_and_an_expense_parse_signed_in_the_settlement_coin():
    from sequence_venue_okx.execution import _funding

    # a subType 174 (income) bill as OKX answered it, recorded in CCXT's okx fetchFundingHistory
    recorded = {"bal": "0.0242946200998573", "balChg": "0.0000148752712240", "billId": "377970609204146187",
                "ccy": "ETH", "execType": "", "fee": "0", "from": "", "instId": "ETH-USD-SWAP", "instType": "SWAP",
                "mgnMode": "isolated", "notes": "", "ordId": "", "pnl": "0.000014875271224", "posBal": "0",
                "posBalChg": "0", "subType": "174", "sz": "9", "to": "", "ts": "1636387215588", "type": "8"}
    p = _funding(recorded)
    assert (p.payment_id, p.venue_symbol, p.asset, p.amount, p.venue_ts_ns) == \
        ("377970609204146187", "ETH-USD-SWAP", "ETH", Decimal("0.0000148752712240"), 1636387215588 * 10**6)
    # subType 173 (expense): balChg, the change of the account balance, is negative
    paid = _funding({**recorded, "instId": "BTC-USDT-SWAP", "ccy": "USDT", "subType": "173", "balChg": "-1.3",
                     "pnl": "-1.3"})
    assert (paid.venue_symbol, paid.asset, paid.amount) == (PERP.venue_symbol, "USDT", Decimal("-1.3"))


def test_funding_pages_are_all_read_oldest_first_even_where_a_page_ends_inside_one_timestamp(fake):
    now = fake.now_ms()
    start = now - 6 * DAY_MS
    for n in range(84):                            # three swaps booked at each mark: pages end inside one ts
        for inst in ("BTC-USDT-SWAP", "ETH-USDT-SWAP", "SOL-USDT-SWAP"):
            fake.add_funding(inst, "-0.5" if n % 2 else "0.25", start + n * HOUR_MS)
    fake.bills.append({**fake.bills[0], "billId": "1", "type": "2", "subType": "3"})      # a trade bill: not funding
    got = asyncio.run(using(session(fake), lambda s: s.funding_payments((start - HOUR_MS) * 10**6)))
    assert len(got) == 252 and len({p.payment_id for p in got}) == 252
    assert {p.payment_id for p in got} == {b["billId"] for b in fake.bills if b["type"] == "8"}
    assert [p.venue_ts_ns for p in got] == sorted(p.venue_ts_ns for p in got)
    assert got[0].venue_ts_ns == start * 10**6 and got[-1].venue_ts_ns == (start + 83 * HOUR_MS) * 10**6
    assert sum(p.amount for p in got) == 42 * 3 * Decimal("0.25") + 42 * 3 * Decimal("-0.5")
    queries = [q for path, q in fake.bill_queries]
    assert [path for path, q in fake.bill_queries] == ["/api/v5/account/bills"] * 4      # 100, 100, 52, then none
    assert {(q["instType"], q["type"], q["limit"]) for q in queries} == {("SWAP", "8", "100")}
    ids = sorted((int(b["billId"]) for b in fake.bills if b["type"] == "8"), reverse=True)
    assert "after" not in queries[0] and [int(q["after"]) for q in queries[1:]] == [ids[99], ids[199], ids[-1]]


def test_funding_since_is_honoured_to_the_millisecond(fake):
    at = fake.now_ms() - DAY_MS
    for ms in (at - 1, at, at + 1):
        fake.add_funding("BTC-USDT-SWAP", "-0.1", ms)
    exact = asyncio.run(using(session(fake), lambda s: s.funding_payments(at * 10**6)))
    later = asyncio.run(using(session(fake), lambda s: s.funding_payments(at * 10**6 + 1)))
    assert [p.venue_ts_ns // 10**6 for p in exact] == [at, at + 1]          # nothing older, the bill at since kept
    assert [p.venue_ts_ns // 10**6 for p in later] == [at + 1]


def test_funding_older_than_7_days_comes_from_the_archive_once(fake, caplog):
    now = fake.now_ms()
    stamps = [now - 100 * DAY_MS, now - 10 * DAY_MS, now - 8 * DAY_MS, now - 6 * DAY_MS, now - HOUR_MS]
    bills = [fake.add_funding("BTC-USDT-SWAP", str(-n - 1), ts) for n, ts in enumerate(stamps)]
    got = asyncio.run(using(session(fake), lambda s: s.funding_payments((now - 12 * DAY_MS) * 10**6)))
    assert [p.payment_id for p in got] == [b["billId"] for b in bills[1:]]          # 6 days ago: in both, kept once
    paths = [path for path, q in fake.bill_queries]
    assert paths == ["/api/v5/account/bills-archive"] * 2 + ["/api/v5/account/bills"] * 2
    archive_begin, recent_begin = (int(fake.bill_queries[i][1]["begin"]) for i in (0, 2))
    assert archive_begin == now - 12 * DAY_MS - 1
    assert now - 7 * DAY_MS < recent_begin < now - 6 * DAY_MS - HOUR_MS   # inside the 7 days, overlapping the archive
    fake.bill_queries.clear()
    asyncio.run(using(session(fake), lambda s: s.funding_payments((now - 2 * DAY_MS) * 10**6)))
    assert [path for path, q in fake.bill_queries] == ["/api/v5/account/bills"] * 2  # recent: no archive read
    with caplog.at_level("WARNING", logger="sequence.venue.okx"):
        got = asyncio.run(using(session(fake), lambda s: s.funding_payments((now - 120 * DAY_MS) * 10**6)))
    assert len(got) == 4 and "older than the 3 months the bills archive keeps" in caplog.text


def test_funding_past_the_request_cap_raises_instead_of_returning_part(fake, monkeypatch):
    from sequence_core.errors import VenueError
    from sequence_venue_okx import execution

    monkeypatch.setattr(execution, "FUNDING_REQUESTS", 2)
    for n in range(250):
        fake.add_funding("BTC-USDT-SWAP", "-0.1", fake.now_ms() - DAY_MS + n)
    with pytest.raises(VenueError, match="need more than 2 requests"):
        asyncio.run(using(session(fake), lambda s: s.funding_payments((fake.now_ms() - 2 * DAY_MS) * 10**6)))


def test_a_refused_funding_read_is_an_auth_error_and_the_fake_refuses_unsigned_bills(fake):
    import urllib.error
    import urllib.request

    fake.add_funding("BTC-USDT-SWAP", "-0.1", fake.now_ms() - HOUR_MS)
    with pytest.raises(AuthenticationError) as err:
        asyncio.run(using(session(fake, secret="wrong-secret-77"), lambda s: s.funding_payments(0)))
    assert "50113" in str(err.value) and "wrong-secret-77" not in str(err.value)
    with pytest.raises(urllib.error.HTTPError) as unsigned:
        urllib.request.urlopen(fake.url + "/api/v5/account/bills?instType=SWAP&type=8", timeout=5)
    assert unsigned.value.code == 401 and json.loads(unsigned.value.read())["code"] == "50111"


# -- [venues.okx] leverage ----------------------------------------------------------------------------
def levered(fake, leverage) -> OkxSession:
    return OkxSession(OkxClient(KEY, SECRET, PASS, fake.url), {"leverage": leverage})


def test_leverage_is_set_once_per_swap_before_its_first_order_and_never_for_spot(fake):
    async def work(s):
        await s.place(node(1), BTC)                                   # spot: no leverage call
        await s.place(pnode(2), PERP)
        await s.place(pnode(3, side="sell", price="90990.0"), PERP)
    asyncio.run(using(levered(fake, 5), work))
    assert fake.leverage_sets == [("BTC-USDT-SWAP", "5", 1)]          # once, after the spot order, before the swap's
    assert fake.leverage == {"BTC-USDT-SWAP": "5"} and fake.orders[pnode(2).client_order_id]["lever"] == "5"
    asyncio.run(using(levered(fake, 5), lambda s: s.place(pnode(4), PERP)))
    assert [n for _, _, n in fake.leverage_sets] == [1, 3]            # a new session sets it again, first thing


def test_without_the_setting_the_account_leverage_is_left_alone(fake):
    asyncio.run(using(session(fake), lambda s: s.place(pnode(1), PERP)))
    assert fake.leverage_sets == [] and ("POST", "/api/v5/account/set-leverage") not in fake.requests


def test_a_lever_changed_at_the_venue_is_set_again_before_the_next_order(fake):
    async def work(s):
        await s.place(pnode(1), PERP)
        fake.leverage["BTC-USDT-SWAP"] = "20"                         # changed in OKX's app meanwhile
        await s.place(pnode(2, side="sell", price="90990.0"), PERP)   # its order reads lever 20
        await s.place(pnode(3), PERP)
    asyncio.run(using(levered(fake, 5), work))
    assert [(lever, n) for _, lever, n in fake.leverage_sets] == [("5", 0), ("5", 2)]
    assert fake.orders[pnode(3).client_order_id]["lever"] == "5"


def test_a_leverage_over_the_maximum_is_a_clear_error_before_the_order(fake):
    with pytest.raises(InvalidOrder) as refused:
        asyncio.run(using(levered(fake, 150), lambda s: s.place(pnode(1), PERP)))
    message = str(refused.value)
    assert "leverage 150 refused for BTC-USDT-SWAP (BTC-USDT-PERP)" in message and "(59102)" in message
    assert "OKX allows at most 100x on it" in message
    assert fake.placed == [] and ("POST", "/api/v5/trade/order") not in fake.requests


@pytest.mark.parametrize("value", [0, -3, 2.5, "5", True])
def test_a_leverage_that_is_not_a_positive_whole_number_is_refused_when_the_session_is_built(value):
    from sequence_core.errors import ConfigError
    from sequence_venue_okx.venue import OkxVenue

    with pytest.raises(ConfigError, match=re.escape(f"[venues.okx] leverage = {value!r} is not a positive whole number")):
        OkxVenue().execution_session({"api_key": KEY, "api_secret": SECRET, "passphrase": PASS},
                                     {"base_url": "http://127.0.0.1:9", "leverage": value})
