"""How the engine polls a venue's resting orders while private streams push them
(sequence_core/engine/desk.py): slowly for the books a live stream covers, every tick for
the others."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from sequence_core.market import Instrument
from sequence_core.userstream import UserStream

SPOT = Instrument("acme", "BTC-USDT", "BTCUSDT", "crypto", "BTC", "USDT", Decimal("0.01"), Decimal("0.0001"))
PERP = Instrument("acme", "BTC-USDT-PERP", "BTCUSDT_PERP", "perp", "BTC", "USDT", Decimal("0.1"), Decimal("0.001"))


class Kind(UserStream):
    venue = "acme"

    def __init__(self, kind: str):
        self.kind = kind

    def covers(self, inst) -> bool:
        return (inst.kind == "perp") == (self.kind == "perp")


class Runner:
    def __init__(self, stream, live: bool):
        self.stream, self.live = stream, live


def test_a_book_is_polled_slowly_only_while_every_stream_covering_it_is_live(home):
    from sequence_core.engine.server import Engine

    async def run() -> list[bool]:
        engine = Engine("seq_test_token")
        desk = await engine.desk("sandbox")
        try:
            spot, perp = Runner(Kind("spot"), True), Runner(Kind("perp"), False)     # a key without futures permission
            desk.streams["acme"] = [spot, perp]
            s, p = desk._poll_key("acme", SPOT), desk._poll_key("acme", PERP)
            seen = [desk._poll_due(s), desk._poll_due(s), desk._poll_due(p), desk._poll_due(p)]
            perp.live = True
            desk._catch_up("acme")                     # it (re)connected: read everything once
            seen += [desk._poll_due(s), desk._poll_due(p), desk._poll_due(s), desk._poll_due(p)]
            del desk.streams["acme"]
            return seen
        finally:
            await desk.stop()

    assert asyncio.run(run()) == [
        True, False,      # spot: its stream is live: read once, then only every few seconds
        True, True,       # perp: its stream is down: every tick
        True, True,       # its stream connects: both books once ...
        False, False,     # ... then slowly
    ]
