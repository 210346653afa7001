"""A unified trading account (UTA, the v3 API) against the fake server: the account mode is
detected once (v3 for a UTA, v2 for a Classic account), then spot and perp orders, lookup by
clientOid after a lost answer or a restart, fills with the fee charged, balances, positions
and funding from the financial records; wrong-mode refusals said as a setting to change."""

import asyncio
import sys
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fake_bitget import unified_account  # noqa: E402
from sequence_core.errors import AuthenticationError, InvalidOrder, NetworkError  # noqa: E402
from sequence_core.orders import NodeOrder  # noqa: E402
from sequence_venue_bitget.execution import BitgetSession  # noqa: E402
from sequence_venue_bitget.http import BitgetClient  # noqa: E402
from sequence_venue_bitget.symbols import INSTRUMENTS  # noqa: E402

KEY, SECRET, PASS = "bitget-uta-key", "bitget-uta-secret", "uta pass"
BTC = next(i for i in INSTRUMENTS if i.symbol == "BTC-USDT")
BTC_PERP = next(i for i in INSTRUMENTS if i.kind == "perp" and i.base == "BTC")
DAY_MS = 86_400_000


@pytest.fixture
def fake():
    with unified_account(KEY, SECRET, PASS) as server:
        yield server


def session(fake, account="auto") -> BitgetSession:
    return BitgetSession(BitgetClient(KEY, SECRET, PASS, fake.url), {"account": account})


async def using(s, work):
    try:
        return await work(s)
    finally:
        await s.close()


def run(fake, work, **kw):
    return asyncio.run(using(session(fake, **kw), work))


def node(n=0, side="buy", qty="0.5", price="91000.00", kind="ioc", inst=BTC):
    gid = "graph_00000000a7a0"
    return NodeOrder(f"{gid}:node_{n}:0", gid, n, 0, "bitget", inst.symbol, side, Decimal(qty),
                     Decimal(price) if price else None, kind, "PENDING_NEW", 0, 0)


def v2_private(fake):
    return [r for r in fake.requests if r[1].startswith("/api/v2/") and "/public/" not in r[1] and "/market/" not in r[1]]


def test_auto_detects_a_uta_once_and_trades_over_v3_only(fake):
    async def work(s):
        return await s.balances(), await s.place(node(), BTC)
    balances, state = run(fake, work)
    assert balances == {"BTC": Decimal("1"), "USDT": Decimal("90000")}      # one wallet: no perp margin apart
    assert state.status == "FILLED" and fake.requests.count(("GET", "/api/v3/account/settings")) == 1
    assert v2_private(fake) == []


def test_auto_detects_a_classic_account_and_keeps_v2(fake):
    fake.uta = False

    async def work(s):
        return await s.balances()
    assert run(fake, work)["USDT"] == Decimal("100000")     # the v2 spot assets
    assert ("GET", "/api/v2/spot/account/assets") in fake.requests
    assert not any(r[1].startswith("/api/v3/") and r[1] != "/api/v3/account/settings" for r in fake.requests)


def test_a_classic_setting_on_a_uta_is_refused_as_a_setting_to_change(fake):
    with pytest.raises(AuthenticationError, match='account = "uta" or "auto"') as err:
        run(fake, lambda s: s.balances(), account="classic")
    assert "40085" in str(err.value) and SECRET not in str(err.value) and PASS not in str(err.value)
    assert ("GET", "/api/v3/account/settings") not in fake.requests      # the setting is not second-guessed


def test_spot_ioc_buy_fills_with_the_fee_in_the_base_charged(fake):
    state = run(fake, lambda s: s.place(node(1), BTC), account="uta")
    (fill,) = state.fills
    assert (state.status, state.filled_qty, fill.price, fill.qty) == ("FILLED", Decimal("0.5"), Decimal("91000.00"), Decimal("0.5"))
    assert (fill.fee, fill.fee_asset, fill.liquidity) == (Decimal("0.0005"), "BTC", "taker")
    assert ("POST", "/api/v3/trade/place-order") in fake.requests and v2_private(fake) == []


def test_spot_market_sell_post_only_and_market_buy_refused(fake):
    async def work(s):
        sold = await s.place(node(2, side="sell", qty="0.1", price=None, kind="market"), BTC)
        post = await s.place(node(3, price="91500.00", kind="post_only"), BTC)
        with pytest.raises(InvalidOrder, match="quote coin"):
            await s.place(node(4, price=None, kind="market"), BTC)
        return sold, post
    sold, post = run(fake, work, account="uta")
    assert sold.status == "FILLED" and sold.fills[0].fee_asset == "USDT" and sold.fills[0].price == Decimal("90990.00")
    assert post.status == "CANCELLED" and post.filled_qty == 0
    assert node(4).client_order_id not in fake.orders


