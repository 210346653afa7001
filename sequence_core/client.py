"""The Python SDK: every CLI command is one of these calls plus rendering.

    from sequence_core.client import Sequence
    seq = Sequence(sandbox=True)
    seq.venues()

Sandbox is on when asked for (``sandbox=True``, the CLI's ``--sandbox``) or when the
active key is a ``seq_test_`` key.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

import msgspec

from . import config as cfg
from .credentials import CredentialStore, PassphraseSource
from .errors import CredentialError
from .plugins import PluginFailure, PluginInfo, get_plugins, get_venue, venues
from .venues import Heartbeat, Venue

HEARTBEAT_TIMEOUT_S = 5.0
STALE_AFTER_S = 300


class LoginResult(msgspec.Struct, frozen=True):
    mode: str            # live | sandbox
    config_path: str


class ConnectResult(msgspec.Struct, frozen=True):
    venue: str
    fields: list[str]    # names only, never values
    replaced: bool
    credentials_path: str


class DisconnectResult(msgspec.Struct, frozen=True):
    venue: str
    removed: bool


class VenueStatus(msgspec.Struct, frozen=True):
    venue: str
    mode: str                        # live | paper
    source: str                      # file | env | sandbox
    state: str                       # ok | stale | down | unchecked
    last_ok_ns: int | None
    age_s: float | None              # seconds since the last successful check
    latency_ms: float | None
    detail: str


class PluginListing(msgspec.Struct, frozen=True):
    plugins: list[PluginInfo]
    failures: list[PluginFailure]


class Sequence:
    def __init__(self, sandbox: bool = False, passphrase: PassphraseSource | None = None):
        self._sandbox_flag = sandbox
        self._passphrase = passphrase

    # -- mode --------------------------------------------------------------------------
    @property
    def sandbox(self) -> bool:
        return self._sandbox_flag or cfg.is_sandbox_key(cfg.api_key())

    def credentials(self) -> CredentialStore:
        return CredentialStore(self._passphrase)

    # -- Level 0 -----------------------------------------------------------------------
    def login(self, key: str) -> LoginResult:
        key = cfg.validate_api_key(key)
        cfg.update_config(lambda c: c.setdefault("auth", {}).__setitem__("api_key", key))
        return LoginResult("sandbox" if cfg.is_sandbox_key(key) else "live", str(cfg.config_path()))

    def connect(self, venue: str, values: Mapping[str, str]) -> ConnectResult:
        v = get_venue(venue)
        if v.sandbox_only:
            raise CredentialError(f"{venue} is a sandbox venue and needs no credentials")
        clean = v.validate_credentials(values)
        store = self.credentials()
        replaced = store.get(venue) is not None
        store.put(venue, clean)
        return ConnectResult(venue, sorted(clean), replaced, str(store.path))

    def disconnect(self, venue: str) -> DisconnectResult:
        get_venue(venue)
        return DisconnectResult(venue, self.credentials().delete(venue))

    def venues(self) -> list[VenueStatus]:
        """Connected venues (and, in sandbox, the paper venues) with a fresh heartbeat."""
        registered = venues()
        store = self.credentials()
        targets = []   # (venue object, mode, source, credentials)
        for name, venue in sorted(registered.items()):
            if venue.sandbox_only:
                continue
            found = store.get(name, [f.name for f in venue.credential_fields])
            if found:
                targets.append((venue, "live", found[1], found[0]))
        if self.sandbox:
            for venue in (v for v in registered.values() if v.sandbox_only):
                targets.append((venue, "paper", "sandbox", {}))
        config = cfg.load_config()
        checks = [(v, creds, cfg.venue_settings(v.name, config)) for v, _, _, creds in targets]
        beats = _check_all(checks)
        return _record_heartbeats([(v.name, mode, source, beat) for (v, mode, source, _), beat in zip(targets, beats)])

    def plugins(self) -> PluginListing:
        plugins = get_plugins()
        venues()  # fill registries so hook failures are reported too
        return PluginListing(plugins.infos(), list(plugins.failures))


UNCHECKED = Heartbeat("unchecked", detail="the venue plugin has no heartbeat check yet")


def _has_heartbeat(venue) -> bool:
    return type(venue).heartbeat is not Venue.heartbeat


async def _check_one(venue, creds, settings) -> Heartbeat:
    import asyncio

    start = time.perf_counter()
    try:
        beat = await asyncio.wait_for(venue.heartbeat(creds, settings), HEARTBEAT_TIMEOUT_S)
    except TimeoutError:
        return Heartbeat("down", detail=f"no answer within {HEARTBEAT_TIMEOUT_S:.0f}s")
    except Exception as exc:  # noqa: BLE001 - a venue failure is a state, not a crash
        return Heartbeat("down", detail=str(exc) or type(exc).__name__)
    if beat is None:
        return UNCHECKED
    if beat.latency_ms is None:
        beat = msgspec.structs.replace(beat, latency_ms=round((time.perf_counter() - start) * 1000, 1))
    return beat


def _check_all(items) -> list[Heartbeat]:
    """Run every venue's heartbeat concurrently; asyncio is imported only if one has a check."""
    live = [i for i, (v, _, _) in enumerate(items) if _has_heartbeat(v)]
    beats = [UNCHECKED] * len(items)
    if live:
        import asyncio

        async def gather():
            return await asyncio.gather(*(_check_one(*items[i]) for i in live))

        for i, beat in zip(live, asyncio.run(gather())):
            beats[i] = beat
    return beats


def _record_heartbeats(rows) -> list[VenueStatus]:
    """Merge this check with the last successful one kept in <home>/heartbeats.json."""
    from .home import atomic_write, ensure_home, locked

    path = ensure_home() / "heartbeats.json"
    now = time.time_ns()
    out = []
    with locked(path):
        try:
            last_ok: dict[str, int] = msgspec.json.decode(path.read_bytes(), type=dict[str, int]) if path.exists() else {}
        except msgspec.DecodeError:
            last_ok = {}  # a damaged cache only loses history, never blocks the command
        for name, mode, source, beat in rows:
            key = f"{mode}:{name}"
            if beat.state == "ok":
                last_ok[key] = beat.checked_at_ns or now
            state = beat.state
            ok_ns = last_ok.get(key)
            age = (now - ok_ns) / 1e9 if ok_ns else None
            if state == "down" and age is not None and age < STALE_AFTER_S:
                state = "stale"   # failing now, but it answered recently
            out.append(VenueStatus(name, mode, source, state, ok_ns, age, beat.latency_ms, beat.detail))
        atomic_write(path, msgspec.json.encode(last_ok))
    return out
