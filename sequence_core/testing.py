"""The venue conformance kit: checks every venue plugin runs in its own tests.

    from sequence_core.testing import check_venue
    def test_conformance():
        check_venue(BinanceVenue())

A venue passes when its declarations are usable by the core: credential fields of known
kinds, instruments with positive ticks and lots and unique names, a symbol map that
round-trips, and a fee schedule with a source (or an explicit None).
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from decimal import Decimal

from .market import KINDS, FeeSchedule, Instrument, SymbolMap
from .venues import FIELD_KINDS, Venue


def check_venue(venue: Venue) -> None:
    assert venue.name and venue.name == venue.name.lower() and " " not in venue.name, "venue names are lower-case words"
    assert venue.title, "a venue has a display title"
    names = [f.name for f in venue.credential_fields]
    assert len(names) == len(set(names)), "credential fields are unique"
    for f in venue.credential_fields:
        assert f.kind in FIELD_KINDS, f"{f.name}: unknown field kind {f.kind}"
        assert f.label, f"{f.name}: needs a prompt label"
    instruments = venue.instruments()
    keys = [(i.symbol, i.outcome) for i in instruments]
    assert len(keys) == len(set(keys)), "instruments are unique per (symbol, outcome)"
    for i in instruments:
        assert isinstance(i, Instrument) and i.venue == venue.name
        assert i.kind in KINDS and i.kind != "fiat"
        for field in ("tick_size", "lot_size", "min_notional", "min_qty"):
            assert isinstance(getattr(i, field), Decimal), f"{i.symbol}.{field} must be a Decimal"
        assert i.tick_size > 0 and i.lot_size > 0 and i.min_notional >= 0 and i.min_qty >= 0
        if i.kind == "event_contract":
            assert i.outcome in ("YES", "NO") and i.tick_size < 1
        else:
            suffix = "-PERP" if i.kind == "perp" else ""
            assert i.symbol == f"{i.base}-{i.quote}{suffix}", f"{i.symbol}: canonical BASE-QUOTE naming"
    symbols = SymbolMap(instruments)
    for i in instruments:
        assert symbols.to_canonical(i.venue_symbol) == i.symbol
        assert symbols.to_venue(i.symbol + (f":{i.outcome}" if i.outcome else "")) == i.venue_symbol
    schedule = venue.fee_schedule()
    if schedule is not None:
        assert isinstance(schedule, FeeSchedule) and schedule.venue == venue.name
        assert schedule.source.startswith("https://") and schedule.as_of, "fee schedules cite their source and date"
        for tier in schedule.tiers + schedule.perp_tiers:
            assert isinstance(tier.maker, Decimal) and isinstance(tier.taker, Decimal)
            if schedule.model == "proportional":
                assert -Decimal("0.01") < tier.maker <= tier.taker < Decimal("0.05"), "rates are fractions of notional"
            else:
                assert schedule.curve, "a fee curve says its formula for display"
        for i in instruments[:3]:
            fee = venue.fee(i, Decimal("0.5") if i.kind == "event_contract" else Decimal(100), i.lot_size * 100, "taker")
            assert fee is not None and fee >= 0


# -- key material for tests (generated fresh; never a real key) -------------------------------------
def make_pem(kind: str) -> str:
    """A new PKCS#8 PEM private key of ``kind``: rsa, ec (P-256) or ed25519."""
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    key = {"rsa": lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
           "ec": lambda: ec.generate_private_key(ec.SECP256R1()),
           "ed25519": ed25519.Ed25519PrivateKey.generate}[kind]()
    return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()


def make_solana_keypair() -> str:
    """A new Solana keypair as solana-keygen writes it (JSON array of 64 bytes)."""
    import json

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

    k = Ed25519PrivateKey.generate()
    raw = k.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()) + k.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return json.dumps(list(raw))


class VenueConformance:
    """Base class for a venue plugin's tests: subclass it, set ``venue`` and implement
    ``valid_credentials``; pytest runs these checks for that venue."""

    venue: Venue

    def valid_credentials(self) -> dict[str, str]:
        raise NotImplementedError

    def test_conformance(self):
        check_venue(self.venue)

    def test_valid_credentials_are_accepted(self):
        clean = self.venue.validate_credentials(self.valid_credentials())
        assert {f.name for f in self.venue.credential_fields if not f.optional} <= set(clean)

    def test_missing_required_field_is_named(self):
        import pytest

        from .errors import CredentialError

        first = next(f for f in self.venue.credential_fields if not f.optional)
        with pytest.raises(CredentialError, match=first.name):
            self.venue.validate_credentials({})

    def test_fee_schedule_cites_the_venue(self):
        schedule = self.venue.fee_schedule()
        assert schedule is not None and schedule.source.startswith("https://")


