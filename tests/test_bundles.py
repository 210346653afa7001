"""Bundles: signed, content-addressed edge artifacts; tamper, key and lookup errors;
`backtest --bundle` replays exactly the bundled module."""

from __future__ import annotations

import json
import os
import stat

import pytest
from simtools import DAY, QUOTER, make_market, wasm


@pytest.fixture
def world(sequence, home, tmp_path):
    from sequence_core.home import ensure_home
    from sequence_core.store import Store

    make_market(Store(ensure_home() / "data"))
    sequence.env["SEQUENCE_LOAD_PLUGINS"] = "sim,queue-models,latency-models,fee-models"
    return sequence, wasm(tmp_path, "quoter", QUOTER)


def compile_edge(sequence, module, artifact="quoter-v1"):
    proc = sequence("bundle", "compile-edge", "--wasm", str(module), "--artifact", artifact, "--output", "json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_compile_list_and_backtest_the_bundle(world, home):
    sequence, module = world
    made = compile_edge(sequence, module)
    assert len(made["id"]) == 64 and made["kind"] == "edge"
    key = home / "keys" / "bundle.key"
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600 and b"PRIVATE KEY" in key.read_bytes()
    again = compile_edge(sequence, module)
    assert again["id"] == made["id"]                        # content-addressed: same content, same id
    listing = sequence("bundle", "list")
    assert listing.returncode == 0 and made["id"][:16] in listing.stdout and "quoter-v1" in listing.stdout
    assert "mm-pro" in listing.stdout and " ok" in listing.stdout
    by_bundle = sequence("backtest", "BTC-USD", "--start", DAY, "--end", DAY, "--bundle", made["id"][:12],
                         "--no-save", "--output", "json", timeout=300)
    by_wasm = sequence("backtest", "BTC-USD", "--start", DAY, "--end", DAY, "--wasm", str(module),
                       "--no-save", "--output", "json", timeout=300)
    assert by_bundle.returncode == 0, by_bundle.stderr
    a, b = json.loads(by_bundle.stdout)["result"], json.loads(by_wasm.stdout)["result"]
    assert a["strategy_sha256"] == b["strategy_sha256"] and a["fills"] == b["fills"] > 0 and a["pnl"] == b["pnl"]


def test_tampered_payload_is_refused(world, home):
    sequence, module = world
    made = compile_edge(sequence, module)
    path = home / "bundles" / f"{made['id']}.bundle"
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF                                       # flip a byte of the wasm payload
    path.write_bytes(bytes(data))
    proc = sequence("backtest", "BTC-USD", "--start", DAY, "--end", DAY, "--bundle", made["id"])
    assert proc.returncode == 1
    assert "was tampered with: its payload does not match the SHA-256 in its manifest" in proc.stderr
    listing = sequence("bundle", "list")
    assert "REFUSED" in listing.stdout and "tampered" in listing.stdout


def test_a_bundle_signed_by_another_key_is_refused(world, home, tmp_path):
    sequence, module = world
    made = compile_edge(sequence, module)
    (home / "keys" / "bundle.key").unlink()                 # a different user now (new key on next use)
    proc = sequence("backtest", "BTC-USD", "--start", DAY, "--end", DAY, "--bundle", made["id"])
    assert proc.returncode == 1 and "is not yours or in" in proc.stderr and "trusted_bundle_keys" in proc.stderr
    import msgspec

    from sequence_core import bundles
    from sequence_core.bundles import Manifest, _decode

    m = msgspec.msgpack.decode(_decode(home / "bundles" / f"{made['id']}.bundle").manifest, type=Manifest)
    (home / "keys" / "trusted_bundle_keys").write_text(f"{m.public_key}  # the old key\n")
    ok = sequence("backtest", "BTC-USD", "--start", DAY, "--end", DAY, "--bundle", made["id"], "--no-save")
    assert ok.returncode == 0, ok.stderr
    assert bundles.load(home, made["id"]).manifest.artifact == "quoter-v1"


@pytest.mark.parametrize("args, message", [
    (["backtest", "BTC-USD", "--start", DAY, "--end", DAY, "--bundle", "deadbeefdeadbeef"], "unknown bundle 'deadbeefdeadbeef'"),
    (["bundle", "compile-edge", "--artifact", "x"], "Missing option '--wasm'"),
    (["bundle", "compile-edge", "--wasm", "WASM", "--artifact", "has space"], "must be 1-128 characters without spaces"),
])
def test_bad_input(world, args, message):
    sequence, module = world
    proc = sequence(*[str(module) if a == "WASM" else a for a in args])
    assert proc.returncode != 0 and message in proc.stderr, proc.stderr


def test_compile_edge_refuses_what_is_not_a_strategy(world, tmp_path):
    sequence, _ = world
    junk = tmp_path / "junk.wasm"
    junk.write_bytes(b"not wasm")
    proc = sequence("bundle", "compile-edge", "--wasm", str(junk), "--artifact", "x")
    assert proc.returncode == 1 and "is not a WebAssembly module" in proc.stderr


def test_promotion_in_order_with_gate_break_glass_and_audit(world, home):
    sequence, module = world
    bid = compile_edge(sequence, module)["id"]
    run = sequence("backtest", "BTC-USD", "--start", DAY, "--end", DAY, "--bundle", bid, "--output", "json", timeout=300)
    assert run.returncode == 0, run.stderr
    eval_run = json.loads(run.stdout)["run_id"]
    base = ["bundle", "promote", "--bundle", bid[:10], "--target", "binance-mm", "--eval-run", eval_run,
            "--approver", "ops@example.com"]
    skip = sequence(*base, "--stage", "pilot")
    assert skip.returncode == 1 and "is at no stage on 'binance-mm', so the next promotion is to canary, not pilot" in skip.stderr
    canary = sequence(*base, "--stage", "canary")
    assert canary.returncode == 0, canary.stderr
    assert "Promoted" in canary.stdout and "to canary on binance-mm" in canary.stdout
    gated = sequence(*base, "--stage", "pilot", timeout=300)     # the drift gate: the same market, within tolerance
    assert gated.returncode == 0 and "to pilot on binance-mm" in gated.stdout, gated.stderr
    no_notes = sequence(*base, "--stage", "production", "--break-glass")
    assert no_notes.returncode == 1 and "--break-glass needs --notes" in no_notes.stderr
    glass = sequence(*base, "--stage", "production", "--break-glass", "--notes", "weekend incident, approved by risk")
    assert glass.returncode == 0, glass.stderr
    listing = json.loads(sequence("bundle", "list", "--output", "json").stdout)
    row = next(r for r in listing if r["id"] == bid)
    assert row["stage"] == "production@binance-mm" and row["approver"] == "ops@example.com" and row["promoted_at"]
    from sequence_core import bundles

    log = bundles.audit(home)
    assert [(r.from_stage, r.to_stage, r.break_glass) for r in log] == [
        (None, "canary", False), ("canary", "pilot", False), ("pilot", "production", True)]
    assert log[2].prev and log[2].notes == "weekend incident, approved by risk"
    drift = [a for a in (home / "research" / "artifacts").glob("drif-*.json")]
    assert len(drift) == 1                              # the gate's check is kept as a drift report
    # the log is append-only: editing a line breaks its verification
    path = home / "bundles" / "audit.log"
    lines = path.read_bytes().splitlines()
    path.write_bytes(b"\n".join(lines[1:]) + b"\n")   # drop the first record
    broken = sequence("bundle", "list")
    assert broken.returncode == 1 and "audit.log line 1 does not verify" in broken.stderr


@pytest.mark.parametrize("change, message", [
    ({"--approver": "not-an-email"}, "--approver 'not-an-email' is not an email address"),
    ({"--eval-run": "bt-nope"}, "eval run 'bt-nope' does not exist"),
    ({"--stage": "staging"}, "Invalid value for '--stage'"),
    ({"--bundle": "0123456789abcdef"}, "unknown bundle '0123456789abcdef'"),
])
def test_promotion_bad_input(world, change, message):
    sequence, module = world
    bid = compile_edge(sequence, module)["id"]
    args = {"--bundle": bid, "--target": "t1", "--stage": "canary", "--eval-run": "bt-x", "--approver": "a@b.io"}
    args.update(change)
    proc = sequence("bundle", "promote", *[x for kv in args.items() for x in kv])
    assert proc.returncode != 0 and message in proc.stderr, proc.stderr


def test_eval_run_of_another_module_is_refused(world, home, tmp_path):
    sequence, module = world
    other = wasm(tmp_path, "other", QUOTER.replace("10000000) (i32.const 1)))", "20000000) (i32.const 1)))"))
    run = sequence("backtest", "BTC-USD", "--start", DAY, "--end", DAY, "--wasm", str(other), "--output", "json", timeout=300)
    bid = compile_edge(sequence, module)["id"]
    proc = sequence("bundle", "promote", "--bundle", bid, "--target", "t1", "--stage", "canary",
                    "--eval-run", json.loads(run.stdout)["run_id"], "--approver", "a@b.io")
    assert proc.returncode == 1 and "did not evaluate bundle" in proc.stderr


SIZED = QUOTER.replace('(import "seq" "book"', '(import "seq" "param" (func $param (param i32 i32 i64) (result i64)))\n  (import "seq" "book"') \
    .replace('(global $bid (mut i64) (i64.const 0))', '(global $bid (mut i64) (i64.const 0))\n  (global $size (mut i64) (i64.const 0))\n  (data (i32.const 0) "size")') \
    .replace('(func (export "on_start") (result i32) (call $set_timer',
             '(func (export "on_start") (result i32) (global.set $size (call $param (i32.const 0) (i32.const 4) (i64.const 10000000))) (call $set_timer') \
    .replace('(i64.const 10000000) (i32.const 1)))', '(global.get $size) (i32.const 1)))')


def test_an_edge_bundle_carries_the_projects_params(world, home, tmp_path):
    """Compiled inside a project, the bundle keeps its [params]; `backtest --bundle` runs with them."""
    sequence, _ = world
    module = wasm(tmp_path, "sized", SIZED)
    import subprocess

    from conftest import SEQUENCE, clean_env

    def run_in(cwd, *args):
        return subprocess.run([str(SEQUENCE), *args], cwd=cwd, capture_output=True, text=True,
                              env=clean_env(home, sequence.env), timeout=60)

    assert run_in(tmp_path, "init", "proj").returncode == 0
    toml = tmp_path / "proj" / "Sequence.toml"
    toml.write_text(toml.read_text().replace("[params]", "[params]\nsize = 0.02"))
    proc = run_in(tmp_path / "proj", "bundle", "compile-edge", "--wasm", str(module), "--artifact", "sized",
                  "--output", "json")
    assert proc.returncode == 0, proc.stderr
    made = json.loads(proc.stdout)
    assert made["params"]["size"] == 20_000_000
    plain = compile_edge(sequence, module, "sized-plain")                    # outside a project: no params
    runs = {}
    for bid in (made["id"], plain["id"]):
        r = sequence("backtest", "BTC-USD", "--start", DAY, "--end", DAY, "--bundle", bid, "--output", "json", timeout=300)
        assert r.returncode == 0, r.stderr
        runs[bid] = json.loads(r.stdout)["run_id"]
    import pyarrow.parquet as pq

    sizes = {bid: set(pq.read_table(home / "backtests" / run / "orders.parquet").column("size").to_pylist())
             for bid, run in runs.items()}
    assert sizes[made["id"]] == {0.02} and sizes[plain["id"]] == {0.01}


def test_an_eval_run_must_have_run_the_bundles_params_too(world, home, tmp_path):
    """The same module under other params is another strategy: promotion and the drift check
    refuse a run of it, and the drift replay runs the bundle's own params."""
    sequence, _ = world
    module = wasm(tmp_path, "sized", SIZED)
    import subprocess

    from conftest import SEQUENCE, clean_env

    assert subprocess.run([str(SEQUENCE), "init", "proj"], cwd=tmp_path, env=clean_env(home, sequence.env),
                          capture_output=True, timeout=60).returncode == 0
    toml = tmp_path / "proj" / "Sequence.toml"
    toml.write_text(toml.read_text().replace("[params]", "[params]\nsize = 0.02"))
    made = subprocess.run([str(SEQUENCE), "bundle", "compile-edge", "--wasm", str(module), "--artifact", "sized",
                           "--output", "json"], cwd=tmp_path / "proj", env=clean_env(home, sequence.env),
                          capture_output=True, text=True, timeout=60)
    sized = json.loads(made.stdout)["id"]
    plain = compile_edge(sequence, module, "sized-plain")["id"]          # same module, no params
    runs = {}
    for bid in (sized, plain):
        r = sequence("backtest", "BTC-USD", "--start", DAY, "--end", DAY, "--bundle", bid, "--output", "json", timeout=300)
        runs[bid] = json.loads(r.stdout)["run_id"]
    # never promoted: the baseline is the newest run of the module *with these params* (the plain
    # bundle's run is newer), and the replay runs the bundle's params
    report = json.loads(sequence("research", "monitor", "--bundle", sized, "--days", "1", "--output", "json",
                                 timeout=300).stdout)["body"]
    assert report["baseline"]["eval_run"] == runs[sized]
    replay = json.loads((home / "backtests" / report["current"]["run"] / "config.json").read_text())
    from sequence_core import bundles

    assert replay["params"] == bundles.load(home, sized).manifest.params and replay["params"]["size"] == 20_000_000
    promote = ["bundle", "promote", "--bundle", sized, "--target", "t1", "--stage", "canary", "--approver", "a@b.io"]
    wrong = sequence(*promote, "--eval-run", runs[plain])
    assert wrong.returncode == 1 and "did not evaluate bundle" in wrong.stderr
    assert "params none, the bundle carries {" in wrong.stderr and "size = 0.02}" in wrong.stderr, wrong.stderr
    pinned = sequence("research", "monitor", "--bundle", sized, "--baseline-eval", runs[plain])
    assert pinned.returncode == 1 and "params none" in pinned.stderr
    assert sequence(*promote, "--eval-run", runs[sized]).returncode == 0


def test_promote_help_says_what_evaluates_each_kind(world):
    sequence, _ = world
    text = " ".join(sequence("bundle", "promote", "--help").stdout.split())
    assert "for an edge bundle a saved backtest run" in text and "drift report" in text


def test_assignment_thresholds_beyond_int64_are_refused(world):
    sequence, _ = world
    proc = sequence("bundle", "compile-assignment", "--artifact", "a", "--edge-threshold", "99999999999999999999999")
    assert proc.returncode == 1 and proc.stderr.startswith("Error: --edge-threshold 99999999999999999999999 is too large")
    proc = sequence("bundle", "compile-assignment", "--artifact", "a", "--min-venues", "99999999999999999999999")
    assert proc.returncode == 1 and proc.stderr.startswith("Error: --min-venues 99999999999999999999999 must be from 1 to 1000")


def test_list_shows_every_target_and_only_the_last_promoted_holds_a_stage(home):
    """A: pilot on t1 and production on t2; B then production on t2: A keeps pilot@t1 and no
    longer holds production@t2, which B holds."""
    import msgspec

    from sequence_core import bundles
    from sequence_core.home import ensure_home
    from sequence_core.research import artifacts

    h = ensure_home()
    model = lambda k: bundles.SorModel("book-walk", (bundles.ImpactModel("BTC-USD", "acme", k, 0.1, 0.5, 100, 100.0, 1.0,  # noqa: E731
                                                                        0, 1, "prof-test"),), "twap")
    a, b = (bundles.create(h, "sor", f"sor-{k}", msgspec.msgpack.encode(model(k))).id for k in (1.0, 2.0))

    def up_to(bundle_id, target, stage):
        report = artifacts.save(h, "drift", f"test:{bundle_id[:16]}", {}, {"bundle": bundle_id, "verdict": "within-tolerance"})
        for s in bundles.STAGES[:bundles.STAGES.index(stage) + 1]:
            bundles.promote(h, bundle_id, target, s, report.id, "ops@example.com", break_glass=True, notes="test")

    up_to(a, "t1", "pilot")
    up_to(a, "t2", "production")
    up_to(b, "t2", "production")
    stages = {row.id: row.stage for row in bundles.list_bundles(h)}
    assert stages == {a: "pilot@t1, production@t2 (replaced)", b: "production@t2"}
    assert bundles.stage_holders(bundles.audit(h), lambda _: "sor") == {("t1", "sor", "pilot"): a,
                                                                         ("t2", "sor", "production"): b}


def test_messages_name_the_kind_the_prefix_rule_and_a_backtest_given_for_a_drift_report(home):
    import msgspec

    from sequence_core import bundles
    from sequence_core.errors import UsageError
    from sequence_core.home import ensure_home

    h = ensure_home()
    model = bundles.SorModel("book-walk", (bundles.ImpactModel("BTC-USD", "acme", 1.0, 0.1, 0.5, 100, 100.0, 1.0,
                                                               0, 1, "prof-test"),), "twap")
    sor = bundles.create(h, "sor", "sor-t", msgspec.msgpack.encode(model))
    assert [bundles.a_kind(k) for k in ("edge", "sor", "assignment")] == ["an edge", "a sor", "an assignment"]
    with pytest.raises(UsageError, match="bundle prefix '11b9' is too short: give at least 8 characters"):
        bundles.load(h, "11b9")
    (h / "backtests" / "bt-123").mkdir(parents=True)
    (h / "backtests" / "bt-123" / "summary.json").write_text("{}")
    with pytest.raises(UsageError, match="eval run 'bt-123' is a backtest, not a drift report: a sor bundle is evaluated"):
        bundles.check_eval_run(h, sor, "bt-123")
    with pytest.raises(UsageError, match="eval run 'bt-none' does not exist: a sor bundle"):
        bundles.check_eval_run(h, sor, "bt-none")
