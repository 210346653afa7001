"""Level 4 deployments: preflight, deploy, logs, status, start, stop, undeploy, watch; and mesh
(docs/deployments.md)."""

from __future__ import annotations

import click

from .output import emit, line, sandbox_mode, state, table


def _mode() -> str:
    return "sandbox" if sandbox_mode() else "live"


def _render_checks(checks) -> None:
    table(["CHECK", "RESULT", "DETAIL"], [(c.name, "pass" if c.ok else "FAIL", c.detail) for c in checks])


@click.command()
def preflight():
    """Pre-deploy readiness checklist. Verifies venues connected, capital sufficient, risk limits loaded, no conflicting deployments."""
    from sequence_core.deploy import preflight as pf
    from sequence_core.home import ensure_home
    from sequence_core.sim.project import find_project, load_project

    project = load_project(find_project())
    checks, _ = pf.run(ensure_home(), project, _mode(), project.wasm_path())
    emit(checks, _render_checks)
    if not all(c.ok for c in checks):
        from sequence_core.errors import SequenceError

        raise SequenceError(f"{sum(not c.ok for c in checks)} preflight check(s) failed")


@click.command()
@click.option("--skip-build", is_flag=True, help="Deploy the module already built.")
@click.option("--bundle", metavar="ID", help="Deploy exactly this edge bundle's module and params.")
def deploy(skip_build, bundle):
    """Compile (unless --skip-build), push the WASM to every hosting edge, and start the deployment."""
    from sequence_core.deploy import manage
    from sequence_core.home import ensure_home
    from sequence_core.sim.project import find_project

    try:
        if bundle and skip_build:
            from sequence_core.errors import UsageError

            raise UsageError("--bundle deploys the bundle's module: nothing is built, so --skip-build does not apply")
        result = manage.deploy(ensure_home(), _mode(), find_project(), skip_build, bundle)
    except manage.PreflightFailed as exc:
        if state().output != "json":
            _render_checks(exc.checks)
        raise

    def render(r):
        what = {"deployed": "Deployed", "replaced": "Replaced with", "unchanged": "Already running",
                "restarted": "Restarted"}[r.action]
        line(f"{what} {r.name} v{r.version}" + (f" (was {r.was})" if r.action == "restarted" else "")
             + f" ({r.mode}, module {r.module_sha256[:12]}"
             + (f", bundle {r.bundle[:12]}" if r.bundle else "") + ") on "
             + ", ".join(f"{e.label} [{', '.join(e.venues)}]" for e in r.edges))
        line(f"  `sequence{' --sandbox' if r.mode == 'sandbox' else ''} status {r.name}` shows it; "
             f"`sequence{' --sandbox' if r.mode == 'sandbox' else ''} logs {r.name} -f` follows it")

    emit(result, render)


def _fmt(v, unit="") -> str:
    return "—" if v is None else f"{v:,.1f}{unit}"


@click.command()
@click.argument("name", required=False)
def status(name):
    """Deployment snapshot: per-edge position, P&L, fill count, callback latency."""
    from sequence_core.deploy import manage
    from sequence_core.home import ensure_home

    rows = manage.views(ensure_home(), _mode(), name)

    def render(vs):
        if not vs:
            _no_deployments()
            return
        table(["DEPLOYMENT", "EDGE", "STATE", "PID", "RESTARTS", "POSITION", "P&L", "FILLS", "ORDERS", "CB P50", "CB P99",
               "MD→JOURNAL P50", "P99"],
              [(v.deployment, v.label, v.state, v.pid or None, v.restarts,
                ", ".join(f"{k} {q:g}" for k, q in v.status.positions.items()) if v.status else None,
                f"{v.status.pnl:,.2f}" if v.status else None, v.status.fills if v.status else None,
                f"{v.status.open_orders} open / {v.status.orders}" if v.status else None,
                _fmt(v.status.callback_p50_us, " µs") if v.status else None,
                _fmt(v.status.callback_p99_us, " µs") if v.status else None,
                _fmt(v.status.md_to_journal_p50_us, " µs") if v.status else None,
                _fmt(v.status.md_to_journal_p99_us, " µs") if v.status else None) for v in vs],
              right=["PID", "RESTARTS", "P&L", "FILLS"])
        for v in vs:
            why = v.reason or (v.status.error if v.status else None)
            if why and v.state != "running":
                line(f"  {v.deployment}/{v.label}: {why}")

    emit(rows, render)


def _lifecycle(verb: str, state_: str, doc: str):
    @click.command(name=verb, help=doc)
    @click.argument("name", required=False)
    def command(name):
        from sequence_core.deploy import manage, registry
        from sequence_core.home import ensure_home

        home = ensure_home()
        change = manage.set_state(home, _mode(), registry.resolve_name(home, _mode(), name), state_)
        emit(change, lambda c: line(f"{c.deployment} v{c.version}: " + _state_change(c)))

    return command


