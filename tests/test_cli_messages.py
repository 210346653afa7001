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
