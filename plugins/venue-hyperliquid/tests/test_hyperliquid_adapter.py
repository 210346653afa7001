"""The Hyperliquid adapter against the fake server: signing as the official SDK's tests publish
it and as the venue verifies it (recovered signer, nonce window), orders (IOC, market, resting,
post-only, native modify, cancel), an approved API wallet, positions and balances, the websocket
(whole-book snapshots, dropped socket), the private order/fill stream (orderUpdates + userFills),
real published payloads, funding payments (userFunding: recorded answers, pages, since), faults (429, address limit, malformed answers, timeouts, a lost
answer, clock skew, a wrong key), and spot (asset 10000 + pair index, ``@107`` books and trades,
fees in the asset received, spot balances, native modify, lookup by cloid, a pair numbered for
another token refused unsent)."""

import asyncio
import json
import sys
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).parent))
from fake_hyperliquid import FakeHyperliquid  # noqa: E402
from sequence_core.errors import (AuthenticationError, InsufficientFunds, InvalidOrder, NetworkError,  # noqa: E402
                                  RateLimitExceeded, VenueError)
from sequence_core.execution import FundingPayment, OrderState, VenueFill  # noqa: E402
from sequence_core.feeds import FeedRunner  # noqa: E402
from sequence_core.keys import evm_address_of  # noqa: E402
from sequence_core.orders import NodeOrder  # noqa: E402
from sequence_core.testing import StreamProbe, drop_and_recover, running, shared_responses, until  # noqa: E402
from sequence_venue_hyperliquid import signing  # noqa: E402
from sequence_venue_hyperliquid.execution import (HyperliquidSession, balances_from, funding_page,  # noqa: E402
                                                  open_order, perp_usdc_from, positions_from, spot_balances_from,
                                                  venue_fill)
from sequence_venue_hyperliquid.feed import HyperliquidFeed, book_update  # noqa: E402
from sequence_venue_hyperliquid.http import HyperliquidClient  # noqa: E402
from sequence_venue_hyperliquid.stream import private_url, venue_text  # noqa: E402
from sequence_venue_hyperliquid.symbols import (INSTRUMENTS, from_meta, instruments_from_meta, round_price,  # noqa: E402
                                                spot_from_meta, valid_price)
from sequence_venue_hyperliquid.venue import HyperliquidVenue  # noqa: E402

KEY = "0x" + "4c" * 32
ACCOUNT = evm_address_of(bytes.fromhex(KEY[2:]))
BTC = next(i for i in INSTRUMENTS if i.symbol == "BTC-USDC-PERP")
SOL = next(i for i in INSTRUMENTS if i.symbol == "SOL-USDC-PERP")
SAMPLES = shared_responses("hyperliquid")


@pytest.fixture
def fake():
    yield from running(FakeHyperliquid(ACCOUNT))


def session(fake, key=KEY, account="", timeout_s=10.0) -> HyperliquidSession:
    return HyperliquidSession(HyperliquidClient(key, account, "", fake.url, timeout_s=timeout_s))


def node(n=0, side="buy", qty="0.5", price="91000", kind="ioc", gid="graph_00000000feed"):
    return NodeOrder(f"{gid}:node_{n}:0", gid, n, 0, "hyperliquid", "BTC-USDC-PERP", side, Decimal(qty),
                     Decimal(price) if price else None, kind, "PENDING_NEW", 0, 0)


async def using(s: HyperliquidSession, work):
    try:
        return await work(s)
    finally:
        await s.close()


def exchange_posts(fake) -> int:
    return sum(1 for r in fake.requests if r == ("POST", "/exchange"))


# -- the official SDK's published vectors (hyperliquid-python-sdk tests/signing_test.py, v0.23.0) ----
SDK_KEY = bytes.fromhex("0123456789012345678901234567890123456789012345678901234567890123")
DUMMY = {"type": "dummy", "num": 100000000000}                     # float_to_int_for_hashing(1000)
ETH_GTC = {"type": "order", "orders": [{"a": 1, "b": True, "p": "100", "s": "100", "r": False,
                                        "t": {"limit": {"tif": "Gtc"}}}], "grouping": "na"}
ETH_GTC_CLOID = {"type": "order", "orders": [{**ETH_GTC["orders"][0], "c": "0x00000000000000000000000000000001"}],
                 "grouping": "na"}
ETH_SL = {"type": "order", "orders": [{"a": 1, "b": True, "p": "100", "s": "100", "r": False,
                                       "t": {"trigger": {"isMarket": True, "triggerPx": "103", "tpsl": "sl"}}}],
          "grouping": "na"}
SUB_ACCOUNT = {"type": "createSubAccount", "name": "example"}
SUB_TRANSFER = {"type": "subAccountTransfer", "subAccountUser": "0x1d9470d4b963f552e6f671a81619d395877bf409",
                "isDeposit": True, "usd": 10}
VAULT = "0x1719884eb866cb12b2287399b15f7db5e7d775ea"
L1_VECTORS = [  # (name, action, vault, mainnet, r, s, v)
    ("dummy mainnet", DUMMY, None, True, "0x53749d5b30552aeb2fca34b530185976545bb22d0b3ce6f62e31be961a59298",
     "0x755c40ba9bf05223521753995abb2f73ab3229be8ec921f350cb447e384d8ed8", 27),
    ("dummy testnet", DUMMY, None, False, "0x542af61ef1f429707e3c76c5293c80d01f74ef853e34b76efffcb57e574f9510",
     "0x17b8b32f086e8cdede991f1e2c529f5dd5297cbe8128500e00cbaf766204a613", 28),
    ("order mainnet", ETH_GTC, None, True, "0xd65369825a9df5d80099e513cce430311d7d26ddf477f5b3a33d2806b100d78e",
     "0x2b54116ff64054968aa237c20ca9ff68000f977c93289157748a3162b6ea940e", 28),
    ("order testnet", ETH_GTC, None, False, "0x82b2ba28e76b3d761093aaded1b1cdad4960b3af30212b343fb2e6cdfa4e3d54",
     "0x6b53878fc99d26047f4d7e8c90eb98955a109f44209163f52d8dc4278cbbd9f5", 27),
    ("order+cloid mainnet", ETH_GTC_CLOID, None, True, "0x41ae18e8239a56cacbc5dad94d45d0b747e5da11ad564077fcac71277a946e3",
     "0x3c61f667e747404fe7eea8f90ab0e76cc12ce60270438b2058324681a00116da", 27),
    ("order+cloid testnet", ETH_GTC_CLOID, None, False, "0xeba0664bed2676fc4e5a743bf89e5c7501aa6d870bdb9446e122c9466c5cd16d",
     "0x7f3e74825c9114bc59086f1eebea2928c190fdfbfde144827cb02b85bbe90988", 28),
    ("vault mainnet", DUMMY, VAULT, True, "0x3c548db75e479f8012acf3000ca3a6b05606bc2ec0c29c50c515066a326239",
     "0x4d402be7396ce74fbba3795769cda45aec00dc3125a984f2a9f23177b190da2c", 28),
    ("vault testnet", DUMMY, VAULT, False, "0xe281d2fb5c6e25ca01601f878e4d69c965bb598b88fac58e475dd1f5e56c362b",
     "0x7ddad27e9a238d045c035bc606349d075d5c5cd00a6cd1da23ab5c39d4ef0f60", 27),
    ("tpsl mainnet", ETH_SL, None, True, "0x98343f2b5ae8e26bb2587daad3863bc70d8792b09af1841b6fdd530a2065a3f9",
     "0x6b5bb6bb0633b710aa22b721dd9dee6d083646a5f8e581a20b545be6c1feb405", 27),
    ("sub account mainnet", SUB_ACCOUNT, None, True, "0x51096fe3239421d16b671e192f574ae24ae14329099b6db28e479b86cdd6caa7",
     "0xb71f7d293af92d3772572afb8b102d167a7cef7473388286bc01f52a5c5b423", 27),
    ("sub transfer testnet", SUB_TRANSFER, None, False, "0xe26574013395ad55ee2f4e0575310f003c5bb3351b5425482e2969fa51543927",
     "0xefb08999196366871f919fd0e138b3a7f30ee33e678df7cfaf203e25f0a4278", 28),
    ("schedule cancel mainnet", {"type": "scheduleCancel", "time": 123456789}, None, True,
     "0x609cb20c737945d070716dcc696ba030e9976fcf5edad87afa7d877493109d55",
     "0x16c685d63b5c7a04512d73f183b3d7a00da5406ff1f8aad33f8ae2163bab758b", 28),
]


