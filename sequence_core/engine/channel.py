"""The engine channel: how deployed strategies' edges and programmatic clients hand orders
to the engine.

An edge's orders are latency-critical (issue 8: market event to journal, p50 under 250 µs);
an HTTP request per order cost ~1.4 ms here (connection handling, headers, JSON, the
response waiting for the GET that followed), and aiohttp's request handling was a fifth of
the engine's CPU under a programmatic client's load (issue 4). So edges, and SDK clients
that place many orders (``Sequence.channel()``), keep one persistent connection to the
engine and send typed msgpack frames over it, pipelined: a place does not wait behind the
cancel sent just before it. The CLI and every read stay on the HTTP API.

- Transport: a unix socket ``<home>/engine.sock`` (0600, in the 0700 home) — about half
  the latency of TCP loopback here — or, when that path is too long for ``AF_UNIX``
  (107 bytes), TCP on 127.0.0.1. The engine publishes which in ``engine.json``.
- Frames: a 4-byte little-endian length, then one msgpack message (a tagged
  :data:`Message`; at most 1 MB).
- Authentication: the first frame is :class:`Hello` with the engine's token (the same
  ``seq_`` key as the HTTP API); anything else, or a wrong token, closes the connection.
- Every request carries an id and gets one :class:`Reply` with that id, in any order: a
  place's reply comes once its admission is durable in the journal, with the time that
  happened (``journaled_ns``), from which the edge measures its market event → journal
  latency. A :class:`Submit` (an SDK client's order) is answered like ``POST /orders``:
  once admitted and, up to ``wait_s``, settled, with the graph, its node orders and its
  fills as the engine holds them in memory (the HTTP answer's routing and events stay a
  ``GET /orders/<id>`` away). Requests are handled concurrently, each in its own task; at most
  ``MAX_IN_FLIGHT`` per connection (the engine stops reading beyond that).
- A connection whose hello names an origin to ``watch`` (an edge's ``deploy:<name>/<edge>``)
  gets a reply with id 0 once watching (so state read after it misses nothing) and is then
  pushed an :class:`Update` (the graph, its nodes and fills) for each committed change of
  that origin's orders and of parents handed to it; replies and updates are told apart by
  their ``kind`` tag.
- A place is never retried by the client: if the connection drops before its reply, the
  edge reports the order as failed and, on restart, adopts whatever the journal holds
  (sequence_core/deploy/edge.py ``_reconcile``), as with the HTTP API.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
import time
from collections import deque
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import msgspec

from ..errors import NetworkError, SequenceError, UsageError, named
from ..orders import Fill, NodeOrder, OrderGraph, OrderRequest

MAX_FRAME = 1 << 20
MAX_IN_FLIGHT = 1_000
UNIX_PATH_MAX = 107
REPLY_TIMEOUT_S = 30.0
CONNECT_TIMEOUT_S = 5.0
log = logging.getLogger("sequence.engine")


class Hello(msgspec.Struct, tag="hello"):
    token: str
    mode: str                          # live | sandbox: the desk this connection trades on
    watch: str = ""                    # an origin ("deploy:<name>/<edge>"): push its orders' changes


class Place(msgspec.Struct, tag="place"):
    id: int
    request: OrderRequest
    seen_mid: Decimal | None = None    # the mid of the top the strategy decided on (arrival mid)


class Submit(msgspec.Struct, tag="submit"):
    id: int
    request: OrderRequest
    wait_s: float = 5.0                # how long to wait for a quick policy to finish


class Cancel(msgspec.Struct, tag="cancel"):
    id: int
    target: str                        # a graph id or node order id


class Amend(msgspec.Struct, tag="amend"):
    id: int
    target: str
    price: Decimal | None = None
    qty: Decimal | None = None


class EndParent(msgspec.Struct, tag="end"):
    id: int
    graph_id: str
    origin: str


Message = Hello | Place | Submit | Cancel | Amend | EndParent


class Reply(msgspec.Struct, tag_field="kind", tag="reply", omit_defaults=True):
    id: int
    graph_id: str = ""
    journaled_ns: int = 0              # place: when its admission was durable in the journal
    error: str = ""                    # empty: it worked
    type: str = ""                     # the SequenceError subclass of the error
    graph: OrderGraph | None = None    # submit: the order as it stands, its children and fills
    nodes: list[NodeOrder] = []
    fills: list[Fill] = []


class Update(msgspec.Struct, tag_field="kind", tag="update"):
    """Pushed to a watching connection once a change of one of its orders (or of a parent
    handed to it) is committed: the graph, its nodes and fills as they stand."""

    graph: OrderGraph
    nodes: list[NodeOrder]
    fills: list[Fill]


_encode = msgspec.msgpack.Encoder().encode
_messages = msgspec.msgpack.Decoder(Message)
_replies = msgspec.msgpack.Decoder(Reply | Update)


def frame(message) -> bytes:
    body = _encode(message)
    return len(body).to_bytes(4, "little") + body


def _frames(buffer: bytearray):
    """Complete frames at the start of *buffer* (consumed); raises on an oversized frame."""
    while len(buffer) >= 4:
        n = int.from_bytes(buffer[:4], "little")
        if n > MAX_FRAME:
            raise UsageError(f"frame of {n} bytes is over the {MAX_FRAME}-byte limit")
        if len(buffer) < 4 + n:
            return
        body = bytes(buffer[4:4 + n])
        del buffer[:4 + n]
        yield body


def socket_path(home: Path) -> Path | None:
    """The unix socket path, or None when it is too long for AF_UNIX (use TCP then)."""
    path = home / "engine.sock"
    return path if len(os.fsencode(path)) <= UNIX_PATH_MAX else None


async def serve(engine, home: Path):
    """Start listening; returns (server, address) where address is ``unix:<path>`` or
    ``tcp:<port>`` for engine.json."""
    loop = asyncio.get_running_loop()
    path = socket_path(home)
    if path is not None:
        path.unlink(missing_ok=True)
        old = os.umask(0o177)
        try:
            server = await loop.create_unix_server(lambda: _Connection(engine), str(path))
        finally:
            os.umask(old)
        os.chmod(path, 0o600)
        return server, f"unix:{path}"
    server = await loop.create_server(lambda: _Connection(engine), "127.0.0.1", 0)
    return server, f"tcp:{server.sockets[0].getsockname()[1]}"


class _Connection(asyncio.Protocol):
    """One edge's connection on the engine side."""

    def __init__(self, engine):
        self.engine = engine
        self.buffer = bytearray()
        self.mode = ""
        self.ready = False                 # Hello accepted
        self.tasks: set[asyncio.Task] = set()
        self.paused = False
        self.out: list[bytes] = []         # replies written together at the end of this loop turn
        self.watch = ""                    # Hello.watch: the origin whose orders' changes are pushed
        self.desk = None                   # the desk watched
        self.changes: dict = {}            # graph id -> its runtime (or None), not yet pushed
        self.pusher: asyncio.Task | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def connection_lost(self, exc) -> None:
        self.transport = None
        if self.desk is not None:
            self.desk.watchers.discard(self)

    def data_received(self, data: bytes) -> None:
        """Dispatch the frames that arrived, sandbox places first: each is admitted right
        here, while the cancel an edge sends ahead of it in the same write only starts a task,
        which runs after this either way (starting it first delayed the admission). Live
        requests keep their order: each is a task."""
        self.buffer += data
        inline = self._inline_desk() is not None
        later, bad = [], None
        try:
            for body in _frames(self.buffer):
                message = _messages.decode(body)
                if inline and isinstance(message, Place):
                    self._dispatch(message)
                else:
                    later.append(message)
        except (msgspec.DecodeError, msgspec.ValidationError, UsageError) as exc:
            bad = exc
        for message in later:
            self._dispatch(message)
        if bad is not None:
            self._refuse(f"bad frame: {bad}")

    def _inline_desk(self):
        """The desk that admits this connection's places inline: a sandbox one, once the
        hello is in (live admission reads balances over the network first)."""
        desk = self.engine.desks.get(self.mode) if self.ready else None
        return desk if desk is not None and desk.sandbox else None

    def _refuse(self, why: str) -> None:
        log.warning("edge channel: %s; closing the connection", why)
        if self.transport is not None:
            self.transport.write(frame(Reply(0, error=why, type="AuthenticationError")))
            self.transport.close()
        self.buffer.clear()

    def _dispatch(self, message) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        if not self.ready:
            if not isinstance(message, Hello) or not hmac.compare_digest(message.token.encode(), self.engine.token.encode()):
                self._refuse("engine authentication failed (wrong or missing key)")
                return
            self.mode, self.ready = message.mode, True
            if message.watch:
                self.watch = message.watch
                self._spawn(self._start_watching())
            return
        if isinstance(message, Hello):
            return
        desk = self._inline_desk()
        if isinstance(message, Place) and desk is not None:
            # admitted and committed right here, before the loop runs anything else
            try:
                graph, journaled_ns = desk.admit_now(message.request, message.seen_mid)
                reply = Reply(message.id, graph.graph_id, journaled_ns)
            except Exception as exc:  # noqa: BLE001 - answered like any refused request
                reply = _refusal(message.id, exc)
            if reply.journaled_ns or reply.error:
                self._send(reply)
            else:                                   # the journal's commit failed: answer once it is durable
                self._spawn(self._when_durable(desk, reply))
            return
        self._spawn(self._handle(message))
        if len(self.tasks) >= MAX_IN_FLIGHT and not self.paused:
            self.paused = True
            self.transport.pause_reading()

    def _spawn(self, coro) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self._done)

    async def _start_watching(self) -> None:
        desk = await self.engine.desk(self.mode)
        if self.transport is not None:
            self.desk = desk
            desk.watchers.add(self)
            self._send(Reply(0))                    # watching from here on: the edge may read state

    def changed(self, graph_id: str, rt) -> None:
        """Desk._publish: queue *graph_id* if it is the watched origin's order or a parent
        handed to it; pushes leave once what changed is committed."""
        graph = rt.graph if rt is not None else self.desk.journal.graph(graph_id)
        if graph is None or self.watch not in (graph.request.origin, graph.handler):
            return
        self.changes[graph_id] = rt
        if self.pusher is None:
            self.pusher = asyncio.get_running_loop().create_task(self._push())

    async def _push(self) -> None:
        try:
            while self.changes and self.transport is not None:
                batch, self.changes = self.changes, {}
                await self.desk.journal.durable()          # what these changes wrote is committed
                for graph_id, rt in batch.items():
                    if (order := _as_it_stands(self.desk, graph_id, rt)) is not None:
                        self._send(Update(*order))
        except Exception:  # noqa: BLE001 - logged; the edge sees the order's next change
            log.exception("pushing order changes to %s failed", self.watch)
        finally:
            self.pusher = None

    def _done(self, task: asyncio.Task) -> None:
        self.tasks.discard(task)
        if self.paused and len(self.tasks) < MAX_IN_FLIGHT // 2 and self.transport is not None:
            self.paused = False
            self.transport.resume_reading()

    async def _handle(self, message) -> None:
        try:
            reply = await self._run(await self.engine.desk(self.mode), message)
        except Exception as exc:  # noqa: BLE001 - one bad request must not take the channel down
            reply = _refusal(message.id, exc)
        self._send(reply)

    async def _when_durable(self, desk, reply: Reply) -> None:
        await desk.journal.durable()
        reply.journaled_ns = desk.journal.committed_ns      # the commit that made it durable
        self._send(reply)

    def _send(self, reply: Reply | Update) -> None:
        """Queue *reply*; what one loop turn answers leaves in one write (a send per reply
        cost a system call each, and the client a wake-up each, under a program's load)."""
        if self.transport is None or self.transport.is_closing():
            return
        if not self.out:
            asyncio.get_running_loop().call_soon(self._flush)
        self.out.append(frame(reply))

    def _flush(self) -> None:
        out, self.out = self.out, []
        if out and self.transport is not None and not self.transport.is_closing():
            self.transport.write(b"".join(out))

    @staticmethod
    async def _run(desk, message) -> Reply:
        if isinstance(message, Place):
            graph = await desk.submit(message.request)      # returns once the admission is durable
            return Reply(message.id, graph.graph_id, time.time_ns())
        if isinstance(message, Submit):
            rt = await desk.place(message.request, message.wait_s)
            graph, nodes, fills = _as_it_stands(desk, rt.graph.graph_id, rt)
            return Reply(message.id, graph.graph_id, graph=graph, nodes=nodes, fills=fills)
        if isinstance(message, Cancel):
            result = await desk.cancel(message.target)
            await desk.journal.durable()
            return Reply(message.id, result["graph_id"])
        if isinstance(message, Amend):
            await desk.amend(message.target, message.price, message.qty)
            await desk.journal.durable()
            return Reply(message.id, message.target)
        graph = desk.end_parent(message.graph_id, message.origin)
        await desk.journal.durable()
        return Reply(message.id, graph.graph_id)


