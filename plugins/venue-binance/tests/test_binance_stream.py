"""Binance's user data stream over the WebSocket API, against the fake server: the signed
subscription, execution reports for a resting order's fill (with the trade id myTrades
reports), a refused subscription, and the published executionReport payloads."""

import asyncio
import json
import sys
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fake_binance import FakeBinance  # noqa: E402
from sequence_core.orders import NodeOrder  # noqa: E402
from sequence_core.testing import StreamProbe, refused_login, until  # noqa: E402
from sequence_venue_binance.execution import BinanceSession  # noqa: E402
from sequence_venue_binance.http import BinanceClient  # noqa: E402
from sequence_venue_binance.stream import BinanceUserStream, signed_params  # noqa: E402
from sequence_venue_binance.symbols import INSTRUMENTS  # noqa: E402

KEY, SECRET = "stream-api-key-0001", "stream-secret-0001"
BTC = next(i for i in INSTRUMENTS if i.symbol == "BTC-USDT")
SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "data" / "responses" / "binance" / "python-ws"
if not SAMPLES.exists():
    SAMPLES = Path("/work/shared/data/responses/binance/python-ws")


@pytest.fixture
def fake():
    server = FakeBinance(KEY, SECRET)
    server.url = server.start()
    yield server
    server.stop()


def user_stream(fake, secret=SECRET):
    return BinanceUserStream(BinanceClient(KEY, secret, fake.url), {"ws_api_url": fake.url.replace("http", "ws") + "/ws-api/v3"})


def resting(n=3):
    gid = "graph_00000000cafe"
    return NodeOrder(f"{gid}:node_{n}:0", gid, n, 0, "binance", "BTC-USDT", "buy", Decimal("0.5"), Decimal("90000.00"),
                     "limit", "PENDING_NEW", 0, 0)


def test_the_subscription_signs_the_sorted_params():
    # the WebSocket API's rule: every param but the signature, sorted by name, key=value joined by &
    p = signed_params("k", "s", 1700000000000)
    from sequence_venue_binance.signing import signature
    assert p["signature"] == signature("s", "apiKey=k&timestamp=1700000000000")


def test_a_resting_order_fill_arrives_as_an_execution_report_with_the_trade_id_mytrades_reports(fake):
    async def go():
        s = BinanceSession(BinanceClient(KEY, SECRET, fake.url))
        async with StreamProbe(user_stream(fake), INSTRUMENTS) as probe:
            await until(lambda: probe.runner.live and fake.private, what="subscribed")
            await s.place(resting(), BTC)
            fake.fill_resting(resting().client_order_id, "0.2")
            await until(lambda: any(st.fills for st in probe.states), what="fill reported")
            trades = await s.client.my_trades("BTCUSDT", int(probe.states[-1].venue_order_id))
        await s.close()
        return probe.states, trades
    states, trades = asyncio.run(go())
    (fill,) = states[-1].fills
    assert [st.status for st in states] == ["NEW", "PARTIALLY_FILLED"]
    assert (fill.price, fill.qty, fill.liquidity) == (Decimal("90000.00"), Decimal("0.2"), "maker")
    assert fill.fee == Decimal("0.2") * Decimal("0.001") * Decimal("90000.00")       # BTC commission, in USDT
    assert fill.fill_id == str(trades[0]["id"])


def test_a_refused_subscription_never_shows_the_secret(fake):
    error = refused_login(user_stream(fake, secret="not-the-secret-xyz"), INSTRUMENTS).runner.stats.error
    assert "refused the private websocket login" in error and "not-the-secret-xyz" not in error
    assert fake.logins[0] is False and fake.private == []


def test_published_execution_reports_parse():
    eth = {"ETHUSDT": next(i for i in INSTRUMENTS if i.venue_symbol == "ETHUSDT")}
    stream = BinanceUserStream(None, {})

    def parse(name):
        sample = json.loads((SAMPLES / name).read_text())
        return stream.parse({"subscriptionId": 0, "event": sample["data"]}, eth)

    (trade,) = parse("ws_spot_execution_report_trade.json")
    (fill,) = trade.fills
    assert (trade.client_order_id, trade.status, trade.filled_qty) == ("O-12345-test-trade", "PARTIALLY_FILLED", Decimal("0.5"))
    assert (fill.fill_id, fill.price, fill.qty, fill.liquidity) == ("98765432", Decimal("2499.5"), Decimal("0.5"), "maker")
    assert fill.fee == Decimal("0.0005") * Decimal("2499.5")                       # ETH commission, in USDT
    (cancel,) = parse("ws_spot_execution_report_canceled.json")
    assert (cancel.status, cancel.fills, cancel.filled_qty) == ("CANCELLED", (), Decimal("0.1"))
