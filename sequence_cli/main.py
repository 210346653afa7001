"""The root ``sequence`` command: global flags, lazy command groups, the one error path.

Commands live in one module per product level and are imported only when used (or
listed by --help), so start-up stays fast. Plugins add commands through the
``register_commands(cli)`` hook. Every failure ends here: ``Error: <message>`` on stderr,
exit 1, no colour when stderr is not a terminal.
"""

from __future__ import annotations

import importlib
import os
import sys

import click

from sequence_core import __version__

from .output import State, state

# name -> (module, attribute, help section). Only commands that work end to end are listed.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "login": ("sequence_cli.connect", "login", "Level 0 — Connect"),
    "connect": ("sequence_cli.connect", "connect", "Level 0 — Connect"),
    "disconnect": ("sequence_cli.connect", "disconnect", "Level 0 — Connect"),
    "venues": ("sequence_cli.connect", "venues", "Level 0 — Connect"),
    "credentials": ("sequence_cli.connect", "credentials", "Level 0 — Connect"),
    "quote": ("sequence_cli.see", "quote", "Level 1 — See"),
    "symbols": ("sequence_cli.see", "symbols", "Level 1 — See"),
    "fees": ("sequence_cli.see", "fees", "Level 1 — See"),
    "positions": ("sequence_cli.see", "positions", "Level 1 — See"),
    "buy": ("sequence_cli.trade", "buy", "Level 2 — Trade"),
    "sell": ("sequence_cli.trade", "sell", "Level 2 — Trade"),
    "orders": ("sequence_cli.trade", "orders", "Level 2 — Trade"),
    "cancel": ("sequence_cli.trade", "cancel", "Level 2 — Trade"),
    "amend": ("sequence_cli.trade", "amend", "Level 2 — Trade"),
    "decrease": ("sequence_cli.trade", "decrease", "Level 2 — Trade"),
    "fills": ("sequence_cli.trade", "fills", "Level 2 — Trade"),
    "redeem": ("sequence_cli.trade", "redeem", "Level 2 — Trade"),
    "engine": ("sequence_cli.trade", "engine", "Level 2 — Trade"),
    "init": ("sequence_cli.automate", "init", "Level 4 — Automate"),
    "build": ("sequence_cli.automate", "build", "Level 4 — Automate"),
    "backtest": ("sequence_cli.automate", "backtest", "Level 4 — Automate"),
    "preflight": ("sequence_cli.deploy", "preflight", "Level 4 — Automate"),
    "deploy": ("sequence_cli.deploy", "deploy", "Level 4 — Automate"),
    "logs": ("sequence_cli.deploy", "logs", "Level 4 — Automate"),
    "status": ("sequence_cli.deploy", "status", "Level 4 — Automate"),
    "start": ("sequence_cli.deploy", "start", "Level 4 — Automate"),
    "stop": ("sequence_cli.deploy", "stop", "Level 4 — Automate"),
    "undeploy": ("sequence_cli.deploy", "undeploy", "Level 4 — Automate"),
    "watch": ("sequence_cli.deploy", "watch", "Level 4 — Automate"),
    "trace": ("sequence_cli.monitor", "trace", "Level 5 — Monitor"),
    "tca": ("sequence_cli.monitor", "tca", "Level 5 — Monitor"),
    "intel": ("sequence_cli.monitor", "intel", "Level 5 — Monitor"),
    "mesh": ("sequence_cli.deploy", "mesh", "Level 5 — Monitor"),
    "bundle": ("sequence_cli.bundle", "bundle", "Bundles"),
    "research": ("sequence_cli.research", "research", "Research"),
    "data": ("sequence_cli.data", "data", "Data"),
    "plugins": ("sequence_cli.meta", "plugins", "Meta"),
    "update": ("sequence_cli.meta", "update", "Meta"),
}
SECTIONS = ["Level 0 — Connect", "Level 1 — See", "Level 2 — Trade", "Level 4 — Automate",
            "Level 5 — Monitor", "Bundles", "Research", "Data", "Meta", "Plugins"]
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _set_sandbox(ctx, param, value):
    if value:
        state().sandbox = True


def _set_output(ctx, param, value):
    if value is not None:
        state().output = value


def _show_version(ctx, param, value):
    if value and not ctx.resilient_parsing:
        click.echo(f"sequence {__version__}")
        ctx.exit(0)


def global_options() -> list[click.Option]:
    """The flags every command accepts, before or after the subcommand name."""
    return [
        click.Option(["--sandbox"], is_flag=True, expose_value=False, callback=_set_sandbox, is_eager=True,
                     help="Force sandbox routing: paper venues, isolated balances."),
        click.Option(["--output"], type=click.Choice(["text", "json"]), default=None, expose_value=False,
                     callback=_set_output, is_eager=True, help="text (default) or json (stable, see docs/output.md)."),
        click.Option(["-V", "--version"], is_flag=True, expose_value=False, callback=_show_version, is_eager=True,
                     help="Print the CLI version and exit."),
    ]


def add_global_options(cmd: click.Command) -> click.Command:
    """Give a command (and, for a group, all its subcommands) the global flags once."""
    have = {o for p in cmd.params for o in getattr(p, "opts", [])}
    for opt in global_options():
        if not set(opt.opts) & have:
            cmd.params.append(opt)
    cmd.context_settings = {**CONTEXT, **(cmd.context_settings or {})}
    _strict_parse(cmd)
    if isinstance(cmd, click.Group):
        for sub in cmd.commands.values():
            add_global_options(sub)
    return cmd


