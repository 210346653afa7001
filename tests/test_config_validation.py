"""config.toml is checked as it is read: every mistake is `Error: <path>: [section] key: why`
(exit 1), never an internal error or a silently ignored setting; and the sandbox honours
`[venues.<name>] leverage` as live trading does (docs/configuration.md, docs/sandbox.md)."""

import json
from decimal import Decimal

import pytest

from conftest import TEST_WORLD


def configure(home, text: str) -> None:
    home.mkdir(mode=0o700, exist_ok=True)
    (home / "config.toml").write_text(text)
    (home / "config.toml").chmod(0o600)


def test_sandbox_checks_perp_margin_at_the_configured_leverage(trader, home):
    """~9,000 USDC of BTC perp on a 5,000 USDC paper account: refused at leverage = 1 (it was
    checked at the default 10x, 900 of margin, and went on to the paper venue)."""
    configure(home, '[venues.zeta]\nleverage = 1\n\n[sandbox.funding]\nzeta = { USDC = "5000" }\n')
    r = trader("--sandbox", "buy", "BTC-USDC-PERP", "0.1", "--venue", "zeta", "--output", "json")
    assert r.returncode == 1, r.stdout
    assert "as margin at 1x" in r.stderr and "available 5,000.00" in r.stderr


@pytest.mark.parametrize("value,shown", [('"abc"', "'abc'"), ("-5", "-5"), ("0", "0"), ("true", "True"), ("2.5", "2.5")])
def test_a_bad_leverage_is_refused_naming_file_and_key(test_world, home, value, shown):
    configure(home, f"[venues.zeta]\nleverage = {value}\n")
    r = test_world("--sandbox", "quote", "BTC-USD")
    assert r.returncode == 1
    assert r.stderr.startswith(f"Error: {home / 'config.toml'}: [venues.zeta] leverage = {shown} is not a positive whole number")


BAD = [
    ('[market_data.synthetic]\nseed = "abc"\n', '[market_data.synthetic] seed: "abc" is not a whole number'),
    ('[market_data.synthetic]\nsed = 4\n', "[market_data.synthetic] sed: unknown key; expected seed"),
    ('market_data = "replay"\n', 'market_data: must be a section [market_data], not "replay"'),
    ('[market_data]\nsorce = "replay"\n', "[market_data] sorce: unknown key"),
    ("[market_data]\nsource = 5\n", "[market_data] source: must be the name of a market-data source"),
    ("[sandbox]\nfunding = 5\n", "[sandbox] funding: must be a table [sandbox.funding], not 5"),
    ('[sandbox]\nfundings = { acme = "5" }\n', "[sandbox] fundings: unknown key"),
    ("[auth]\napi_key = 12\n", "[auth] api_key: must be a string, not 12"),
    ('[auth]\napi_key = "nope"\n', "[auth] api_key: not a Sequence API key"),
    ('[auth]\napikey = "seq_test_abcdefgh"\n', "[auth] apikey: unknown key; expected api_key"),
    ("auth = 5\n", "auth: must be a section [auth], not 5"),
    ("[nosuch]\nx = 1\n", "[nosuch]: unknown section"),
    ('[sandbox.funding]\ndefault = "abc"\nzeta = "5"\n', '[sandbox.funding] default: "abc" is not a number'),
    ("[sandbox.funding]\ndefault = -5\n", "[sandbox.funding] default: -5: an amount must be a finite number, 0 or more"),
    ('[sandbox.funding]\nzeta = { USDC = "-1" }\n', '[sandbox.funding] zeta.USDC: "-1": an amount must be'),
    ('[sandbox.funding]\nnosuchvenue = "5"\n', "[sandbox.funding] nosuchvenue: no installed venue is named 'nosuchvenue'"),
    ('[sandbox.faults]\nacme = "bogus"\n', '[sandbox.faults] acme: unknown fault "bogus"; expected one of "reject"'),
    ('[sandbox.faults]\nkraken = "reject"\n', "[sandbox.faults] kraken: no installed venue is named 'kraken'"),
    ("[venues]\nacme = 5\n", "[venues] acme: must be a table [venues.acme]"),
    ("[venues.acme]\nbase_url = 5\n", "[venues.acme] base_url: must be a URL string, not 5"),
    ('[market_data]\nsource = "replay"\n[market_data.replay]\nat = "yesterday"\n', "[market_data.replay] at: expected an ISO time"),
    ('[market_data]\nsource = "replay"\n[market_data.replay]\nspeed = -1\n', "[market_data.replay] speed: -1 is not a number above 0"),
    ('[market_data]\nsource = "replay"\n[market_data.replay]\nta = "2024-08-08T00:00:00Z"\n', "[market_data.replay] ta: unknown key"),
]