@pytest.mark.parametrize("name,action,vault,mainnet,r,s,v", L1_VECTORS, ids=[v[0] for v in L1_VECTORS])
def test_l1_signatures_match_the_official_sdk_tests(name, action, vault, mainnet, r, s, v):
    assert signing.sign_l1_action(SDK_KEY, action, vault, 0, mainnet) == {"r": r, "s": s, "v": v}


def test_phantom_agent_matches_production():
    # signing_test.py test_phantom_agent_creation_matches_production: ETH (asset 4) IOC buy 0.0147 @ 1670.1
    from sequence_venue_hyperliquid.execution import wire
    order = wire(4, "buy", Decimal("1670.1"), Decimal("0.0147"), "Ioc", "unused")
    del order["c"]                                                     # the SDK's vector has no cloid
    action = {"type": "order", "orders": [order], "grouping": "na"}
    agent = signing.phantom_agent(signing.action_hash(action, None, 1677777606040), True)
    assert "0x" + agent["connectionId"].hex() == "0x0fcbeda5ae3c4950a548021552a4fea2226858c4453571bf3f24ba017eac2908"


@pytest.mark.parametrize("fields,primary,r,s,v", [
    (signing.USD_SEND_FIELDS, "HyperliquidTransaction:UsdSend", "0x637b37dd731507cdd24f46532ca8ba6eec616952c56218baeff04144e4a77073",
     "0x11a6a24900e6e314136d2592e2f8d502cd89b7c15b198e1bee043c9589f9fad7", 27),
    (signing.USD_SEND_FIELDS, "HyperliquidTransaction:Withdraw", "0x8363524c799e90ce9bc41022f7c39b4e9bdba786e5f9c72b20e43e1462c37cf9",
     "0x58b1411a775938b83e29182e8ef74975f9054c8e97ebf5ec2dc8d51bfc893881", 28),
])
def test_user_signed_actions_match_the_official_sdk_tests(fields, primary, r, s, v):
    # signing_test.py test_sign_usd_transfer_action / test_sign_withdraw_from_bridge_action (testnet)
    message = {"destination": "0x5e9ee1089755c3435139848e47e6635505d5a13a", "amount": "1", "time": 1687816341423}
    assert signing.sign_user_action(SDK_KEY, message, fields, primary, False) == {"r": r, "s": s, "v": v}
    assert signing.recover_address(signing.user_signed_digest(message, fields, primary), {"r": r, "s": s, "v": v}) == \
        evm_address_of(SDK_KEY)


def test_wire_numbers_and_cloids():
    assert [signing.to_wire(Decimal(x)) for x in ("1670.1", "0.0147", "100", "91000.0", "-0", "0.00000001")] == \
        ["1670.1", "0.0147", "100", "91000", "0", "0.00000001"]
    with pytest.raises(InvalidOrder):
        signing.to_wire(Decimal("0.000000001"))
    cid = node(3).client_order_id
    cloid = signing.cloid_for(cid)
    assert len(cloid) == 34 and signing.client_id_of(cloid) == cid and signing.cloid_for(cid) == cloid
    assert len(signing.cloid_for("not-an-engine-id")) == 34 and signing.client_id_of(signing.cloid_for("x")) is None


def test_price_rules():
    assert valid_price(Decimal("91000"), 5) and valid_price(Decimal("123456"), 5)          # integers always
    assert not valid_price(Decimal("91000.5"), 5)                                         # 6 significant figures
    assert valid_price(Decimal("3000.1"), 4) and not valid_price(Decimal("0.0001234"), 4)  # at most 6 - 4 decimals
    assert round_price(Decimal("95544.75"), 5, up=False) == Decimal("95544")
    assert round_price(Decimal("3000.15"), 4, up=True) == Decimal("3000.2")
    assert round_price(Decimal("94.877541"), 2, up=False) == Decimal("94.877")


# -- trading against the fake ------------------------------------------------------------------------
def test_ioc_buy_fills_with_the_fee_in_usdc(fake):
    state = asyncio.run(using(session(fake), lambda s: s.place(node(), BTC)))
    assert state.status == "FILLED" and state.filled_qty == Decimal("0.5")
    (f,) = state.fills
    assert (f.price, f.fee, f.fee_asset, f.liquidity) == (Decimal("91000"), Decimal("20.475"), "USDC", "taker")
    sent = fake.actions[-1]["orders"][0]
    assert sent == {"a": 0, "b": True, "p": "91000", "s": "0.5", "r": False, "t": {"limit": {"tif": "Ioc"}},
                    "c": signing.cloid_for(node().client_order_id)}


def test_market_order_is_an_aggressive_ioc_at_the_mid_plus_slippage(fake):
    state = asyncio.run(using(session(fake), lambda s: s.place(node(1, qty="0.25", price=None, kind="market"), BTC)))
    assert state.status == "FILLED" and state.fills[0].price == Decimal("91000")
    sent = fake.actions[-1]["orders"][0]
    assert (sent["p"], sent["t"]) == ("95544", {"limit": {"tif": "Ioc"}})        # mid 90995 * 1.05, 5 figures


@pytest.mark.parametrize("gid", ["graph_00000000feed", "graph_0190a2b3c4d5e"])   # an old id (its cloid encodes it), today's (hashed)
def test_resting_order_modified_natively_then_cancelled(fake, gid):
    async def work(s):
        n = node(2, price="90000", kind="limit", gid=gid)
        placed = await s.place(n, BTC)
        amended = await s.amend(n, BTC, Decimal("89000"), Decimal("0.4"))
        open_ = await s.open_orders(BTC)
        cancelled = await s.cancel(n, BTC)
        again = await s.cancel(n, BTC)                      # already cancelled: its state, no error
        unknown = await s.order_state("sqnothing", BTC)
        return placed, amended, open_, cancelled, again, unknown
    placed, amended, open_, cancelled, again, unknown = asyncio.run(using(session(fake), work))
    assert placed.status == "NEW" and fake.actions[0]["orders"][0]["t"] == {"limit": {"tif": "Gtc"}}
    assert amended.mode == "native_atomic" and (amended.state.price, amended.state.qty) == (Decimal("89000"), Decimal("0.4"))
    n = node(2, gid=gid)
    assert fake.actions[1]["type"] == "batchModify" and fake.actions[1]["modifies"][0]["oid"] == signing.cloid_for(n.client_order_id)
    assert [(o.client_order_id, o.price) for o in open_] == [(n.client_order_id, Decimal("89000"))]
    assert cancelled.status == again.status == "CANCELLED" and unknown is None


