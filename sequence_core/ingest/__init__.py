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
        self.rows[table] = self.rows.get(table, 0) + int(n)   # numpy ints do not encode as JSON


def expand(paths: list[str]) -> list[Path]:
    """The files named or found in the named folders, each once (naming a file twice, or a
    file and its folder, must not count its rows twice)."""
    out: dict[Path, Path] = {}
    for text in paths:
        if not text.strip():
            # Path("") is ".": an empty argument (an unset shell variable) would ingest the cwd
            raise UsageError("an empty path was given; name a file or folder (`.` for the current folder)")
        p = Path(text)
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.is_file() and not f.name.startswith("."))
        elif p.is_file():
            found = [p]
        else:
            raise UsageError(f"no such file or folder: {p}")
        for f in found:
            out.setdefault(f.resolve(), f)
    return list(out.values())


def named_files(paths: list[str]) -> set[Path]:
    """The files named on the command line itself (not found inside a folder)."""
    return {Path(p) for p in paths if p.strip() and Path(p).is_file()}


def part_name(path: Path) -> str:
    """The name of a source file's parts: its name without extensions, so ingesting the same
    file again, also a changed copy (truncated, extended, re-downloaded), replaces its parts.
    A hive-partition folder (``dt=2026-07-10/data_0.parquet``) is part of the name: the file
    name alone repeats in every such folder. ``=`` would read as a partition key, hence ``-``."""
    stem = path.name.split(".")[0] or path.name
    if "=" in path.parent.name:
        return f"{path.parent.name.replace('=', '-')}_{stem}"
    return stem


def legacy_part_name(path: Path) -> str | None:
    """Before session 18 a part was named ``<stem>-<content hash>``: the stem those parts
    share, so re-ingesting replaces them too (None where the stem alone is ambiguous)."""
    return None if "=" in path.parent.name else path.name.split(".")[0]


def replace_stale(store, path: Path, written: list[Path]) -> None:
    """Remove the parts an earlier ingest of *path* wrote that this one did not rewrite."""
    store.drop_stale(part_name(path), written, legacy_part_name(path))


class BadFile(ValueError):
    """A converter's own finding that its input is damaged; its message says what is wrong."""


def read_csv(path: Path) -> list[dict]:
    """A CSV's rows as dicts; a truncated file (a last line without its newline, a row with
    fewer fields than the header) raises BadFile: cut mid-number it would parse as a wrong
    price, and missing fields would fail later without saying where."""
    import csv
    import io

    text = path.read_text(encoding="utf-8")
    if text and not text.endswith("\n"):
        raise BadFile("the last line has no line end: the file looks truncated")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    for i, row in enumerate(rows):
        if None in row.values() or None in row:
            raise BadFile(f"line {i + 2} has {len([v for v in row.values() if v is not None])} fields, "
                             f"the header {len(row) - (None in row)}: the file looks truncated or malformed")
    return rows


def _bad_input() -> tuple[type[BaseException], ...]:
    """What reading a damaged file raises (truncated gzip/zip/Parquet, malformed rows)."""
    import csv
    import zipfile
    import zlib

    import pyarrow as pa

    return (EOFError, OSError, ValueError, TypeError, KeyError, IndexError, AttributeError, UnicodeDecodeError,
            zlib.error, zipfile.BadZipFile, csv.Error, msgspec.DecodeError, pa.ArrowException)


def _problem(exc: BaseException) -> str:
    import zipfile
    import zlib

    import pyarrow as pa

    text = (str(exc).splitlines() or [""])[0] or type(exc).__name__
    if isinstance(exc, BadFile):
        return text
    if isinstance(exc, (EOFError, zlib.error)) or "gzip" in text.lower():
        return f"truncated or corrupt compressed data ({text})"
    if isinstance(exc, zipfile.BadZipFile):
        return f"not a readable zip archive, truncated or corrupt ({text})"
    if isinstance(exc, pa.ArrowException):
        return f"unreadable Parquet, truncated or corrupt ({text})"
    return f"truncated or malformed ({type(exc).__name__}: {text})"


def _damage(path: Path) -> str | None:
    """Why a file no converter claimed cannot be read, when that is the reason (a truncated
    or empty file is not an unknown format and should not be reported as one)."""
    import gzip
    import zipfile

    import pyarrow.parquet as pq

    if path.stat().st_size == 0:
        return "empty file"
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as fh:
                while fh.read(1 << 20):
                    pass
        elif path.suffix == ".zip":
            with zipfile.ZipFile(path) as z:
                bad = z.testzip()
                if bad:
                    return f"not a readable zip archive ({bad} is corrupt)"
        elif path.suffix == ".parquet":
            pq.read_schema(path)
    except _bad_input() as exc:
        return _problem(exc)
    return None


