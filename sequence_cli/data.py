"""Data: ingest recorded market data into the store, and see what it holds."""

from __future__ import annotations

import sys

import click

from .output import emit, line, table


@click.group()
def data():
    """Recorded market data in the Parquet store (<home>/data)."""


def _render_summary(s) -> None:
    for table_name, n in sorted(s.rows.items()):
        line(f"{table_name:<15} {n:>12,} rows")
    line(f"{len(s.files)} file(s) into {len(s.partitions)} partition(s)")
    for gap in s.gaps:
        line(f"gap in {gap.book} at ts_recv {gap.ts_recv}: expected {gap.expected}, got {gap.got} ({gap.detail}); "
             "deltas after it skipped until a new snapshot")
    for note in s.skipped:
        line(f"skipped: {note}")


@data.command()
@click.argument("paths", nargs=-1, required=True)
def ingest(paths):
    """Ingest files or folders (formats are recognised); re-running replaces, never duplicates."""
    from sequence_core.ingest import ingest as run

    if sys.stderr.isatty():
        from rich.progress import Progress

        with Progress(transient=True) as bar:
            task = bar.add_task("ingesting", total=None)

            def progress(label, done, total):
                bar.update(task, total=total, completed=done, description=label[:60])
            summary = run(list(paths), progress=progress)
    else:
        summary = run(list(paths))
    emit(summary, _render_summary)


@data.command()
@click.option("--symbol", help="Only this symbol's partitions.")
def coverage(symbol):
    """Partitions in the store: rows, first/last receive time, when written."""
    import datetime as dt

    from sequence_core.errors import UsageError
    from sequence_core.store import Store

    if symbol is not None and not symbol.strip():
        # an empty filter would match every symbol: almost surely an unset shell variable
        raise UsageError("--symbol is empty; give a symbol (e.g. BTC-USDT) or leave --symbol out for all")
    rows = Store().coverage(symbol)

    def ts(ns):
        return dt.datetime.fromtimestamp(ns / 1e9, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S") if ns else None

    def render(rs):
        if not rs:
            line(f"No recorded data for {symbol}; `sequence data coverage` lists what the store holds." if symbol
                 else "The store is empty; ingest data with `sequence data ingest <path>`.")
            return
        table(["TABLE", "VENUE", "SYMBOL", "DATE", "FILES", "ROWS", "FIRST", "LAST", "WRITTEN"],
              [(r.table, r.venue, r.symbol, r.date, r.files, f"{r.rows:,}", ts(r.first_ts_recv), ts(r.last_ts_recv), ts(r.written_ns))
               for r in rs], right=["FILES", "ROWS"])
        for r in rs:
            for problem in r.corrupt:    # its rows are unknown, so ROWS leaves them out: say so
                line(f"corrupt part (rows not counted): {problem}")
    emit(rows, render)