def test_amend_after_a_partial_fill_sends_the_rest_and_keeps_the_fills(fake):
    async def work(s):
        n = node(4, qty="3", price="91000", kind="limit")         # 2 fill at 91000, 1 rests
        placed = await s.place(n, BTC)
        n.filled_qty = placed.filled_qty
        return placed, await s.amend(n, BTC, Decimal("90500"), Decimal("3.5"))
    placed, amended = asyncio.run(using(session(fake), work))
    assert placed.status == "PARTIALLY_FILLED" and placed.filled_qty == Decimal("2")
    assert fake.actions[-1]["modifies"][0]["order"]["s"] == "1.5"
    assert amended.state.filled_qty == Decimal("2") and amended.state.qty == Decimal("3.5") and len(amended.state.fills) == 1
    assert amended.state.venue_order_id != placed.venue_order_id          # the venue re-issues the oid, same cloid


@pytest.mark.parametrize("kind,price,reason", [("post_only", "91500", "BadAloPx"), ("ioc", "80000", "IocCancel")])
def test_orders_the_venue_cancels_at_once_are_cancelled_states(fake, kind, price, reason):
    state = asyncio.run(using(session(fake), lambda s: s.place(node(5, price=price, kind=kind), BTC)))
    assert state.status == "CANCELLED" and state.filled_qty == 0 and reason in state.reason


def test_venue_refusals_map_to_clear_errors(fake):
    with pytest.raises(InsufficientFunds, match=r"Insufficient margin to place order.*\(PerpMargin\)"):
        asyncio.run(using(session(fake), lambda s: s.place(node(6, qty="30", price="91000", kind="limit"), BTC)))
    with pytest.raises(InvalidOrder, match=r"minimum value of \$10.*\(MinTradeNtl\)"):
        asyncio.run(using(session(fake), lambda s: s.place(node(7, qty="0.0001"), BTC)))
    fake.refuse_next_place = "Price must be divisible by tick size. asset=0"
    with pytest.raises(InvalidOrder, match=r"\(Tick\)"):
        asyncio.run(using(session(fake), lambda s: s.place(node(8), BTC)))


def test_bad_prices_and_sizes_never_reach_the_venue(fake):
    with pytest.raises(InvalidOrder, match="5 significant figures"):
        asyncio.run(using(session(fake), lambda s: s.place(node(9, price="90000.5", kind="limit"), BTC)))
    with pytest.raises(InvalidOrder, match="at most 5 decimals"):
        asyncio.run(using(session(fake), lambda s: s.place(node(9, qty="0.000001"), BTC)))
    assert exchange_posts(fake) == 0


def test_a_wrong_key_recovers_another_signer_and_is_refused(fake):
    other = "0x" + "77" * 32
    with pytest.raises(AuthenticationError, match="does not exist") as err:
        asyncio.run(using(session(fake, key=other, account=ACCOUNT), lambda s: s.place(node(10), BTC)))
    assert other[2:] not in str(err.value) and "77" * 8 not in str(err.value) and not fake.orders


def test_key_order_is_part_of_the_signature(fake):
    # the venue hashes the action in its own field order: one signed in another order recovers another signer
    client = HyperliquidClient(KEY, "", "", fake.url)
    order = {"b": True, "a": 0, "p": "91000", "s": "0.5", "r": False, "t": {"limit": {"tif": "Ioc"}}}

    async def send():
        try:
            return await client.action({"type": "order", "grouping": "na", "orders": [order]})
        finally:
            await client.close()
    with pytest.raises(AuthenticationError, match="does not exist"):
        asyncio.run(send())
    assert not fake.orders


def test_an_approved_api_wallet_trades_for_the_account(fake):
    agent_key = "0x" + "5a" * 32
    agent = evm_address_of(bytes.fromhex(agent_key[2:]))
    venue = HyperliquidVenue()
    creds = {"private_key": agent_key, "account_address": ACCOUNT}
    config = {"base_url": fake.url, "ws_url": fake.url.replace("http", "ws") + "/ws"}
    with pytest.raises(AuthenticationError, match="not an API wallet approved"):
        asyncio.run(venue.heartbeat(creds, config))
    main = HyperliquidClient(KEY, "", "", fake.url)

    async def approve():
        try:
            return await main.approve_agent(agent, "sequence")
        finally:
            await main.close()
    asyncio.run(approve())
    assert agent in fake.agents and "agent approved" in asyncio.run(venue.heartbeat(creds, config)).detail
    state = asyncio.run(using(session(fake, key=agent_key, account=ACCOUNT), lambda s: s.place(node(11), BTC)))
    assert state.status == "FILLED" and len(state.fills) == 1      # reads are the account's, not the agent's


def test_positions_and_balances_come_from_the_clearinghouse(fake):
    async def work(s):
        await s.place(node(12, qty="0.5"), BTC)
        return await s.positions(), await s.balances()
    positions, balances = asyncio.run(using(session(fake), work))
    (p,) = positions
    assert (p.venue_symbol, p.qty, p.entry_price, p.mark_price) == ("BTC", Decimal("0.5"), Decimal("91000"), Decimal("90995"))
    assert p.unrealized_pnl == Decimal("-2.5") and p.margin == Decimal("2274.875") and p.liquidation_price is not None
    # a standard account: the perps' free margin apart from spot cash (the spot state holds no USDC here)
    assert balances == {"USDC": Decimal(0),
                        "USDC:perp-margin": Decimal("100000") - Decimal("20.475") - Decimal("2.5") - Decimal("2274.875")}


@pytest.mark.parametrize("mode", ["unifiedAccount", "portfolioMargin"])
def test_a_unified_account_reads_its_free_usdc_from_the_spot_state(fake, mode):
    # account-abstraction-modes: under unified account / portfolio margin the balances and holds are in
    # the spot clearinghouse state; the perp state's withdrawable reads 0
    fake.abstraction = mode

    async def work(s):
        await s.place(node(13, qty="0.5"), BTC)
        return await s.balances(), await s.positions(), await s.balances()
    first, positions, again = asyncio.run(using(session(fake), work))
    assert first == again == {"USDC": Decimal("100000") - Decimal("20.475") - Decimal("2274.875")}   # cash less fee, margin held
    assert positions[0].qty == Decimal("0.5")                              # positions still from clearinghouseState
    assert fake.info_types.count("userAbstraction") == 1 and "spotClearinghouseState" in fake.info_types


@pytest.mark.parametrize("mode", ["default", "disabled", "somethingNew"])
def test_a_standard_account_keeps_perp_withdrawable_and_ignores_spot_usdc(fake, mode):
    fake.abstraction, fake.spot_usdc = mode, Decimal("500")       # spot USDC of a standard account is not perp margin
    assert asyncio.run(using(session(fake), lambda s: s.balances())) == {"USDC": Decimal("500"),
                                                                          "USDC:perp-margin": Decimal("100000")}


@pytest.mark.parametrize("mode", ["default", "disabled"])
def test_holdings_of_a_standard_account_add_its_perp_usdc_without_unrealized_pnl(fake, mode):
    # the perp row carries the BTC position's unrealized P&L (-2.5): the USDC is accountValue less it
    fake.abstraction, fake.spot_usdc, fake.spot_holdings["PURR"] = mode, Decimal("500"), Decimal("700")

    async def work(s):
        await s.place(node(15, qty="0.5"), BTC)
        return await s.holdings(), await s.positions()
    held, (p,) = asyncio.run(using(session(fake), work))
    assert p.unrealized_pnl == Decimal("-2.5")
    assert held == {"USDC": Decimal("500") + Decimal("100000") - Decimal("20.475"), "PURR": Decimal("700")}
    # an address without a key (read only) is read the same way
    assert asyncio.run(using(session(fake, key="", account=ACCOUNT), lambda s: s.holdings()))["USDC"] == held["USDC"]


@pytest.mark.parametrize("mode", ["unifiedAccount", "portfolioMargin"])
def test_holdings_of_a_unified_account_are_its_spot_state_alone(fake, mode):
    fake.abstraction = mode

    async def work(s):
        await s.place(node(16, qty="0.5"), BTC)
        before = fake.info_types.count("clearinghouseState")
        return await s.holdings(), fake.info_types.count("clearinghouseState") - before
    held, perp_reads = asyncio.run(using(session(fake), work))
    assert held == {"USDC": Decimal("100000") - Decimal("20.475")} and perp_reads == 0   # its one USDC, once


