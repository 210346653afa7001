"""The Binance adapter against the fake server: signing as Binance verifies it, orders,
faults (429, 5xx on a place, malformed answers, clock skew, bad credentials)."""

import asyncio
import sys
from pathlib import Path
from decimal import Decimal

import pytest

sys.path.insert(0, str(Path(__file__).parent))   # the fake server beside this file
from fake_binance import FakeBinance  # noqa: E402
from sequence_core.errors import AuthenticationError, InvalidOrder, NetworkError
from sequence_core.orders import NodeOrder
from sequence_venue_binance.execution import BinanceSession
from sequence_venue_binance.http import BinanceClient
from sequence_venue_binance.symbols import SYMBOLS, INSTRUMENTS

KEY, SECRET = "test-api-key-0001", "test-secret-0001"
BTC = next(i for i in INSTRUMENTS if i.symbol == "BTC-USDT")


@pytest.fixture
def fake():
    server = FakeBinance(KEY, SECRET)
    url = server.start()
    server.url = url
    yield server
    server.stop()


def node(cid_node=0, side="buy", qty="0.5", price="91000.00", kind="ioc"):
    gid = "graph_00000000beef"
    return NodeOrder(f"{gid}:node_{cid_node}:0", gid, cid_node, 0, "binance", "BTC-USDT", side, Decimal(qty),
                     Decimal(price) if price else None, kind, "PENDING_NEW", 0, 0)


def run(coro):
    return asyncio.run(coro)


def test_place_fills_with_the_commission_as_charged(fake):
    async def go():
        session = BinanceSession(BinanceClient(KEY, SECRET, fake.url))
        try:
            return await session.place(node(), BTC)
        finally:
            await session.close()
    state = run(go())
    assert state.status == "FILLED" and state.filled_qty == Decimal("0.5")
    f = state.fills[0]
    assert f.price == Decimal("91000.00") and (f.fee, f.fee_asset) == (Decimal("0.0005"), "BTC")   # out of the BTC bought
    assert SYMBOLS.to_venue("BTC-USDT") == "BTCUSDT"


def test_order_state_by_client_id_and_cancel(fake):
    async def go():
        session = BinanceSession(BinanceClient(KEY, SECRET, fake.url))
        try:
            resting = node(1, price="90000.00", kind="limit")
            placed = await session.place(resting, BTC)
            seen = await session.order_state(resting.client_order_id, BTC)
            cancelled = await session.cancel(resting, BTC)
            unknown = await session.order_state("sqnothingn0s0", BTC)
            return placed, seen, cancelled, unknown
        finally:
            await session.close()
    placed, seen, cancelled, unknown = run(go())
    assert placed.status == seen.status == "NEW" and cancelled.status == "CANCELLED" and unknown is None


def test_post_only_that_would_take_is_refused_with_the_venues_reason(fake):
    async def go():
        session = BinanceSession(BinanceClient(KEY, SECRET, fake.url))
        try:
            await session.place(node(2, price="91500.00", kind="post_only"), BTC)
        finally:
            await session.close()
    with pytest.raises(InvalidOrder, match="would immediately match"):
        run(go())


def test_wrong_secret_is_an_authentication_error_without_the_secret(fake):
    async def go():
        client = BinanceClient(KEY, "not-the-secret", fake.url)
        try:
            await client.account()
        finally:
            await client.close()
    with pytest.raises(AuthenticationError) as err:
        run(go())
    assert "not-the-secret" not in str(err.value) and "-1022" in str(err.value)


def test_rate_limit_is_honoured_then_the_read_succeeds(fake):
    fake.rate_limit_next = 2

    async def go():
        client = BinanceClient(KEY, SECRET, fake.url)
        try:
            return await client.account()
        finally:
            await client.close()
    assert run(go())["balances"]
    assert [r for r in fake.requests if r[1] == "/api/v3/account"].__len__() == 3     # 2 x 429, then the answer


def test_a_place_is_never_retried_but_the_engine_can_ask(fake):
    fake.post_503_next = 1

    async def go():
        session = BinanceSession(BinanceClient(KEY, SECRET, fake.url))
        try:
            with pytest.raises(NetworkError):
                await session.place(node(3), BTC)
            return await session.order_state(node(3).client_order_id, BTC)
        finally:
            await session.close()
    assert run(go()) is None                                     # it never arrived: safe to route again
    assert [r for r in fake.requests if r[0] == "POST"].__len__() == 1


def test_malformed_answers_are_retried_for_reads(fake):
    fake.malformed_next = 1

    async def go():
        client = BinanceClient(KEY, SECRET, fake.url)
        try:
            await client.ping()
        finally:
            await client.close()
    run(go())


def test_clock_skew_resyncs_once(fake):
    fake.clock_offset_ms = 60_000                                # Binance a minute ahead of us

    async def go():
        client = BinanceClient(KEY, SECRET, fake.url)
        try:
            return await client.account(), client.clock.offset_ms
        finally:
            await client.close()
    account, offset = run(go())
    assert account["balances"] and 59_000 < offset < 61_000


@pytest.mark.parametrize("legacy", [False, True])
def test_an_expired_order_says_why_when_binance_does(fake, legacy):
    # expiryReason: in order placement answers since 2026-03-26 and order queries since 2026-05-08
    # (spot CHANGELOG); before that, and in the legacy shape, there is none and no reason is made up
    fake.legacy_reports = legacy

    async def go():
        session = BinanceSession(BinanceClient(KEY, SECRET, fake.url))
        try:
            unfilled = node(3, side="buy", price="90500.00")          # IOC below the ask: nothing fills
            placed = await session.place(unfilled, BTC)
            return placed, await session.order_state(unfilled.client_order_id, BTC)
        finally:
            await session.close()
    placed, seen = run(go())
    want = "" if legacy else "UNFILLED_IOC_QUANTITY_EXPIRED"
    assert (placed.status, placed.reason) == (seen.status, seen.reason) == ("EXPIRED", want)