@pytest.mark.parametrize("text,message", BAD, ids=[m.split(":")[0] for _, m in BAD])
def test_a_config_mistake_names_the_file_the_key_and_what_is_wrong(test_world, home, text, message):
    test_world.env["SEQUENCE_LOAD_PLUGINS"] = TEST_WORLD + ",replay"
    configure(home, text)
    r = test_world("--sandbox", "quote", "BTC-USD")
    assert r.returncode == 1, r.stdout
    assert r.stderr.startswith(f"Error: {home / 'config.toml'}: {message}"), r.stderr
    assert "internal error" not in r.stderr


def test_funding_settings_that_are_right_still_fund(test_world, home):
    configure(home, '[sandbox.funding]\ndefault = 0\nzeta = { USDC = 250.5, BTC = "0.5" }\n\n[sandbox.faults]\nacme = "down"\n'
                    '\n[market_data.synthetic]\nseed = 7\n\n[venues.zeta]\nleverage = 3\nbase_url = "http://127.0.0.1:1"\n')
    r = test_world("--sandbox", "positions", "--venue", "zeta,omega", "--output", "json")
    assert r.returncode == 0, r.stderr
    held = {(row["venue"], row["instrument"]): Decimal(row["qty"]) for row in json.loads(r.stdout)["rows"]}
    assert held == {("zeta", "USDC"): Decimal("250.5"), ("zeta", "BTC"): Decimal("0.5"), ("omega", "USD"): 0}


def test_a_bad_key_in_the_environment_names_the_variable(sequence):
    r = sequence("quote", "BTC-USD", env={"SEQUENCE_API_KEY": "not-a-key"})
    assert r.returncode == 1
    assert r.stderr.startswith("Error: SEQUENCE_API_KEY (environment variable): not a Sequence API key")


def test_a_config_mistake_is_said_when_the_engine_would_start(sequence, home):
    """Commands the engine serves said only "the engine exited during start-up; see engine.log"."""
    home.mkdir(mode=0o700, exist_ok=True)
    (home / "config.toml").write_text('[sandbox]\nfunding = 5\n')
    r = sequence("--sandbox", "buy", "BTC-USD", "0.01")
    assert r.returncode == 1 and "config.toml" in r.stderr and "engine exited" not in r.stderr, r.stderr


@pytest.mark.parametrize("settings,message", [
    ({"timeout_s": "soon"}, r'\[market_data.live\] timeout_s: "soon" is not a number of seconds above 0'),
    ({"timeout_s": 0}, r"\[market_data.live\] timeout_s: 0 is not a number of seconds above 0"),
    ({"timeout": 5}, r"\[market_data.live\] timeout: unknown key; expected timeout_s"),
])
def test_live_source_settings_are_checked(settings, message):
    from sequence_core.errors import ConfigError
    from sequence_core.feeds import LiveSource

    with pytest.raises(ConfigError, match=r"config.toml: " + message):
        LiveSource().configure(settings)
    assert LiveSource().configure({"timeout_s": 2.5}).timeout_s == 2.5
