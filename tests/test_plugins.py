"""Plugins: listing, isolation of broken plugins, a pip-installed third-party venue."""

import json
import socket
import threading
import time

import pytest

from sequence_core.hookspecs import hookimpl
from sequence_core.plugins import Plugins
from sequence_core.venues import Venue

ALL_VENUES = {"binance", "coinbase", "kraken", "okx", "bybit", "kalshi", "polymarket", "hyperliquid",
              "bitget", "cryptocom", "dex_ethereum", "solana"}


def _pem() -> str:
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()


def test_plugins_lists_builtin_venues(sequence):
    r = sequence("plugins", "--output", "json")
    assert r.returncode == 0
    listing = json.loads(r.stdout)
    by_name = {p["name"]: p for p in listing["plugins"]}
    assert by_name["binance"]["distribution"] == "sequence-venue-binance"
    assert by_name["binance"]["hooks"] == ["register_venues"]
    assert "sim" in by_name


def test_all_twelve_venues_and_sim_are_installed(sequence):
    listing = json.loads(sequence("plugins", "--output", "json").stdout)
    names = {p["name"] for p in listing["plugins"]}
    assert ALL_VENUES | {"sim"} <= names


def test_broken_plugin_is_reported_not_fatal(with_third_party):
    r = with_third_party("plugins")
    assert r.returncode == 0, r.stderr
    assert "Failed to load:" in r.stdout and "broken" in r.stdout and "ModuleNotFoundError" in r.stdout
    assert with_third_party("venues").returncode == 0


def test_load_filter_env(with_third_party):
    r = with_third_party("plugins", "--output", "json", env={"SEQUENCE_LOAD_PLUGINS": "acme"})
    listing = json.loads(r.stdout)
    # the core's own built-ins (the sor policy, the store scanner) always load; entry points obey the filter
    assert [p["name"] for p in listing["plugins"]] == ["acme", "core"] and listing["failures"] == []
    none = json.loads(with_third_party("plugins", "--output", "json", env={"SEQUENCE_LOAD_PLUGINS": ""}).stdout)
    assert [p["name"] for p in none["plugins"]] == ["core"] and none["failures"] == []
    assert none["plugins"][0]["hooks"] == ["register_market_data_sources", "register_mesh_transports", "register_policies",
                                           "register_scanners"]


def test_third_party_venue_connects_with_no_core_change(with_third_party, home):
    payload = {"api_key": "acme-key", "api_secret": "acme-secret", "private_key": _pem()}
    r = with_third_party("connect", "acme", input=json.dumps(payload))
    assert r.returncode == 0, r.stderr
    stored = json.loads((home / "credentials.json").read_text())["venues"]["acme"]
    assert stored["api_key"] == "acme-key" and "BEGIN PRIVATE KEY" in stored["private_key"]


