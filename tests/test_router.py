"""SOR decisions on small hand-computed books."""

from decimal import Decimal as D

from sequence_core.market import BookLevel, Instrument, OrderBook
from sequence_core.router import route


def book(venue, asks, bids=(), lot="0.01", min_notional="0"):
    inst = Instrument(venue, "BTC-USD", "BTCUSD", "crypto", "BTC", "USD", D("0.01"), D(lot), D(min_notional))
    lv = lambda rows: tuple(BookLevel(D(p), D(q)) for p, q in rows)
    return OrderBook(venue, "BTC-USD", 0, 0, lv(bids), lv(asks)), inst


def legs(result):
    return {l.venue: l for l in result}


def test_cheapest_after_fees_wins():
    # a: 100.00 + 30 bps = 100.30 net; b: 100.10 + 5 bps = 100.150 net -> b first
    a, ia = book("a", [("100.00", "1")])
    b, ib = book("b", [("100.10", "1")])
    r = legs(route("buy", D("1"), [(a, ia, D("0.003")), (b, ib, D("0.0005"))]))
    assert r["b"].qty == D("1") and r["a"].qty == 0
    assert "cheaper liquidity elsewhere" in r["a"].reason


def test_split_walks_levels_across_venues():
    a, ia = book("a", [("100.00", "1"), ("100.20", "5")])
    b, ib = book("b", [("100.10", "1"), ("100.30", "5")])
    r = legs(route("buy", D("3"), [(a, ia, D("0")), (b, ib, D("0"))]))
    # order of levels: a 100.00 (1), b 100.10 (1), a 100.20 (1 of 5)
    assert r["a"].qty == D("2") and r["a"].limit_price == D("100.20") and r["a"].expected_avg == D("100.10")
    assert r["b"].qty == D("1") and r["b"].limit_price == D("100.10")


def test_slippage_cap_bounds_the_worst_price():
    a, ia = book("a", [("100.00", "1"), ("100.50", "10")])
    r = legs(route("buy", D("5"), [(a, ia, D("0"))], max_slippage_bps=10))   # bound 100.10
    assert r["a"].qty == D("1") and r["a"].limit_price == D("100.00")


def test_limit_price_bounds_sells():
    a, ia = book("a", [], bids=[("99.00", "1"), ("98.00", "3")])
    r = legs(route("sell", D("4"), [(a, ia, D("0"))], limit=D("98.50"), max_slippage_bps=1000))
    assert r["a"].qty == D("1")


def test_no_fee_data_is_never_routed():
    a, ia = book("a", [("90.00", "10")])
    b, ib = book("b", [("100.00", "10")])
    r = legs(route("buy", D("1"), [(a, ia, None), (b, ib, D("0.001"))], max_slippage_bps=5000))
    assert r["a"].qty == 0 and "no fee data" in r["a"].reason and r["b"].qty == D("1")


def test_lot_rounding_and_minimum_notional():
    a, ia = book("a", [("100.00", "0.015")], lot="0.01")
    b, ib = book("b", [("100.05", "1")], min_notional="50")
    r = legs(route("buy", D("0.1"), [(a, ia, D("0")), (b, ib, D("0"))]))
    assert r["a"].qty == D("0.01") and "rounded to lot" in r["a"].reason
    assert r["b"].qty == 0 and "minimum" in r["b"].reason     # 0.085 * 100.05 < 50


def test_what_a_venues_lot_cuts_off_goes_to_a_venue_with_a_finer_lot():
    # a (lot 0.01) is cheaper and deep, but cannot take the last 0.005: b (lot 0.001) does,
    # so the shares add up to the order instead of leaving a crumb no venue would take later
    a, ia = book("a", [("100.00", "10")], lot="0.01")
    b, ib = book("b", [("100.05", "10")], lot="0.001")
    r = legs(route("buy", D("2.345"), [(a, ia, D("0")), (b, ib, D("0"))]))
    assert r["a"].qty == D("2.34") and r["b"].qty == D("0.005")
    # a level whose size is not in whole lots gives what it can; the next level takes the rest
    c, ic = book("c", [("100.00", "0.015"), ("100.01", "5")], lot="0.01")
    r = legs(route("buy", D("0.03"), [(c, ic, D("0"))]))
    assert r["c"].qty == D("0.03") and r["c"].limit_price == D("100.01") and "rounded to lot" in r["c"].reason