def test_spot_balances_from_a_published_answer():
    assert spot_balances_from(sample("http_spot_clearinghouse_state.json")) == \
        {"USDC": Decimal("14.625485"), "PURR": Decimal("1900"), "HYPE": Decimal("5.2"), "+10": Decimal("25")}
    assert spot_balances_from({"balances": [{"coin": "USDC", "token": 0, "total": "10", "hold": "12", "entryNtl": "0"}]}) \
        == {"USDC": Decimal(0)}
    assert spot_balances_from({"balances": []}) == {"USDC": Decimal(0)}


def test_an_amend_never_sends_always_place_and_a_crossing_one_is_refused(fake):
    # exchange-endpoint#modify-multiple-orders (June 2026): without "a" the new order must be Alo or a Gtc
    # that would not match at once; "a": false is refused, "a": true could trade an order twice
    async def work(s):
        n = node(14, price="90000", kind="limit")
        await s.place(n, BTC)
        with pytest.raises(VenueError, match="would not match at once"):
            await s.amend(n, BTC, Decimal("91010"), None)                  # would take the 91000 ask
        return await s.order_state(n.client_order_id, BTC), await s.amend(n, BTC, Decimal("89000"), None)
    still, amended = asyncio.run(using(session(fake), work))
    assert still.status == "NEW" and still.price == Decimal("90000")
    assert amended.state.price == Decimal("89000")
    assert all("a" not in a for a in fake.actions if a["type"] == "batchModify")


# -- faults ------------------------------------------------------------------------------------------------
def test_rate_limit_is_retried_for_reads_not_for_a_place(fake):
    fake.rate_limit_next = 2
    assert asyncio.run(using(session(fake), lambda s: s.balances()))["USDC:perp-margin"] == Decimal("100000")

    async def work(s):
        await s._asset(BTC)                                   # meta read first: only the order meets the 429
        fake.rate_limit_next = 1
        with pytest.raises(RateLimitExceeded):
            await s.place(node(13), BTC)
    asyncio.run(using(session(fake), work))
    assert exchange_posts(fake) == 1 and not fake.orders


def test_address_limit_slows_orders_but_not_cancels(fake):
    fake.address_limited = True

    async def work(s):
        with pytest.raises(RateLimitExceeded, match="Too many cumulative requests"):
            await s.place(node(14, price="90000", kind="limit"), BTC)
        limited = s.client.action_limiter is not None
        state = await s.cancel(node(14, price="90000", kind="limit"), BTC)    # goes straight out
        return limited, state
    limited, state = asyncio.run(using(session(fake), work))
    assert limited and state.status == "REJECTED" and fake.actions[-1]["type"] == "cancelByCloid"


def test_malformed_and_slow_reads_are_retried(fake):
    fake.malformed_next = 1
    assert asyncio.run(using(session(fake), lambda s: s.balances()))["USDC:perp-margin"] == Decimal("100000")
    fake.slow_next_s = 1.0
    assert asyncio.run(using(session(fake, timeout_s=0.3), lambda s: s.balances()))["USDC:perp-margin"] == Decimal("100000")


def test_a_place_that_times_out_is_not_resent(fake):
    async def work(s):
        await s._asset(BTC)
        fake.slow_next_s = 1.0
        with pytest.raises(NetworkError, match="did not answer"):
            await s.place(node(15), BTC)
    asyncio.run(using(session(fake, timeout_s=0.3), work))
    assert exchange_posts(fake) == 1


def test_a_lost_answer_is_resolved_by_cloid(fake):
    fake.lose_next_answer = True

    async def work(s):
        with pytest.raises(NetworkError):
            await s.place(node(16), BTC)
        return await s.order_state(node(16).client_order_id, BTC)
    state = asyncio.run(using(session(fake), work))
    assert state.status == "FILLED" and state.filled_qty == Decimal("0.5") and len(state.fills) == 1
    assert exchange_posts(fake) == 1


def test_clock_skew_is_resynced_from_the_venue_and_signed_again(fake):
    fake.clock_offset_ms = 3 * 86_400_000                    # our nonce is 3 days before the venue's clock

    async def work(s):
        state = await s.place(node(17), BTC)
        return state, s.client.clock.offset_ms
    state, offset = asyncio.run(using(session(fake), work))
    assert state.status == "FILLED" and abs(offset - fake.clock_offset_ms) < 5_000
    assert exchange_posts(fake) == 2                          # refused (it did nothing), then signed afresh


def test_nonces_are_unique_even_within_one_millisecond(fake):
    client = HyperliquidClient(KEY, "", "", fake.url)
    assert [client.nonce(1_700_000_000_000) for _ in range(3)] == [1_700_000_000_000, 1_700_000_000_001, 1_700_000_000_002]


# -- market data ---------------------------------------------------------------------------------------
def feed_for(fake) -> HyperliquidFeed:
    return HyperliquidFeed({"base_url": fake.url, "ws_url": fake.url.replace("http", "ws") + "/ws"})


def test_websocket_books_are_whole_snapshots(fake):
    async def go():
        feed = feed_for(fake)
        feed.heartbeat_s = 0.1                                # keepalive pings, sooner than the venue's 60 s
        runner = FeedRunner(feed, [BTC]).start()
        try:
            await until(lambda: runner.book(BTC) is not None, what="first snapshot")
            fake.push_book(asks={"91000": "0"})               # the venue drops the level: the next book lacks it
            await until(lambda: runner.book(BTC).best_ask.price == Decimal("91010"))
            old = fake.book_message("BTC", time_ms=1)         # an old book arriving late
            old["data"]["levels"][1] = [{"px": "1", "sz": "9", "n": 1}]
            fake.broadcast(old)
            fake.push_trade("91010", "0.3", "A")
            await until(lambda: runner.trades["BTC"] and fake.pings > 0)
            return runner.book(BTC), runner.trades["BTC"][0]
        finally:
            await runner.stop()
    book, trade = asyncio.run(go())
    assert book.best_ask.price == Decimal("91010") and book.best_bid.price == Decimal("90990")
    assert (trade.side, trade.price, trade.size) == (-1, Decimal("91010"), Decimal("0.3"))
    assert {"type": "l2Book", "coin": "BTC"} in fake.subscriptions and {"type": "trades", "coin": "BTC"} in fake.subscriptions


def test_dropped_socket_serves_no_stale_book(fake):
    stale, book = asyncio.run(drop_and_recover(feed_for(fake), BTC, fake, lambda: fake.books["BTC"][0].__setitem__("90993", "4")))
    assert stale is None and book.best_bid.price == Decimal("90993")


def test_rest_snapshot_and_meta(fake):
    async def go():
        feed, s = feed_for(fake), session(fake)
        try:
            return await feed.snapshot(BTC), await s._asset(SOL)
        finally:
            await feed.close()
            await s.close()
    snap, sol = asyncio.run(go())
    assert snap.bids[0] == (Decimal("90990"), Decimal("2")) and snap.kind == "snapshot"
    assert sol == (5, 2)                                         # SOL is sixth in the fake's universe


# -- the private order/fill stream -------------------------------------------------------------------------
GID = "graph_0190a2b3c4d5e"      # the engine's graph ids today (13 hex digits): their cloid is a hash, mapped back by the session


def streaming(fake, account="") -> HyperliquidSession:
    """A session whose user stream reaches the fake (its ``ws_url``, as the feed's setting)."""
    return HyperliquidSession(HyperliquidClient(KEY, account, "", fake.url), {"ws_url": fake.url.replace("http", "ws") + "/ws"})