def test_resting_order_listed_then_cancelled_and_unknown_is_none(fake):
    n = node(5, price="90000.00", kind="limit")

    async def work(s):
        placed = await s.place(n, BTC)
        listed = await s.open_orders(BTC)
        return placed, listed, await s.cancel(n, BTC), await s.cancel(n, BTC), await s.order_state("sqnothing", BTC)
    placed, listed, cancelled, again, unknown = run(fake, work, account="uta")
    assert placed.status == "NEW" and placed.price == Decimal("90000.00") and placed.qty == Decimal("0.5")
    assert [(o.client_order_id, o.price) for o in listed] == [(n.client_order_id, Decimal("90000.00"))]
    assert cancelled.status == again.status == "CANCELLED" and unknown is None


def test_a_lost_place_answer_is_found_by_client_oid_without_a_second_order(fake):
    fake.lose_next_place_answer = True
    n = node(6)
    with pytest.raises(NetworkError):
        run(fake, lambda s: s.place(n, BTC), account="uta")
    found = run(fake, lambda s: s.order_state(n.client_order_id, BTC), account="uta")       # a restart
    assert found.status == "FILLED" and found.fills[0].qty == Decimal("0.5")
    assert fake.requests.count(("POST", "/api/v3/trade/place-order")) == 1 and list(fake.orders) == [n.client_order_id]


def test_perp_buy_position_and_sell_flips_it(fake):
    async def work(s):
        bought = await s.place(node(7, qty="0.5", price="91000.0", inst=BTC_PERP), BTC_PERP)
        long_ = await s.positions()
        sold = await s.place(node(8, side="sell", qty="1", price=None, kind="market", inst=BTC_PERP), BTC_PERP)
        return bought, long_, sold, await s.positions()
    bought, long_, sold, short = run(fake, work, account="uta")
    assert bought.status == "FILLED" and bought.fills[0].fee == Decimal("27.3") and bought.fills[0].fee_asset == "USDT"
    (p,) = long_
    assert (p.venue_symbol, p.qty, p.entry_price, p.liquidation_price) == ("BTCUSDT_UMCBL", Decimal("0.5"), Decimal("91000.0"), None)
    assert sold.status == "FILLED" and short[0].qty == Decimal("-0.5")
    placed = [p for p in fake.perp_places]
    assert placed[0]["marginMode"] == "crossed" and placed[1]["orderType"] == "market"


@pytest.mark.parametrize("attr,value,words", [("pos_mode", "hedge_mode", "hedge mode"), ("margin_mode", "isolated", "isolated")])
def test_hedge_mode_or_isolated_margin_is_refused_before_sending(fake, attr, value, words):
    setattr(fake, attr, value)
    with pytest.raises(InvalidOrder, match=words):
        run(fake, lambda s: s.place(node(9, inst=BTC_PERP, price="91000.0"), BTC_PERP), account="uta")
    assert fake.perp_places == []


def test_funding_from_the_financial_records_signed_by_type_oldest_first(fake):
    now = fake.now_ms()
    paid = fake.book_record("BTCUSDT", "CONTRACT_MAIN_SETTLE_FEE_USER_OUT", "-0.25", now - 40 * DAY_MS)
    got = fake.book_record("ETHUSDT", "CONTRACT_MAIN_SETTLE_FEE_USER_IN", "0.1", now - 2 * DAY_MS)
    fake.book_record("BTCUSDT", "ORDER_DEALT_IN", "5", now - DAY_MS)                  # a trade, not funding
    fake.book_record("BTCUSDT", "CONTRACT_MAIN_SETTLE_FEE_USER_OUT", "-9", now - 80 * DAY_MS)   # before since
    pays = run(fake, lambda s: s.funding_payments((now - 60 * DAY_MS) * 1_000_000), account="uta")
    assert [(p.payment_id, p.venue_symbol, p.asset, p.amount) for p in pays] == [
        (paid, "BTCUSDT_UMCBL", "USDT", Decimal("-0.25")), (got, "ETHUSDT_UMCBL", "USDT", Decimal("0.1"))]
    assert all(int(r["endTime"]) - int(r["startTime"]) <= 30 * DAY_MS for r in fake.bill_reads)
    assert ("GET", "/api/v2/mix/account/bill") not in fake.requests


def test_funding_pages_by_cursor(fake):
    now = fake.now_ms()
    ids = [fake.book_record("BTCUSDT", "CONTRACT_MAIN_SETTLE_FEE_USER_IN", "0.01", now - DAY_MS + i) for i in range(150)]
    pays = run(fake, lambda s: s.funding_payments((now - 5 * DAY_MS) * 1_000_000), account="uta")
    assert [p.payment_id for p in pays] == ids and any("cursor" in r for r in fake.bill_reads)


def test_a_bad_setting_is_refused_clearly(fake):
    with pytest.raises(Exception, match="none of auto, classic, uta"):
        run(fake, lambda s: s.balances(), account="unified")
