"""config.toml: the Sequence API key and per-venue, per-source settings.

Layout (every setting is documented in docs/configuration.md)::

    [auth]
    api_key = "seq_test_..."      # from `sequence login`; seq_test_ means sandbox

    [market_data]                 # source = "synthetic" | "replay" | "live" | ...
    [market_data.<source>]        # that source's settings (checked by the source's configure())
    [sandbox.funding]             # paper accounts' starting balances
    [sandbox.faults]              # paper venues misbehaving on purpose
    [venues.<name>]               # per-venue settings passed to the venue plugin

:func:`load_config` checks the file as it reads it, as Sequence.toml is checked: an unknown
section or key in a section the core owns, or a value of the wrong type, is a ConfigError
``<path>: [section] key: what is wrong``. ``[venues.<name>]`` and ``[market_data.<source>]``
belong to their plugins: the core checks the settings it knows of there (``leverage``, URLs)
and each source's ``configure()`` checks its own table (raising :func:`setting_error`).

Reads use the stdlib tomllib; writes use tomli-w through atomic_write under a lock.
"""

from __future__ import annotations

import re
import tomllib
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from .errors import ConfigError, UsageError
from .home import atomic_write, check_secret_file, ensure_home, home_path, locked

KEY_PATTERN = re.compile(r"^seq_(live|test)_[A-Za-z0-9_-]{8,}$")
SECTIONS = ("auth", "market_data", "sandbox", "venues")
FAULTS = ("reject", "timeout", "ratelimit", "down", "lost_answer")


def config_path() -> Path:
    return ensure_home() / "config.toml"


def setting_error(where: str, message: str) -> ConfigError:
    """The error for a bad setting: ``<path to config.toml>: <where>: <message>``, where is
    ``[section] key`` (plugins' configure() use it too, so every config error names the file)."""
    return ConfigError(f"{home_path() / 'config.toml'}: {where}: {message}")