def test_a_resting_order_fill_arrives_on_the_stream_as_the_poll_reports_it(fake):
    n = node(20, qty="0.3", price="90000", kind="limit", gid=GID)

    async def go():
        s = streaming(fake)
        async with StreamProbe(s.user_stream(), INSTRUMENTS) as probe:
            await until(lambda: probe.runner.live, what="both subscriptions acknowledged")
            await s.place(n, BTC)
            fake.fill_resting(signing.cloid_for(n.client_order_id), "0.1")
            await until(lambda: any(st.fills for st in probe.states) and len(probe.states) >= 3, what="fill pushed")
            polled = await s.order_state(n.client_order_id, BTC)
        await s.close()
        return probe.states, polled
    states, polled = asyncio.run(go())
    (pushed,) = [st for st in states if st.fills]
    (fill,) = pushed.fills
    assert fill == polled.fills[0]            # same fill id (tid), price, qty, fee, liquidity: a poll of it dedupes
    assert (fill.price, fill.qty, fill.fee, fill.fee_asset, fill.liquidity) == \
        (Decimal("90000"), Decimal("0.1"), Decimal("1.35"), "USDC", "maker")
    assert (pushed.client_order_id, pushed.venue_order_id, pushed.filled_qty) == (n.client_order_id, polled.venue_order_id, Decimal("0.1"))
    # the order updates alone, no fill in them: resting, then 0.1 of 0.3 filled (origSz - sz)
    assert [(st.status, st.filled_qty) for st in states if not st.fills] == [("NEW", 0), ("PARTIALLY_FILLED", Decimal("0.1"))]
    assert {"type": "userFills", "user": ACCOUNT} in fake.subscriptions and {"type": "orderUpdates", "user": ACCOUNT} in fake.subscriptions


@pytest.mark.parametrize("account,venue_says", [
    ("", "Cannot track more than 10 total users."),     # ten other addresses already tracked from this IP
    ("0xnot-an-address", "Invalid subscription"),
])
def test_a_refused_subscription_is_reported_in_the_venues_words_never_with_the_key(fake, caplog, account, venue_says):
    # nothing is signed on this socket; what the venue refuses is the subscription itself
    if not account:
        fake.tracked_users = {f"0x{n:040x}" for n in range(10)}

    async def go():
        s = streaming(fake, account)
        async with StreamProbe(s.user_stream(), INSTRUMENTS) as probe:
            await until(lambda: probe.runner.stats.reconnects >= 1, what="the refusal")
        await s.close()
        return probe
    probe = asyncio.run(go())
    error = probe.runner.stats.error
    assert "hyperliquid refused the order/fill subscriptions" in error and venue_says in error
    assert not probe.runner.live and probe.connects == 0 and fake.logins[0] is False and not fake.private
    for text in (error, caplog.text):
        assert KEY[2:] not in text.lower()
    assert venue_text(f"Invalid subscription {KEY} {KEY[2:]}") == "Invalid subscription <hex> <hex>"


def test_the_stream_resubscribes_after_a_drop_and_asks_for_a_catch_up(fake):
    async def go():
        s = streaming(fake)
        await s.place(node(21, gid=GID), BTC)          # a filled IOC: in the snapshot every subscription brings
        async with StreamProbe(s.user_stream(), INSTRUMENTS) as probe:
            await until(lambda: probe.connects, what="first connect")
            fake.drop_sockets()
            await until(lambda: probe.connects >= 2 and probe.runner.live, what="reconnect")
            await asyncio.sleep(0.1)
            result = probe.runner.stats.reconnects, list(probe.states)
        await s.close()
        return result
    reconnects, states = asyncio.run(go())
    assert reconnects >= 1 and fake.logins[:2] == [True, True]
    assert states == []          # the snapshot of past fills is not replayed: the catch-up reads them over REST


def test_an_amend_is_not_taken_for_a_cancel_and_a_cancel_ends_the_order(fake):
    n = node(23, qty="0.3", price="90000", kind="limit", gid=GID)

    async def go():
        s = streaming(fake)
        async with StreamProbe(s.user_stream(), INSTRUMENTS) as probe:
            await until(lambda: probe.runner.live, what="live")
            await s.place(n, BTC)
            await s.amend(n, BTC, Decimal("89500"), None)     # the venue cancels the old oid, opens a new one
            await until(lambda: len(probe.states) >= 2, what="the new leg's update")
            await asyncio.sleep(0.1)
            amended = list(probe.states)
            await s.cancel(n, BTC)
            await until(lambda: probe.states[-1].status == "CANCELLED", what="the cancel pushed")
            ended = probe.states[-1]
        await s.close()
        return amended, ended
    amended, ended = asyncio.run(go())
    assert [(st.status, st.price) for st in amended] == [("NEW", Decimal("90000")), ("NEW", Decimal("89500"))]
    assert ended.client_order_id == n.client_order_id and ended.venue_order_id == amended[-1].venue_order_id


def test_order_updates_alone_and_the_two_orderings():
    s = HyperliquidSession(HyperliquidClient(KEY, "", "", "http://127.0.0.1:9"))
    stream = s.user_stream()

    def cid(n):
        return node(n, gid=GID).client_order_id

    def cloid(n):
        return s._cloid(cid(n))                  # as placing or reading the order registers it

    def update(n, status, sz, oid, orig="0.5"):
        o = {"coin": "BTC", "side": "B", "limitPx": "90000", "sz": sz, "oid": oid, "timestamp": 1, "origSz": orig,
             "cloid": cloid(n)}
        return {"channel": "orderUpdates", "data": [{"order": o, "status": status, "statusTimestamp": 1700000000000}]}

    def fills(n, oid, *sizes):
        rows = [{"coin": "BTC", "px": "90000", "sz": sz, "side": "B", "time": 1700000000000, "startPosition": "0",
                 "dir": "Open Long", "closedPnl": "0", "hash": "0x" + "ab" * 32, "oid": oid, "crossed": True, "fee": "1",
                 "tid": oid * 10 + i, "feeToken": "USDC", "cloid": cloid(n)}
                for i, sz in enumerate(sizes)]
        return {"channel": "userFills", "data": {"user": ACCOUNT.lower(), "fills": rows}}

    def said(message):
        return [(st.client_order_id, st.status, st.filled_qty, st.reason) for st in stream.parse(message, {})]
    assert said(update(30, "open", "0.5", 100)) == [(cid(30), "NEW", 0, "")]
    assert said(update(31, "canceled", "0.5", 101)) == [(cid(31), "CANCELLED", 0, "")]
    assert said(update(32, "perpMarginRejected", "0.5", 102)) == [(cid(32), "REJECTED", 0, "perpMarginRejected")]
    assert said(update(33, "filled", "0", 103)) == [(cid(33), "FILLED", Decimal("0.5"), "")]
    # an IOC's rest cancelled before its fills arrive: not ended yet (the engine reads it over REST at once)
    assert said(update(34, "canceled", "0.2", 104)) == [(cid(34), "PARTIALLY_FILLED", Decimal("0.3"), "")]
    assert said(fills(34, 104, "0.1", "0.2")) == [(cid(34), "PARTIALLY_FILLED", Decimal("0.3"), "")]
    # fills first, then the cancel: ended at once
    said(fills(35, 105, "0.3"))
    assert said(update(35, "canceled", "0.2", 105)) == [(cid(35), "CANCELLED", Decimal("0.3"), "")]
    # a modify's old leg, cancelled after its new leg opened or while the amend is in flight: not an end
    assert said(update(36, "open", "0.5", 107)) and said(update(36, "canceled", "0.5", 106)) == []
    s._amending.add(cloid(37))
    assert said(update(37, "canceled", "0.5", 108)) == []
    assert stream.parse("Websocket connection established.", {}) == [] and stream.parse({"channel": "pong"}, {}) == []
    with pytest.raises(NetworkError, match="Cannot track more than 10 total users"):
        stream.parse({"channel": "error", "data": "Cannot track more than 10 total users."}, {})