def _strict_parse(cmd: click.Command) -> None:
    """Refuse an option given twice that takes one value (click keeps the last, so
    `buy ... --venue coinbase --venue kraken` traded on kraken without a word), and an empty
    value typed for an option or argument (`orders --symbol ""` listed everything, `data ingest
    ""` read the current directory: an unset shell variable is not a choice)."""
    if getattr(cmd, "_strict", False):
        return
    cmd._strict = True
    single = {o: p.name for p in cmd.params if isinstance(p, click.Option) and not (p.multiple or p.count or p.is_flag)
              for o in p.opts}
    parse = cmd.parse_args

    def parse_args(ctx, args):
        seen: dict[str, str] = {}
        for arg in args:
            if arg == "--":
                break
            opt = arg.split("=", 1)[0]
            if opt not in single and arg[:1] == "-" and arg[1:2] not in ("-", "") and len(arg) > 2:
                opt = arg[:2]                       # a short option with its value attached: -n3
            if (name := single.get(opt)) is not None:
                if name in seen:
                    raise click.UsageError(f"{opt} given more than once (it takes one value)", ctx)
                seen[name] = opt
        rest = parse(ctx, args)
        for p in cmd.params:
            value = ctx.params.get(p.name)
            given = ctx.get_parameter_source(p.name) == click.core.ParameterSource.COMMANDLINE
            if given and (value == "" or (isinstance(value, tuple) and "" in value)):
                where = p.opts[0] if isinstance(p, click.Option) else p.human_readable_name
                raise click.UsageError(f"{where} is empty", ctx)
        return rest

    cmd.parse_args = parse_args


class _ReaderGone(Exception):
    """stdout's reader went away (`| head`)."""


class SequenceCLI(click.Group):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._plugins_loaded = False
        self._sections: dict[str, str] = {}

    def _load_plugin_commands(self) -> None:
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        from sequence_core.plugins import get_plugins

        before = set(self.commands)
        get_plugins().call_each("register_commands", cli=self)
        for name in set(self.commands) - before:
            self._sections.setdefault(name, "Plugins")

    def list_commands(self, ctx):
        self._load_plugin_commands()
        return sorted(set(COMMANDS) | set(self.commands))

    def get_command(self, ctx, name):
        if name in COMMANDS:
            module, attr, section = COMMANDS[name]
            cmd = getattr(importlib.import_module(module), attr)
            self._sections[name] = section
            return add_global_options(cmd)
        if name not in self.commands:
            self._load_plugin_commands()
        cmd = self.commands.get(name)
        return add_global_options(cmd) if cmd else None

    def format_commands(self, ctx, formatter):
        grouped: dict[str, list[tuple[str, str]]] = {}
        for name in self.list_commands(ctx):
            cmd = self.get_command(ctx, name)
            if cmd is None or cmd.hidden:
                continue
            grouped.setdefault(self._sections.get(name, "Plugins"), []).append((name, cmd.get_short_help_str(70)))
        for section in SECTIONS + sorted(set(grouped) - set(SECTIONS)):
            if grouped.get(section):
                with formatter.section(section):
                    formatter.write_dl(grouped[section])

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            raise _ReaderGone() from None       # click would exit 1 on it before main sees it

    def resolve_command(self, ctx, args):
        cmd_name = args[0] if args else None
        cmd = self.get_command(ctx, cmd_name) if cmd_name else None
        if cmd is None and cmd_name and not cmd_name.startswith("-"):
            import difflib

            close = difflib.get_close_matches(cmd_name, self.list_commands(ctx), n=3)
            hint = f" (did you mean: {', '.join(close)}?)" if close else ""
            raise click.UsageError(f"unknown command '{cmd_name}'{hint}; run `sequence --help` for the list", ctx)
        return super().resolve_command(ctx, args)


@click.group(cls=SequenceCLI, context_settings=CONTEXT, params=global_options(), invoke_without_command=True)
@click.pass_context
def cli(ctx):
    """sequence — the trading OS from your terminal.

    Connect venues, see unified quotes and positions, route and work orders, backtest and
    deploy WebAssembly strategies, monitor and research. Every command accepts --sandbox,
    --output text|json, -h/--help and -V/--version, before or after the command name.
    """
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())


_strict_parse(cli)       # the root's options too: `--output json --output text fees`


def fail(message: str) -> None:
    prefix = click.style("Error:", fg="red", bold=True) if sys.stderr.isatty() and not os.environ.get("NO_COLOR") else "Error:"
    click.echo(f"{prefix} {message}", err=True, color=sys.stderr.isatty() and not os.environ.get("NO_COLOR"))
    sys.exit(1)


def main(argv: list[str] | None = None) -> None:
    from sequence_core.errors import SequenceError

    try:
        cli.main(args=argv, prog_name="sequence", standalone_mode=False, obj=State())
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort as exc:
        # click turns any EOFError into Abort; one with a message is a truncated file, not Ctrl-D
        cause = exc.__cause__
        fail(f"unexpected end of data ({cause})" if isinstance(cause, EOFError) and str(cause) else "aborted")
    except click.UsageError as exc:
        hint = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx is not None and "--help" not in exc.format_message() else ""
        fail(exc.format_message() + hint)
    except click.ClickException as exc:
        fail(exc.format_message())
    except SequenceError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        fail("interrupted")
    except (BrokenPipeError, _ReaderGone):
        # the reader went away (`| head`): what the command did is done, and a failure code
        # would make a script that retries on failure place an order twice. stdout goes to
        # /dev/null so that the flush at exit does not fail again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
    except Exception as exc:  # noqa: BLE001 - last resort: a message, not a traceback
        if os.environ.get("SEQUENCE_DEBUG"):
            raise
        fail(f"internal error ({type(exc).__name__}: {exc}); re-run with SEQUENCE_DEBUG=1 for the traceback")
    sys.exit(0)


if __name__ == "__main__":
    main()
