"""Where deployments live: ``<home>/deployments/<mode>/<name>/``.

- ``deployment.json``: what runs (a :class:`Deployment`): the module's SHA-256, symbols,
  venues, params (fixed point), risk limits, the edges (label and venues of each) and the
  desired state (running or stopped), written by ``deploy``/``start``/``stop``;
- ``module.wasm``: the exact bytes every edge runs;
- ``<edge>.mesh.json``: the edge's mesh address (sequence_core/deploy/mesh.py);
- ``<edge>.status.json``: each edge's live snapshot, rewritten about every second by the edge
  (:class:`EdgeStatus`); the supervisor adds restarts and the process state;
- ``<edge>.log`` (rotated to ``<edge>.log.1`` at 5 MB): the strategy's log lines and host
  messages.
Every file is written atomically.
"""

from __future__ import annotations

import re
from pathlib import Path

import msgspec

from ..errors import UsageError

NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
LOG_ROTATE_BYTES = 5 * 1024 * 1024


class Risk(msgspec.Struct, frozen=True):
    max_position: float | None = None     # per instrument, base units (absolute)
    max_notional: float | None = None     # per order, quote currency
    max_order_rate: float | None = None   # orders per second, per edge
    kill_switch: bool = False             # true: the edge places no order at all
    capital: float | None = None          # quote cash the strategy declares it needs


class Edge(msgspec.Struct, frozen=True):
    label: str
    venues: list[str]


class Deployment(msgspec.Struct):
    name: str
    mode: str                              # sandbox | live
    module_sha256: str
    symbols: list[str]
    venues: list[str]
    params: dict[str, int]
    risk: Risk
    edges: list[Edge]
    books: list[tuple[str, str]] = []     # (venue, symbol) pairs traded
    state: str = "running"                 # desired: running | stopped
    version: int = 1                       # bumped when new content replaces the old
    deployed_at: str = ""
    bundle: str | None = None              # the edge bundle it came from, if any
    takes_parents: bool = False            # the module exports on_parent: parent orders can be handed to it
    mesh_transport: str = "udp"            # [mesh] transport: what carries messages between its edges
    # A deployment's orders are those of its edges' origins (``deploy:<name>/<label>``) since it
    # was first deployed: a replacement (new version) keeps both, a fresh deploy after an
    # undeploy of the same name starts them again (docs/decisions.md).
    since_ns: int = 0                      # when it was first deployed (0: written before this field)
    baseline: dict[str, dict] = {}         # per edge label: the journal's totals for its origin then (orders, fills, books)


class PeerStats(msgspec.Struct):
    """One peer as a member sees it (in ``<edge>.status.json``, shown by ``sequence mesh``)."""
    label: str
    address: str = ""
    sent: int = 0                      # strategy messages
    received: int = 0
    pings: int = 0
    pongs: int = 0
    latency_p50_us: float | None = None   # one way: half the ping round trip
    latency_p99_us: float | None = None
    last_seen_ns: int = 0


class EdgeStatus(msgspec.Struct):
    label: str
    state: str                             # starting | running | stopped | trapped | failed | exited
    pid: int = 0
    version: int = 0
    started_ns: int = 0
    updated_ns: int = 0
    instruments: list[str] = []
    positions: dict[str, float] = {}       # its instruments, then books an earlier version traded (see not_traded)
    not_traded: list[str] = []             # books in positions this version does not trade (a replacement changed them)
    pnl: float = 0.0                       # realized + marked to the mid, net of fees, in quote
    fills: int = 0
    orders: int = 0
    open_orders: int = 0
    callbacks: int = 0
    callback_p50_us: float | None = None
    callback_p99_us: float | None = None
    md_to_journal_p50_us: float | None = None
    md_to_journal_p99_us: float | None = None
    restarts: int = 0
    error: str | None = None
    mesh_address: str = ""
    mesh: dict[str, PeerStats] = {}        # by peer label
    mesh_dropped: int = 0                  # strategy messages dropped from a full inbox


STATUS_SAMPLES = 4096    # a status's p50/p99 are over the last this many samples


def percentile(values, q: float) -> float | None:
    """The *q* quantile of a status figure's samples (µs), to 0.1; None without samples."""
    if not values:
        return None
    s = sorted(values)
    return round(s[min(len(s) - 1, int(q * len(s)))], 1)


def root(home: Path, mode: str) -> Path:
    return home / "deployments" / mode


def folder(home: Path, mode: str, name: str) -> Path:
    if not NAME.match(name):
        raise UsageError(f"deployment name '{name}' must start with a letter and use only letters, digits, '-' or '_'")
    return root(home, mode) / name


def save(home: Path, dep: Deployment) -> None:
    from ..home import atomic_write

    atomic_write(folder(home, dep.mode, dep.name) / "deployment.json", msgspec.json.format(msgspec.json.encode(dep)),
                 mode=0o644)


def load(home: Path, mode: str, name: str) -> Deployment:
    path = folder(home, mode, name) / "deployment.json"
    if not path.exists():
        have = [d.name for d in all_deployments(home, mode)]
        raise UsageError(f"no {mode} deployment named '{name}'" + (f"; deployed: {', '.join(have)}" if have else
                                                                   "; `sequence deploy` makes one"))
    return msgspec.json.decode(path.read_bytes(), type=Deployment)


def all_deployments(home: Path, mode: str) -> list[Deployment]:
    out = []
    for p in sorted(root(home, mode).glob("*/deployment.json")):
        try:
            out.append(msgspec.json.decode(p.read_bytes(), type=Deployment))
        except (msgspec.DecodeError, msgspec.ValidationError):
            continue
    return out


def status(home: Path, mode: str, name: str, label: str) -> EdgeStatus | None:
    path = folder(home, mode, name) / f"{label}.status.json"
    try:
        return msgspec.json.decode(path.read_bytes(), type=EdgeStatus)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError):
        return None


def write_status(home: Path, mode: str, name: str, st: EdgeStatus) -> None:
    from ..home import atomic_write

    # atomic (a reader never sees half of it) but not synced: it is rewritten every second,
    # and the two fsyncs held the edge's event loop ~2 ms, the slowest market events' wait
    atomic_write(folder(home, mode, name) / f"{st.label}.status.json", msgspec.json.encode(st), mode=0o644,
                 durable=False)


def log_path(home: Path, mode: str, name: str, label: str) -> Path:
    return folder(home, mode, name) / f"{label}.log"


def resolve_name(home: Path, mode: str, name: str | None) -> str:
    """The deployment a command means: the name given, else the project's around the current
    directory, else the only deployment there is."""
    if name:
        return name
    from ..sim.project import find_project, load_project

    try:
        return load_project(find_project()).name
    except UsageError:
        pass
    have = [d.name for d in all_deployments(home, mode)]
    if len(have) == 1:
        return have[0]
    raise UsageError("which deployment? give its name" + (f" (one of {', '.join(have)})" if have else
                                                          f"; there are no {mode} deployments"))