def test_the_stream_url_follows_the_settings_and_the_network():
    assert private_url({}, True) == "wss://api.hyperliquid.xyz/ws" and private_url({}, False) == "wss://api.hyperliquid-testnet.xyz/ws"
    assert private_url({"ws_url": "ws://127.0.0.1:1/ws"}, True) == "ws://127.0.0.1:1/ws"
    assert private_url({"ws_url": "ws://a/ws", "private_ws_url": "ws://b/ws"}, True) == "ws://b/ws"
    assert HyperliquidSession(HyperliquidClient("", "", "", "http://127.0.0.1:9")).user_stream() is None   # no address


# -- real published payloads -----------------------------------------------------------------------------
def cassette(name: str) -> list:
    """Response bodies recorded by the official SDK's tests (yaml cassettes)."""
    doc = yaml.safe_load((SAMPLES / "sdk-cassettes" / name).read_text())
    return [json.loads(i["response"]["body"]["string"]) for i in doc["interactions"]]


def sample(name: str):
    return json.loads((SAMPLES / name).read_text())


def test_published_payloads_parse():
    assert from_meta(sample("http_meta_perp_sample.json")) == {"BTC": (0, 5), "ETH": (1, 4), "ATOM": (2, 2)}
    (meta, book) = cassette("test_get_l2_snapshot.yaml")
    insts = {i.venue_symbol: i for i in instruments_from_meta(meta)}
    assert (insts["DOGE"].lot_size, insts["BTC"].lot_size, insts["BTC"].tick_size) == (Decimal("1"), Decimal("0.00001"), Decimal("0.1"))
    assert book_update(book).bids[0] == (Decimal("2.111"), Decimal("134.4"))
    snap = book_update(sample("http_l2_book_btc.json"))
    assert snap.asks[0] == (Decimal("110428.0"), Decimal("3.72573")) and snap.ts_ns == 1761786491067 * 1_000_000
    assert book_update(sample("ws_book_data.json")).bids[-1] == (Decimal("98447.50"), Decimal("1.1"))
    feed = HyperliquidFeed({})
    trades = feed.parse({"channel": "trades", "data": sample("http_recent_trades_btc.json")})
    assert [t.side for t in trades] == [-1, 1, -1] and trades[1].price == Decimal("104310.5")
    assert feed.parse(sample("ws_allmids.json")) == []
    (state,) = cassette("test_get_user_state.yaml")
    btc, eth = positions_from(state)[:2]
    assert (btc.qty, btc.entry_price, btc.liquidation_price) == (Decimal("-0.00785"), Decimal("26951.0"), Decimal("173198.69592357"))
    assert eth.liquidation_price is None and eth.margin == Decimal("11.383755")
    assert balances_from(state) == {"USDC": Decimal("1010.57173")}
    # accountValue 1182.312496 holds the positions' unrealized P&L, 0.688018 in all
    assert perp_usdc_from(state) == Decimal("1182.312496") - Decimal("0.688018")
    assert balances_from(sample("http_clearinghouse_state_negative_total_raw_usd.json")) == {"USDC": Decimal("772.232111")}
    (orders,) = cassette("test_get_open_orders.yaml")
    first = open_order(orders[0])
    assert (first.client_order_id, first.status, first.price, first.qty) == ("62269971", "NEW", Decimal("1.0357"), Decimal("208.7"))
    (fills,) = cassette("test_get_user_fills.yaml")
    parsed = [venue_fill(f) for f in fills]
    assert parsed[0].qty == Decimal("142.7") and parsed[0].liquidity == "taker" and parsed[0].fee_asset == "USDC"
    liq = venue_fill(sample("ws_user_fill_liquidation.json")["data"]["fills"][0])
    assert (liq.fee, liq.liquidity) == (Decimal("0.009997"), "maker")
    assert venue_fill(sample("http_user_fills_dust_conversion.json")[2]).fee_asset == "USOL"


def test_a_recorded_fill_push_parses_to_the_polls_fill():
    # ws_user_fill_liquidation.json: a real push (NautilusTrader's recorded test data, see the data README)
    # on the ``user`` channel, whose rows are userFills' rows; its cloid is not one of ours, so it stays the id
    stream = HyperliquidSession(HyperliquidClient(KEY, "", "", "http://127.0.0.1:9")).user_stream()
    message = sample("ws_user_fill_liquidation.json")
    ts = 1781528065899 * 1_000_000
    fill = VenueFill("745210434703679", Decimal("66653.0"), Decimal("0.001"), Decimal("0.009997"), "USDC", "maker", ts)
    assert stream.parse(message, {}) == [OrderState("0xe8d5fd7ebbb4c3cff4d1803472a11463", "55030848197", "PARTIALLY_FILLED",
                                                    Decimal("0.001"), (fill,), venue_ts_ns=ts)]
    assert venue_fill(message["data"]["fills"][0]) == fill            # the same row read by the poll (REST userFills)
    snapshot = {"channel": "userFills", "data": {"isSnapshot": True, "user": ACCOUNT, "fills": message["data"]["fills"]}}
    assert stream.parse(snapshot, {}) == []


# -- funding payments (userFunding) ------------------------------------------------------------------------
HOUR_MS = 3_600_000
T0_MS = 1_780_000_000_000 // HOUR_MS * HOUR_MS


def funding_rows(name: str) -> list:
    """The rows of the official SDK's recorded userFunding answer (2023: one hash per row)."""
    (rows,) = cassette(name)
    return rows


def test_a_recorded_funding_answer_parses_with_its_sign_asset_time_and_symbol():
    rows = funding_rows("test_user_funding_history_with_end_time.yaml")
    parsed = {p.venue_symbol: p for p in funding_page(rows, ACCOUNT)}
    ts = 1681948800000 * 1_000_000
    assert parsed["BTC"] == FundingPayment(f"{ACCOUNT.lower()}:BTC:1681948800000", "BTC", "USDC", Decimal("5.950454"), ts)
    assert parsed["BTC"].venue_symbol == BTC.venue_symbol and parsed["SOL"].venue_symbol == SOL.venue_symbol
    assert parsed["AVAX"].amount == Decimal("-0.572915")          # long 100.86 at +0.0001: paid
    assert len(parsed) == len(rows) == 13
    # today's rows carry an all-zero hash (the docs' example): the ids still tell BTC from ETH
    zero = "0x" + "0" * 64
    today = [{"time": 1732233600000, "hash": zero, "delta": {"type": "funding", "coin": c, "usdc": u, "szi": s,
                                                              "fundingRate": "0.00005566"}}
             for c, u, s in (("BTC", "-2851.187296", "45.0"), ("ETH", "-7267.176499", "1300.0"))]
    btc, eth = funding_page(today, ACCOUNT)
    assert (btc.amount, eth.amount) == (Decimal("-2851.187296"), Decimal("-7267.176499")) and btc.payment_id != eth.payment_id
    assert funding_page([{"time": 1, "hash": zero, "delta": {"type": "deposit", "usdc": "5"}}], ACCOUNT) == []


def test_the_recorded_history_through_the_fake_comes_back_oldest_first(fake):
    rows = funding_rows("test_user_funding_history_without_end_time.yaml")
    fake.funding = rows
    got = asyncio.run(using(session(fake), lambda s: s.funding_payments(1681923833000 * 1_000_000)))
    assert len(got) == len({p.payment_id for p in got}) == len(rows) == 218
    assert [p.venue_ts_ns for p in got] == sorted(p.venue_ts_ns for p in got)
    assert sum(p.amount for p in got) == sum(Decimal(r["delta"]["usdc"]) for r in rows)
    assert fake.funding_asked == [1681923833000]


