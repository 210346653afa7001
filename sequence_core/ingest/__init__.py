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


def named_files(paths: list[str]) -> set[Path]:
    """The files named on the command line itself (not found inside a folder)."""
    return {Path(p) for p in paths if Path(p).is_file()}


def part_name(path: Path) -> str:
    """A part name derived from the source file (name + a content hash), so re-ingesting
    the same file replaces its parts instead of adding rows."""
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as fh:
        h.update(fh.read(1 << 20))
    h.update(str(path.stat().st_size).encode())
    return f"{path.name.split('.')[0]}-{h.hexdigest()[:12]}"


def plan(files: list[Path], summary: IngestSummary, named: set[Path] = frozenset()):
    """(binance groups, [(converter, file)]) for the files; others are skipped with a
    reason in ``summary`` or refused with a clear error. A file in *named* (given by name,
    not found in a folder) is refused unless a converter claims it: asked for, never skipped."""
    from . import binance, bybit, hyperliquid, l2events, lean, nautilus, polymarket, tardis

    groups = binance.group(files)
    claimed = {f for g in groups for f in g.files}
    singles = []
    for f in files:
        if f in claimed:
            continue
        converter = next((c for c in (tardis, hyperliquid, bybit, polymarket, lean, nautilus, l2events) if c.claims(f)), None)
        if converter is not None:
            singles.append((converter, f))
        elif polymarket.ignores(f):
            summary.skipped.append(f"{f}: not market data (part of the Polymarket dataset), skipped")
        elif "bitfinex-l3" in f.as_posix():
            summary.skipped.append(f"{f}: order-level updates without timestamps (an order-book stress input), not store data")
        elif f not in named and (f.suffix in (".md", ".txt", ".py") or f.name in ("LICENSE", "NOTICE")):
            summary.skipped.append(f"{f}: documentation, not market data, skipped")
        else:
            raise UsageError(f"{f}: format not recognised (supported: Binance raw websocket captures, Tardis CSV, "
                             "Hyperliquid captures, Bybit orderbook zips, Polymarket top-of-book Parquet, Lean minute bars, "
                             "NautilusTrader's Binance samples, the peer benchmark's L2 event files; see docs/data.md)")
    return groups, singles


def ingest(paths: list[str], store=None, progress: Callable[[str, int, int], None] | None = None) -> IngestSummary:
    from ..store import Store
    from . import binance

    store = store or Store()
    summary = IngestSummary()
    groups, singles = plan(expand(paths), summary, named_files(paths))
    total = len(groups) + len(singles)
    for i, group in enumerate(groups):
        if progress:
            progress(group.label, i, total)
        binance.ingest_group(group, store, summary)
    for j, (converter, f) in enumerate(singles):
        if progress:
            progress(f.name, len(groups) + j, total)
        converter.ingest_file(f, store, summary, part_name(f))
    if progress:
        progress("done", total, total)
    summary.partitions = sorted(set(summary.partitions))
    return summary
