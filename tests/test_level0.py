"""Level 0: login, connect, disconnect, venues — as a user runs them."""

import json
import stat
import tomllib

import pytest

BINANCE = {"api_key": "binancekey123", "api_secret": "s3cr3t-binance-value"}


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


# -- login ------------------------------------------------------------------------
def test_login_from_stdin_writes_config(sequence, home):
    r = sequence("login", input="seq_test_abcdef123456\n")
    assert r.returncode == 0, r.stderr
    assert "sandbox" in r.stdout
    assert "seq_test_abcdef123456" not in r.stdout + r.stderr
    cfg = tomllib.loads((home / "config.toml").read_text())
    assert cfg["auth"]["api_key"] == "seq_test_abcdef123456"
    assert mode(home) == 0o700 and mode(home / "config.toml") == 0o600


def test_test_key_makes_every_command_sandbox(sequence):
    sequence("login", input="seq_test_abcdef123456\n")
    rows = json.loads(sequence("venues", "--output", "json").stdout)
    assert [r["venue"] for r in rows] == ["sim"]


def test_live_key_is_not_sandbox(sequence):
    r = sequence("login", input="seq_live_abcdef123456\n")
    assert r.returncode == 0 and "(live)" in r.stdout
    assert json.loads(sequence("venues", "--output", "json").stdout) == []


@pytest.mark.parametrize("key", ["sk_live_abcdef123456", "seq_prod_abcdef123456", "seq_test_short", "seq_test_has space 123"])
def test_login_rejects_malformed_keys(sequence, home, key):
    r = sequence("login", input=key + "\n")
    assert r.returncode == 1 and r.stderr.startswith("Error: not a Sequence API key")
    assert not (home / "config.toml").exists()


def test_login_with_empty_stdin(sequence):
    r = sequence("login", input="")
    assert r.returncode == 1 and "no input" in r.stderr


def test_corrupted_config_names_the_file(sequence, home):
    home.mkdir(mode=0o700)
    (home / "config.toml").write_text("[auth\napi_key = ")
    r = sequence("venues")
    assert r.returncode == 1
    assert f"config file {home / 'config.toml'} is not valid TOML" in r.stderr
    assert "Traceback" not in r.stderr


def test_home_with_loose_permissions_is_fixed_with_a_warning(sequence, home):
    home.mkdir()
    home.chmod(0o755)
    r = sequence("venues")
    assert r.returncode == 0
    assert "Warning:" in r.stderr and "fixed to 700" in r.stderr
    assert mode(home) == 0o700


def test_home_owned_by_someone_else_is_refused(sequence, home):
    import os

    if os.geteuid() != 0:
        pytest.skip("needs root to create a folder owned by another user")
    home.mkdir(mode=0o700)
    os.chown(home, 65534, 65534)
    r = sequence("venues")
    assert r.returncode == 1 and "belongs to another user" in r.stderr


# -- connect ------------------------------------------------------------------------
def test_connect_from_stdin_json_stores_0600_and_never_echoes(sequence, home):
    r = sequence("connect", "binance", input=json.dumps(BINANCE))
    assert r.returncode == 0, r.stderr
    assert "Connected binance" in r.stdout
    assert BINANCE["api_secret"] not in r.stdout + r.stderr
    creds = home / "credentials.json"
    assert mode(creds) == 0o600
    assert json.loads(creds.read_text())["venues"]["binance"] == BINANCE


def test_connect_again_says_updated(sequence):
    sequence("connect", "binance", input=json.dumps(BINANCE))
    r = sequence("connect", "binance", input=json.dumps({**BINANCE, "api_key": "other"}))
    assert r.returncode == 0 and "Updated binance" in r.stdout


def test_connect_from_file(sequence, tmp_path, home):
    f = tmp_path / "b.json"
    f.write_text(json.dumps(BINANCE))
    assert sequence("connect", "binance", "--from-file", str(f)).returncode == 0
    assert "binance" in json.loads((home / "credentials.json").read_text())["venues"]


def test_connect_unknown_venue_lists_supported(sequence, home):
    r = sequence("connect", "binanse", input=json.dumps(BINANCE))
    assert r.returncode == 1
    assert "unknown venue 'binanse'" in r.stderr and "binance" in r.stderr
    assert "sim" not in r.stderr.split("supported venues:")[1]
    assert not (home / "credentials.json").exists()


def test_connect_non_tty_without_input(sequence, home):
    r = sequence("connect", "binance", input="")
    assert r.returncode == 1 and "no input" in r.stderr
    assert not (home / "credentials.json").exists()