def test_a_share_under_its_venues_minimum_goes_to_a_venue_that_can_take_it():
    # b is cheapest for the last 0.004 but its minimum notional is 1: that piece would be
    # dropped (and later fit nowhere); a's next level takes it instead
    a, ia = book("a", [("100.00", "1"), ("100.10", "5")], lot="0.001")
    b, ib = book("b", [("100.05", "5")], lot="0.001", min_notional="1")
    r = legs(route("buy", D("1.004"), [(a, ia, D("0")), (b, ib, D("0"))]))
    assert r["a"].qty == D("1.004") and r["a"].limit_price == D("100.10")
    assert r["b"].qty == 0 and "share 0.004 under the venue minimum" in r["b"].reason


def test_a_crumb_under_every_minimum_takes_lots_from_a_share_that_can_spare_them():
    # a (lot 0.0001) is cheapest and takes 0.1666 of 0.166667; the 0.000067 its lot cuts off
    # is under b's minimum notional (1): b takes it with 0.0003 moved from a, so the order
    # fills whole (it ended PARTIALLY_FILLED with a remainder no venue would take)
    a, ia = book("a", [("3000.00", "10")], lot="0.0001")
    b, ib = book("b", [("3000.50", "10")], lot="0.000001", min_notional="1")
    r = legs(route("buy", D("0.166667"), [(a, ia, D("0")), (b, ib, D("0"))]))
    assert r["a"].qty + r["b"].qty == D("0.166667")
    assert r["b"].qty == D("0.000367") and r["a"].qty == D("0.1663")        # 0.000367 x 3000.50 >= 1
    assert "0.0003 moved from a" in r["b"].reason and "0.0003 moved to b" in r["a"].reason
    # a crumb of 1e-7 is written plainly ("the last 1E-7" was written)
    a, ia = book("a", [("3000.00", "10")], lot="0.00001")
    b, ib = book("b", [("3000.50", "10")], lot="0.00000001", min_notional="1")
    r = legs(route("buy", D("0.0100001"), [(a, ia, D("0")), (b, ib, D("0"))]))
    assert "the last 0.0000001 " in r["b"].reason and "E-" not in r["a"].reason + r["b"].reason
    # a sell the same way, and nothing moves when no venue could take the crumb at all
    a, ia = book("a", [], bids=[("3000.00", "10")], lot="0.0001")
    b, ib = book("b", [], bids=[("2999.50", "10")], lot="0.000001", min_notional="1")
    r = legs(route("sell", D("0.166667"), [(a, ia, D("0")), (b, ib, D("0"))]))
    assert r["a"].qty + r["b"].qty == D("0.166667") and r["b"].qty == D("0.000367")
    c, ic = book("c", [("3000.50", "10")], lot="0.001", min_notional="1")
    a, ia = book("a", [("3000.00", "10")], lot="0.0001")
    r = legs(route("buy", D("0.166667"), [(a, ia, D("0")), (c, ic, D("0"))]))
    assert r["a"].qty == D("0.1666") and r["c"].qty == 0                      # c's lot cannot hold 0.000067


def test_balance_caps_a_venue():
    a, ia = book("a", [("100.00", "10")])
    b, ib = book("b", [("100.01", "10")])
    r = legs(route("buy", D("5"), [(a, ia, D("0")), (b, ib, D("0"))], available={"a": D("200"), "b": D("1000000")}))
    assert r["a"].qty == D("2") and "capped by balance" in r["a"].reason
    # what a could not pay for goes to the next best venue instead of being dropped
    assert r["b"].qty == D("3") and "capped" not in r["b"].reason


def test_a_capped_share_is_paid_at_its_worst_level_with_the_fee():
    # a's 1 @ 100 and 1 @ 110 cost 220 at the worst level (the child is limited there), 1% fee:
    # 215 pays for 215 / (110 x 1.01) = 1.935... -> 1.93 at lot 0.01; b takes the rest
    a, ia = book("a", [("100.00", "1"), ("110.00", "5")])
    b, ib = book("b", [("120.00", "10")])
    r = legs(route("buy", D("4"), [(a, ia, D("0.01")), (b, ib, D("0.01"))], max_slippage_bps=5000,
                   available={"a": D("215"), "b": D("10000")}))
    assert r["a"].qty == D("1.93") and r["a"].limit_price == D("110.00")
    assert r["a"].qty * r["a"].limit_price * D("1.01") <= D("215")
    assert r["b"].qty == D("2.07")          # in whole lots: the shares add up to the order


