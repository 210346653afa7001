"""`sequence init`, Sequence.toml validation, `sequence build` (the toolchain or a clear error)."""

from __future__ import annotations

import json

import pytest
from simtools import DAY, make_market


def test_init_scaffolds_a_project(sequence, tmp_path):
    import subprocess

    from conftest import SEQUENCE, clean_env

    proc = subprocess.run([str(SEQUENCE), "init", "my-strategy"], cwd=tmp_path, capture_output=True, text=True,
                          env=clean_env(sequence.home))
    assert proc.returncode == 0, proc.stderr
    root = tmp_path / "my-strategy"
    for name in ("Cargo.toml", "src/lib.rs", "Sequence.toml", ".gitignore", "vendor/sequence-sdk/src/lib.rs"):
        assert (root / name).is_file(), name
    assert 'name = "my-strategy"' in (root / "Cargo.toml").read_text()
    assert "crates.io" not in (root / "Cargo.toml").read_text()
    assert 'path = "vendor/sequence-sdk"' in (root / "Cargo.toml").read_text()
    assert "/target" in (root / ".gitignore").read_text()
    from sequence_core.sim.project import load_project

    project = load_project(root)
    assert project.name == "my-strategy" and project.config.strategy.symbols == ["BTC-USDT"]
    assert project.fixed_params()["order_size"] == 1_000_000     # 0.001 in fixed point
    again = subprocess.run([str(SEQUENCE), "init", "my-strategy"], cwd=tmp_path, capture_output=True, text=True,
                           env=clean_env(sequence.home))
    assert again.returncode == 1 and "already exists and is not empty" in again.stderr
    bad = subprocess.run([str(SEQUENCE), "init", "9lives"], cwd=tmp_path, capture_output=True, text=True,
                         env=clean_env(sequence.home))
    assert bad.returncode == 1 and "must start with a letter" in bad.stderr


@pytest.mark.parametrize("edit, message", [
    (lambda t: t.replace("symbols = ", "symbls = "), "Sequence.toml line 4: unknown field 'symbls' in [strategy]"),
    (lambda t: t.replace("[risk]", "[risks]"), "line 14: unknown section [risks]"),
    (lambda t: t.replace('name = "demo"', "name = demo"), "Sequence.toml: Invalid value (at line 3, column 8)"),
    (lambda t: t.replace("order_size = 0.001", 'order_size = "big"'), "line 9: parameter 'order_size' must be a number, not 'big'"),
    (lambda t: t.replace('symbols = ["BTC-USDT"]', "symbols = []"), "line 4: symbols is empty"),
])
def test_sequence_toml_mistakes_name_the_line(tmp_path, edit, message):
    from sequence_core.errors import SequenceError
    from sequence_core.sim.project import init_project, load_project

    root = init_project("demo", tmp_path)
    path = root / "Sequence.toml"
    path.write_text(edit(path.read_text()))
    with pytest.raises(SequenceError) as err:
        load_project(root)
    assert message in str(err.value), str(err.value)


def test_build_without_a_wasm_toolchain_says_how_to_install_one(tmp_path, monkeypatch):
    from sequence_core.errors import SequenceError
    from sequence_core.sim import project

    monkeypatch.setattr(project, "_has_wasm_target", lambda rustc: False)
    root = project.init_project("demo", tmp_path)
    with pytest.raises(SequenceError) as err:
        project.build_project(root)
    text = str(err.value)
    assert "wasm32-unknown-unknown" in text and "rustup target add" in text and "libstd-rust-dev-wasm32" in text


def _toolchain_or_skip():
    from sequence_core.errors import SequenceError
    from sequence_core.sim.project import find_toolchain

    try:
        return find_toolchain()
    except SequenceError as exc:
        pytest.skip(f"no wasm toolchain: {exc}")


@pytest.mark.slow
def test_template_builds_offline_and_trades_in_a_backtest(sequence, home, tmp_path):
    """The scaffold builds with no crate from outside (cargo --offline) and its market maker
    trades on recorded data."""
    import subprocess

    from conftest import SEQUENCE, clean_env
    from sequence_core.home import ensure_home
    from sequence_core.store import Store

    _toolchain_or_skip()
    make_market(Store(ensure_home() / "data"), steps=30_000)
    env = clean_env(home, {"SEQUENCE_LOAD_PLUGINS": "sim,queue-models,latency-models,fee-models",
                           "CARGO_HOME": str(tmp_path / "empty-cargo-home")})
    subprocess.run([str(SEQUENCE), "init", "mm"], cwd=tmp_path, check=True, env=env, capture_output=True)
    root = tmp_path / "mm"
    (root / "Sequence.toml").write_text((root / "Sequence.toml").read_text().replace('"BTC-USDT"', '"BTC-USD"'))
    build = subprocess.run([str(SEQUENCE), "build"], cwd=root, env=env, capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr
    wasm = root / "target" / "wasm32-unknown-unknown" / "release" / "mm.wasm"
    assert wasm.is_file() and f"Built {wasm}" in build.stdout
    assert b"name" not in wasm.read_bytes()[-200:] or wasm.stat().st_size < 200_000   # stripped release build
    proc = subprocess.run([str(SEQUENCE), "backtest", "--start", DAY, "--end", DAY, "--skip-build", "--output", "json"],
                          cwd=root, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    r = json.loads(proc.stdout)["result"]
    assert r["strategy"] == "mm" and r["symbols"] == ["BTC-USD"]
    assert r["fills"] > 0 and r["maker_share"] == 1.0
    log = (json.loads(proc.stdout)["saved_to"])
    assert "market maker started" in open(f"{log}/strategy.log").read()
    # a typo in the project file stops the backtest with the line named
    (root / "Sequence.toml").write_text((root / "Sequence.toml").read_text().replace("[params]", "[parms]"))
    bad = subprocess.run([str(SEQUENCE), "backtest", "--start", DAY, "--end", DAY, "--skip-build"], cwd=root, env=env,
                         capture_output=True, text=True)
    assert bad.returncode == 1 and "unknown section [parms]" in bad.stderr