def _state_change(c) -> str:
    if c.was == c.state:
        return f"already {c.state}"
    if c.state == "running":
        return f"started (was {c.was})"
    return f"stopped (was {c.was}; resting orders stay: the strategy's on_stop decides what to cancel)"


start = _lifecycle("start", "running", "Resume a stopped deployment.")
stop = _lifecycle("stop", "stopped", "Pause a deployment. Does NOT cancel resting orders: on_stop handles those.")


@click.command()
@click.argument("name", required=False)
@click.option("--force", is_flag=True, help="Undeploy even while its orders rest (they keep working).")
def undeploy(name, force):
    """Delete a deployment (refused while its orders rest, unless --force)."""
    from sequence_core.deploy import manage, registry
    from sequence_core.home import ensure_home

    home = ensure_home()
    out = manage.undeploy(home, _mode(), registry.resolve_name(home, _mode(), name), force)
    emit(out, lambda d: line(f"Undeployed {d['undeployed']} v{d['version']}"
                             + (f"; WARNING: {len(d['left_resting'])} order(s) left resting: "
                                + ", ".join(d["left_resting"]) if d["left_resting"] else "")))


@click.command()
@click.argument("name", required=False)
@click.option("-f", "--follow", is_flag=True, help="Tail in real time (Ctrl-C stops).")
@click.option("-n", "--lines", "count", type=int, default=100, show_default=True, help="Lines of history per edge.")
def logs(name, follow, count):
    """Strategy stdout/stderr and host messages. -f tails in real time."""
    import os
    import time

    from sequence_core.deploy import registry
    from sequence_core.home import ensure_home

    home = ensure_home()
    dep = registry.load(home, _mode(), registry.resolve_name(home, _mode(), name))
    tails = {registry.log_path(home, dep.mode, dep.name, e.label): _Tail(e.label) for e in dep.edges}
    # each log stays open while followed: at a rotation (the edge renames it to .log.1 and
    # starts a new one) what was appended to the old file since the last poll is still read
    # through its handle before the new file is followed from its start
    handles = {}
    for p, tail in tails.items():
        try:
            handles[p] = open(p, "rb")
        except FileNotFoundError:
            continue
        tail.write(handles[p], last=count)
    if not follow:
        for fh in handles.values():
            fh.close()
        return
    try:
        while True:
            for p, tail in tails.items():
                fh = handles.get(p)
                if fh is not None:
                    tail.write(fh)
                try:
                    inode = p.stat().st_ino
                except FileNotFoundError:
                    continue
                if fh is None or os.fstat(fh.fileno()).st_ino != inode:       # new, or rotated
                    if fh is not None:
                        tail.write(fh)                                      # (written since the read above)
                        fh.close()
                    handles[p] = open(p, "rb")
                    tail.write(handles[p])
                elif os.fstat(fh.fileno()).st_size < fh.tell():            # truncated in place
                    fh.seek(0)
                    tail.write(fh)
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        for fh in handles.values():
            fh.close()


class _Tail:
    """One edge's log to stdout, whole lines only (a line still being written waits for its
    end): as written, or with --output json one object per line, {"edge", "line"} (JSON Lines)."""

    def __init__(self, edge: str):
        self.edge, self.partial = edge, b""

    def write(self, fh, last: int | None = None) -> None:
        import sys

        import msgspec

        data = self.partial + fh.read()
        *done, self.partial = data.split(b"\n")
        if last is not None:
            done = done[-last:] if last > 0 else []
        if not done:
            return
        texts = [d.decode(errors="replace") for d in done]
        if state().output == "json":
            texts = [msgspec.json.encode({"edge": self.edge, "line": t}).decode() for t in texts]
        sys.stdout.write("".join(t + "\n" for t in texts))
        sys.stdout.flush()


def _mesh_rows(mesh) -> list[tuple]:
    rows = []
    for m in mesh:
        peers = m.peers or [None]
        for n, p in enumerate(peers):
            first = n == 0
            rows.append((m.deployment if first else "", f"{m.index}:{m.label}" if first else "",
                         m.address or None if first else "", p.label if p else "(no peers)",
                         _fmt(p.latency_p50_us, " µs") if p else None, _fmt(p.latency_p99_us, " µs") if p else None,
                         p.sent if p else None, p.received if p else None, p.pongs if p else None))
    return rows


def _no_deployments() -> None:
    line("No deployments" + (" in sandbox" if _mode() == "sandbox" else "") + "; `sequence deploy` makes one.")


MESH_COLUMNS = ["DEPLOYMENT", "INSTANCE", "ADDRESS", "PEER", "LATENCY P50", "P99", "SENT", "RECEIVED", "PINGS ANSWERED"]


