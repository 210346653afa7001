"""Converters from recorded market data into the store. ``ingest(paths)`` recognises each
file's format, groups files that continue one another (one connection split across files)
and runs the matching converter. Re-running replaces the same parts: no duplicated rows."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import msgspec

from ..errors import UsageError


class Gap(msgspec.Struct, frozen=True):
    book: str
    ts_recv: int
    expected: int
    got: int
    detail: str


class IngestSummary(msgspec.Struct):
    files: list[str] = []
    rows: dict[str, int] = {}
    partitions: list[str] = []
    gaps: list[Gap] = []
    skipped: list[str] = []

    def add_rows(self, table: str, n: int) -> None:
        self.rows[table] = self.rows.get(table, 0) + n


def expand(paths: list[str]) -> list[Path]:
    out = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file() and not f.name.startswith(".")))
        elif p.is_file():
            out.append(p)
        else:
            raise UsageError(f"no such file or folder: {p}")
    return out


def ingest(paths: list[str], store=None, progress: Callable[[str, int, int], None] | None = None) -> IngestSummary:
    from ..store import Store
    from . import binance

    store = store or Store()
    files = expand(paths)
    summary = IngestSummary()
    groups = binance.group(files)
    known = {f for g in groups for f in g.files}
    for f in files:
        if f not in known:
            if f.suffix in (".md", ".txt") or f.name in ("LICENSE", "NOTICE"):
                continue
            raise UsageError(f"{f}: format not recognised (supported today: Binance raw websocket captures "
                             "'<recv ns> <json>' lines, .gz or .dat.gz)")
    for i, group in enumerate(groups):
        if progress:
            progress(group.label, i, len(groups))
        binance.ingest_group(group, store, summary)
    if progress:
        progress("done", len(groups), len(groups))
    return summary
