"""Rendering: rich tables for people, stable JSON for scripts.

Every command builds its result as msgspec Structs (or lists of them) and calls
:func:`emit`. With ``--output json`` that value is printed as JSON exactly as the Struct
fields define it (the documented, stable shape: docs/output.md); otherwise the command's
text renderer draws it. rich is imported only when text is drawn.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import click
import msgspec


class State:
    """Global flags of one invocation (set from anywhere on the command line)."""

    def __init__(self) -> None:
        self.sandbox = False
        self.output = "text"
        self.decided_sandbox: bool | None = None     # sandbox_mode(), read once per invocation


def sandbox_mode() -> bool:
    """Whether this invocation trades in sandbox: --sandbox, or a ``seq_test_`` key logged in
    (always sandbox, as ``Sequence.sandbox`` decides for the SDK)."""
    from sequence_core.client import Sequence

    s = state()
    if s.decided_sandbox is None:       # config.toml read once, not at each use (watch: every second)
        s.decided_sandbox = Sequence(sandbox=s.sandbox).sandbox
    return s.decided_sandbox


def state() -> State:
    ctx = click.get_current_context()
    root = ctx.find_root()
    if not isinstance(root.obj, State):
        root.obj = State()
    return root.obj


def console(stderr: bool = False):
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    # Piped output keeps full rows instead of wrapping to rich's 80-column default.
    width = None if stream.isatty() else 200
    # data is never markup: no markup parsing and no emoji table (faster start, and a value
    # like "[bold]" prints as itself)
    return Console(file=stream, width=width, highlight=False, soft_wrap=False, markup=False, emoji=False)


def emit(data: Any, text: Callable[[Any], None]) -> None:
    if state().output == "json":
        sys.stdout.write(msgspec.json.encode(_plain(msgspec.to_builtins(data, builtin_types=(Decimal,)))).decode() + "\n")
    else:
        text(data)


def _plain(value: Any) -> Any:
    """*value* with every Decimal written plainly ("0.0000000001", not "1E-10": docs/output.md
    promises decimal strings, and a script's Decimal(s) reads either, but jq and eyes do not)."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def table(columns: Sequence[str], rows: Sequence[Sequence[Any]], right: Sequence[str] = ()) -> None:
    """A borderless table in the spec's shape: upper-case headers, aligned columns, a rule
    under the header (the layout of rich's SIMPLE_HEAD box). Drawn by hand: importing rich's
    table costs ~25 ms of every command's start-up. The header is bold on a terminal."""
    cells = [[str(c) for c in columns]] + [["—" if v is None else str(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]

    def fmt(r: list[str]) -> str:
        return "   ".join(r[i].rjust(widths[i]) if columns[i] in right else r[i].ljust(widths[i])
                          for i in range(len(columns)))

    header = fmt(cells[0])
    if sys.stdout.isatty() and "NO_COLOR" not in os.environ:
        header = f"\x1b[1m{header}\x1b[0m"
    out = [header, "─" * (sum(widths) + 3 * (len(widths) - 1))] + [fmt(r) for r in cells[1:]]
    sys.stdout.write("\n".join(out) + "\n")


def line(text: str = "") -> None:
    click.echo(text)


def note(text: str) -> None:
    """Secondary information on stderr, so stdout stays parseable."""
    click.echo(text, err=True)