def test_a_sell_is_capped_by_the_holding_and_an_empty_account_says_so():
    a, ia = book("a", [], bids=[("100.00", "10")])
    b, ib = book("b", [], bids=[("99.00", "10")])
    c, ic = book("c", [], bids=[("99.50", "10")])
    r = legs(route("sell", D("4"), [(a, ia, D("0")), (b, ib, D("0")), (c, ic, D("0"))],
                   max_slippage_bps=500, available={"a": D("1.5"), "b": D("10"), "c": D("0")}))
    assert r["a"].qty == D("1.5") and r["b"].qty == D("2.5")
    assert r["c"].qty == 0 and r["c"].reason == "capped by balance 0"


def test_a_perp_share_is_capped_by_margin_at_the_venues_leverage():
    inst = Instrument("a", "BTC-USDT-PERP", "BTCUSDT", "perp", "BTC", "USDT", D("0.1"), D("0.001"))
    a = OrderBook("a", "BTC-USDT-PERP", 0, 0, (BookLevel(D("99000"), D("9")),), (BookLevel(D("100000"), D("9")),))
    for side in ("buy", "sell"):   # margin either way: 100,000 at 5x pays for 5 BTC
        r = legs(route(side, D("8"), [(a, inst, D("0"))], available={"a": D("100000")}, leverage={"a": 5}))
        assert r["a"].qty == (D("5") if side == "buy" else D("5.050")), side


def test_urgency_sets_the_default_cap():
    a, ia = book("a", [("100.00", "1"), ("100.30", "10")])
    low = legs(route("buy", D("5"), [(a, ia, D("0"))], urgency="low"))      # 10 bps: 100.10
    high = legs(route("buy", D("5"), [(a, ia, D("0"))], urgency="high"))    # 200 bps
    assert low["a"].qty == D("1") and high["a"].qty == D("5")


def test_empty_books():
    a, ia = book("a", [])
    r = route("buy", D("1"), [(a, ia, D("0"))])
    assert r[0].qty == 0 and r[0].reason == "empty book"


def test_a_whole_average_price_is_written_plainly():
    a, ia = book("a", [("91000", "1")])
    assert str(legs(route("buy", D("0.01"), [(a, ia, D("0"))]))["a"].expected_avg) == "91000"     # was 9.1E+4


def test_the_sor_slippage_cap_holds_from_the_arrival_touch_over_every_round():
    """Each round recomputed the cap from its own touch: with the cheap venue gone the next
    round bought 130% above the arrival price under --max-slippage 10."""
    import asyncio

    from sequence_core.orders import OrderRequest
    from sequence_core.policy import SorPolicy
    from sequence_core.testing import FakePolicyContext

    a, _ = book("a", [("100.00", "1")])
    req = OrderRequest("BTC-USD", "buy", D("1"), max_slippage_bps=10)
    ctx = FakePolicyContext(req, books=[a], take_fill_ratio=D("0.5"))
    asyncio.run(SorPolicy().run(ctx))
    limits = [x[3] for x in ctx.actions if x[0] == "take"]
    assert limits == [None, D("100.1"), D("100.1")]       # the first round's cap, 100 x (1 + 10 bps), holds after it


def test_a_sells_reasons_say_it_the_sellers_way_round():
    # a sell takes bids down to its worst level: "≥ worst", and the venue left out was outpaid
    a, ia = book("a", [], bids=[("100.00", "1"), ("99.90", "1")])
    b, ib = book("b", [], bids=[("99.80", "1")])
    r = legs(route("sell", D("1.5"), [(a, ia, D("0")), (b, ib, D("0"))]))
    assert "(≥ 99.90)" in r["a"].reason and "≤" not in r["a"].reason
    assert "better-paid liquidity elsewhere covered the order" in r["b"].reason