def show(value: Any) -> str:
    """A value as TOML would write it, for messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return str(value)


def load_config() -> dict[str, Any]:
    """The parsed and checked config; an empty dict when there is none yet."""
    path = config_path()
    if not path.exists():
        return {}
    check_secret_file(path)
    try:
        config = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML ({exc}); fix it by hand or delete it and run `sequence login` again") from None
    except UnicodeDecodeError:
        raise ConfigError(f"config file {path} is not UTF-8 text; fix it by hand or delete it") from None
    check_config(config)
    return config


def update_config(change) -> dict[str, Any]:
    """Apply ``change(config_dict)`` under the config lock and write the result atomically."""
    import tomli_w

    path = config_path()
    with locked(path):
        config = load_config()
        change(config)
        atomic_write(path, tomli_w.dumps(config).encode())
    return config


def check_config(config: dict[str, Any]) -> None:
    """Refuse what the core cannot use: unknown sections and keys, values of the wrong type."""
    for key, value in config.items():
        if key not in SECTIONS:
            raise setting_error(f"[{key}]" if isinstance(value, dict) else key,
                                "unknown section; expected [auth], [market_data], [sandbox] or [venues.<name>]")
        if not isinstance(value, dict):
            raise setting_error(key, f"must be a section [{key}], not {show(value)}")
    _check_auth(config.get("auth", {}))
    _check_market_data(config.get("market_data", {}))
    _check_sandbox(config.get("sandbox", {}))
    _check_venues(config.get("venues", {}))


def _check_auth(auth: dict) -> None:
    for key, value in auth.items():
        if key != "api_key":
            raise setting_error(f"[auth] {key}", "unknown key; expected api_key")
        if not isinstance(value, str):
            raise setting_error("[auth] api_key", f"must be a string, not {show(value)}")
        try:
            validate_api_key(value)
        except UsageError as exc:
            raise setting_error("[auth] api_key", str(exc)) from None


def _check_market_data(md: dict) -> None:
    for key, value in md.items():
        if key == "source":
            if not isinstance(value, str) or not value:
                raise setting_error("[market_data] source", f'must be the name of a market-data source such as "replay", not {show(value)}')
        elif not isinstance(value, dict):
            raise setting_error(f"[market_data] {key}", "unknown key; expected source, or a [market_data.<source>] "
                                "table of that source's settings")


def _check_sandbox(sandbox: dict) -> None:
    for key, value in sandbox.items():
        if key not in ("funding", "faults"):
            raise setting_error(f"[sandbox] {key}", "unknown key; expected [sandbox.funding] or [sandbox.faults]")
        if not isinstance(value, dict):
            raise setting_error(f"[sandbox] {key}", f"must be a table [sandbox.{key}], not {show(value)}")
    funding, faults = sandbox.get("funding", {}), sandbox.get("faults", {})
    for venue, spec in funding.items():
        funding_amounts(spec, venue)
    for venue, fault in faults.items():
        if fault not in FAULTS:
            raise setting_error(f"[sandbox.faults] {venue}", f"unknown fault {show(fault)}; expected one of "
                                + ", ".join(f'"{f}"' for f in FAULTS))
    named = [("funding", v) for v in funding if v != "default"] + [("faults", v) for v in faults]
    if named:
        from .plugins import venues

        installed = sorted(n for n, v in venues().items() if not v.sandbox_only)
        for section, venue in named:
            if venue not in installed:
                also = ' (or "default" for every venue)' if section == "funding" else ""
                raise setting_error(f"[sandbox.{section}] {venue}", f"no installed venue is named '{venue}'; expected one of "
                                    f"{', '.join(installed) or 'none installed'}{also}")


def funding_amounts(spec: Any, venue: str) -> dict[str | None, Decimal]:
    """``[sandbox.funding] <venue>`` (or ``default``) read: asset -> amount, None standing for
    the venue's funding asset (a bare amount). An amount is a decimal number (string or TOML
    number), not negative."""
    where = f"[sandbox.funding] {venue}"
    if isinstance(spec, dict):
        return {str(asset).upper(): _amount(v, f"{where}.{asset}") for asset, v in spec.items()}
    return {None: _amount(spec, where)}


def _amount(value: Any, where: str) -> Decimal:
    expected = 'expected an amount such as "5000", or a table of asset = amount such as { USDT = "5000", BTC = "0.1" }'
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise setting_error(where, f"{show(value)}: {expected}")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise setting_error(where, f"{show(value)} is not a number: {expected}") from None
    if not amount.is_finite() or amount < 0:
        raise setting_error(where, f"{show(value)}: an amount must be a finite number, 0 or more")
    return amount


def leverage_error(venue: str, value: Any) -> str | None:
    """What is wrong with ``[venues.<venue>] leverage = value`` (None: nothing; left out is fine),
    worded the one way config.toml's check and a venue session's ``Leverage`` both say it."""
    if value is None or (not isinstance(value, bool) and isinstance(value, int) and value >= 1):
        return None
    return (f"[venues.{venue}] leverage = {value!r} is not a positive whole number: write e.g. leverage = 5, "
            "or leave it out to keep the account's leverage")


def _check_venues(table: dict) -> None:
    for venue, settings in table.items():
        if not isinstance(settings, dict):
            raise setting_error(f"[venues] {venue}", f"must be a table [venues.{venue}] of that venue's settings, not {show(settings)}")
        for key, value in settings.items():
            where = f"[venues.{venue}] {key}"
            if key == "leverage":
                if why := leverage_error(venue, value):
                    raise ConfigError(f"{home_path() / 'config.toml'}: {why}")
            elif key.endswith("_url") and not isinstance(value, str):
                raise setting_error(where, f"must be a URL string, not {show(value)}")


def validate_api_key(key: str) -> str:
    key = key.strip()
    if not key:
        raise UsageError("no API key given; paste a key that starts with seq_live_ or seq_test_")
    if not KEY_PATTERN.match(key):
        raise UsageError("not a Sequence API key: expected seq_live_... or seq_test_... (letters, digits, _ or -, at least 8 after the prefix)")
    return key


def api_key(config: dict[str, Any] | None = None) -> str | None:
    """The active Sequence key: $SEQUENCE_API_KEY wins over config.toml."""
    import os

    env = os.environ.get("SEQUENCE_API_KEY")
    if env:
        try:
            return validate_api_key(env)
        except UsageError as exc:
            raise ConfigError(f"SEQUENCE_API_KEY (environment variable): {exc}") from None
    config = load_config() if config is None else config
    return config.get("auth", {}).get("api_key")


def is_sandbox_key(key: str | None) -> bool:
    return bool(key and key.startswith("seq_test_"))


def venue_settings(venue: str, config: dict[str, Any] | None = None) -> dict[str, Any]:
    """Non-secret settings for one venue (``[venues.<name>]``)."""
    config = load_config() if config is None else config
    return dict(config.get("venues", {}).get(venue, {}))