@click.command()
@click.argument("name", required=False)
def mesh(name):
    """Mesh topology for multi-venue algos: per-instance label, peer latencies, message counts."""
    from sequence_core.deploy import manage, registry
    from sequence_core.home import ensure_home

    from sequence_core.errors import UsageError

    home = ensure_home()
    try:
        chosen = registry.resolve_name(home, _mode(), name)
    except UsageError:
        if registry.all_deployments(home, _mode()):
            raise                       # several: which one is the question
        chosen = None                   # none at all: say so, as `status` does
    views = manage.mesh_views(home, _mode(), chosen) if chosen else []

    def render(vs):
        if not vs:
            _no_deployments()
            return
        table(MESH_COLUMNS, _mesh_rows(vs), right=["SENT", "RECEIVED", "PINGS ANSWERED"])
        line("latency: one way, half the round trip of a ping each member sends each peer every second; "
             "sent/received: strategy messages")

    emit(views, render)


def _watch_frame(snap):
    """The rich renderable of one `watch` refresh."""
    from rich.console import Group
    from rich.table import Table

    edges = Table(title=f"deployments ({snap.mode})", title_justify="left", expand=False)
    for c in ("DEPLOYMENT", "EDGE", "STATE", "POSITION", "P&L", "FILLS", "ORDERS", "CB P50", "CB P99"):
        edges.add_column(c, justify="right" if c in ("P&L", "FILLS") else "left")
    for v in snap.edges:
        st = v.status
        edges.add_row(v.deployment, v.label, v.state,
                      "\n".join(f"{k} {q:g}" for k, q in st.positions.items() if q) or "flat" if st else "—",
                      f"{st.pnl:,.2f}" if st else "—", str(st.fills) if st else "—",
                      f"{st.open_orders} open / {st.orders}" if st else "—",
                      _fmt(st.callback_p50_us, " µs") if st else "—", _fmt(st.callback_p99_us, " µs") if st else "—")
    mesh = Table(title="mesh", title_justify="left")
    for c in MESH_COLUMNS[1:]:
        mesh.add_column(c)
    for row in _mesh_rows(snap.mesh):
        mesh.add_row(*["—" if x is None else str(x) for x in row[1:]])
    fills = Table(title="latest fills", title_justify="left")
    for c in ("EDGE", "VENUE", "BOOK", "SIDE", "QTY", "PRICE"):
        fills.add_column(c)
    for f in snap.fills:
        fills.add_row(f"{f['deployment']}/{f['edge']}", f["venue"], f["book"], f["side"].upper(), f["qty"], f["price"])
    if not snap.fills:
        fills.add_row("—", "", "", "", "", "")
    return Group(edges, mesh, fills, "[dim]q or Ctrl-C quits; refreshes every second[/dim]")


class _Keys:
    """q pressed? Reads a terminal's stdin in cbreak mode (restored on exit); elsewhere just waits."""

    def __init__(self):
        import sys

        self.fd = sys.stdin.fileno() if sys.stdin.isatty() else None
        self.saved = None

    def __enter__(self):
        if self.fd is not None:
            import termios
            import tty

            self.saved = termios.tcgetattr(self.fd)
            tty.setcbreak(self.fd)
        return self

    def __exit__(self, *exc):
        if self.saved is not None:
            import termios

            termios.tcsetattr(self.fd, termios.TCSADRAIN, self.saved)

    def quit_within(self, seconds: float) -> bool:
        import os
        import select
        import time

        if self.fd is None:
            time.sleep(seconds)
            return False
        ready, _, _ = select.select([self.fd], [], [], seconds)
        return bool(ready) and os.read(self.fd, 32).lower().startswith(b"q")


@click.command()
@click.argument("name", required=False)
@click.option("--count", type=int, default=0, help="Stop after this many refreshes (0: until q or Ctrl-C).")
def watch(name, count):
    """Live deployment TUI: refreshes every second with positions, fills and mesh latency."""
    import sys

    import msgspec

    from sequence_core.deploy import manage, registry
    from sequence_core.home import ensure_home

    home = ensure_home()
    name = registry.resolve_name(home, _mode(), name)
    registry.load(home, _mode(), name)                   # unknown name: the clear error, before any drawing
    frames = 0
    try:
        with _Keys() as keys:
            if state().output == "json":               # one snapshot per line
                while True:
                    sys.stdout.write(msgspec.json.encode(manage.snapshot(home, _mode(), name)).decode() + "\n")
                    sys.stdout.flush()
                    frames += 1
                    if (count and frames >= count) or keys.quit_within(1.0):
                        return
            from rich.console import Console
            from rich.live import Live

            console = Console()
            if not console.is_terminal:
                console = Console(width=max(console.width, 140))   # a log is not 80 columns                # a pipe or a log: one frame after another
                while True:
                    console.print(_watch_frame(manage.snapshot(home, _mode(), name)))
                    frames += 1
                    if (count and frames >= count) or keys.quit_within(1.0):
                        return
            with Live(_watch_frame(manage.snapshot(home, _mode(), name)), console=console, auto_refresh=False) as live:
                while True:
                    frames += 1
                    if (count and frames >= count) or keys.quit_within(1.0):
                        return
                    live.update(_watch_frame(manage.snapshot(home, _mode(), name)), refresh=True)
    except KeyboardInterrupt:
        return
