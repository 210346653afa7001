"""deploy / start / stop / undeploy / status: the deployment lifecycle, driven through the
engine, which supervises the edges (docs/deployments.md)."""

from __future__ import annotations

import shutil
from pathlib import Path

import msgspec

from ..errors import UsageError
from ..orders import GRAPH_ACTIVE
from . import preflight, registry


class DeployResult(msgspec.Struct):
    name: str
    mode: str
    action: str                      # deployed | replaced | unchanged (it ran) | restarted (the same content, was not running)
    version: int
    module_sha256: str
    edges: list[registry.Edge]
    checks: list[preflight.Check]
    bundle: str | None = None
    was: str | None = None           # unchanged/restarted: what it was (running, stopped, failed)


class EdgeView(msgspec.Struct):
    deployment: str
    label: str
    venues: list[str]
    state: str                       # the supervisor's, else the edge's own
    pid: int
    restarts: int
    version: int
    status: registry.EdgeStatus | None
    reason: str | None = None


def _engine(mode: str):
    from ..engine_client import EngineConnection

    return EngineConnection(mode)


def _baseline(engine, name: str, edges) -> dict[str, dict]:
    """Per edge label, the journal's totals for its origin before a fresh deployment: the orders
    of an undeployed deployment of the same name, which the new one's edges leave out."""
    out = {}
    for e in edges:
        label = e.label if hasattr(e, "label") else e["label"]
        found = engine.request("GET", f"/deployments/{name}/edges/{label}/journal")
        if found["orders"]:
            out[label] = {"orders": found["orders"], "fills": found["fills"], "books": found["books"]}
    return out


def deploy(home: Path, mode: str, root: Path, skip_build: bool = False, bundle: str | None = None) -> DeployResult:
    """Deploy the project at *root*: its module and [params], or with *bundle* exactly the
    edge bundle's module and params (symbols, venues and risk still come from the project)."""
    from ..home import atomic_write
    from ..sim.host import StrategyModule
    from ..sim.project import load_project, project_module

    project = load_project(root)
    params, bundle_id = project.fixed_params(), None
    if bundle is not None:
        from .. import bundles

        b = bundles.load(home, bundle)               # verified: hash, signature, trusted key
        if b.manifest.kind != "edge":
            raise UsageError(f"bundle {b.id[:12]} is a {b.manifest.kind} bundle; deployments run edge bundles")
        module = StrategyModule(Path(f"{b.manifest.artifact}.wasm"), project.name, data=b.payload)
        params, bundle_id = dict(b.manifest.params), b.id
    else:
        module = StrategyModule(project_module(root, skip_build), project.name)
    checks, plan = preflight.run(home, project, mode, module, params, bundle_id)
    failed = [c for c in checks if not c.ok]
    if failed:
        raise PreflightFailed(checks)
    sha = module.sha256()
    content = preflight.content(project, module, plan, params, bundle_id)
    try:
        old = registry.load(home, mode, project.name)
    except UsageError:
        old = None
    engine = _engine(mode)
    same = old is not None and preflight.same_content(old, content)
    was = None
    if same:
        action, version = "unchanged", old.version
        was = _current(home, mode, old)
        if was != "running":
            action = "restarted"
        if old.state != "running":
            old.state = "running"
            registry.save(home, old)
    else:
        action = "replaced" if old is not None else "deployed"
        version = old.version + 1 if old is not None else 1
        if old is not None:
            engine.request("POST", f"/deployments/{project.name}/stop", {})
        folder = registry.folder(home, mode, project.name)
        atomic_write(folder / "module.wasm", module.bytes, mode=0o644)
        import datetime as dt
        import time

        if old is not None:                 # a new version takes over the old one's orders
            since_ns, baseline = old.since_ns, old.baseline
        else:                               # fresh: an undeployed namesake's orders are not its own
            since_ns, baseline = time.time_ns(), _baseline(engine, project.name, content["edges"])
        registry.save(home, registry.Deployment(name=project.name, mode=mode, state="running", version=version,
                                                deployed_at=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                                                since_ns=since_ns, baseline=baseline, **content))
    engine.request("POST", f"/deployments/{project.name}/start", {})
    return DeployResult(project.name, mode, action, version, sha, plan.edges, checks, bundle_id, was)


class PreflightFailed(UsageError):
    def __init__(self, checks: list[preflight.Check]):
        self.checks = checks
        bad = "; ".join(f"{c.name}: {c.detail}" for c in checks if not c.ok)
        super().__init__(f"preflight failed ({bad}); nothing was deployed")


def _current(home: Path, mode: str, dep: registry.Deployment) -> str:
    """``running`` when the deployment is meant to run and none of its edges is stopped or
    failed (a restart in backoff counts as running), else what it is."""
    if dep.state != "running":
        return dep.state
    states = [v.state for v in views(home, mode, dep.name)]
    odd = [s for s in states if s not in ("running", "starting", "backoff")]
    return odd[0] if odd else "running"


class StateChange(msgspec.Struct):
    deployment: str
    state: str                       # running | stopped: what it is now
    was: str                         # running | stopped | failed | ...: what it was
    version: int


