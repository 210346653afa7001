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
