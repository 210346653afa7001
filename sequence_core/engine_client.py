"""Reaching the engine from the CLI and SDK: start it on demand, call its HTTP API.

Uses the stdlib's http.client on purpose: importing aiohttp would cost every CLI call
about 100 ms of start-up, and these are simple request/response calls on loopback.
"""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import time
from pathlib import Path

import msgspec

from . import errors
from .errors import NetworkError, SequenceError
from .home import ensure_home, locked

START_TIMEOUT_S = 15.0
REQUEST_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0       # engine stop: how long a clean shutdown may take before it is killed
KILL_WAIT_S = 5.0


class EngineInfo(msgspec.Struct):
    pid: int
    port: int
    token: str
    version: str
    started_ns: int
    channel: str = ""          # the edge channel: unix:<path> or tcp:<port> (engine/channel.py)


def _alive(pid: int) -> bool:
    """Whether *pid* runs: a zombie (exited, not yet reaped by its parent) does not."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True                     # no /proc (macOS): the signal's answer stands


def engine_info() -> EngineInfo | None:
    """The running engine of this home, or None (a stale engine.json is ignored)."""
    path = ensure_home() / "engine.json"
    try:
        info = msgspec.json.decode(path.read_bytes(), type=EngineInfo)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError):
        return None
    if not _alive(info.pid):
        return None
    try:
        conn = http.client.HTTPConnection("127.0.0.1", info.port, timeout=2)
        conn.request("GET", "/v1/health")
        ok = conn.getresponse().status == 200
        conn.close()
    except OSError:
        return None
    return info if ok else None


def start_engine() -> tuple[EngineInfo, bool]:
    """Start the engine unless one runs; returns (info, started_now)."""
    home = ensure_home()
    with locked(home / "engine-start"):
        info = engine_info()
        if info:
            return info, False
        from .config import load_config

        load_config()         # a mistake in config.toml is said here, not as "the engine exited" and its log
        (home / "logs").mkdir(mode=0o700, exist_ok=True)
        log = open(home / "logs" / "engine.log", "ab")
        proc = subprocess.Popen([sys.executable, "-m", "sequence_core.engine", "serve"], stdin=subprocess.DEVNULL,
                                stdout=log, stderr=log, start_new_session=True, env=os.environ.copy())
        log.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise SequenceError(f"the engine exited during start-up (code {proc.returncode}); see {home / 'logs' / 'engine.log'}")
            info = engine_info()
            if info and info.pid == proc.pid:
                return info, True
            time.sleep(0.05)
        proc.kill()
        raise SequenceError(f"the engine did not start within {START_TIMEOUT_S:.0f}s; see {home / 'logs' / 'engine.log'}")


def _exits(pid: int, within_s: float) -> bool:
    deadline = time.monotonic() + within_s
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def stop_engine() -> EngineInfo | None:
    info = engine_info()
    if info is None:
        return None
    try:
        call(info, "POST", "/v1/shutdown", {})
    except SequenceError:
        os.kill(info.pid, 15)
    if not _exits(info.pid, STOP_TIMEOUT_S):
        # a shutdown stuck past its time is killed, as a crash would end it (the journal is
        # crash-safe; the next start reconciles): returning with it still running made the
        # next start fail
        try:
            os.kill(info.pid, 9)
        except ProcessLookupError:
            pass
        _exits(info.pid, KILL_WAIT_S)
    path = ensure_home() / "engine.json"
    try:   # the engine removes it on a clean exit; clear it if it still names this pid
        if msgspec.json.decode(path.read_bytes(), type=EngineInfo).pid == info.pid:
            path.unlink()
    except (OSError, msgspec.DecodeError, msgspec.ValidationError):
        pass
    return info


def call(info: EngineInfo, method: str, path: str, body=None, timeout: float = REQUEST_TIMEOUT_S):
    """One authenticated request; engine errors come back as the same SequenceError class."""
    conn = http.client.HTTPConnection("127.0.0.1", info.port, timeout=timeout)
    try:
        payload = msgspec.json.encode(body) if body is not None else None
        conn.request(method, path, body=payload, headers={"Authorization": f"Bearer {info.token}", "Content-Type": "application/json"})
        resp = conn.getresponse()
        data = resp.read()
    except TimeoutError:
        # the engine is up but slow (a journal that cannot commit waits, by design): what was
        # sent may have been admitted, so "it may have stopped" invited a second order
        raise NetworkError(f"the engine did not answer within {timeout:g} s; what was asked may still be done "
                           "(an order admitted keeps working: `sequence orders` shows it; `sequence engine status` "
                           "says why the engine is slow)") from None
    except OSError as exc:
        raise NetworkError(f"lost the connection to the engine ({exc}); it may have stopped — see the engine log") from None
    finally:
        conn.close()
    decoded = msgspec.json.decode(data) if data else None
    if resp.status >= 400:
        message = decoded.get("error", f"HTTP {resp.status}") if isinstance(decoded, dict) else f"HTTP {resp.status}"
        raise errors.named(decoded.get("type", "") if isinstance(decoded, dict) else "", message)
    return decoded


class EngineConnection:
    """The SDK's handle: starts the engine when first needed."""

    def __init__(self, mode: str):
        self.mode = mode
        self._info: EngineInfo | None = None

    def request(self, method: str, path: str, body=None, timeout: float = REQUEST_TIMEOUT_S):
        if self._info is None:
            self._info, _ = start_engine()
        return call(self._info, method, f"/v1/{self.mode}{path}", body, timeout)