# -- a fake policy context: what a policy plugin's unit tests drive -------------------------------
class FakePolicyContext:
    """An in-memory PolicyContext: instant fills, a fake clock that ``sleep`` advances.

    ``take_fill_ratio`` is the share of each ``take`` that fills; resting orders fill when
    a test calls :meth:`fill_resting`. Every action is recorded in ``actions``.
    """

    def __init__(self, request, started_ns: int = 1_700_000_000_000_000_000, books=None, take_fill_ratio=Decimal(1),
                 graph_id: str = "graph_00000000abcd", lot: Decimal = Decimal("0.001"), tick: Decimal = Decimal("0.01")):
        from .orders import OrderGraph

        self.request = request
        self.graph = OrderGraph(graph_id, "sandbox", request, "WORKING", started_ns, started_ns)
        self.clock = started_ns
        self._books = books or []
        self.take_fill_ratio = take_fill_ratio
        self.actions: list[tuple] = []
        self.nodes: list = []
        self._lot, self._tick = lot, tick
        self.notes: list[tuple[str, dict]] = []
        self.last_bound = None

    # state
    @property
    def remaining(self) -> Decimal:
        working = sum((n.remaining for n in self.open_nodes()), Decimal(0))
        return self.graph.request.qty - self.graph.filled_qty - working

    @property
    def started_ns(self) -> int:
        return self.graph.created_ns

    def now_ns(self) -> int:
        return self.clock

    async def sleep(self, seconds: float) -> None:
        self.clock += int(max(0.0, seconds) * 1e9)

    def books(self, depth: int = 20):
        return self._books

    def tick_size(self, venue: str) -> Decimal:
        return self._tick

    def lot_size(self, venue: str) -> Decimal:
        return self._lot

    def note(self, kind: str, detail: dict) -> None:
        self.notes.append((kind, detail))

    def volume_profile(self):
        return None

    def can_fund(self, venue, qty, price=None):
        return venue not in self.unfunded

    unfunded: frozenset = frozenset()    # venues whose balance a test says cannot pay

    def open_nodes(self):
        return [n for n in self.nodes if n.status in ("NEW", "PARTIALLY_FILLED")]

    # actions
    def _fill(self, qty: Decimal) -> None:
        self.graph.filled_qty += qty

    async def take(self, qty, limit=None, urgency=None, max_slippage_bps=None) -> Decimal:
        from .router import slippage_bound

        r = self.request
        self.last_bound = slippage_bound(r.side, self._books, limit, max_slippage_bps if max_slippage_bps is not None
                                         else r.max_slippage_bps, urgency or r.urgency)
        got = (qty * self.take_fill_ratio / self._lot).to_integral_value(rounding="ROUND_DOWN") * self._lot
        got = min(got, self.graph.request.qty - self.graph.filled_qty)
        self.actions.append(("take", self.clock, qty, limit, urgency))
        self._fill(got)
        return got

    def _node(self, venue, qty, price, order_type, node=None, seq=0):
        from .orders import NodeOrder, node_order_id

        n = len(self.nodes) if node is None else node
        return NodeOrder(node_order_id(self.graph.graph_id, n, seq), self.graph.graph_id, n, seq, venue,
                         self.request.symbol, self.request.side, qty, price, order_type, "NEW", self.clock, self.clock)

    async def post(self, venue, qty, price, post_only=True):
        node = self._node(venue, qty, price, "post_only" if post_only else "limit")
        self.nodes.append(node)
        self.actions.append(("post", self.clock, venue, qty, price, post_only))
        return node

    async def cancel(self, node):
        node.status = "CANCELLED" if node.filled_qty < node.qty else "FILLED"
        self.actions.append(("cancel", self.clock, node.node_order_id))
        return node

    async def replace(self, node, price=None, qty=None):
        await self.cancel(node)
        left = (qty if qty is not None else node.qty) - node.filled_qty
        new = self._node(node.venue, left, price if price is not None else node.limit_price, node.order_type, node.node, node.seq + 1)
        self.nodes.append(new)
        self.actions.append(("replace", self.clock, node.node_order_id, price, qty))
        return new

    async def refresh(self, node):
        return node

    def fill_resting(self, qty: Decimal | None = None) -> None:
        """Fill the open resting orders (all, or ``qty`` of the first)."""
        for node in self.open_nodes():
            take = node.remaining if qty is None else min(qty, node.remaining)
            node.filled_qty += take
            node.status = "FILLED" if node.filled_qty >= node.qty else "PARTIALLY_FILLED"
            self._fill(take)
            if qty is not None:
                break


