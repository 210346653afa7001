"""Shared fixtures: a temporary Sequence home and a runner for the real `sequence` script."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEQUENCE = Path(sys.executable).parent / "sequence"
TEST_PLUGINS = ROOT / "tests" / "plugins"


def shared_data() -> Path | None:
    """The recorded data (shared/data): beside the checkout, as in CI, or $SEQUENCE_SHARED_DATA."""
    env = os.environ.get("SEQUENCE_SHARED_DATA")
    for candidate in ([Path(env)] if env else []) + [ROOT.parent / "shared" / "data"]:
        if (candidate / "market").is_dir():
            return candidate
    return None


def require_shared_data() -> Path:
    found = shared_data()
    if found is None:
        pytest.skip("recorded data (shared/data beside the checkout, or $SEQUENCE_SHARED_DATA) not found")
    return found


# No test ever talks to a host outside this machine: the REST client refuses them.
os.environ["SEQUENCE_LOOPBACK_ONLY"] = "1"


class FullDisk:
    """Stands in for a SQLite connection: statements starting with *prefix* fail *times*
    times, as on a full disk; everything else goes to *db*. With *rolls_back*, a failure
    also rolls the transaction back, as SQLite does when a COMMIT cannot write."""

    def __init__(self, db, prefix: str, times: int, rolls_back: bool = False):
        self._db, self._prefix, self.left, self.rolls_back = db, prefix, times, rolls_back

    def execute(self, sql, *args):
        if self.left and sql.lstrip().upper().startswith(self._prefix):
            self.left -= 1
            import sqlite3

            if self.rolls_back and self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise sqlite3.OperationalError("database or disk is full")
        return self._db.execute(sql, *args)

    def __getattr__(self, name):
        return getattr(self._db, name)


def clean_env(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEQUENCE_") and k not in ("NO_COLOR", "PYTHONPATH")}
    env["SEQUENCE_HOME"] = str(home)
    env["SEQUENCE_LOOPBACK_ONLY"] = "1"
    env.update(extra or {})
    return env


class Runner:
    def __init__(self, home: Path):
        self.home = home
        self.pythonpath: list[str] = []
        self.env: dict[str, str] = {}

    def __call__(self, *args: str, input: str | None = None, env: dict[str, str] | None = None,
                 timeout: float = 60) -> subprocess.CompletedProcess:
        extra = {**self.env, **(env or {})}
        if self.pythonpath:
            extra["PYTHONPATH"] = os.pathsep.join(self.pythonpath)
        return subprocess.run([str(SEQUENCE), *args], input=input if input is not None else "",
                              capture_output=True, text=True, env=clean_env(self.home, extra), timeout=timeout)

    def popen(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        extra = {**self.env, **(env or {})}
        if self.pythonpath:
            extra["PYTHONPATH"] = os.pathsep.join(self.pythonpath)
        return subprocess.Popen([str(SEQUENCE), *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=clean_env(self.home, extra))


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "home"
    monkeypatch.setenv("SEQUENCE_HOME", str(path))
    for var in [v for v in os.environ if v.startswith("SEQUENCE_") and v not in ("SEQUENCE_HOME", "SEQUENCE_LOOPBACK_ONLY")]:
        monkeypatch.delenv(var)
    from sequence_core.plugins import reset_plugins

    reset_plugins()
    yield path
    reset_plugins()


@pytest.fixture
def sequence(home) -> Runner:
    return Runner(home)


def pip_install_target(target: Path, *projects: Path | str, extra: list[str] | None = None) -> None:
    """Install test distributions into ``target`` (a folder later put on PYTHONPATH).

    Source folders are copied first: setuptools builds in-tree, and parallel test workers
    building the same folder trip over each other's build/ directories.
    """
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        sources = []
        for project in projects:
            if isinstance(project, Path) and project.is_dir():
                copy = Path(tmp) / project.name
                shutil.copytree(project, copy, ignore=shutil.ignore_patterns("build", "*.egg-info"))
                sources.append(str(copy))
            else:
                sources.append(str(project))
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                        "--no-index", "--target", str(target), *(extra or []), *sources],
                       check=True, capture_output=True, text=True)


@pytest.fixture(scope="session")
def third_party(tmp_path_factory) -> Path:
    """The acme venue and the broken plugin, pip-installed into a folder for PYTHONPATH."""
    target = tmp_path_factory.mktemp("site")
    pip_install_target(target, TEST_PLUGINS / "sequence-venue-acme", TEST_PLUGINS / "sequence-broken")
    return target


@pytest.fixture
def with_third_party(sequence, third_party, monkeypatch) -> Runner:
    sequence.pythonpath.append(str(third_party))
    monkeypatch.syspath_prepend(str(third_party))
    return sequence


def stop_engine(home: Path) -> None:
    """Kill the engine a test started (tests never leave engines behind)."""
    import json
    import signal

    info = home / "engine.json"
    if info.exists():
        try:
            os.kill(json.loads(info.read_text())["pid"], signal.SIGKILL)
        except (ProcessLookupError, ValueError, KeyError):
            pass
    # deployment edges run in their own sessions and outlive a killed engine: kill them too
    for path in list(home.glob("deployments/*/*/*.supervisor.json")) + list(home.glob("deployments/*/*/*.status.json")):
        try:
            pid = json.loads(path.read_text()).get("pid", 0)
            if pid and b"sequence_core.deploy.edge" in Path(f"/proc/{pid}/cmdline").read_bytes():
                os.kill(pid, signal.SIGKILL)
        except (OSError, ValueError):
            pass


TEST_WORLD = "acme,sim,synthetic,twap,vwap,iceberg,passive,aggressive"


@pytest.fixture
def test_world(with_third_party):
    """Only the test venues (acme, zeta, omega), the paper venue, the synthetic source and
    the policies: trading tests must not depend on which real venues are installed."""
    with_third_party.env["SEQUENCE_LOAD_PLUGINS"] = TEST_WORLD
    return with_third_party


@pytest.fixture
def trader(test_world, home):
    """The CLI on the test world; its engine is killed afterwards."""
    yield test_world
    stop_engine(home)


def promote_to_production(home: Path, bundle_id: str, target: str = "sandbox") -> None:
    """Walk a bundle through every stage on *target* (break-glass: tests have no drift report
    of real trading to gate on)."""
    from sequence_core import bundles
    from sequence_core.research import artifacts

    report = artifacts.save(home, "drift", f"test:{bundle_id[:16]}", {}, {"bundle": bundle_id, "verdict": "within-tolerance"})
    for stage in bundles.STAGES:
        bundles.promote(home, bundle_id, target, stage, report.id, "ops@example.com", break_glass=True,
                        notes="test: no recorded market for the synthetic venues")
