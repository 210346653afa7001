"""`research materialize`: the daily profile (sequence_core/research/profile.py) of every
recorded book over a window of dates, written back to the research store as Parquet.

The research store is ``<home>/research/store``; this writes its ``profiles`` table, one row
per book and UTC date: ``profiles/venue=<v>/symbol=<s>/date=<YYYY-MM-DD>/profile.parquet``,
hive-partitioned like the market-data store. A task is one (venue, symbol, date) partition of
the ``trades`` table; its row carries a fingerprint of the input files (names, sizes,
modification times of that partition's trades and bbo parts), so a re-run skips what is
already materialized from the same input and redoes what was re-ingested: the job is
resumable after an interruption, and each file is written atomically, so a killed run never
leaves a half-written row. Tasks run in parallel in worker processes, or on a Dask cluster
(``--executor dask``, the optional ``sequence[dask]`` extra) for datasets beyond one machine:
the same task function, shipped to Dask workers that see the same store path.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Callable, Iterable

import msgspec

from ..errors import SequenceError, UsageError

EXECUTORS = ("processes", "dask")
SCHEDULER_TIMEOUT_S = 30     # how long a --scheduler address is tried before giving up


class Task(msgspec.Struct, frozen=True):
    venue: str
    symbol: str
    date: str
    fingerprint: str


class TaskResult(msgspec.Struct):
    venue: str
    symbol: str
    date: str
    status: str                      # written | skipped | failed
    rows: int = 0                    # input rows read (trades + bbo)
    seconds: float = 0.0
    error: str | None = None


class Summary(msgspec.Struct):
    start: str
    end: str
    executor: str
    workers: int
    tasks: int
    written: int
    skipped: int
    failed: int
    rows: int
    seconds: float
    rows_per_s: float
    root: str
    failures: list[TaskResult] = []
    results: list[TaskResult] = []


def research_root(home: Path) -> Path:
    return home / "research" / "store"


def _output(root: Path, venue: str, symbol: str, date: str) -> Path:
    return root / "profiles" / f"venue={venue}" / f"symbol={symbol}" / f"date={date}" / "profile.parquet"


def _fingerprint(store, venue: str, symbol: str, date: str) -> str:
    h = hashlib.sha256()
    for table in ("trades", "bbo"):
        for p in store.files(table, venue, symbol, date, date):
            st = p.stat()
            h.update(f"{table}/{p.name}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:32]


def _stored_fingerprint(path: Path) -> str | None:
    import pyarrow.parquet as pq

    try:
        return pq.read_table(path, columns=["fingerprint"]).column(0)[0].as_py()
    except Exception:  # noqa: BLE001 - missing or unreadable: materialize it again
        return None


def _check_date(name: str, value: str):
    """The date *value* names, which must be written YYYY-MM-DD (no time, no other form: the
    store's date partitions are compared as such strings)."""
    import datetime as dt

    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        day = None
    if day is None or day.isoformat() != value:
        raise UsageError(f"{name} '{value}' is not a date (YYYY-MM-DD)")
    return day


def plan(store, root: Path, start: str, end: str, symbols: Iterable[str] | None = None,
         force: bool = False) -> tuple[list[Task], list[Task]]:
    """(to do, already materialized from the same input) for the window."""
    _check_date("--start", start)
    _check_date("--end", end)
    if end < start:
        raise UsageError(f"--end {end} is before --start {start}")
    wanted = set(symbols or ())
    parts = [t for t in store.partitions("trades", start=start, end=end) if not wanted or t[1] in wanted]
    if not parts:
        raise UsageError(f"no recorded trades between {start} and {end}"
                         + (f" for {', '.join(sorted(wanted))}" if wanted else "")
                         + "; `sequence research coverage` shows what the store holds")
    todo, done = [], []
    for venue, symbol, date in parts:
        task = Task(venue, symbol, date, _fingerprint(store, venue, symbol, date))
        out = _output(root, venue, symbol, date)
        if not force and out.exists() and _stored_fingerprint(out) == task.fingerprint:
            done.append(task)
        else:
            todo.append(task)
    return todo, done


def _flatten(prefix: str, value, row: dict) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(f"{prefix}_{k}" if prefix else k, v, row)
    else:
        row[prefix] = value


def run_task(store_root: str, root: str, task: Task) -> TaskResult:
    """Profile one partition and write its row; a top-level function so worker processes and
    Dask workers can run it."""
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    from ..home import atomic_write
    from ..store import Store, open_part
    from .profile import profile

    # a worker is one core: parallelism comes from the workers, not from Arrow's thread pool
    # (which would oversubscribe the cores and make 1-vs-N worker figures meaningless)
    pa.set_cpu_count(1)
    t0 = time.perf_counter()
    store = Store(Path(store_root))
    try:
        rows = sum(open_part(p).metadata.num_rows
                   for table in ("trades", "bbo") for p in store.files(table, task.venue, task.symbol, task.date, task.date))
        p = profile(store, task.symbol, task.venue, start_date=task.date, end_date=task.date)
    except Exception as exc:  # noqa: BLE001 - one bad partition is reported; the rest go on
        return TaskResult(task.venue, task.symbol, task.date, "failed", 0, time.perf_counter() - t0,
                          f"{type(exc).__name__}: {exc}")
    row: dict = {"date": task.date}
    _flatten("", msgspec.to_builtins(p), row)
    row.update({"input_rows": rows, "fingerprint": task.fingerprint, "materialized_ns": time.time_ns()})
    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pylist([row]), buf, compression="zstd")
    atomic_write(_output(Path(root), task.venue, task.symbol, task.date), buf.getvalue(), mode=0o644)
    return TaskResult(task.venue, task.symbol, task.date, "written", rows, time.perf_counter() - t0)