def test_funding_pages_split_inside_one_funding_time_are_all_read(fake):
    # 3 positions funded at the same millisecond every hour: the 500-row pages end inside an hour
    for hour in range(400):
        for coin, usdc in (("BTC", "-0.25"), ("ETH", "0.1"), ("SOL", "-0.01")):
            fake.add_funding(coin, usdc, T0_MS + hour * HOUR_MS)
    got = asyncio.run(using(session(fake), lambda s: s.funding_payments(T0_MS * 1_000_000)))
    assert len(got) == len({p.payment_id for p in got}) == 1200
    assert [p.venue_ts_ns for p in got] == sorted(p.venue_ts_ns for p in got)
    assert sum(p.amount for p in got) == 400 * Decimal("-0.16")
    # the next page starts at the last time read (hour 166, then 332), not past it
    assert fake.funding_asked == [T0_MS, T0_MS + 166 * HOUR_MS, T0_MS + 332 * HOUR_MS]


def test_funding_before_since_is_not_returned(fake):
    for hour, usdc in ((0, "-1"), (1, "-2"), (2, "3")):
        fake.add_funding("BTC", usdc, T0_MS + hour * HOUR_MS)
    since = (T0_MS + HOUR_MS) * 1_000_000
    assert [p.amount for p in asyncio.run(using(session(fake), lambda s: s.funding_payments(since)))] == [Decimal("-2"), Decimal("3")]
    later = asyncio.run(using(session(fake), lambda s: s.funding_payments(since + 1)))    # within the same ms, after it
    assert [p.amount for p in later] == [Decimal("3")]


def test_a_funding_read_the_venue_cannot_answer_is_a_clear_error(fake, caplog, monkeypatch):
    from sequence_venue_hyperliquid import execution
    with pytest.raises(VenueError, match=r"refused the request \(HTTP 422\)"):     # not an address: the venue's 422
        asyncio.run(using(session(fake, key="", account="0xnot-an-address"), lambda s: s.funding_payments(0)))
    with pytest.raises(VenueError, match="no account address configured"):
        asyncio.run(using(session(fake, key=""), lambda s: s.funding_payments(0)))
    for coin in range(500):                                                         # a full page at one time
        fake.add_funding(f"C{coin}", "1", T0_MS)
    with pytest.raises(VenueError, match="full page of 500 funding payments at one time"):
        asyncio.run(using(session(fake), lambda s: s.funding_payments(T0_MS * 1_000_000)))
    fake.funding = []
    for hour in range(400):
        for coin in ("BTC", "ETH", "SOL"):
            fake.add_funding(coin, "1", T0_MS + hour * HOUR_MS)
    monkeypatch.setattr(execution, "FUNDING_MAX_PAGES", 2)          # past the cap: the oldest part, said in the log
    got = asyncio.run(using(session(fake), lambda s: s.funding_payments(T0_MS * 1_000_000)))
    assert len(got) == 998 and got[-1].venue_ts_ns == (T0_MS + 332 * HOUR_MS) * 1_000_000
    assert "funding payments read up to" in caplog.text and KEY[2:] not in caplog.text


# -- spot ------------------------------------------------------------------------------------------------
HYPE = next(i for i in INSTRUMENTS if i.symbol == "HYPE-USDC")
PURR = next(i for i in INSTRUMENTS if i.symbol == "PURR-USDC")
SPOT_GID = "graph_0000000005b0"


def spot_node(n=0, side="buy", qty="1", price="30.01", kind="ioc", symbol="HYPE-USDC"):
    return NodeOrder(f"{SPOT_GID}:node_{n}:0", SPOT_GID, n, 0, "hyperliquid", symbol, side, Decimal(qty),
                     Decimal(price) if price else None, kind, "PENDING_NEW", 0, 0)


def test_spot_pairs_declared_and_their_price_rules():
    # asset-ids: HYPE/USDC is spot pair 107 on mainnet; PURR/USDC is the one pair named by its tokens
    assert [(i.symbol, i.venue_symbol, i.kind) for i in INSTRUMENTS if i.kind == "crypto"] == [
        ("HYPE-USDC", "@107", "crypto"), ("PURR-USDC", "PURR/USDC", "crypto"),
        ("UBTC-USDC", "@142", "crypto"), ("USOL-USDC", "@156", "crypto")]
    # tick-and-lot-size: spot prices may carry 8 - szDecimals decimals (perps 6 - szDecimals)
    assert valid_price(Decimal("0.0001234"), 1, 8) and not valid_price(Decimal("0.0001234"), 1)
    assert not valid_price(Decimal("0.0001234"), 3, 8)                       # 8 - 3 = 5 decimals
    assert round_price(Decimal("31.50525"), 2, up=False, most=8) == Decimal("31.505")
    assert round_price(Decimal("0.000012345678"), 0, up=True, most=8) == Decimal("0.00001235")


def test_the_docs_spot_meta_maps_pairs_to_assets_and_base_decimals():
    # info-endpoint/spot's example answer: PURR/USDC is pair 0 (asset 10000), HFUN/USDC is "@1"
    meta = {"tokens": [{"name": "USDC", "szDecimals": 8, "weiDecimals": 8, "index": 0},
                       {"name": "PURR", "szDecimals": 0, "weiDecimals": 5, "index": 1},
                       {"name": "HFUN", "szDecimals": 2, "weiDecimals": 8, "index": 2}],
            "universe": [{"name": "PURR/USDC", "tokens": [1, 0], "index": 0, "isCanonical": True},
                         {"tokens": [2, 0], "name": "@1", "index": 1, "isCanonical": False}]}
    assert spot_from_meta(meta) == {"PURR/USDC": (10000, 0, "PURR", "USDC"), "@1": (10001, 2, "HFUN", "USDC")}


def test_a_recorded_spot_buy_fill_is_charged_in_the_base():
    # http_user_fills_dust_conversion.json: a real @156 (USOL/USDC) buy, its fee in USOL
    fill = venue_fill(sample("http_user_fills_dust_conversion.json")[2])
    assert (fill.price, fill.qty, fill.fee, fill.fee_asset, fill.liquidity) == \
        (Decimal("160.32"), Decimal("1.267"), Decimal("0.00088689"), "USOL", "taker")


def test_a_spot_ioc_buy_fills_with_its_fee_in_the_base_received(fake):
    fake.spot_usdc = Decimal("2000")

    async def work(s):
        return await s.place(spot_node(1, qty="50", price="30.02"), HYPE), await s.balances()
    state, balances = asyncio.run(using(session(fake), work))
    assert state.status == "FILLED" and state.filled_qty == Decimal("50")
    assert [(f.price, f.qty, f.fee, f.fee_asset, f.liquidity) for f in state.fills] == [
        (Decimal("30.01"), Decimal("40"), Decimal("0.028"), "HYPE", "taker"),
        (Decimal("30.02"), Decimal("10"), Decimal("0.007"), "HYPE", "taker")]
    sent = fake.actions[-1]
    assert sent["type"] == "order" and sent["orders"][0] == {
        "a": 10107, "b": True, "p": "30.02", "s": "50", "r": False, "t": {"limit": {"tif": "Ioc"}},
        "c": signing.cloid_for(spot_node(1).client_order_id)}
    # spotClearinghouseState: free = total - hold; the perps' margin stays apart in a standard account
    assert balances == {"USDC": Decimal("2000") - Decimal("1500.6"), "HYPE": Decimal("50") - Decimal("0.035"),
                        "USDC:perp-margin": Decimal("100000")}


