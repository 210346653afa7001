"""Small CLI messages: mesh with no deployments, backtest's documented defaults."""

import json


def test_mesh_with_no_deployments_says_so_like_status(sequence):
    for mode in ([], ["--sandbox"]):
        r = sequence(*mode, "mesh")
        assert r.returncode == 0, r.stderr
        assert r.stdout.startswith("No deployments") and r.stdout == sequence(*mode, "status").stdout
        assert json.loads(sequence(*mode, "mesh", "--output", "json").stdout) == []


def test_backtest_help_shows_the_capital_default_as_the_spec_writes_it(sequence):
    r = sequence("backtest", "-h")
    assert r.returncode == 0 and "[default: 100000]" in r.stdout and "100000.0" not in r.stdout


def test_an_option_given_twice_is_refused_not_the_last_one_taken(sequence):
    """click keeps the last value: `buy ... --venue coinbase --venue kraken` traded on kraken."""
    for args in (["buy", "BTC-USD", "0.001", "--venue", "acme", "--venue", "omega"],
                 ["buy", "BTC-USD", "0.001", "--limit-price", "40000", "--limit-price=41000"]):
        r = sequence("--sandbox", *args)
        opt = args[3]
        assert r.returncode == 1 and r.stderr.startswith(f"Error: {opt} given more than once"), r.stderr
    # a global flag before and after the command name, and a short option with its value attached
    for args, opt in ((["--output", "json", "fees", "BTC-USDT", "--output", "text"], "--output"),
                      (["--output", "json", "--output", "text", "fees", "BTC-USDT"], "--output"),
                      (["logs", "x", "-n3", "-n", "2"], "-n")):
        r = sequence("--sandbox", *args)
        assert r.returncode == 1 and r.stderr.startswith(f"Error: {opt} given more than once"), r.stderr
    # options that repeat by design still do
    r = sequence("--sandbox", "positions", "--venue", "kraken", "--venue", "coinbase", "--output", "json")
    assert r.returncode == 0, r.stderr


def test_an_empty_value_typed_for_an_option_or_argument_is_refused(sequence):
    """An unset shell variable is not a choice: `orders --symbol ""` listed every order and
    `data ingest ""` ingested the current directory."""
    for args, what in ((["--sandbox", "orders", "--symbol", ""], "--symbol"), (["data", "ingest", ""], "PATHS"),
                       (["research", "profile", ""], "SYMBOL"), (["symbols", "--venue="], "--venue")):
        r = sequence(*args)
        assert r.returncode == 1 and r.stderr.startswith(f"Error: {what} is empty"), (args, r.stderr)


def test_a_test_key_login_puts_the_deployment_commands_in_sandbox(sequence):
    """A seq_test_ login is "always sandbox": deploy, status and the rest ran live (a deployment
    meant for paper trading sent its orders to the live desk)."""
    assert sequence("login", input="seq_test_abcdef123456\n").returncode == 0
    for cmd in ("status", "mesh"):
        r = sequence(cmd)
        assert r.returncode == 0 and r.stdout.startswith("No deployments in sandbox"), (cmd, r.stdout)


def test_a_reader_that_stops_reading_is_not_a_failure(home):
    """`sequence buy ... | head -1`: the order was placed, but the exit was 1 (silently), and a
    script retrying on failure would place it again."""
    import subprocess

    from conftest import SEQUENCE, clean_env

    p = subprocess.Popen([str(SEQUENCE), "symbols"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=clean_env(home, {}))
    p.stdout.close()                       # gone before the command writes
    assert p.wait(timeout=60) == 0 and p.stderr.read() == b""


def test_research_figures_are_written_plainly():
    """`research profile` wrote touch depth as ($1.129e+05)."""
    from sequence_cli.research import _fmt

    assert [_fmt(v) for v in (112_900.4, 0.000012345, 3.14159, 0, None)] == ["112,900", "0.00001234", "3.142", "0", "—"]
    # a KS p-value far below 1e-6: in exponent form, not ~225 characters of zeros
    assert [_fmt(v) for v in (6.5312e-224, -2.5e-7, 1e-6, 0.0000012345)] == ["6.53e-224", "-2.5e-07", "0.000001000", "0.000001234"]


def test_trace_names_the_bundles_an_admission_got():
    """The sor_admission line named policy and venues but not the bundle and stage (the JSON did)."""
    from types import SimpleNamespace

    from sequence_cli.monitor import _detail

    d = {"policy": "sor", "venues": ["acme", "zeta"], "arrival_mid": "100", "sor_bundle": "0123456789abcdef" * 4,
         "sor_stage": "canary", "assignment_bundle": None, "assignment_stage": None}
    text = _detail(SimpleNamespace(kind="sor_admission", detail=d))
    assert text == "policy sor, venues acme, zeta, arrival mid 100, sor bundle 0123456789abcdef (canary)"
    assert "bundle" not in _detail(SimpleNamespace(kind="sor_admission", detail={**d, "sor_bundle": None}))


def test_an_empty_name_in_a_comma_list_is_refused(sequence):
    """`symbols --venue ,` listed every venue, as if no filter had been given."""
    for args in (["symbols", "--venue", ","], ["positions", "--venue", "binance,,kraken"], ["positions", "--kind", "crypto,"]):
        r = sequence("--sandbox", *args)
        assert r.returncode == 1 and "an empty name in" in r.stderr, (args, r.stderr)