def _run_processes(store_root: str, root: str, tasks: list[Task], workers: int):
    if workers == 1:
        for t in tasks:
            yield run_task(store_root, root, t)
        return
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # spawn, not fork: the parent may hold Arrow's and numba's threads
    with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn")) as pool:
        for fut in as_completed([pool.submit(run_task, store_root, root, t) for t in tasks]):
            yield fut.result()


def _run_dask(store_root: str, root: str, tasks: list[Task], workers: int, scheduler: str | None):
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise UsageError("--executor dask needs Dask: pip install 'sequence[dask]' "
                         "(or pip install 'dask[distributed]')") from None
    cluster = None
    if scheduler:
        try:
            client = Client(scheduler, timeout=SCHEDULER_TIMEOUT_S)
        except (OSError, TimeoutError, ValueError) as exc:     # refused, unreachable, or not an address
            raise SequenceError(f"--scheduler {scheduler}: cannot reach the Dask scheduler ({exc}); is it running "
                                "at that address? Without --scheduler a local cluster is used") from None
    else:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    try:
        futures = client.map(run_task, [store_root] * len(tasks), [root] * len(tasks), tasks, pure=False)
        for fut in as_completed(futures):
            yield fut.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def materialize(store, root: Path, start: str, end: str, *, workers: int = 1, executor: str = "processes",
                scheduler: str | None = None, symbols: Iterable[str] | None = None, force: bool = False,
                on_plan: Callable[[int], None] | None = None,
                on_result: Callable[[TaskResult], None] | None = None) -> Summary:
    if executor not in EXECUTORS:
        raise UsageError(f"--executor '{executor}' is not one of {', '.join(EXECUTORS)}")
    if workers < 1:
        raise UsageError(f"--workers {workers} must be at least 1")
    if scheduler and executor != "dask":
        raise UsageError("--scheduler is an address of a Dask scheduler; it needs --executor dask")
    t0 = time.perf_counter()
    todo, done = plan(store, root, start, end, symbols, force)
    if on_plan:
        on_plan(len(todo))
    results: list[TaskResult] = []
    if todo:
        args = (str(store.root), str(root), todo, workers)
        run = _run_dask(*args, scheduler) if executor == "dask" else _run_processes(*args)
        for r in run:
            results.append(r)
            if on_result:
                on_result(r)
    seconds = time.perf_counter() - t0
    rows = sum(r.rows for r in results)
    failures = sorted((r for r in results if r.status == "failed"), key=lambda r: (r.venue, r.symbol, r.date))
    return Summary(start, end, executor, workers, len(todo) + len(done), len(results) - len(failures), len(done),
                   len(failures), rows, round(seconds, 3), round(rows / seconds, 1) if seconds > 0 else 0.0,
                   str(root), failures, sorted(results, key=lambda r: (r.venue, r.symbol, r.date)))


def read_profiles(root: Path, symbol: str | None = None, start: str | None = None, end: str | None = None) -> list[dict]:
    """Materialized daily profile rows (dicts), pruned by symbol and date range."""
    import pyarrow.parquet as pq

    base = root / "profiles"
    out = []
    for p in sorted(base.glob(f"venue=*/symbol={symbol or '*'}/date=*/profile.parquet")):
        date = p.parent.name[5:]
        if (start and date < start) or (end and date > end):
            continue
        try:
            out.extend(pq.read_table(p).to_pylist())
        except Exception:  # noqa: BLE001 - an unreadable row is re-made by the next materialize
            continue
    return out