def _claimant(f: Path, converters):
    """The converter that recognises *f*; a file too damaged to look at is named."""
    try:
        return next((c for c in converters if c.claims(f)), None)
    except _bad_input() as exc:
        raise UsageError(f"{f}: {_problem(exc)}; nothing was written") from exc


def plan(files: list[Path], summary: IngestSummary, named: set[Path] = frozenset()):
    """(binance groups, [(converter, file)]) for the files; others are skipped with a
    reason in ``summary`` or refused with a clear error. A file in *named* (given by name,
    not found in a folder) is refused unless a converter claims it: asked for, never skipped.
    Planning reads no rows and writes nothing, so a refusal here leaves the store unchanged."""
    from . import binance, bybit, hyperliquid, l2events, lean, nautilus, polymarket, tardis

    groups = binance.group(files)
    claimed = {f for g in groups for f in g.files}
    singles = []
    for f in files:
        if f in claimed:
            continue
        converter = _claimant(f, (tardis, hyperliquid, bybit, polymarket, lean, nautilus, l2events))
        if converter is not None:
            singles.append((converter, f))
        elif polymarket.ignores(f):
            summary.skipped.append(f"{f}: not market data (part of the Polymarket dataset), skipped")
        elif "bitfinex-l3" in f.as_posix():
            summary.skipped.append(f"{f}: order-level updates without timestamps (an order-book stress input), not store data")
        elif f not in named and (f.suffix in (".md", ".txt", ".py") or f.name in ("LICENSE", "NOTICE")):
            summary.skipped.append(f"{f}: documentation, not market data, skipped")
        elif (damage := _damage(f)) is not None:
            raise UsageError(f"{f}: {damage}; nothing was written")
        else:
            raise UsageError(f"{f}: format not recognised (supported: Binance raw websocket captures, Tardis CSV, "
                             "Hyperliquid captures, Bybit orderbook zips, Polymarket top-of-book Parquet, Lean minute bars, "
                             "NautilusTrader's Binance samples, the peer benchmark's L2 event files; see docs/data.md)")
    return groups, singles


def _failed(f: Path, exc: BaseException, summary: IngestSummary, partial: bool = False) -> UsageError:
    """The error for a file that could not be converted. Each file is read whole before any of
    its rows are written, so nothing of it is in the store; files before it were ingested whole
    and are kept (saying so: the user must know the store changed)."""
    message = f"{f}: {_problem(exc)}; " + ("some of its parts were written before it failed (re-ingest it once fixed)"
                                           if partial else "nothing from it was written")
    if summary.files:
        names = ", ".join(Path(x).name for x in summary.files[:5]) + (", ..." if len(summary.files) > 5 else "")
        message += (f"; {len(summary.files)} file(s) before it were ingested and kept ({names}); "
                    "fix or remove it and re-run (re-ingesting replaces, never duplicates)")
    return UsageError(message)


def ingest(paths: list[str], store=None, progress: Callable[[str, int, int], None] | None = None) -> IngestSummary:
    from ..errors import SequenceError
    from ..store import Store
    from . import binance

    store = store or Store()
    summary = IngestSummary()
    groups, singles = plan(expand(paths), summary, named_files(paths))
    total = len(groups) + len(singles)
    bad_input = _bad_input()
    for i, group in enumerate(groups):
        if progress:
            progress(group.label, i, total)
        try:
            binance.ingest_group(group, store, summary)
        except SequenceError:
            raise
        except bad_input as exc:
            failed = next((f for f in group.files if str(f) not in summary.files), group.files[0])
            raise _failed(failed, exc, summary) from exc
    for j, (converter, f) in enumerate(singles):
        if progress:
            progress(f.name, len(groups) + j, total)
        mark = len(store.written)
        try:
            converter.ingest_file(f, store, summary, part_name(f))
        except SequenceError:
            raise
        except bad_input as exc:
            raise _failed(f, exc, summary, partial=len(store.written) > mark) from exc
        replace_stale(store, f, store.written[mark:])
    if progress:
        progress("done", total, total)
    summary.partitions = sorted(set(summary.partitions))
    return summary
