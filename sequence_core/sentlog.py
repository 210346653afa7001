"""What an adapter signed for an order, on disk before the order leaves.

Venues without a client order id (an on-chain transaction, a Polymarket order whose id is
its hash) can only find an order again by what was signed for it. ``SentLog`` appends one
record per client order id to a JSON-lines file and fsyncs it before the caller sends, so a
lost answer, a retried place or a restart reads the record back and asks the venue by its
id (or re-sends the same bytes) instead of signing a second order. A torn last line from a
crash mid-write is skipped; a later record for the same id wins.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Generic, Iterator, TypeVar

import msgspec

T = TypeVar("T")


class SentLog(Generic[T]):
    def __init__(self, path: Path | None, record_type: type[T], key: str = "client_order_id"):
        self.path, self.key = path, key
        self.by_cid: dict[str, T] = {}
        if path and path.exists():
            for line in path.read_bytes().splitlines():
                try:
                    rec = msgspec.json.decode(line, type=record_type)
                except (msgspec.DecodeError, msgspec.ValidationError):
                    continue                                    # a torn last line
                self.by_cid[getattr(rec, key)] = rec

    def get(self, cid: str) -> T | None:
        return self.by_cid.get(cid)

    def find(self, match: Callable[[T], bool]) -> T | None:
        return next((r for r in self.by_cid.values() if match(r)), None)

    def __iter__(self) -> Iterator[T]:
        return iter(list(self.by_cid.values()))

    def put(self, rec: T) -> None:
        self.by_cid[getattr(rec, self.key)] = rec
        if self.path:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, msgspec.json.encode(rec) + b"\n")
                os.fsync(fd)
            finally:
                os.close(fd)
