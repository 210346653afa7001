"""Meta: plugins, update."""

from __future__ import annotations

import click

from .output import emit, line, table


def _render_plugins(listing) -> None:
    if listing.plugins:
        table(["PLUGIN", "DISTRIBUTION", "VERSION", "HOOKS"],
              [(p.name, p.distribution, p.version, ", ".join(p.hooks)) for p in listing.plugins])
    else:
        line("No plugins loaded.")
    if listing.failures:
        line()
        line("Failed to load:")
        table(["PLUGIN", "DISTRIBUTION", "VERSION", "ERROR"],
              [(f.name, f.distribution, f.version, f.error) for f in listing.failures])


@click.command()
def plugins():
    """List installed plugins: name, distribution, version, hooks, and any that failed to load."""
    from sequence_core.client import Sequence

    root = click.get_current_context().find_root().command
    getattr(root, "_load_plugin_commands", lambda: None)()     # register_commands' failures are listed too
    emit(Sequence().plugins(), _render_plugins)


def _render_plan(plan) -> None:
    if plan.upgrades:
        table(["DISTRIBUTION", "INSTALLED", "AVAILABLE"], [(u.name, u.installed, u.available) for u in plan.upgrades])
    elif plan.checked:
        line("Everything is up to date.")
    else:
        line("Nothing was checked: every installed distribution was skipped.")
    for skip in plan.skipped:
        line(f"Skipped {skip.name} {skip.installed}: {skip.reason}")
    if plan.applied:
        line(f"Upgraded {len(plan.upgrades)} distribution(s); your config in the Sequence home is untouched.")
    elif plan.upgrades:
        line("Dry run: nothing changed. Run `sequence update` to apply.")


@click.command()
@click.option("--dry-run", is_flag=True, help="Show what would be upgraded without changing anything.")
def update(dry_run):
    """Upgrade sequence and every installed sequence-* plugin with pip (config is preserved)."""
    from sequence_core.update import run_update

    emit(run_update(apply=not dry_run), _render_plan)