def _as_it_stands(desk, graph_id: str, rt) -> tuple[OrderGraph, list[NodeOrder], list[Fill]] | None:
    """An order's graph, nodes and fills now: the runtime's own copies when it holds all of
    them (no journal reads on the hot path), else the journal's (None: unknown graph)."""
    if rt is not None and rt.fills_known:
        return rt.graph, list(rt.nodes.values()), list(rt.fills)
    graph = desk.journal.graph(graph_id)
    if graph is None:
        return None
    return graph, desk.journal.nodes(graph_id), desk.journal.fills(graph_id=graph_id)


def _refusal(request_id: int, exc: Exception) -> Reply:
    if isinstance(exc, SequenceError):
        return Reply(request_id, error=str(exc), type=type(exc).__name__)
    if isinstance(exc, (msgspec.ValidationError, ValueError, ArithmeticError)):
        return Reply(request_id, error=f"bad request: {exc}", type="UsageError")
    log.exception("edge channel request failed", exc_info=exc)
    return Reply(request_id, error=f"engine error: {type(exc).__name__}: {exc}", type="SequenceError")


class ChannelClient:
    """The edge's end: one connection, requests pipelined, replies matched by id.

    ``connect`` is called again after a failure; a request whose connection drops fails
    with :class:`NetworkError` (it is never re-sent)."""

    def __init__(self, mode: str):
        self.mode = mode
        self.writer: asyncio.StreamWriter | None = None
        self.pending: dict[int, asyncio.Future] = {}
        self.next_id = 1
        self._reader_task: asyncio.Task | None = None
        self._held: list[bytes] | None = None     # frames written at the end of a batch
        self.on_update = None                      # called with each pushed Update (watching)
        self._deadlines: deque[tuple[float, int]] = deque()   # (loop time, request id), in send order
        self._expiry: asyncio.TimerHandle | None = None

    @property
    def connected(self) -> bool:
        return self.writer is not None and not self.writer.is_closing()

    async def connect(self, info, watch: str = "") -> None:
        """Connect to the engine *info* (an EngineInfo) names and say hello; with *watch*
        (an origin), the engine pushes that origin's order changes to :attr:`on_update`, and
        this returns once it has said so: what the caller reads afterwards (over HTTP, say)
        can miss no change."""
        self.close()
        kind, _, where = info.channel.partition(":")
        if kind == "unix":
            opening = asyncio.open_unix_connection(where)
        elif kind == "tcp":
            opening = asyncio.open_connection("127.0.0.1", int(where))
        else:
            raise NetworkError("the engine publishes no edge channel (restart it: `sequence engine stop`)")
        try:
            reader, writer = await asyncio.wait_for(opening, CONNECT_TIMEOUT_S)
        except (OSError, asyncio.TimeoutError) as exc:
            raise NetworkError(f"cannot reach the engine's edge channel ({type(exc).__name__})") from None
        if kind == "tcp":
            import socket

            writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        loop = asyncio.get_running_loop()
        acknowledged = None
        if watch:
            acknowledged = self.pending[0] = loop.create_future()
        writer.write(frame(Hello(info.token, self.mode, watch)))
        self.writer = writer
        self._reader_task = loop.create_task(self._read(reader))
        if acknowledged is not None:
            await self.reply(acknowledged)          # a refused hello raises its error here

    def send(self, message) -> asyncio.Future:
        """Write *message* now (so frames leave in call order); its reply's future."""
        if not self.connected:
            raise NetworkError("not connected to the engine")
        message.id = self.next_id
        self.next_id += 1
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self.pending[message.id] = future
        self._deadlines.append((loop.time() + REPLY_TIMEOUT_S, message.id))
        if self._expiry is None:
            self._expiry = loop.call_at(self._deadlines[0][0], self._expire)
        if self._held is None:           # outside a batch: what this loop turn sends leaves together
            self._held = []
            loop.call_soon(self._write_held)
        self._held.append(frame(message))
        return future

    def _write_held(self) -> None:
        held, self._held = self._held, None
        if held and self.connected:
            self.writer.write(b"".join(held))

    @contextmanager
    def batch(self):
        """Hold the frames sent inside and write them in one go at the end: a strategy
        callback that cancels and re-places wakes the engine once, not twice (each wake-up
        of a sleeping engine costs the sender ~0.1-3 ms here when the kernel runs the
        engine on the sender's core)."""
        if self._held is not None:      # inside a batch, or frames of this turn already held
            yield
            return
        self._held = []
        try:
            yield
        finally:
            self._write_held()

    async def reply(self, future: asyncio.Future) -> Reply:
        """The reply *future* (from :meth:`send`) resolves to, within REPLY_TIMEOUT_S; a
        refused request raises the engine's error, a lost one NetworkError."""
        await future
        return self.answer(future)

    @staticmethod
    def answer(future: asyncio.Future) -> Reply:
        """The reply of a request whose *future* is done (see :meth:`reply`)."""
        reply = future.result()
        if reply.error:
            raise named(reply.type, reply.error)
        return reply

    def _expire(self) -> None:
        """Fail the requests unanswered for REPLY_TIMEOUT_S: one timer for them all (a
        wait_for per request was a timer, a future and a task step more each), firing at
        most every thirtieth of the timeout, so a request fails within 1/30 after its time."""
        self._expiry = None
        loop = asyncio.get_running_loop()
        now = loop.time()
        while self._deadlines and self._deadlines[0][0] <= now:
            future = self.pending.pop(self._deadlines.popleft()[1], None)
            if future is not None and not future.done():
                future.set_exception(NetworkError(f"the engine did not answer within {REPLY_TIMEOUT_S:g} s"))
        if self._deadlines:
            self._expiry = loop.call_at(max(self._deadlines[0][0], now + REPLY_TIMEOUT_S / 30), self._expire)

    async def request(self, message) -> Reply:
        """Send and wait for the reply (see :meth:`reply`)."""
        return await self.reply(self.send(message))

    async def submit(self, request: OrderRequest, wait_s: float = 5.0) -> Reply:
        """Place a parent order as ``POST /orders`` does; the reply carries the graph, its
        node orders and fills once admitted and, up to *wait_s*, settled."""
        return await self.request(Submit(0, request, wait_s))

    async def _read(self, reader: asyncio.StreamReader) -> None:
        why = "the engine closed the edge channel"
        try:
            while True:
                n = int.from_bytes(await reader.readexactly(4), "little")
                if n > MAX_FRAME:
                    why = "the engine sent an oversized frame"
                    break
                reply = _replies.decode(await reader.readexactly(n))
                if isinstance(reply, Update):
                    if self.on_update is not None:
                        self.on_update(reply)
                    continue
                future = self.pending.pop(reply.id, None)
                if future is not None and not future.done():
                    future.set_result(reply)
                elif reply.id == 0 and reply.error:
                    why = reply.error                    # refused: authentication
                while self._deadlines and self._deadlines[0][1] not in self.pending:
                    self._deadlines.popleft()            # answered (mostly in order): its deadline goes
        except (asyncio.IncompleteReadError, OSError, msgspec.DecodeError, msgspec.ValidationError):
            pass
        finally:
            self._fail(why)

    def _fail(self, why: str) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None
        pending, self.pending = self.pending, {}
        self._deadlines.clear()
        if self._expiry is not None:
            self._expiry.cancel()
            self._expiry = None
        for future in pending.values():
            if not future.done():
                future.set_exception(NetworkError(why))

    def close(self) -> None:
        if self._reader_task is not None:
            self._reader_task.cancel()
            self._reader_task = None
        self._fail("the edge closed its channel")
