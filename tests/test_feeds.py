"""Book continuity rules of live feeds (sequence_core/feeds.py) that no single venue's tests
pin down alone."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sequence_core.feeds import BookGap, BookUpdate, LocalBook


def book_at(seq: int) -> LocalBook:
    book = LocalBook("binance", "BTCUSDT_PERP")
    book.reset(BookUpdate("BTCUSDT_PERP", "snapshot", ((Decimal(100), Decimal(1)),), ((Decimal(101), Decimal(1)),), seq=seq))
    return book


def delta(first: int, last: int, prev: int, bid: str = "1") -> BookUpdate:
    return BookUpdate("BTCUSDT_PERP", "delta", ((Decimal(100), Decimal(bid)),), (), seq=last, first_seq=first, prev_seq=prev)


def test_a_range_then_previous_id_feed_follows_its_snapshot_then_each_previous_update():
    """Binance USD-M: the first delta after a REST snapshot is the one whose [U, u] covers it
    (its pu is older than the snapshot); from then on each delta's pu is the last u."""
    book = book_at(1000)
    assert not book.apply(delta(990, 999, 989))          # older than the snapshot: dropped
    assert book.apply(delta(995, 1005, 994, bid="2"))    # covers it: applied, though pu != 1000
    assert book.apply(delta(1006, 1010, 1005, bid="3"))
    with pytest.raises(BookGap):
        book.apply(delta(1015, 1020, 1012))              # pu is not the last u: a gap
    assert not book.synced


def test_a_previous_id_feed_alone_is_checked_from_its_first_delta():
    """OKX and Crypto.com name only the previous sequence: checked from the first delta on."""
    book = book_at(1000)
    with pytest.raises(BookGap):
        book.apply(BookUpdate("BTCUSDT_PERP", "delta", (), (), seq=1005, prev_seq=999))


def test_a_refused_private_handshake_is_reported_without_the_url(caplog):
    """Some venues put a session key in the private socket's URL (Binance USD-M's listenKey):
    a handshake the venue refuses (here 503) is reported and logged without it; a 401 is a
    refused login."""
    import asyncio

    from aiohttp import web

    from sequence_core.testing import StreamProbe, local_server, until
    from sequence_core.userstream import UserStream

    async def go() -> list[str]:
        status = {"code": 503}

        async def refuse(request):
            return web.Response(status=status["code"])

        app = web.Application()
        app.router.add_get("/private/ws", refuse)
        async with local_server(app) as port:

            class Keyed(UserStream):
                venue = "acme"

                async def url(self) -> str:
                    return f"ws://127.0.0.1:{port}/private/ws?listenKey=SESSIONKEY123"

            errors = []
            async with StreamProbe(Keyed(), []) as probe:
                await until(lambda: probe.runner.stats.error, what="the refused handshake")
                errors.append(probe.runner.stats.error)
                status["code"] = 401
                await until(lambda: "login" in probe.runner.stats.error, what="the refused login")
                errors.append(probe.runner.stats.error)
        return errors

    refused, login = asyncio.run(go())
    assert refused == "acme private websocket handshake failed (HTTP 503)"
    assert login == "acme refused the private websocket login (HTTP 401): check the API key"
    assert "SESSIONKEY123" not in caplog.text


def test_a_socket_that_stayed_up_reconnects_fast_when_it_drops(monkeypatch):
    """The backoff grows while a venue keeps refusing, and starts over once a session has
    stayed up a while (a daily disconnect must not wait the longest backoff)."""
    import asyncio

    from sequence_core import feeds

    monkeypatch.setattr(feeds, "STABLE_S", 0.05)

    class Flaky(feeds.SocketRunner):
        def __init__(self):
            super().__init__(feeds.FeedStats(), self._close, max_backoff_s=30, connect_timeout_s=1, idle_timeout_s=1)
            self.sessions, self.waits = 0, []

        async def _close(self):
            pass

        async def _session(self):
            self.sessions += 1
            if self.sessions == 4:
                await asyncio.sleep(0.06)        # up longer than STABLE_S, then dropped
            raise feeds.NetworkError("acme websocket closed")

        async def _wait(self, seconds):
            self.waits.append(seconds)
            if len(self.waits) == 6:
                raise asyncio.CancelledError
            await asyncio.sleep(0)

    runner = Flaky()
    try:
        asyncio.run(runner.run())
    except asyncio.CancelledError:
        pass
    assert runner.waits == [0.5, 1.0, 2.0, 0.5, 1.0, 2.0]



def test_in_the_engine_a_venue_whose_rest_books_failed_is_skipped_for_a_while(monkeypatch):
    """A book read in the engine's loop that falls back to REST blocks the loop: a venue that just
    failed to answer is not waited for again on every read (a venue outage must not stall every
    order), and is asked again once REST_RETRY_S has passed."""
    import asyncio

    from sequence_core import feeds
    from sequence_core.market import spot

    inst = spot("acme", "BTC", "USD", "BTCUSD", "0.01", "0.0001")
    calls = []

    class Hanging(feeds.VenueFeed):
        venue, ws_url = "acme", None                 # REST only: no socket to keep

        async def snapshot(self, inst, depth=20):
            calls.append(inst.venue_symbol)
            await asyncio.sleep(5)

        async def close(self):
            pass

    source = feeds.LiveSource(timeout_s=0.1)
    monkeypatch.setattr(source, "_feeds", lambda venue: [Hanging({})])

    async def in_engine():
        return source.books([inst]), source.books([inst])
    assert asyncio.run(in_engine()) == ([], []) and calls == ["BTCUSD"]
    assert "acme" in source.errors
    monkeypatch.setattr(feeds, "REST_RETRY_S", 0.0)
    assert asyncio.run(in_engine()) == ([], []) and calls == ["BTCUSD"] * 3       # asked again after the pause
    assert source.books([inst]) == [] and len(calls) == 4                          # outside the engine: always asked
