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

    module = StrategyModule(Path(wasm_path))           # refuses anything that is not a valid strategy
    b = bundles.create(ensure_home(), "edge", artifact, module.bytes, strategy=strategy, risk_version=risk_version,
                       abi_version=ABI_VERSION)
    emit({"id": b.id, "kind": "edge", "artifact": artifact, "payload_sha256": b.manifest.payload_sha256,
          "bytes": b.manifest.payload_size},
         lambda d: line(f"Bundle {d['id']}  (edge, {d['artifact']}, {d['bytes']:,} bytes, signed)"))


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
@click.option("--eval-run", required=True, metavar="ID", help="The backtest run that evaluated this bundle.")
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
