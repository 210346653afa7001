"""`sequence bundle`: compiled, signed, content-addressed artifacts (docs/bundles.md)."""

from __future__ import annotations

from pathlib import Path

import click

from .output import emit, line, table


@click.group()
def bundle():
    """Compiled, signed, content-addressed artifacts for reproducible deploys."""


@bundle.command("compile-edge")
@click.option("--wasm", "wasm_path", required=True, type=click.Path(dir_okay=False), help="The strategy module.")
@click.option("--artifact", required=True, metavar="ID", help="Your name for this artifact.")
@click.option("--strategy", default="mm-pro", show_default=True, help="Strategy family.")
@click.option("--risk-version", default="v1", show_default=True, help="Risk limits version.")
def compile_edge(wasm_path, artifact, strategy, risk_version):
    """Wrap a WASM blob into an edge bundle (validated against the strategy ABI)."""
    from sequence_core import bundles
    from sequence_core.home import ensure_home
    from sequence_core.sim.host import ABI_VERSION, StrategyModule

    from sequence_core.errors import UsageError
    from sequence_core.sim.project import find_project, load_project

    module = StrategyModule(Path(wasm_path))           # refuses anything that is not a valid strategy
    try:                                               # inside a project, its [params] go into the bundle
        params = load_project(find_project()).fixed_params()
    except UsageError:
        params = {}
    b = bundles.create(ensure_home(), "edge", artifact, module.bytes, strategy=strategy, risk_version=risk_version,
                       abi_version=ABI_VERSION, params=params)
    emit({"id": b.id, "kind": "edge", "artifact": artifact, "payload_sha256": b.manifest.payload_sha256,
          "bytes": b.manifest.payload_size, "params": b.manifest.params},
         lambda d: line(f"Bundle {d['id']}  (edge, {d['artifact']}, {d['bytes']:,} bytes"
                        + (f", {len(d['params'])} params from Sequence.toml" if d["params"] else "") + ", signed)"))


@bundle.command("compile-sor")
@click.option("--routing-model", required=True, metavar="REF", help="A routing model (book-walk).")
@click.option("--impact-model", required=True, multiple=True, metavar="REF",
              help="Research profile artifact id(s) whose impact fits the SOR uses: repeat, or comma-separated.")
@click.option("--slicing-policy", default="vwap", show_default=True, help="Policy for orders too large to take now.")
@click.option("--artifact", metavar="ID", help="Your name for it (default: sor-<routing>-<slicing>).")
def compile_sor(routing_model, impact_model, slicing_policy, artifact):
    """Compile a SOR policy bundle (routing and impact models)."""
    from sequence_core import bundles
    from sequence_core.home import ensure_home

    b = bundles.compile_sor(ensure_home(), routing_model, ",".join(impact_model), slicing_policy, artifact)
    model = bundles.payload_of(b)
    emit({"id": b.id, "kind": "sor", "artifact": b.manifest.artifact, "routing_model": model.routing_model,
          "impact_models": [f"{m.symbol}@{m.venue}" for m in model.impact], "slicing_policy": model.slicing_policy},
         lambda d: line(f"Bundle {d['id']}  (sor, {d['artifact']}: {d['routing_model']} routing, impact models for "
                        f"{', '.join(d['impact_models'])}, slicing {d['slicing_policy']}, signed)"))


@bundle.command("compile-assignment")
@click.option("--artifact", required=True, metavar="ID", help="Your name for this artifact.")
@click.option("--edge-threshold", type=int, default=1_000_000_000_000, show_default=True,
              help="USD notional × 1e9 from which an order takes the edge (wasm) path.")
@click.option("--sor-threshold", type=int, default=1_000_000_000_000, show_default=True,
              help="USD notional × 1e9 a venue's share needs to stay in the SOR fan-out.")
@click.option("--min-venues", type=int, default=2, show_default=True, help="Fewer venues than this: no SOR.")
def compile_assignment(artifact, edge_threshold, sor_threshold, min_venues):
    """Compile an assignment-policy bundle (fixed-point thresholds)."""
    from sequence_core import bundles
    from sequence_core.home import ensure_home
    from sequence_core.research.monitor import order_notionals

    b = bundles.compile_assignment(ensure_home(), artifact, edge_threshold, sor_threshold, min_venues,
                                   order_notionals())
    pol = bundles.payload_of(b)
    emit({"id": b.id, "kind": "assignment", "artifact": artifact, "edge_threshold": pol.edge_threshold,
          "sor_threshold": pol.sor_threshold, "min_venues": pol.min_venues, "scale": pol.scale,
          "baseline_orders": len(pol.baseline_notionals)},
         lambda d: line(f"Bundle {d['id']}  (assignment, {artifact}: edge from ${d['edge_threshold'] / d['scale']:,.2f}, "
                        f"SOR venue share from ${d['sor_threshold'] / d['scale']:,.2f}, min {d['min_venues']} venues; "
                        f"baseline {d['baseline_orders']} journaled orders, signed)"))


@bundle.command("list")
def list_():
    """Every compiled bundle with stage, promoted-at, approver."""
    from sequence_core import bundles
    from sequence_core.home import ensure_home

    rows = bundles.list_bundles(ensure_home())

    def render(items):
        if not items:
            line("No bundles yet: `sequence bundle compile-edge --wasm <path> --artifact <id>`")
            return
        table(["BUNDLE", "KIND", "ARTIFACT", "STRATEGY", "CREATED", "STAGE", "PROMOTED", "APPROVER", "CHECK"],
              [[b.id[:16], b.kind, b.artifact, b.strategy or None, b.created_at, b.stage, b.promoted_at, b.approver,
                "ok" if b.problem is None else "REFUSED"] for b in items])
        for b in items:
            if b.problem:
                line(f"  {b.id[:16]}: {b.problem}")

    emit(rows, render)


@bundle.command()
@click.option("--bundle", "ref", required=True, metavar="ID", help="The bundle (id or unique prefix).")
@click.option("--target", required=True, help="Where it is promoted (a deployment target name).")
@click.option("--stage", required=True, type=click.Choice(["canary", "pilot", "production"]), help="Stage.")
@click.option("--eval-run", required=True, metavar="ID",
              help="What evaluated this bundle: for an edge bundle a saved backtest run of it (same module and "
                   "params); for a sor or assignment bundle a drift report of it (`research monitor`).")
@click.option("--approver", required=True, metavar="EMAIL", help="Who approves the promotion.")
@click.option("--break-glass", is_flag=True, help="Bypass the drift-check gate (requires --notes).")
@click.option("--notes", default="", help="Why; required with --break-glass.")
def promote(ref, target, stage, eval_run, approver, break_glass, notes):
    """Promote a bundle to a deployment stage (canary, pilot, production)."""
    from sequence_core import bundles
    from sequence_core.home import ensure_home

    rec = bundles.promote(ensure_home(), ref, target, stage, eval_run, approver, break_glass, notes)
    emit(rec, lambda r: line(f"Promoted {r.bundle[:16]} to {r.to_stage} on {r.target} "
                             f"(from {r.from_stage or 'no stage'}; approver {r.approver}"
                             f"{'; BREAK-GLASS: ' + r.notes if r.break_glass else ''}; audit record {r.seq})"))
