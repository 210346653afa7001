"""A backtest holds a strategy's orders to the venue's own rules where the venue's plugin lists
the book: an order under Binance's minimum notional filled in a backtest and was refused
once deployed (on_order event 2)."""

from __future__ import annotations

import pytest
from simtools import DAY, make_market

REJECTED, REJECTED_ST = 2, 6


@pytest.fixture
def binance_market(home, monkeypatch):
    """make_market's book named binance BTC-USDT (the plugin's minimum notional: 5 USDT), sized
    in 0.00001 lots so that one lot (~$0.50) is under it."""
    monkeypatch.setenv("SEQUENCE_LOAD_PLUGINS", "sim,binance,queue-models,latency-models,fee-models")
    from sequence_core.home import ensure_home
    from sequence_core.plugins import reset_plugins
    from sequence_core.store import Store

    reset_plugins()
    make_market(Store(ensure_home() / "data"), venue="binance", symbol="BTC-USDT", lot=10_000)
    yield
    reset_plugins()


def test_an_order_under_the_venues_minimum_notional_is_rejected_as_deployed(binance_market):
    from sequence_core.client import Sequence
    from sequence_core.sim.pystrategy import Strategy

    class TwoBids(Strategy):
        def __init__(self):
            self.events = {}

        def on_start(self, ctx):
            ctx.set_timer(1_000_000_000)

        def on_timer(self, ctx, now):
            if self.events:
                return
            bid = ctx.top(0)[0]
            if bid:
                lot, tick = ctx.lot(0), ctx.tick(0)
                for size in (lot, 20 * lot):                  # ~$0.50 and ~$10 at 50,000
                    self.events[ctx.place(0, 1, bid - 100 * tick, size)] = []

        def on_order(self, ctx, order_id, event, status):
            self.events[order_id].append((event, status))

    s = TwoBids()
    Sequence().backtest(s, "BTC-USDT", DAY, DAY, dedup=False)
    small, big = s.events.values()
    assert small == [(REJECTED, REJECTED_ST)]
    assert big and big[0][0] != REJECTED