async def until(check, timeout_s: float = 5.0, what: str = "condition") -> None:
    """Wait for ``check()`` to hold (feeds and fake servers answer asynchronously)."""
    import asyncio

    for _ in range(int(timeout_s / 0.02)):
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{what} not reached within {timeout_s:g}s")


@asynccontextmanager
async def local_server(app):
    """Serve the aiohttp *app* on 127.0.0.1, a free port, for the block; yields the port."""
    from aiohttp import web

    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield site._server.sockets[0].getsockname()[1]
    finally:
        await runner.cleanup()


class LiveCli:
    """The real ``sequence`` CLI in live mode, in a fresh home, against fake venue servers:
    ``connect(venue, creds)``, ``configure(toml)``, ``run(*args)``; ``close()`` stops its engine."""

    def __init__(self, home, plugins: str):
        import os
        import sys
        from pathlib import Path

        self.home = Path(home)
        self.exe = Path(sys.executable).parent / "sequence"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("SEQUENCE_")}
        self.env.update(SEQUENCE_HOME=str(self.home), SEQUENCE_LOAD_PLUGINS=plugins, SEQUENCE_LOOPBACK_ONLY="1")

    def run(self, *args, stdin: str = ""):
        import subprocess

        return subprocess.run([str(self.exe), *args], input=stdin, capture_output=True, text=True, env=self.env, timeout=60)

    def json(self, *args):
        import json

        r = self.run(*args, "--output", "json")
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)

    def refused(self, *args):
        """An order the venue refused: exit 1 with the reason on stderr, and the journaled
        result (REJECTED, its reason) still on stdout."""
        import json

        r = self.run(*args, "--output", "json")
        assert r.returncode == 1 and "Error: order graph_" in r.stderr and "REJECTED" in r.stderr, r.stderr
        return json.loads(r.stdout)

    @staticmethod
    def wait(check, what: str, timeout_s: float = 5.0):
        """Poll ``check()`` until it returns something truthy (returned), or fail saying ``what``."""
        import time

        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if value := check():
                return value
            time.sleep(0.02)
        raise AssertionError(f"{what} not reached within {timeout_s:g}s")

    def engine_status(self, showing: str) -> str:
        """``engine status`` once it shows *showing* (a socket's state, say), else fail."""
        def shown():
            out = self.run("engine", "status").stdout
            return out if showing in out else None
        return LiveCli.wait(shown, f"engine status showing {showing!r}")

    def restart_engine(self) -> None:
        """``engine stop``, then ``engine start`` (a starting live desk reads what it reads at
        start, such as funding payments)."""
        for command in ("stop", "start"):
            r = self.run("engine", command)
            assert r.returncode == 0, r.stderr

    def connect(self, venue: str, creds: dict) -> None:
        import json

        r = self.run("connect", venue, stdin=json.dumps(creds))
        assert r.returncode == 0, r.stderr

    def configure(self, toml: str) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        (self.home / "config.toml").write_text(toml)
        (self.home / "config.toml").chmod(0o600)

    def configure_venue(self, venue: str, line: str) -> None:
        add_venue_setting(self.home, venue, line)

    def close(self) -> None:
        import json
        import os

        info = self.home / "engine.json"
        if info.exists():
            try:
                os.kill(json.loads(info.read_text())["pid"], 9)
            except ProcessLookupError:
                pass


def shared_responses(*parts: str):
    """``shared/data/responses/<parts>``: the recorded venue answers the tests read, found beside
    the checkout (the first ancestor holding ``shared/data/responses``), else /work/shared's."""
    from pathlib import Path

    for parent in Path(__file__).resolve().parents:
        if (parent / "shared" / "data" / "responses").exists():
            return parent.joinpath("shared", "data", "responses", *parts)
    return Path("/work/shared/data/responses").joinpath(*parts)


