"""config.toml: the Sequence API key and per-venue, per-source settings.

Layout (documented in docs/configuration.md)::

    [auth]
    api_key = "seq_test_..."      # from `sequence login`; seq_test_ means sandbox

    [venues.binance]
    base_url = "http://127.0.0.1:8080"   # point an adapter at another host (tests)

Reads use the stdlib tomllib; writes use tomli-w through atomic_write under a lock.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from .errors import ConfigError, UsageError
from .home import atomic_write, check_secret_file, ensure_home, locked

KEY_PATTERN = re.compile(r"^seq_(live|test)_[A-Za-z0-9_-]{8,}$")


def config_path() -> Path:
    return ensure_home() / "config.toml"


def load_config() -> dict[str, Any]:
    """The parsed config; an empty dict when there is none yet."""
    path = config_path()
    if not path.exists():
        return {}
    check_secret_file(path)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML ({exc}); fix it by hand or delete it and run `sequence login` again") from None
    except UnicodeDecodeError:
        raise ConfigError(f"config file {path} is not UTF-8 text; fix it by hand or delete it") from None


def update_config(change) -> dict[str, Any]:
    """Apply ``change(config_dict)`` under the config lock and write the result atomically."""
    import tomli_w

    path = config_path()
    with locked(path):
        config = load_config()
        change(config)
        atomic_write(path, tomli_w.dumps(config).encode())
    return config


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
        return validate_api_key(env)
    config = load_config() if config is None else config
    return config.get("auth", {}).get("api_key")


def is_sandbox_key(key: str | None) -> bool:
    return bool(key and key.startswith("seq_test_"))


def venue_settings(venue: str, config: dict[str, Any] | None = None) -> dict[str, Any]:
    """Non-secret settings for one venue (``[venues.<name>]``)."""
    config = load_config() if config is None else config
    return dict(config.get("venues", {}).get(venue, {}))
