"""`sequence research`: the research engine over the recorded store. Only subcommands that
work end to end are registered; see the issue tracker for the rest of the spec's list."""

from __future__ import annotations

import datetime as dt

import click

from .output import emit, line, table


@click.group()
def research():
    """Research over recorded Parquet data (lives alongside the sim-engine)."""


def _ts(ns: int) -> str | None:
    return dt.datetime.fromtimestamp(ns / 1e9, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S") if ns else None


@research.command()
@click.option("--symbol", help="Only this symbol.")
def coverage(symbol):
    """Recorded-data coverage: partition density, gaps, last-ingest timestamp."""
    from sequence_core.research.coverage import coverage as run
    from sequence_core.store import Store

    rows = run(Store(), symbol)

    def render(rs):
        if not rs:
            line("No recorded data" + (f" for {symbol}" if symbol else "") + "; ingest some with `sequence data ingest <path>`.")
            return
        table(["VENUE", "SYMBOL", "TABLE", "DAYS", "MISSING", "ROWS/DAY", "GAPS>60S", "LONGEST GAP", "FIRST", "LAST",
               "LAST INGEST"],
              [(r.venue, r.symbol, r.table, f"{r.days} ({r.first_day}..{r.last_day})",
                ", ".join(r.missing_days[:3]) + (" ..." if len(r.missing_days) > 3 else "") if r.missing_days else "none",
                f"{r.rows_per_day:,.0f}", r.gaps, f"{r.longest_gap_s:,.0f}s" if r.gaps else "—", _ts(r.first_ts_recv),
                _ts(r.last_ts_recv), _ts(r.last_ingest_ns)) for r in rs],
              right=["ROWS/DAY", "GAPS>60S", "LONGEST GAP"])

    emit(rows, render)