@pytest.mark.parametrize("field,value,expect", [
    ("private_key", "-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----", "private_key: unreadable PEM"),
    ("wallet_key", "0xdeadbeef", "wallet_key: expected 32 bytes"),
    ("wallet_address", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", "wallet_address: address checksum"),
    ("sol_keypair", "[1,2,3]", "sol_keypair: a Solana keypair is 64 bytes"),
])
def test_third_party_malformed_keys_write_nothing(with_third_party, home, field, value, expect):
    payload = {"api_key": "k", "api_secret": "s", "private_key": _pem(), field: value}
    r = with_third_party("connect", "acme", input=json.dumps(payload))
    assert r.returncode == 1 and expect in r.stderr
    assert value not in r.stderr or len(value) < 12  # the message names the field, not the secret
    assert not (home / "credentials.json").exists()


def _serve_ping(port_holder, stop, status=200):
    from aiohttp import web
    import asyncio

    async def ping(request):
        assert request.headers.get("X-ACME-KEY") == "acme-key"
        return web.Response(status=status, text="pong")

    from sequence_core.testing import local_server

    async def main():
        app = web.Application()
        app.router.add_get("/ping", ping)
        async with local_server(app) as port:
            port_holder.append(port)
            while not stop.is_set():
                await asyncio.sleep(0.02)

    asyncio.run(main())


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_heartbeat_ok_then_stale_then_down(with_third_party, home):
    """A real heartbeat against a local server: ok, then stale right after it dies."""
    port, stop = [], threading.Event()
    t = threading.Thread(target=_serve_ping, args=(port, stop), daemon=True)
    t.start()
    while not port:
        time.sleep(0.01)
    with_third_party("connect", "acme", input=json.dumps({"api_key": "acme-key", "api_secret": "s", "private_key": _pem()}))
    (home / "config.toml").write_text(f'[venues.acme]\nbase_url = "http://127.0.0.1:{port[0]}"\n')
    rows = json.loads(with_third_party("venues", "--output", "json").stdout)
    assert rows[0]["state"] == "ok" and rows[0]["latency_ms"] is not None and rows[0]["last_ok_ns"]
    stop.set()
    t.join()
    rows = json.loads(with_third_party("venues", "--output", "json").stdout)
    assert rows[0]["state"] == "stale" and rows[0]["age_s"] < 60  # failing now, answered recently
    (home / "heartbeats.json").unlink()
    (home / "config.toml").write_text(f'[venues.acme]\nbase_url = "http://127.0.0.1:{_free_port()}"\n')
    rows = json.loads(with_third_party("venues", "--output", "json").stdout)
    assert rows[0]["state"] == "down" and rows[0]["detail"]


# -- in-process registry behaviour ------------------------------------------------------------
class _V(Venue):
    name = "dup"


class _Good:
    @hookimpl
    def register_venues(self, register):
        register(_V())


class _Raises:
    @hookimpl
    def register_venues(self, register):
        raise RuntimeError("boom")


def test_a_raising_hook_does_not_hide_other_plugins():
    p = Plugins()
    p.register(_Good(), "good")
    p.register(_Raises(), "bad")
    assert list(p.registry("register_venues")) == ["dup"]
    assert any(f.name == "bad" and "boom" in f.error for f in p.failures)


def test_duplicate_venue_name_is_reported():
    p = Plugins()
    p.register(_Good(), "first")
    p.register(_Good(), "second")
    assert list(p.registry("register_venues")) == ["dup"]
    assert any("already registered" in f.error for f in p.failures)


# -- plugins written by a test, pip-installed into a folder on PYTHONPATH -------------------------
def _distribution(root, name: str, module: str):
    """A one-module plugin distribution ``sequence-<name>`` with entry point ``name``."""
    project = root / f"sequence-{name}"
    (project / "src" / f"sequence_{name}").mkdir(parents=True)
    (project / "src" / f"sequence_{name}" / "__init__.py").write_text(module)
    (project / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=77"]\nbuild-backend = "setuptools.build_meta"\n\n'
        f'[project]\nname = "sequence-{name}"\nversion = "0.0.1"\nrequires-python = ">=3.11"\n\n'
        f'[project.entry-points.sequence]\n{name} = "sequence_{name}"\n\n'
        '[tool.setuptools.packages.find]\nwhere = ["src"]\n')
    return project


CLASHING = '''
from sequence_core.hookspecs import hookimpl


@hookimpl
def register_fee_models(register):
    raise RuntimeError("no fee schedule today")


@hookimpl
def register_commands(cli):
    raise RuntimeError("no commands today")


class Twap:
    name = "twap"


@hookimpl
def register_policies(register):
    register(Twap())
'''


def test_plugins_reports_failures_and_clashes_of_every_hook(sequence, tmp_path):
    from conftest import pip_install_target

    site = tmp_path / "site"
    pip_install_target(site, _distribution(tmp_path, "xclash", CLASHING))
    sequence.pythonpath.append(str(site))
    r = sequence("plugins", "--output", "json", env={"SEQUENCE_LOAD_PLUGINS": "twap,xclash"})
    assert r.returncode == 0, r.stderr
    errors = [f["error"] for f in json.loads(r.stdout)["failures"] if f["name"] == "xclash"]
    assert any(e.startswith("register_fee_models: RuntimeError: no fee schedule today") for e in errors), errors
    assert any(e.startswith("register_commands: RuntimeError: no commands today") for e in errors), errors
    assert "register_policies: 'twap' already registered by plugin twap" in errors
    text = sequence("plugins", env={"SEQUENCE_LOAD_PLUGINS": "twap,xclash"}).stdout
    assert "Failed to load:" in text and "no fee schedule today" in text


def test_a_plugin_cannot_take_over_a_bundled_policy_by_sorting_first(sequence, tmp_path):
    """The first registration by plugin name won, so a plugin named 'aclash' replaced twap
    (and the twap plugin was the one listed as failed)."""
    from conftest import pip_install_target

    site = tmp_path / "site"
    pip_install_target(site, _distribution(tmp_path, "aclash", CLASHING))
    sequence.pythonpath.append(str(site))
    r = sequence("plugins", "--output", "json", env={"SEQUENCE_LOAD_PLUGINS": "twap,aclash"})
    failures = {(f["name"], f["error"]) for f in json.loads(r.stdout)["failures"]}
    assert ("aclash", "register_policies: 'twap' already registered by plugin twap") in failures, failures
    assert not any(name == "twap" for name, _ in failures)


NIBBLE = '''
from sequence_core.hookspecs import hookimpl
from sequence_core.policy import Policy


class Nibble(Policy):
    name = "nibble"
    description = "takes it all now"

    async def run(self, ctx):
        await ctx.take(ctx.remaining)


@hookimpl
def register_policies(register):
    register(Nibble())
'''


def test_policy_installed_while_the_engine_runs_says_to_restart_it(trader, tmp_path):
    from conftest import TEST_WORLD, pip_install_target

    site = tmp_path / "site"
    site.mkdir()
    trader.pythonpath.append(str(site))
    trader.env["SEQUENCE_LOAD_PLUGINS"] = TEST_WORLD + ",nibble"
    assert trader("--sandbox", "buy", "BTC-USD", "0.01", "--venue", "acme").returncode == 0   # the engine runs
    pip_install_target(site, _distribution(tmp_path, "nibble", NIBBLE))     # installed after the engine started
    assert "nibble" in trader("plugins").stdout
    order = ("--sandbox", "buy", "BTC-USD", "0.01", "--venue", "acme", "--policy", "nibble")
    r = trader(*order)
    assert r.returncode == 1 and "unknown policy 'nibble'" in r.stderr
    assert "the running engine started before these plugins were installed: nibble (sequence-nibble 0.0.1)" in r.stderr
    assert "sequence engine stop" in r.stderr
    assert trader("engine", "stop").returncode == 0
    r = trader(*order)
    assert r.returncode == 0, r.stderr