def funding_kept_once(cli: "LiveCli", reads: list, before: Decimal, change: Decimal) -> list[tuple]:
    """A venue CLI test's check that funding booked on a held perp reaches the ledger once: the
    engine is restarted twice (a starting live desk reads funding where the ledger holds a perp),
    each time the fake is asked (``reads``: its record of funding requests, cleared here) and
    realized P&L ends at ``before + change``. Returns the journal's funding rows (payment id,
    instrument, asset, amount), oldest first."""
    import sqlite3

    for _ in range(2):                                     # read twice, kept once
        reads.clear()
        cli.restart_engine()
        LiveCli.wait(lambda: reads, "the engine's funding read", timeout_s=10)
        LiveCli.wait(lambda: Decimal(cli.json("positions")["summary"]["realized_pnl"]) == before + change,
                     "the funding in realized P&L", timeout_s=10)
    db = sqlite3.connect(cli.home / "journal.db")
    try:
        return db.execute("SELECT payment_id, instrument, asset, amount FROM funding ORDER BY ts_ns").fetchall()
    finally:
        db.close()


def check_stream_fill(json_of, server, graph_id: str, cid: str, qty: str, price: str, reads) -> None:
    """A venue CLI test's check that the engine learns a resting order's later fill from the
    private stream: it logged in once, the fill reaches ``sequence fills`` as a maker fill, the
    order shows FILLED, and the engine read the order over REST at most twice meanwhile
    (``reads()`` counts those reads at the fake server; ``json_of(*args)`` runs the CLI)."""
    LiveCli.wait(lambda: server.private, "the engine's private stream login on its first order")
    assert server.logins == [True]
    before = reads()
    server.fill_resting(cid, qty)
    fills = LiveCli.wait(lambda: json_of("fills"), "the fill in `sequence fills`")
    assert [(f["price"], f["qty"], f["liquidity"]) for f in fills] == [(price, qty, "maker")]
    (entry,) = [o for o in json_of("orders") if o["graph"]["graph_id"] == graph_id]
    assert [n["status"] for n in entry["nodes"]] == ["FILLED"]
    assert reads() - before <= 2            # with the stream live, not 4 REST reads a second


def add_venue_setting(home, venue: str, line: str) -> None:
    """Add *line* (``key = value``) to ``[venues.<venue>]`` in the home's config.toml (made if absent)."""
    from pathlib import Path

    path, header = Path(home) / "config.toml", f"[venues.{venue}]\n"
    text = path.read_text() if path.exists() else ""
    path.write_text(text.replace(header, header + line + "\n", 1) if header in text else f"{text}\n{header}{line}\n")
    path.chmod(0o600)


def running(server):
    """A pytest fixture's body for a fake venue: ``yield from running(FakeAcme(...))`` starts it
    (``server.url`` set), hands it to the test and stops it afterwards."""
    server.url = server.start()
    try:
        yield server
    finally:
        server.stop()


def child_order(n: int, inst, side: str = "buy", price: str = "91000", qty: str = "0.1", order_type: str = "ioc",
                graph_id: str = "graph_000000001e7e"):
    """Node order *n* of one graph on *inst*'s venue, as the engine hands it to an adapter's
    ``place`` (adapter tests)."""
    from .orders import NodeOrder

    return NodeOrder(f"{graph_id}:node_{n}:0", graph_id, n, 0, inst.venue, inst.symbol, side, Decimal(qty), Decimal(price),
                     order_type, "PENDING_NEW", 0, 0)


def live_world(home, server, venue: str, creds: dict, settings):
    """A live CLI test's fixture body: ``yield from live_world(tmp_path / "home", FakeAcme(...),
    "acme", {"api_key": ...}, lambda url: f'base_url = "{url}"\n')`` starts the fake, connects
    the venue with *creds* in a fresh home (the venue, the paper venues and the synthetic source
    loaded), writes ``[venues.<venue>]`` from ``settings(url)``, hands ``(cli, server)`` to the
    test, then stops the engine and the fake."""
    url = server.start()
    cli = LiveCli(home, f"{venue},sim,synthetic")
    try:
        cli.connect(venue, creds)
        cli.configure(f"[venues.{venue}]\n" + settings(url))
        yield cli, server
    finally:
        cli.close()
        server.stop()