def set_state(home: Path, mode: str, name: str, state: str) -> StateChange:
    """start (*state* running) or stop a deployment. A start is refused while another running
    deployment trades one of its books (preflight's conflicts check); starting one that runs,
    or stopping one that is stopped, changes nothing (``was`` says so)."""
    dep = registry.load(home, mode, name)
    was = _current(home, mode, dep)
    if state == "running" and was != "running":
        clash = preflight.overlaps(home, mode, name, dep.books)
        if clash:
            raise UsageError(f"cannot start {name}: {'; '.join(clash)} (stop it first, or undeploy one of them)")
    if was != state:
        dep.state = state
        registry.save(home, dep)
        _engine(mode).request("POST", f"/deployments/{name}/{'start' if state == 'running' else 'stop'}", {})
    return StateChange(name, state, was, dep.version)


def resting_orders(mode: str, name: str) -> list[str]:
    """Graph ids of this deployment's orders still working at a venue (every one: the
    journal's working orders are read whole, not the newest few)."""
    views = _engine(mode).request("GET", "/orders?status=active")
    prefix = f"deploy:{name}/"
    return [v["graph"]["graph_id"] for v in views
            if (v["graph"]["request"].get("origin") or "").startswith(prefix) and v["graph"]["status"] in GRAPH_ACTIVE]


def undeploy(home: Path, mode: str, name: str, force: bool = False) -> dict:
    dep = registry.load(home, mode, name)
    resting = resting_orders(mode, name)
    if resting and not force:
        raise UsageError(f"{len(resting)} order(s) of {name} still rest at the venues ({', '.join(resting[:5])}"
                         f"{' …' if len(resting) > 5 else ''}); cancel them (`sequence cancel <id>`, or stop the "
                         "deployment so its on_stop does) or pass --force to leave them working")
    _engine(mode).request("POST", f"/deployments/{name}/stop", {})
    if resting:
        resting = resting_orders(mode, name)        # after the stop: its on_stop may have cancelled them
    shutil.rmtree(registry.folder(home, mode, dep.name))
    return {"undeployed": name, "version": dep.version, "left_resting": resting}


def views(home: Path, mode: str, name: str | None = None) -> list[EdgeView]:
    """Every edge of every deployment (or of *name*), with the engine's supervision state. Like
    every command that needs the engine, it starts it when it is not running (which resumes
    the deployments meant to run), so what it shows is what runs."""
    have = registry.all_deployments(home, mode)
    if name is not None and not any(d.name == name for d in have):
        registry.load(home, mode, name)          # the clear error for an unknown name
    if not have:
        return []
    rows = _engine(mode).request("GET", "/deployments")
    out = []
    for r in rows:
        dep = r["deployment"]
        if name is not None and dep["name"] != name:
            continue
        for e in r["edges"]:
            sup = e["supervisor"] or {}
            st = msgspec.convert(e["status"], registry.EdgeStatus) if e["status"] else None
            state = sup.get("state") or (st.state if st else "unknown")
            pid = sup.get("pid", 0) if sup else (st.pid if st and st.state == "running" else 0)
            out.append(EdgeView(dep["name"], e["label"], e["venues"], state, pid,
                                sup.get("restarts", 0), dep["version"], st, sup.get("reason")))
    return out


class MeshView(msgspec.Struct):
    deployment: str
    label: str
    index: int
    venues: list[str]
    state: str
    address: str
    transport: str
    peers: list[registry.PeerStats]
    dropped: int = 0


def mesh_views(home: Path, mode: str, name: str | None = None, edges: list[EdgeView] | None = None) -> list[MeshView]:
    """Per edge: its mesh address and what it measured of each peer."""
    deps = {d.name: d for d in registry.all_deployments(home, mode)}
    out = []
    for v in edges if edges is not None else views(home, mode, name):
        dep = deps.get(v.deployment)
        labels = [e.label for e in dep.edges] if dep else [v.label]
        st = v.status
        out.append(MeshView(v.deployment, v.label, labels.index(v.label) if v.label in labels else 0, v.venues, v.state,
                            st.mesh_address if st else "", dep.mesh_transport if dep else "udp",
                            list(st.mesh.values()) if st else [], st.mesh_dropped if st else 0))
    return out


class Snapshot(msgspec.Struct):
    """What `sequence watch` draws each second."""
    mode: str
    ts_ns: int
    edges: list[EdgeView]
    mesh: list[MeshView]
    fills: list[dict]                      # the deployments' latest fills, newest first


def snapshot(home: Path, mode: str, name: str | None = None, fills: int = 10) -> Snapshot:
    import time

    from ..engine_client import call, engine_info

    edges = views(home, mode, name)
    wanted = {v.deployment for v in edges}
    recent: list[dict] = []
    info = engine_info()
    if info is not None and wanted:
        from urllib.parse import quote

        for v in edges:
            if v.deployment in wanted:
                for f in call(info, "GET", f"/v1/{mode}/fills?limit={fills}&origin={quote(f'deploy:{v.deployment}/{v.label}')}"):
                    recent.append({"deployment": v.deployment, "edge": v.label, "venue": f["venue"], "book": f["symbol"],
                                   "side": f["side"], "qty": f["qty"], "price": f["price"], "ts_ns": f["ts_ns"]})
        recent = sorted(recent, key=lambda f: f["ts_ns"], reverse=True)[:fills]
    return Snapshot(mode, time.time_ns(), edges, mesh_views(home, mode, name, edges), recent)