def test_a_spot_sell_pays_its_fee_in_usdc_and_a_market_order_is_capped_at_mid_plus_slippage(fake):
    fake.spot_usdc, fake.spot_holdings["HYPE"] = Decimal("100"), Decimal("3")

    async def work(s):
        sold = await s.place(spot_node(2, side="sell", qty="2", price="29.99"), HYPE)
        bought = await s.place(spot_node(3, qty="1", price=None, kind="market"), HYPE)
        return sold, bought
    sold, bought = asyncio.run(using(session(fake), work))
    (f,) = sold.fills
    assert (f.price, f.qty, f.fee, f.fee_asset) == (Decimal("29.99"), Decimal("2"), Decimal("0.041986"), "USDC")
    assert bought.status == "FILLED" and bought.fills[0].price == Decimal("30.01")
    assert fake.actions[-1]["orders"][0]["p"] == "31.5"          # mid 30.00 * 1.05, within 5 figures / 6 decimals


def test_a_resting_spot_order_is_listed_amended_natively_found_by_cloid_and_cancelled(fake):
    fake.spot_usdc = Decimal("1000")

    async def work(s):
        n = spot_node(4, qty="2", price="29", kind="limit")
        placed = await s.place(n, HYPE)
        held = await s.balances()
        listed = await s.open_orders(HYPE)
        amended = await s.amend(n, HYPE, Decimal("28.5"), Decimal("3"))
        fresh = HyperliquidSession(HyperliquidClient(KEY, "", "", fake.url))   # a restart: nothing in memory
        try:
            found = await fresh.order_state(n.client_order_id, HYPE)
        finally:
            await fresh.close()
        cancelled = await s.cancel(n, HYPE)
        return placed, held, listed, amended, found, cancelled, await s.balances()
    placed, held, listed, amended, found, cancelled, after = asyncio.run(using(session(fake), work))
    cid = spot_node(4).client_order_id
    assert placed.status == "NEW" and held["USDC"] == Decimal("1000") - Decimal("58")     # the buy holds its USDC
    assert [(o.client_order_id, o.price, o.qty) for o in listed] == [(cid, Decimal("29"), Decimal("2"))]
    modify = fake.actions[1]
    assert modify["type"] == "batchModify" and modify["modifies"][0]["order"]["a"] == 10107
    assert amended.mode == "native_atomic" and (amended.state.price, amended.state.qty) == (Decimal("28.5"), Decimal("3"))
    assert found.venue_order_id == amended.state.venue_order_id and found.status == "NEW"
    assert cancelled.status == "CANCELLED" and fake.actions[-1]["cancels"][0]["asset"] == 10107
    assert after["USDC"] == Decimal("1000")


def test_a_lost_spot_answer_is_resolved_by_cloid(fake):
    fake.spot_usdc, fake.lose_next_answer = Decimal("100"), True

    async def work(s):
        with pytest.raises(NetworkError):
            await s.place(spot_node(5, qty="1"), HYPE)
        return await s.order_state(spot_node(5).client_order_id, HYPE)
    state = asyncio.run(using(session(fake), work))
    assert state.status == "FILLED" and state.fills[0].fee_asset == "HYPE" and exchange_posts(fake) == 1


def test_spot_refusals_and_bad_prices(fake):
    fake.spot_usdc = Decimal("20")
    with pytest.raises(InsufficientFunds, match=r"insufficient spot balance.*\(InsufficientSpotBalance\)"):
        asyncio.run(using(session(fake), lambda s: s.place(spot_node(6, qty="0.67", price="30.01"), HYPE)))
    with pytest.raises(InvalidOrder, match=r"minimum value of 10 USDC.*\(MinTradeSpotNtl\)"):
        asyncio.run(using(session(fake), lambda s: s.place(spot_node(7, qty="0.3"), HYPE)))
    posts = exchange_posts(fake)
    with pytest.raises(InvalidOrder, match="at most 6 decimals"):                # HYPE: 8 - 2 decimals
        asyncio.run(using(session(fake), lambda s: s.place(spot_node(8, price="30.0001", kind="limit"), HYPE)))
    with pytest.raises(InvalidOrder, match="at most 0 decimals"):                # PURR sizes are whole tokens
        asyncio.run(using(session(fake), lambda s: s.place(spot_node(9, qty="1.5", price="0.2", symbol="PURR-USDC"), PURR)))
    assert exchange_posts(fake) == posts


def test_a_spot_pair_numbered_for_another_token_is_refused_unsent(fake):
    # pair numbers are per network (HYPE is @107 on mainnet, @1035 on testnet): a mismatch never trades
    fake.spot_pairs[107] = (254, 0)
    with pytest.raises(InvalidOrder, match=r"@107 is USOL/USDC in this network's spotMeta, not HYPE/USDC"):
        asyncio.run(using(session(fake), lambda s: s.place(spot_node(10), HYPE)))
    del fake.spot_pairs[107]
    with pytest.raises(InvalidOrder, match="@107 is not listed"):
        asyncio.run(using(session(fake), lambda s: s.place(spot_node(10), HYPE)))
    assert exchange_posts(fake) == 0


@pytest.mark.parametrize("mode", ["unifiedAccount", "default"])
def test_spot_balances_follow_the_account_mode(fake, mode):
    fake.abstraction, fake.spot_usdc, fake.spot_holdings["PURR"] = mode, Decimal("40"), Decimal("700")
    balances = asyncio.run(using(session(fake), lambda s: s.balances()))
    if mode == "unifiedAccount":                    # one USDC for spot and perps, in the spot state
        assert balances == {"USDC": Decimal("100000"), "PURR": Decimal("700")}
    else:
        assert balances == {"USDC": Decimal("40"), "PURR": Decimal("700"), "USDC:perp-margin": Decimal("100000")}


def test_spot_books_and_trades_come_on_the_same_websocket(fake):
    async def go():
        runner = FeedRunner(feed_for(fake), [BTC, HYPE]).start()
        try:
            await until(lambda: runner.book(HYPE) is not None and runner.book(BTC) is not None, what="both books")
            fake.push_book(bids={"30.00": "7"}, coin="@107")
            await until(lambda: runner.book(HYPE).best_bid.price == Decimal("30.00"))
            fake.push_trade("30.01", "4", "B", coin="@107")
            await until(lambda: runner.trades["@107"])
            return runner.book(HYPE), runner.trades["@107"][0]
        finally:
            await runner.stop()
    book, trade = asyncio.run(go())
    assert book.best_ask.price == Decimal("30.01") and (trade.side, trade.price, trade.size) == (1, Decimal("30.01"), Decimal("4"))
    assert {"type": "l2Book", "coin": "@107"} in fake.subscriptions and {"type": "trades", "coin": "@107"} in fake.subscriptions


def test_a_resting_spot_order_fill_arrives_on_the_stream_as_the_poll_reports_it(fake):
    fake.spot_usdc = Decimal("1000")
    n = spot_node(11, qty="5", price="29", kind="limit")

    async def go():
        s = streaming(fake)
        async with StreamProbe(s.user_stream(), INSTRUMENTS) as probe:
            await until(lambda: probe.runner.live, what="both subscriptions acknowledged")
            await s.place(n, HYPE)
            fake.fill_resting(signing.cloid_for(n.client_order_id), "2")
            await until(lambda: any(st.fills for st in probe.states), what="spot fill pushed")
            polled = await s.order_state(n.client_order_id, HYPE)
        await s.close()
        return probe.states, polled
    states, polled = asyncio.run(go())
    (pushed,) = [st for st in states if st.fills]
    assert pushed.client_order_id == n.client_order_id and pushed.filled_qty == Decimal("2")
    assert pushed.fills == polled.fills and pushed.fills[0].fee_asset == "HYPE" and pushed.fills[0].liquidity == "maker"
    assert pushed.fills[0].fee == Decimal("0.0008")                     # 2 HYPE x 0.04 % maker, in HYPE