class FakeVenueServer:
    """Base of the fake venue servers in plugin tests: an aiohttp app on 127.0.0.1 in a thread
    with its own loop (so sync and async tests can use it), with the websockets it accepted.
    Subclasses define ``app()``; ``start()`` returns the base URL."""

    def __init__(self):
        self.sockets: list = []
        self.requests: list[tuple[str, str]] = []
        self.rate_limit_next = self.malformed_next = self.clock_offset_ms = 0    # faults to inject
        self._loop = None
        self.port = None

    def app(self):
        raise NotImplementedError

    def now_ms(self) -> int:
        """The venue's clock (``clock_offset_ms`` skews it to test the client's resync)."""
        import time

        return time.time_ns() // 1_000_000 + self.clock_offset_ms

    def rate_limited(self):
        """The venue's own answer when a client is over its limit."""
        raise NotImplementedError

    def fault(self, request):
        """A further venue-specific fault for this request, or None."""
        return None

    def _faults(self):
        from aiohttp import web

        @web.middleware
        async def faults(request, handler):
            self.requests.append((request.method, request.path))
            if self.rate_limit_next:
                self.rate_limit_next -= 1
                return self.rate_limited()
            if self.malformed_next:
                self.malformed_next -= 1
                return web.Response(text="<html>bad gateway</html>", status=200)
            return self.fault(request) or await handler(request)
        return faults

    @property
    def faults(self):
        """Middleware: records each request, then answers the injected faults."""
        return self._faults()

    def start(self) -> str:
        import asyncio
        import threading

        from aiohttp import web

        ready = threading.Event()

        def run():
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            runner = web.AppRunner(self.app())
            self._loop.run_until_complete(runner.setup())
            site = web.TCPSite(runner, "127.0.0.1", 0)
            self._loop.run_until_complete(site.start())
            self.port = site._server.sockets[0].getsockname()[1]
            ready.set()
            self._loop.run_forever()
            self._loop.run_until_complete(runner.cleanup())

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        ready.wait(10)
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def soon(self, fn) -> None:
        """Run ``fn`` on the server's loop (from a test's thread)."""
        self._loop.call_soon_threadsafe(fn)

    def broadcast(self, message: dict) -> None:
        """Send a JSON message to every open websocket (from any thread)."""
        import asyncio

        self.soon(lambda: [asyncio.ensure_future(ws.send_json(message)) for ws in self.sockets if not ws.closed])

    def drop_sockets(self) -> None:
        import asyncio

        self.soon(lambda: [asyncio.ensure_future(ws.close()) for ws in self.sockets])


def signed(handler):
    """For a fake server's handler: ``self.verify(request)`` first (sync or async); a refusal
    is the answer, else the handler gets the verified parameters as ``p``."""
    import functools
    import inspect

    @functools.wraps(handler)
    async def wrapper(self, request):
        p = self.verify(request)
        if inspect.isawaitable(p):
            p = await p
        if not isinstance(p, dict):
            return p
        return await handler(self, request, p)
    return wrapper


class StreamProbe:
    """A venue's private :class:`~sequence_core.userstream.UserStream` run by the real runner,
    for adapter tests: ``async with StreamProbe(stream, instruments) as probe`` then read
    ``probe.states`` (every order update delivered), ``probe.connects``, ``probe.runner``."""

    def __init__(self, stream, instruments):
        from .userstream import UserStreamRunner

        by_symbol = {i.venue_symbol: i for i in instruments}
        self.states: list = []
        self.connects = 0
        self.runner = UserStreamRunner(stream, lambda: by_symbol, self.states.extend, self._connected, max_backoff_s=0.2)

    async def _connected(self) -> None:
        self.connects += 1

    async def __aenter__(self) -> "StreamProbe":
        self.runner.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.runner.stop()


def refused_login(stream, instruments) -> StreamProbe:
    """Run a private stream whose credentials the venue refuses, until the runner has stopped
    on the refusal: the probe, for its ``runner.stats.error``, ``runner.live``, ``connects``."""
    import asyncio

    async def go():
        async with StreamProbe(stream, instruments) as probe:
            await until(lambda: "login" in probe.runner.stats.error, what="the refusal")
        return probe
    return asyncio.run(go())


async def drop_and_recover(feed, inst, server, change) -> tuple:
    """Run a feed, drop the server's sockets, ``change()`` the book while it is away: returns
    (the book served while out of sync, the book after reconnecting)."""
    from .feeds import FeedRunner

    runner = FeedRunner(feed, [inst], max_backoff_s=0.2).start()
    try:
        await until(lambda: runner.book(inst) is not None, what="first book")
        server.drop_sockets()
        await until(lambda: runner.stats.state != "live", what="the drop noticed")
        stale = runner.book(inst)
        change()
        await until(lambda: runner.book(inst) is not None and runner.stats.reconnects >= 1, what="reconnect")
        return stale, runner.book(inst)
    finally:
        await runner.stop()
