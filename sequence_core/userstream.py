"""Private order and fill streams: the venue pushes order updates instead of the engine polling.

An adapter's ``ExecutionSession.user_stream()`` returns a :class:`UserStream`: the private
websocket URL, the login and subscribe messages, a keepalive and a parser from the venue's
order and execution messages to :class:`~sequence_core.execution.OrderState` (the fills a
message reports, usually the last one; ``filled_qty`` cumulative). :class:`UserStreamRunner`
keeps it connected with backoff and hands each state to the engine, which applies it exactly
as a poll answer (fills are recorded once by venue fill id, so a fill seen on the stream and
again by a poll counts once).

Polling stays as the safety net: while a venue's stream is live the engine polls its resting
orders only every few seconds, and at once after each (re)connect, so updates sent while the
socket was down are read over REST and nothing is missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

import msgspec

from .errors import AuthenticationError, NetworkError
from .execution import OrderState
from .feeds import FeedStats, SocketRunner, _decode
from .market import Instrument


class UserStream:
    """What an adapter implements for its private websocket (orders and fills)."""

    venue: ClassVar[str]
    label: ClassVar[str] = ""        # its name where a venue has more than one (engine status); else the venue's
    heartbeat_s: ClassVar[float] = 20.0
    login_timeout_s: ClassVar[float] = 10.0

    async def url(self) -> str:
        """The private websocket URL (a coroutine: some venues hand out a token over REST)."""
        raise NotImplementedError

    def ws_headers(self) -> dict[str, str]:
        return {}

    def login(self) -> list[Any]:
        """Messages that authenticate the socket, signed now (none: the URL authenticates)."""
        return []

    def logged_in(self, message: Any) -> bool | None:
        """True: the venue accepted the login; False: it refused it; None: not the answer."""
        return None

    def subscribe(self) -> list[Any]:
        """Messages that subscribe this account's order and execution updates."""
        return []

    def covers(self, inst: Instrument) -> bool:
        """Whether this stream pushes the orders of this book (a venue with one stream per
        account kind, like Binance spot and USD-M, says which): while every stream covering
        a book is live, the engine polls its orders only every few seconds."""
        return True

    def ping(self) -> Any | None:
        return None

    def reply(self, message: Any) -> list[Any]:
        """Messages to send back at once for this one (a venue's own heartbeat); most: none."""
        return []

    def parse(self, message: Any, instruments: dict[str, Instrument]) -> list[OrderState]:
        """One decoded message as order states (``instruments`` by venue symbol, for fees
        charged in the base asset); anything else (acks, pongs): none."""
        return []

    async def close(self) -> None:
        return None


class UserStreamRunner(SocketRunner):
    """Keeps a venue's private stream connected; ``on_states`` gets every order update and
    ``on_connected`` runs after each (re)connect, so the caller can catch up over REST."""

    def __init__(self, stream: UserStream, instruments: Callable[[], dict[str, Instrument]],
                 on_states: Callable[[list[OrderState]], None], on_connected: Callable[[], Awaitable[None]],
                 *, max_backoff_s: float = 30.0, connect_timeout_s: float = 10.0, idle_timeout_s: float = 60.0):
        super().__init__(FeedStats(), stream.close, max_backoff_s, connect_timeout_s, idle_timeout_s)
        self.name = f"{stream.label or stream.venue} user stream"
        self.stream, self.instruments = stream, instruments
        self.on_states, self.on_connected = on_states, on_connected

    @property
    def live(self) -> bool:
        return self.stats.state == "live"

    async def _session(self) -> None:
        import aiohttp

        self.stats.state = "connecting"
        url = await asyncio.wait_for(self.stream.url(), self.connect_timeout_s)
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None, connect=self.connect_timeout_s)) as http:
            async with self._connect(http, url, self.stream.venue, self.stream.ws_headers(), self.stream.heartbeat_s) as ws:
                self._ws = ws
                await self._login(ws)
                for message in self.stream.subscribe():
                    await self._send(ws, message)
                self.stats.state, self.stats.connected_ns = "live", time.time_ns()
                await self.on_connected()
                pinger = asyncio.get_running_loop().create_task(self._ping(ws, self.stream.ping(), self.stream.heartbeat_s))
                try:
                    await self._pump(ws)
                finally:
                    pinger.cancel()

    @contextlib.asynccontextmanager
    async def _connect(self, http, url: str, venue: str, headers: dict, heartbeat_s: float):
        """A handshake refused with 401/403 is a refused login where the venue signs the
        handshake itself (Kalshi): said as such, not as a network fault; any other refused
        handshake is said without the URL."""
        import aiohttp

        try:
            async with super()._connect(http, url, venue, headers, heartbeat_s) as ws:
                yield ws
        except aiohttp.WSServerHandshakeError as exc:
            if exc.status in (401, 403):
                raise AuthenticationError(f"{venue} refused the private websocket login (HTTP {exc.status}): check the API key") from None
            # aiohttp's text names the whole URL, and some venues put a session key in its query
            # (Binance USD-M's listenKey): said without it
            raise NetworkError(f"{venue} private websocket handshake failed (HTTP {exc.status})") from None

    async def _login(self, ws) -> None:
        messages = self.stream.login()
        if not messages:
            return
        for message in messages:
            await self._send(ws, message)
        deadline = time.monotonic() + self.stream.login_timeout_s
        while (left := deadline - time.monotonic()) > 0:
            msg = await ws.receive(timeout=left)
            if msg.data is None or not isinstance(msg.data, (str, bytes)):
                raise NetworkError(f"{self.stream.venue} closed its private websocket during login")
            verdict = self.stream.logged_in(_decode(msg.data))
            if verdict is not None:
                if not verdict:
                    raise AuthenticationError(f"{self.stream.venue} refused the private websocket login: check the API key")
                return
        raise NetworkError(f"{self.stream.venue} did not answer the private websocket login")

    async def _pump(self, ws) -> None:
        async for data in self._messages(ws):
            for answer in self.stream.reply(data):
                await self._send(ws, answer)
            try:
                states = self.stream.parse(data, self.instruments())
            except (msgspec.DecodeError, KeyError, ValueError, TypeError) as exc:
                raise NetworkError(f"{self.stream.venue} sent a malformed private message ({type(exc).__name__})") from exc
            if states:
                self.on_states(states)
        raise NetworkError(f"{self.stream.venue} private websocket closed")
