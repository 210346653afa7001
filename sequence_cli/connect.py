"""Level 0 — Connect: login, connect, disconnect, venues, credentials."""

from __future__ import annotations

import os
import sys

import click

from sequence_core.errors import CredentialError, UsageError

from .output import emit, line, state, table


def _client():
    from sequence_core.client import Sequence

    return Sequence(sandbox=state().sandbox, passphrase=_prompt_passphrase)


def _prompt_passphrase(prompt: str) -> str:
    if not sys.stdin.isatty():
        raise CredentialError("the credentials store is encrypted: set SEQUENCE_PASSPHRASE (stdin is not a terminal)")
    return click.prompt(prompt, hide_input=True)


def _stdin_text(what: str) -> str:
    text = sys.stdin.read()
    if not text.strip():
        raise UsageError(f"no input: standard input is not a terminal and is empty; pipe the {what} in")
    return text


@click.command()
def login():
    """Store your Sequence API key (seq_live_..., or seq_test_... for an always-sandbox login).

    Asks with a hidden prompt; when standard input is not a terminal, reads the key from it.
    """
    if sys.stdin.isatty():
        key = click.prompt("Sequence API key", hide_input=True)
    else:
        key = _stdin_text("API key").strip().splitlines()[0]
    result = _client().login(key)
    emit(result, lambda r: line(f"Logged in ({r.mode}). Key stored in {r.config_path}."
                                + (" Every command runs in sandbox." if r.mode == "sandbox" else "")))


def _read_pem_interactively(label: str) -> str:
    first = click.prompt(f"{label} (path to the PEM file, or paste it)", hide_input=True)
    if os.path.isfile(os.path.expanduser(first.strip())):
        return _read_key_file(first.strip())
    lines = [first]
    while "-----END" not in lines[-1]:
        lines.append(click.prompt("", hide_input=True, prompt_suffix="", default="", show_default=False))
    return "\n".join(lines)


def _read_key_file(path: str) -> str:
    try:
        with open(os.path.expanduser(path), encoding="utf-8") as fh:
            return fh.read()
    except OSError as exc:
        raise CredentialError(f"cannot read key file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise CredentialError(f"key file {path} is not a text (PEM) file") from None


def _values_from_document(text: str, source: str) -> dict[str, str]:
    import msgspec

    try:
        data = msgspec.json.decode(text.encode())
    except msgspec.DecodeError:
        raise UsageError(f"{source}: expected a JSON object of field names to values, e.g. {{\"api_key\": \"...\"}}") from None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise UsageError(f"{source}: expected a JSON object whose values are strings")
    return data


@click.command()
@click.argument("venue")
@click.option("--from-file", "from_file", metavar="PATH",
              help="Read the fields from a JSON object file ('-' for standard input), for scripts.")
@click.option("--field", "fields", multiple=True, metavar="NAME=VALUE",
              help="Set one field on the command line (for non-secret fields such as addresses).")
def connect(venue, from_file, fields):
    """Store credentials for VENUE: asks for exactly the fields the venue needs.

    Values are checked locally (key formats, PEM and curve keys) before anything is
    written; the credentials file is 0600 in the 0700 home. Non-interactive: pipe a JSON
    object on standard input, use --from-file, or set SEQUENCE_<VENUE>_<FIELD> variables.
    """
    from sequence_core.plugins import get_venue

    v = get_venue(venue)
    values: dict[str, str] = {}
    if from_file:
        text = _stdin_text("credentials JSON") if from_file == "-" else _read_key_file(from_file)
        values.update(_values_from_document(text, "standard input" if from_file == "-" else from_file))
    for item in fields:
        name, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"--field expects NAME=VALUE, got '{name}'")
        values[name.strip()] = value
    if not from_file and not sys.stdin.isatty():
        text = sys.stdin.read()
        if text.strip():
            values.update(_values_from_document(text, "standard input"))
        elif not fields:
            raise UsageError("no input: standard input is not a terminal and is empty; pipe a JSON object of the fields or use --from-file")
    elif not from_file:
        for f in v.credential_fields:
            if f.name in values:
                continue
            label = f.label + (" (optional, Enter to skip)" if f.optional else "")
            if f.kind == "pem":
                values[f.name] = _read_pem_interactively(label)
            else:
                values[f.name] = click.prompt(label, hide_input=f.secret, default="" if f.optional else None, show_default=False)
    result = _client().connect(venue, values)
    emit(result, lambda r: line(f"{'Updated' if r.replaced else 'Connected'} {r.venue}: stored {', '.join(r.fields)} in {r.credentials_path}"))


@click.command()
@click.argument("venue")
def disconnect(venue):
    """Delete the stored credentials of VENUE.

    Rotate keys before the session that uses the new key: edges cache credentials until
    they reconnect.
    """
    result = _client().disconnect(venue)
    emit(result, lambda r: line(f"Removed the credentials of {r.venue}." if r.removed
                                else f"No stored credentials for {r.venue}; nothing to remove."))


def _age(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 120:
        return f"{seconds:.0f}s"
    return f"{seconds / 60:.0f}m" if seconds < 7200 else f"{seconds / 3600:.0f}h"


def _render_venues(rows) -> None:
    if not rows:
        from sequence_core.plugins import venues as registered

        names = ", ".join(sorted(n for n, v in registered().items() if not v.sandbox_only))
        line(f"No venues connected. Run `sequence connect <venue>` (supported: {names}) or use --sandbox.")
        return
    import datetime as dt

    def when(ns):
        return dt.datetime.fromtimestamp(ns / 1e9, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ") if ns else None

    table(["VENUE", "MODE", "SOURCE", "STATE", "LAST OK", "AGE", "LATENCY", "DETAIL"],
          [(r.venue, r.mode, r.source, r.state, when(r.last_ok_ns), _age(r.age_s),
            f"{r.latency_ms:.0f}ms" if r.latency_ms is not None else None, r.detail or "") for r in rows],
          right=["AGE", "LATENCY"])


@click.command()
def venues():
    """List connected venues with their heartbeat (paper venues too in sandbox)."""
    emit(_client().venues(), _render_venues)


@click.group()
def credentials():
    """Encrypt, decrypt or re-key the venue credentials store (scrypt + AES-GCM)."""


def _new_passphrase() -> str:
    env = os.environ.get("SEQUENCE_NEW_PASSPHRASE")
    if env is not None:
        return env
    if not sys.stdin.isatty():
        raise UsageError("set SEQUENCE_NEW_PASSPHRASE (standard input is not a terminal)")
    return click.prompt("New passphrase", hide_input=True, confirmation_prompt=True)


@credentials.command()
def encrypt():
    """Encrypt the credentials store with a passphrase (asked twice, or SEQUENCE_NEW_PASSPHRASE)."""
    store = _client().credentials()
    store.encrypt(_new_passphrase())
    line(f"Encrypted {store.path}. Commands will ask for the passphrase (or read SEQUENCE_PASSPHRASE).")


@credentials.command()
def decrypt():
    """Store the credentials unencrypted again (file stays 0600)."""
    store = _client().credentials()
    store.decrypt()
    line(f"Decrypted {store.path}.")


@credentials.command()
def passphrase():
    """Change the passphrase: decrypts with the current one, re-encrypts with the new one."""
    store = _client().credentials()
    if not store.is_encrypted():
        raise CredentialError("the credentials store is not encrypted; use `sequence credentials encrypt`")
    store.unlock("Current passphrase")  # the old one is asked before the new one
    store.change_passphrase(_new_passphrase())
    line(f"Passphrase changed; {store.path} re-encrypted.")