@pytest.mark.parametrize("payload,expect", [
    ({"api_key": "k"}, "api_secret is required"),
    ({"api_key": "k", "api_secret": "s", "extra": "x"}, "unknown field(s) for binance: extra"),
    ({"api_key": "k", "api_secret": "a b"}, "api_secret: must not contain spaces"),
])
def test_connect_bad_fields_write_nothing(sequence, home, payload, expect):
    r = sequence("connect", "binance", input=json.dumps(payload))
    assert r.returncode == 1 and expect in r.stderr
    assert not (home / "credentials.json").exists()


def test_connect_malformed_json(sequence):
    r = sequence("connect", "binance", input="api_key=k")
    assert r.returncode == 1 and "expected a JSON object" in r.stderr


def test_connect_sandbox_venue_needs_nothing(sequence):
    r = sequence("connect", "sim", input="{}")
    assert r.returncode == 1 and "sandbox venue and needs no credentials" in r.stderr


# -- credentials from the environment --------------------------------------------------
def acme_creds() -> dict:
    """The test plugin's venue: it has no heartbeat, so `venues` can only say "unchecked"."""
    from sequence_core.testing import make_pem

    return {"api_key": "acmekey123", "api_secret": "s3cret", "private_key": make_pem("ed25519")}


def test_env_credentials_count_as_connected(with_third_party):
    env = {f"SEQUENCE_ACME_{k.upper()}": v for k, v in acme_creds().items()}
    rows = json.loads(with_third_party("venues", "--output", "json", env=env).stdout)
    assert [(r["venue"], r["source"], r["state"]) for r in rows] == [("acme", "env", "unchecked")]


# -- disconnect ---------------------------------------------------------------------------
def test_disconnect_removes_and_reports_when_none(sequence, home):
    sequence("connect", "binance", input=json.dumps(BINANCE))
    r = sequence("disconnect", "binance")
    assert r.returncode == 0 and "Removed" in r.stdout
    assert json.loads((home / "credentials.json").read_text())["venues"] == {}
    again = sequence("disconnect", "binance")
    assert again.returncode == 0 and "No stored credentials for binance" in again.stdout


def test_disconnect_unknown_venue(sequence):
    r = sequence("disconnect", "nope")
    assert r.returncode == 1 and "unknown venue 'nope'" in r.stderr


# -- venues -------------------------------------------------------------------------------
def test_a_heartbeat_never_leaves_the_machine_in_tests(sequence):
    """binance has a real heartbeat; with no base_url it would call api.binance.com, which the
    suite's SEQUENCE_LOOPBACK_ONLY guard refuses: the state is down, with the reason."""
    sequence("connect", "binance", input=json.dumps(BINANCE))
    rows = json.loads(sequence("venues", "--output", "json").stdout)
    assert rows[0]["state"] == "down" and "SEQUENCE_LOOPBACK_ONLY" in rows[0]["detail"]


def test_venues_empty_says_how_to_connect(sequence):
    r = sequence("venues")
    assert r.returncode == 0 and "No venues connected" in r.stdout and "binance" in r.stdout


def test_venues_reports_unchecked_not_invented_state(with_third_party):
    with_third_party("connect", "acme", input=json.dumps(acme_creds()))
    r = with_third_party("venues")
    assert r.returncode == 0
    row = next(line for line in r.stdout.splitlines() if line.startswith("acme"))
    assert "unchecked" in row and "live" in row


# -- concurrency ---------------------------------------------------------------------------
def test_concurrent_writers_never_tear_or_lose_updates(with_third_party, home):
    """Many processes connecting different venues and logging in at once: every update lands."""
    import tomllib

    from cryptography.hazmat.primitives.asymmetric import ed25519
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    pem = ed25519.Ed25519PrivateKey.generate().private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
    procs = []
    for i in range(4):
        procs.append((with_third_party.popen("connect", "binance"), json.dumps({**BINANCE, "api_key": f"k{i}"})))
        procs.append((with_third_party.popen("connect", "acme"), json.dumps({"api_key": f"a{i}", "api_secret": "s", "private_key": pem})))
        procs.append((with_third_party.popen("login"), f"seq_live_key{i:08d}\n"))
    for p, data in procs:
        p.communicate(data, timeout=60)
        assert p.returncode == 0
    stored = json.loads((home / "credentials.json").read_text())["venues"]
    assert set(stored) == {"binance", "acme"}
    assert tomllib.loads((home / "config.toml").read_text())["auth"]["api_key"].startswith("seq_live_key")
    assert not [p for p in home.iterdir() if p.name.endswith(".tmp")]
