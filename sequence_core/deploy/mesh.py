"""The mesh between the edges of one deployment: strategy messages, per-peer latency and counts.

Each edge is a member, numbered by its place in ``[[edges]]`` (docs/deployments.md). A member
publishes its address in ``<edge>.mesh.json`` of the deployment's folder and reads its peers'
from there (again whenever a peer restarts on a new address). Frames are msgpack arrays
``[kind, from, seq, sent_ns, payload]``: kind 0 a strategy message, 1 a ping, 2 the pong that
echoes a ping's ``sent_ns``. Every member pings every peer each second; a peer's latency is
half the ping's round trip (both ends share a clock only on one host, so the round trip is
what is measured).

What carries the frames is a :class:`MeshTransport`, chosen by ``[mesh] transport`` of
Sequence.toml among those registered with the ``register_mesh_transports`` hook. The core
registers ``udp``: datagrams on 127.0.0.1, for edges on one host. Delivery is best effort
(a strategy's message is state to share, not an order); drops are counted.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from pathlib import Path
from typing import Callable, Protocol

import msgspec

from ..errors import UsageError
from . import registry
from .registry import PeerStats

MSG, PING, PONG = 0, 1, 2
MAX_MESSAGE = 4096                   # bytes of one strategy message
INBOX_MAX = 1_000                    # undelivered messages kept; older ones are dropped (counted)
PING_EVERY_S = 1.0


class MeshTransport(Protocol):
    """Carries frames between members. Register its class (or any factory with a ``name``
    attribute) with ``register_mesh_transports``; it is called ``(mode, deployment, label)``."""

    name: str

    async def start(self, receive: Callable[[bytes], None]) -> str:
        """Start receiving (``receive(frame)`` for each frame); returns this member's address."""

    def send(self, address: str, frame: bytes) -> None:
        """Send one frame to a peer's address, best effort, without blocking."""

    def close(self) -> None: ...


class UdpTransport:
    """Datagrams on the loopback interface (edges on one host)."""

    name = "udp"

    def __init__(self, mode: str = "", deployment: str = "", label: str = ""):
        self._transport = None

    async def start(self, receive: Callable[[bytes], None]) -> str:
        class _Proto(asyncio.DatagramProtocol):
            def datagram_received(self, data, addr):
                receive(data)

        loop = asyncio.get_running_loop()
        self._transport, _ = await loop.create_datagram_endpoint(_Proto, local_addr=("127.0.0.1", 0))
        host, port = self._transport.get_extra_info("sockname")[:2]
        return f"{host}:{port}"

    def send(self, address: str, frame: bytes) -> None:
        host, _, port = address.rpartition(":")
        if self._transport is not None:
            self._transport.sendto(frame, (host, int(port)))

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()


def transports() -> dict[str, Callable]:
    """Every registered mesh transport factory by name."""
    from ..plugins import get_plugins

    return get_plugins().registry("register_mesh_transports")


def transport(name: str, mode: str, deployment: str, label: str) -> MeshTransport:
    found = transports()
    if name not in found:
        raise UsageError(f"unknown mesh transport '{name}' ([mesh] transport); installed: {', '.join(sorted(found))}")
    return found[name](mode, deployment, label)


class Address(msgspec.Struct):
    label: str
    address: str
    pid: int
    transport: str


def address_path(home: Path, mode: str, name: str, label: str) -> Path:
    return registry.folder(home, mode, name) / f"{label}.mesh.json"


class Mesh:
    """This edge's membership: sends, receives, pings, and the per-peer figures."""

    def __init__(self, home: Path, mode: str, name: str, labels: list[str], me: str, transport_name: str = "udp"):
        self.home, self.mode, self.name = home, mode, name
        self.labels, self.me = labels, labels.index(me)
        self.transport_name = transport_name
        self.transport = transport(transport_name, mode, name, me)
        self.peers = {i: PeerStats(label) for i, label in enumerate(labels) if i != self.me}
        self._rtts: dict[int, deque] = {i: deque(maxlen=2_000) for i in self.peers}
        self.inbox: deque[tuple[int, bytes]] = deque()
        self.dropped = 0
        self.arrived = asyncio.Event()
        self._seq = 0
        self.address = ""
        self._enc = msgspec.msgpack.Encoder()

    async def start(self) -> None:
        import os

        from ..home import atomic_write

        self.address = await self.transport.start(self._receive)
        atomic_write(address_path(self.home, self.mode, self.name, self.labels[self.me]), msgspec.json.encode(
            Address(self.labels[self.me], self.address, os.getpid(), self.transport_name)), mode=0o644)

    def close(self) -> None:
        self.transport.close()

    def _frame(self, kind: int, payload: bytes = b"", sent_ns: int | None = None) -> bytes:
        self._seq += 1
        return self._enc.encode([kind, self.me, self._seq, sent_ns if sent_ns is not None else time.time_ns(), payload])

    def _refresh_addresses(self) -> None:
        for i, peer in self.peers.items():
            try:
                a = msgspec.json.decode(address_path(self.home, self.mode, self.name, peer.label).read_bytes(), type=Address)
            except (OSError, msgspec.DecodeError, msgspec.ValidationError):
                continue
            peer.address = a.address

    def send(self, peer: int, data: bytes) -> int:
        """A strategy message: to one peer, or to every peer with -1. 0 sent; -1 unknown peer
        (or none known yet); -2 too large."""
        if len(data) > MAX_MESSAGE:
            return -2
        targets = list(self.peers) if peer == -1 else [peer] if peer in self.peers else []
        targets = [i for i in targets if self.peers[i].address]
        if not targets:
            return -1
        frame = self._frame(MSG, data)
        for i in targets:
            self.transport.send(self.peers[i].address, frame)
            self.peers[i].sent += 1
        return 0

    def _receive(self, frame: bytes) -> None:
        try:
            kind, sender, _seq, sent_ns, payload = msgspec.msgpack.decode(frame)
        except (msgspec.DecodeError, ValueError, TypeError):
            return                                    # not ours: ignore it
        peer = self.peers.get(sender)
        if peer is None:
            return
        peer.last_seen_ns = time.time_ns()
        if kind == MSG:
            peer.received += 1
            if len(self.inbox) >= INBOX_MAX:
                self.inbox.popleft()
                self.dropped += 1
            self.inbox.append((sender, bytes(payload)))
            self.arrived.set()
        elif kind == PING and peer.address:
            self.transport.send(peer.address, self._frame(PONG, sent_ns=sent_ns))
        elif kind == PONG:
            peer.pongs += 1
            self._rtts[sender].append((time.time_ns() - sent_ns) / 2e3)

    async def ping_loop(self) -> None:
        while True:
            self._refresh_addresses()
            for i, peer in self.peers.items():
                if peer.address:
                    self.transport.send(peer.address, self._frame(PING))
                    peer.pings += 1
            await asyncio.sleep(PING_EVERY_S)

    def stats(self) -> dict[str, PeerStats]:
        for i, peer in self.peers.items():
            rtts = self._rtts[i]
            peer.latency_p50_us, peer.latency_p99_us = registry.percentile(rtts, 0.5), registry.percentile(rtts, 0.99)
        return {p.label: p for p in self.peers.values()}
