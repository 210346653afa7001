"""The engine's supervision of deployment edges (docs/deployments.md).

Each edge is a child process (``python -m sequence_core.deploy.edge``) in its own session, so
an engine killed with SIGKILL leaves its edges trading; the next engine adopts the live ones
(their pid and command line match) instead of starting twins. An edge that exits while it
should run is restarted after a backoff of 0.5, 1, 2, 4, 8, 16, then 30 s; after 5 exits in a
row each within 30 s of its start (a crash loop, e.g. a strategy that traps on every event)
it is left stopped as ``failed`` with the reason. Stopping sends SIGTERM (the edge calls the
strategy's ``on_stop``, which handles resting orders) and SIGKILL after 15 s.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import time
from pathlib import Path

import msgspec

from ..deploy import registry

log = logging.getLogger("sequence.supervisor")
BACKOFF_S = (0.5, 1, 2, 4, 8, 16, 30)
CRASH_LOOP = 5
QUICK_S = 30.0
STOP_GRACE_S = 15.0


class Supervised(msgspec.Struct):
    """The supervisor's record of one edge (``<label>.supervisor.json``)."""
    label: str
    state: str = "stopped"           # starting | running | backoff | stopping | stopped | failed
    pid: int = 0
    restarts: int = 0
    quick_exits: int = 0
    last_exit: int | None = None
    reason: str | None = None
    version: int = 0


def _alive_edge(pid: int, mode: str, name: str, label: str) -> bool:
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"sequence_core.deploy.edge" in cmd and [c.decode() for c in cmd[-4:-1]] == [mode, name, label]


class Supervisor:
    def __init__(self, home: Path, mode: str):
        self.home, self.mode = home, mode
        self.records: dict[tuple[str, str], Supervised] = {}
        self.tasks: dict[tuple[str, str], asyncio.Task] = {}
        self.procs: dict[tuple[str, str], asyncio.subprocess.Process] = {}

    def _path(self, name: str, label: str) -> Path:
        return registry.folder(self.home, self.mode, name) / f"{label}.supervisor.json"

    def record(self, name: str, label: str) -> Supervised:
        key = (name, label)
        if key not in self.records:
            try:
                self.records[key] = msgspec.json.decode(self._path(name, label).read_bytes(), type=Supervised)
            except (OSError, msgspec.DecodeError, msgspec.ValidationError):
                self.records[key] = Supervised(label)
        return self.records[key]

    def _save(self, name: str, rec: Supervised) -> None:
        from ..home import atomic_write

        atomic_write(self._path(name, rec.label), msgspec.json.encode(rec), mode=0o644)

    def _log(self, name: str, label: str, line: str) -> None:
        try:
            with open(registry.log_path(self.home, self.mode, name, label), "a") as fh:
                fh.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime())} {label} supervisor: {line}\n")
        except OSError:
            pass

    # -- control ---------------------------------------------------------------------------------
    async def start(self, name: str) -> None:
        """Run every edge of *name* (its deployment.json says which); idempotent."""
        dep = registry.load(self.home, self.mode, name)
        for edge in dep.edges:
            key = (name, edge.label)
            if key not in self.tasks and not self._path(name, edge.label).exists():
                self.records.pop(key, None)            # a fresh deployment (undeployed since): a fresh record
            rec = self.record(name, edge.label)
            task = self.tasks.get(key)
            if task is not None and not task.done():
                continue
            if rec.version != dep.version:
                rec.restarts = 0                       # a new version counts its own restarts
            if rec.state == "failed" or rec.version != dep.version:
                rec.quick_exits, rec.reason = 0, None
            rec.version = dep.version
            self.tasks[key] = asyncio.get_running_loop().create_task(self._watch(name, edge.label))

    async def stop(self, name: str, labels: list[str] | None = None) -> None:
        keys = [k for k in set(self.tasks) | set(self.records) if k[0] == name and (labels is None or k[1] in labels)]
        for key in keys:
            rec = self.record(*key)
            rec.state = "stopping"
            pid = rec.pid
            if pid and _alive_edge(pid, self.mode, *key):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        for key in keys:
            rec = self.record(*key)
            while rec.pid and _alive_edge(rec.pid, self.mode, *key) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            if rec.pid and _alive_edge(rec.pid, self.mode, *key):
                os.kill(rec.pid, signal.SIGKILL)
                self._log(*key, f"edge pid {rec.pid} ignored SIGTERM for {STOP_GRACE_S:.0f}s: killed")
            task = self.tasks.pop(key, None)
            if task is not None:
                task.cancel()
            rec.state, rec.pid = "stopped", 0
            self._save(key[0], rec)

    async def recover(self) -> None:
        """At engine start: run (or adopt) the edges of every deployment meant to be running."""
        for dep in registry.all_deployments(self.home, self.mode):
            if dep.state == "running":
                await self.start(dep.name)

    async def close(self) -> None:
        """The engine is stopping cleanly: stop the edges; their deployments stay 'running', so
        the next engine starts them again."""
        for name in sorted({k[0] for k in self.tasks}):
            await self.stop(name)

    # -- watching ----------------------------------------------------------------------------------
    async def _wait_pid(self, pid: int, key) -> int | None:
        proc = self.procs.get(key)
        if proc is not None and proc.pid == pid:
            return await proc.wait()
        while _alive_edge(pid, self.mode, *key):          # adopted from an earlier engine
            await asyncio.sleep(0.2)
        return None

    async def _watch(self, name: str, label: str) -> None:
        key = (name, label)
        rec = self.record(name, label)
        while True:
            started = time.monotonic()
            if rec.pid and _alive_edge(rec.pid, self.mode, name, label):
                self._log(name, label, f"adopted running edge pid {rec.pid}")
            else:
                log_file = open(registry.log_path(self.home, self.mode, name, label), "ab")
                proc = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "sequence_core.deploy.edge", self.mode, name, label,
                    stdin=asyncio.subprocess.DEVNULL, stdout=log_file, stderr=log_file, start_new_session=True)
                log_file.close()
                self.procs[key] = proc
                rec.pid = proc.pid
                self._log(name, label, f"started edge pid {proc.pid}")
            rec.state = "running"
            self._save(name, rec)
            code = await self._wait_pid(rec.pid, key)
            self.procs.pop(key, None)
            if rec.state in ("stopping", "stopped"):
                return
            rec.last_exit = code
            rec.restarts += 1
            quick = time.monotonic() - started < QUICK_S
            rec.quick_exits = rec.quick_exits + 1 if quick else 1
            st = registry.status(self.home, self.mode, name, label)
            why = (st.error if st and st.error else f"exit code {code}") if code != 0 else "exited"
            if rec.quick_exits >= CRASH_LOOP:
                rec.state, rec.pid = "failed", 0
                rec.reason = f"stopped after {rec.quick_exits} exits in a row, each within {QUICK_S:.0f}s of starting; last: {why}"
                self._log(name, label, rec.reason)
                self._save(name, rec)
                return
            delay = BACKOFF_S[min(rec.quick_exits - 1, len(BACKOFF_S) - 1)]
            rec.state, rec.reason, rec.pid = "backoff", why, 0
            self._save(name, rec)
            self._log(name, label, f"edge exited ({why}); restart {rec.restarts} in {delay:g}s")
            await asyncio.sleep(delay)
            if rec.state != "backoff":
                return
