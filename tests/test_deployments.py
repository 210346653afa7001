"""Level 4 deployments in sandbox: preflight, deploy, status, logs, stop/start, undeploy, and
the faults: an edge killed, the engine killed under a running deployment, a strategy that
traps on every start, logs rotating under -f."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
from conftest import SEQUENCE, clean_env, stop_engine
from simtools import QUOTER

TRAPPER_AT_START = """(module
  (memory (export "memory") 1)
  (func (export "seq_abi_version") (result i32) (i32.const 1))
  (func (export "on_start") (result i32) (unreachable)))"""


# once: a post-only bid 100,000 ticks (1% for BTC-USDT) under the touch, never cancelled (it rests)
RESTER = """(module
  (import "seq" "set_timer" (func $set_timer (param i64)))
  (import "seq" "place" (func $place (param i32 i32 i64 i64 i32) (result i64)))
  (import "seq" "book" (func $book (param i32 i32) (result i64)))
  (memory (export "memory") 1)
  (global $placed (mut i64) (i64.const 0))
  (func (export "seq_abi_version") (result i32) (i32.const 1))
  (func (export "on_start") (result i32) (call $set_timer (i64.const 50000000)) (i32.const 0))
  (func (export "on_timer") (param i64) (result i32)
    (local $bb i64)
    (local.set $bb (call $book (i32.const 0) (i32.const 0)))
    (if (i32.and (i64.eqz (global.get $placed)) (i64.gt_s (local.get $bb) (i64.const 0)))
      (then (global.set $placed (call $place (i32.const 0) (i32.const 1)
              (i64.sub (local.get $bb) (i64.mul (i64.const 100000) (call $book (i32.const 0) (i32.const 4))))
              (i64.mul (i64.const 100) (call $book (i32.const 0) (i32.const 5))) (i32.const 1)))))
    (i32.const 0)))"""


class Project:
    """A project made by `sequence init`, its module replaced by a WAT strategy."""

    def __init__(self, root: Path, home: Path, name: str = "mm"):
        self.home, self.name = home, name
        self.root = root / name
        assert self.run_in(root, "init", name).returncode == 0
        self.toml = self.root / "Sequence.toml"
        self.edit(lambda t: t.replace('symbols = ["BTC-USDT"]', 'symbols = ["BTC-USDT"]\nvenues = ["binance"]')
                  .replace("max_position = 0.01 ", "max_position = 1 "))

    def run_in(self, cwd, *args, timeout=120):
        return subprocess.run([str(SEQUENCE), *args], cwd=cwd, capture_output=True, text=True,
                              env=clean_env(self.home), timeout=timeout)

    def __call__(self, *args, timeout=120):
        return self.run_in(self.root, "--sandbox", *args, timeout=timeout)

    def edit(self, change):
        self.toml.write_text(change(self.toml.read_text()))

    def module(self, wat: str) -> None:
        import wasmtime

        from sequence_core.sim.project import load_project

        path = load_project(self.root).wasm_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(wasmtime.wat2wasm(wat))

    def dir(self) -> Path:
        return self.home / "deployments" / "sandbox" / self.name

    def supervised(self) -> dict:
        return json.loads((self.dir() / "edge-1.supervisor.json").read_text())

    def status(self) -> dict:
        proc = self("status", self.name, "--output", "json")
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)[0]

    def wait(self, test, timeout=30.0, what="condition"):
        deadline = time.time() + timeout
        while time.time() < deadline:
            st = self.status()
            if test(st):
                return st
            time.sleep(0.3)
        log = self.dir() / "edge-1.log"
        tail = log.read_text().splitlines()[-15:] if log.exists() else []
        raise AssertionError(f"{what} not reached in {timeout}s; last status {st}; log:\n" + "\n".join(tail))


@pytest.fixture
def project(tmp_path, home):
    p = Project(tmp_path, home)
    p.module(QUOTER)
    yield p
    stop_engine(home)


def test_preflight_checks_each_item(project):
    no_risk = Project(project.root.parent, project.home, "bare")
    no_risk.edit(lambda t: t.split("[risk]")[0])
    no_risk.module(QUOTER)
    bad = no_risk("preflight")
    assert bad.returncode == 1 and "Error: 1 preflight check(s) failed" in bad.stderr
    assert "risk" in bad.stdout and "FAIL" in bad.stdout and "no risk limits" in bad.stdout
    ok = project("preflight", "--output", "json")
    assert ok.returncode == 0, ok.stderr
    checks = {c["name"]: c for c in json.loads(ok.stdout)}
    assert all(c["ok"] for c in checks.values()) and set(checks) == {"module", "venues", "risk", "capital", "conflicts"}
    assert "ABI v1" in checks["module"]["detail"] and "binance" in checks["venues"]["detail"]
    assert "needs 1,000.00" in checks["capital"]["detail"]
    assert "(binance 100,000.00)" in checks["capital"]["detail"]      # per venue: a strategy may trade one
    project.edit(lambda t: t.replace("capital = 1000 ", "capital = 100000000 "))
    poor = json.loads(project("preflight", "--output", "json").stdout)
    assert [c["name"] for c in poor if not c["ok"]] == ["capital"]
    project.edit(lambda t: t.replace("capital = 100000000 ", "capital = 1000 ").replace("kill_switch = false", "kill_switch = true"))
    killed = json.loads(project("preflight", "--output", "json").stdout)
    assert [c["detail"] for c in killed if not c["ok"]] == ["[risk] kill_switch = true: the strategy could place no order"]
    (project.root / "target").rename(project.root / "target-away")
    missing = json.loads(project("preflight", "--output", "json").stdout)
    assert [c["name"] for c in missing if not c["ok"]] == ["module", "risk"]


@pytest.mark.slow
def test_deploy_trades_then_stop_start_redeploy_undeploy(project):
    out = project("deploy", "--skip-build", "--output", "json")
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout)
    assert (d["action"], d["version"], d["edges"]) == ("deployed", 1, [{"label": "edge-1", "venues": ["binance"]}])
    st = project.wait(lambda s: s["status"] and s["status"]["fills"] > 0, what="a fill")
    assert st["state"] == "running" and st["pid"] > 0 and st["status"]["orders"] >= 2
    assert st["status"]["callback_p50_us"] > 0 and st["status"]["instruments"] == ["binance:BTC-USDT"]
    text = project("status")
    assert text.returncode == 0 and "edge-1" in text.stdout and "CB P99" in text.stdout
    logs = project("logs")
    assert "host: edge edge-1 of mm v1 started" in logs.stdout and "supervisor: started edge pid" in logs.stdout
    # --output json: one object per line (it printed the text lines)
    rows = [json.loads(x) for x in project("logs", "--output", "json").stdout.splitlines()]
    assert rows and {r["edge"] for r in rows} == {"edge-1"} and any("of mm v1 started" in r["line"] for r in rows)
    # the engine journaled every order, as an edge order of this deployment
    views = json.loads(project("orders", "--output", "json").stdout)
    mine = [v for v in views if v["graph"]["request"]["origin"] == "deploy:mm/edge-1"]
    assert mine and all(v["graph"]["request"]["policy"] == "edge" for v in mine)
    # per-strategy TCA: this deployment's fills only, not an order of the desk beside it
    assert project("buy", "ETH-USD", "0.5").returncode == 0
    desk = json.loads(project("tca", "--output", "json").stdout)
    strat = json.loads(project("tca", "mm", "--output", "json").stdout)
    groups = {r["group"]: r for r in strat["rows"]}
    assert strat["strategy"] == "mm" and set(groups) >= {"total", "venue:binance", "policy:edge"}
    assert "policy:sor" not in groups and {r["group"] for r in desk["rows"]} >= {"policy:sor", "policy:edge"}
    assert groups["total"]["fills"] == groups["policy:edge"]["fills"] > 0      # (the strategy trades on meanwhile)
    assert "TCA (deployment mm, sandbox" in project("tca", "mm").stdout
    unknown = project("tca", "nope")
    assert unknown.returncode == 1 and "no sandbox deployment named 'nope'" in unknown.stderr
    same = json.loads(project("deploy", "--skip-build", "--output", "json").stdout)
    assert (same["action"], same["version"]) == ("unchanged", 1)
    assert project.supervised()["pid"] == st["pid"]                 # the same process kept running
    project.module(RESTER)                                         # new content: replaces v1
    replaced = json.loads(project("deploy", "--skip-build", "--output", "json").stdout)
    assert (replaced["action"], replaced["version"]) == ("replaced", 2)
    project.wait(lambda s: s["state"] == "running" and s["status"] and s["status"]["version"] == 2, what="v2")
    # v2 adopts v1's quotes still resting (at the touch: they fill only when the market comes
    # back, which a busy CI machine may not see within the wait) and rests its own bid
    # (no such line when v1 left nothing: no open order and a flat position)
    found = re.findall(r"adopted (\d+) open order", (project.dir() / "edge-1.log").read_text())
    adopted = int(found[-1]) if found else 0
    project.wait(lambda s: s["status"]["orders"] >= adopted + 1 and s["status"]["open_orders"] >= 1, what="v2 resting its bid")
    stopped = project("stop")
    assert stopped.returncode == 0 and "stopped" in stopped.stdout
    assert project.status()["state"] == "stopped"
    resting = project("undeploy")                                 # the host never cancels: the bid rests
    assert resting.returncode == 1 and "still rest at the venues" in resting.stderr
    again = project("deploy", "--skip-build")                    # the same content, stopped: started again
    assert again.returncode == 0 and "Restarted mm v2 (was stopped)" in again.stdout, again.stdout
    project.wait(lambda s: s["state"] == "running" and s["status"]["state"] == "running", what="running again")
    assert "mm v2: already running" in project("start").stdout
    forced = project("undeploy", "--force")
    # the bid of v2's first run and the one its restarted module placed again (it starts afresh)
    assert forced.returncode == 0 and "Undeployed mm v2; WARNING: " in forced.stdout and "left resting" in forced.stdout
    assert not project.dir().exists()
    assert project("status", "mm").returncode == 1


@pytest.mark.slow
def test_a_killed_edge_is_restarted_and_adopts_its_orders(project):
    project.module(RESTER)              # a bid that rests (far under the touch): always there to adopt
    assert project("deploy", "--skip-build").returncode == 0
    st = project.wait(lambda s: s["status"] and s["status"]["open_orders"] >= 1, what="resting quotes")
    os.kill(st["pid"], signal.SIGKILL)
    again = project.wait(lambda s: s["restarts"] == 1 and s["state"] == "running" and s["pid"] != st["pid"]
                         and s["status"] and s["status"]["pid"] != st["pid"], what="a restart")
    log = (project.dir() / "edge-1.log").read_text()
    assert "edge exited (exit code -9); restart 1 in 0.5s" in log and "host: adopted 1 open order(s)" in log
    assert again["restarts"] == 1
    project.wait(lambda s: s["status"]["orders"] >= 1 and s["restarts"] == 1, what="trading after the restart")


@pytest.mark.slow
def test_engine_killed_under_a_running_deployment(project):
    assert project("deploy", "--skip-build").returncode == 0
    st = project.wait(lambda s: s["status"] and s["status"]["orders"] > 2, what="orders")
    engine = json.loads((project.home / "engine.json").read_text())["pid"]
    os.kill(engine, signal.SIGKILL)
    time.sleep(1.0)
    assert project("engine", "start").returncode == 0
    after = project.wait(lambda s: s["state"] == "running" and s["status"]["orders"] > st["status"]["orders"] + 2,
                         what="trading after the engine restart")
    assert after["pid"] == st["pid"]                                # adopted, not started twice
    assert "adopted running edge pid" in (project.dir() / "edge-1.log").read_text()


@pytest.mark.slow
def test_a_strategy_that_traps_is_stopped_after_backoff(project):
    project.module(TRAPPER_AT_START)
    assert project("deploy", "--skip-build").returncode == 0
    st = project.wait(lambda s: s["state"] == "failed", timeout=60, what="failed")
    assert st["restarts"] == 5 and "exits in a row" in st["reason"] and "trapped: wasm `unreachable`" in st["reason"]
    text = project("status")
    assert "failed" in text.stdout and "on_start: trapped" in text.stdout
    log = (project.dir() / "edge-1.log").read_text()
    assert [f"restart {n} in" in log for n in (1, 2, 3, 4)] == [True] * 4


def test_logs_follow_survives_rotation(project, home):
    from sequence_core.deploy import registry

    dep = registry.Deployment(name="mm", mode="sandbox", module_sha256="x", symbols=["BTC-USDT"], venues=["binance"],
                              params={}, risk=registry.Risk(), edges=[registry.Edge("edge-1", ["binance"])], state="stopped")
    registry.save(home, dep)
    log = registry.log_path(home, "sandbox", "mm", "edge-1")
    log.write_text("first\n")
    proc = subprocess.Popen([str(SEQUENCE), "--sandbox", "logs", "mm", "-f"], stdout=subprocess.PIPE, text=True,
                            env=clean_env(home))
    try:
        time.sleep(1.0)
        with open(log, "a") as fh:
            fh.write("second\n")
        time.sleep(0.6)
        with open(log, "a") as fh:                                   # written just before the rotation
            fh.write("second and a half\n")
        os.replace(log, log.with_name("edge-1.log.1"))              # rotated
        log.write_text("third\n")
        time.sleep(0.8)
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=10)
    assert out.splitlines() == ["first", "second", "second and a half", "third"] and proc.returncode == 0


def test_bad_input(project):
    assert project("status", "nope").returncode == 1
    assert "no sandbox deployment named 'nope'" in project("stop", "nope").stderr
    outside = project.run_in(project.root.parent, "--sandbox", "deploy")
    assert outside.returncode == 1 and "no Sequence.toml" in outside.stderr
    which = project.run_in(project.root.parent, "--sandbox", "stop")
    assert which.returncode == 1 and "there are no sandbox deployments" in which.stderr


def test_live_host_imports_match_the_sim_engines_abi():
    from sequence_core.deploy.livehost import SIGNATURES
    from sequence_core.sim.host import PY_IMPORTS
    from sequence_core.sim.kernel import IMPORTS

    assert SIGNATURES == {**{k: (p, r) for k, (_, p, r) in IMPORTS.items()}, **PY_IMPORTS}


@pytest.mark.slow
def test_deploy_a_bundle_runs_exactly_its_module_and_params(project, tmp_path):
    import hashlib

    import wasmtime

    module = tmp_path / "rester.wasm"
    module.write_bytes(wasmtime.wat2wasm(RESTER))
    project.edit(lambda t: t.replace("[params]", "[params]\nsize = 0.02"))
    made = project("bundle", "compile-edge", "--wasm", str(module), "--artifact", "rester", "--output", "json")
    assert made.returncode == 0, made.stderr
    bid = json.loads(made.stdout)["id"]
    project.edit(lambda t: t.replace("size = 0.02", "size = 0.05"))        # the project moved on; the bundle did not
    out = project("deploy", "--bundle", bid[:12], "--output", "json")
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout)
    assert d["bundle"] == bid and d["module_sha256"] == hashlib.sha256(module.read_bytes()).hexdigest()
    dep = json.loads((project.dir() / "deployment.json").read_text())
    assert dep["bundle"] == bid and dep["params"]["size"] == 20_000_000
    assert (project.dir() / "module.wasm").read_bytes() == module.read_bytes()
    project.wait(lambda s: s["status"] and s["status"]["orders"] >= 1, what="the bundle trading")
    sor = project("bundle", "compile-assignment", "--artifact", "a", "--output", "json")
    wrong = project("deploy", "--bundle", json.loads(sor.stdout)["id"])
    assert wrong.returncode == 1 and "deployments run edge bundles" in wrong.stderr
    both = project("deploy", "--bundle", bid, "--skip-build")
    assert both.returncode == 1 and "--skip-build does not apply" in both.stderr


# Takes parent orders: tries a child larger than the parent (must be refused, -8), then sends
# half the parent at market and, once that child is done, ends the parent (parent_done).
PARENT_TAKER = """(module
  (import "seq" "place_for" (func $place_for (param i64 i32 i32 i64 i64 i32) (result i64)))
  (import "seq" "parent_done" (func $parent_done (param i64) (result i32)))
  (import "seq" "log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "parent ended")
  (global $parent (mut i64) (i64.const 0))
  (global $child (mut i64) (i64.const 0))
  (func (export "seq_abi_version") (result i32) (i32.const 1))
  (func (export "on_parent") (param $id i64) (param $inst i32) (param $side i32) (param $size i64) (param $limit i64) (result i32)
    (if (i64.ne (call $place_for (local.get $id) (local.get $inst) (local.get $side) (i64.const 0)
                      (i64.mul (local.get $size) (i64.const 2)) (i32.const 4)) (i64.const -8))
      (then unreachable))
    (global.set $parent (local.get $id))
    (global.set $child (call $place_for (local.get $id) (local.get $inst) (local.get $side) (i64.const 0)
                             (i64.div_s (local.get $size) (i64.const 2)) (i32.const 4)))
    (if (i64.le_s (global.get $child) (i64.const 0)) (then unreachable))
    (i32.const 0))
  (func (export "on_fill") (param $oid i64) (param i32 i32 i64 i64) (param $flags i32) (result i32)
    (if (i32.and (i64.eq (local.get $oid) (global.get $child)) (i32.ne (i32.and (local.get $flags) (i32.const 2)) (i32.const 0)))
      (then (drop (call $parent_done (global.get $parent)))))
    (i32.const 0))
  (func (export "on_order") (param $id i64) (param $event i32) (param $status i32) (result i32)
    (if (i32.and (i64.eq (local.get $id) (global.get $parent)) (i32.eq (local.get $event) (i32.const 7)))
      (then (call $log (i32.const 1) (i32.const 0) (i32.const 12))))
    (i32.const 0)))"""


@pytest.mark.slow
def test_orders_at_or_above_the_edge_threshold_are_handed_to_a_deployed_strategy(project):
    from conftest import promote_to_production

    from sequence_core import bundles

    project.module(PARENT_TAKER)
    deployed = project("deploy", "--skip-build")
    assert deployed.returncode == 0, deployed.stderr
    project.wait(lambda st: st["state"] == "running" and st["status"] and st["status"]["state"] == "running", what="edge running")
    asg = bundles.compile_assignment(project.home, "test-asg", edge_threshold=100 * 10**9, sor_threshold=0, min_venues=1)
    promote_to_production(project.home, asg.id)

    small = json.loads(project("buy", "BTC-USDT", "0.0001", "--output", "json").stdout)   # ~$6: the SOR's
    assert small["graph"]["status"] == "FILLED" and not small["graph"]["handler"]
    big = project("buy", "BTC-USDT", "0.01")                                             # ~$600: the strategy's
    assert big.returncode == 0, big.stderr
    assert "handed to deploy:mm/edge-1" in big.stdout
    parent_id = big.stdout.split()[0]

    def parent():
        return next(v["graph"] for v in json.loads(project("orders", "--output", "json").stdout)
                    if v["graph"]["graph_id"] == parent_id)
    deadline = time.time() + 30
    while parent()["status"] == "WORKING" and time.time() < deadline:
        time.sleep(0.3)
    g = parent()
    assert g["status"] == "PARTIALLY_FILLED" and g["filled_qty"] == "0.005", g
    assert g["reason"] == "ended by deploy:mm/edge-1 with 0.005 unfilled"
    steps = json.loads(project("trace", parent_id, "--output", "json").stdout)["steps"]
    kinds = [s["kind"] for s in steps]
    assert kinds[:2] == ["sor_admission", "parent_dispatch"] and "child_fill" in kinds and kinds[-1] == "terminal"
    admission = steps[0]["detail"]
    assert admission["path"] == "edge" and admission["edge_threshold_usd"] == 100 and admission["notional_usd"] > 100
    children = [v["graph"] for v in json.loads(project("orders", "--output", "json").stdout)
                if v["graph"]["request"]["parent_id"] == parent_id]
    assert [(c["request"]["origin"], c["request"]["qty"], c["status"]) for c in children] == [("deploy:mm/edge-1", "0.005", "FILLED")]
    log = (project.dir() / "edge-1.log").read_text()
    assert f"parent {parent_id} (buy 0.01 BTC-USDT) handed to this edge" in log and "info: parent ended" in log

    # the engine checks every child against its parent: a finished parent takes no more
    from sequence_core.engine_client import EngineConnection
    from sequence_core.errors import SequenceError

    child = {"symbol": "BTC-USDT", "side": "buy", "qty": "0.001", "venue": "binance", "policy": "edge", "order_type": "market",
             "origin": "deploy:mm/edge-1", "parent_id": parent_id}
    with pytest.raises(SequenceError, match=f"parent order {parent_id} is already PARTIALLY_FILLED"):
        EngineConnection("sandbox").request("POST", "/orders", {"request": child, "wait_s": 0})


# Two instances: each sends "hello" to the other every 50 ms and checks what arrives (from the
# peer, 5 bytes, copied into its memory at 100), logging the first message it reads.
MESSENGER = """(module
  (import "seq" "set_timer" (func $set_timer (param i64)))
  (import "seq" "mesh_send" (func $send (param i32 i32 i32) (result i32)))
  (import "seq" "mesh_read" (func $read (param i32 i32) (result i32)))
  (import "seq" "mesh_self" (func $self (result i32)))
  (import "seq" "mesh_size" (func $size (result i32)))
  (import "seq" "log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "hello")
  (global $got (mut i32) (i32.const 0))
  (func (export "seq_abi_version") (result i32) (i32.const 1))
  (func (export "on_start") (result i32)
    (if (i32.ne (call $size) (i32.const 2)) (then unreachable))
    (call $set_timer (i64.const 50000000)) (i32.const 0))
  (func (export "on_timer") (param i64) (result i32)
    (drop (call $send (i32.sub (i32.const 1) (call $self)) (i32.const 0) (i32.const 5))) (i32.const 0))
  (func (export "on_message") (param $from i32) (param $len i32) (result i32)
    (if (i32.ne (local.get $len) (i32.const 5)) (then unreachable))
    (if (i32.ne (call $read (i32.const 100) (i32.const 64)) (i32.const 5)) (then unreachable))
    (if (i32.ne (local.get $from) (i32.sub (i32.const 1) (call $self))) (then unreachable))
    (if (i32.eqz (global.get $got))
      (then (global.set $got (i32.const 1)) (call $log (i32.const 1) (i32.const 100) (i32.const 5))))
    (i32.const 0)))"""

TWO_EDGES = """
[[edges]]
label = "eu"
venues = ["binance"]

[[edges]]
label = "asia"
venues = ["okx"]
"""


@pytest.mark.slow
def test_a_two_edge_deployment_forms_a_mesh(project):
    project.module(MESSENGER)
    project.edit(lambda t: t.replace('venues = ["binance"]', 'venues = ["binance", "okx"]') + TWO_EDGES)
    deployed = project("deploy", "--skip-build", "--output", "json")
    assert deployed.returncode == 0, deployed.stderr
    assert [(e["label"], e["venues"]) for e in json.loads(deployed.stdout)["edges"]] == [("eu", ["binance"]), ("asia", ["okx"])]

    def mesh():
        proc = project("mesh", "mm", "--output", "json")
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)
    deadline = time.time() + 30
    while time.time() < deadline:
        views = mesh()
        peers = [p for v in views for p in v["peers"]]
        if len(peers) == 2 and all(p["received"] > 3 and p["latency_p50_us"] is not None for p in peers):
            break
        time.sleep(0.5)
    assert [(v["index"], v["label"], v["venues"], [p["label"] for p in v["peers"]]) for v in views] == \
        [(0, "eu", ["binance"], ["asia"]), (1, "asia", ["okx"], ["eu"])], views
    for v in views:
        assert v["address"].startswith("127.0.0.1:") and v["transport"] == "udp"
        p = v["peers"][0]
        assert p["sent"] > 3 and p["received"] > 3 and 0 < p["latency_p50_us"] < 1_000_000, p
    for label in ("eu", "asia"):
        assert "info: hello" in (project.dir() / f"{label}.log").read_text()
    text = project("mesh", "mm")
    assert "0:eu" in text.stdout and "1:asia" in text.stdout and "LATENCY P50" in text.stdout

    watched = project("watch", "mm", "--count", "2", timeout=60)       # a pipe: two frames, then exit
    assert watched.returncode == 0, watched.stderr
    assert watched.stdout.count("deployments (sandbox)") == 2 and "asia" in watched.stdout and "mesh" in watched.stdout
    snap = json.loads(project("watch", "mm", "--count", "1", "--output", "json").stdout)
    assert {e["label"] for e in snap["edges"]} == {"eu", "asia"} and len(snap["mesh"]) == 2
    screen, code = _watch_in_a_terminal(project)
    assert code == 0 and "latest fills" in screen and "asia" in screen, screen


def _watch_in_a_terminal(project) -> tuple[str, int]:
    """`sequence watch` on a pseudo-terminal: let it draw, press q; (what it drew, exit code)."""
    import pty
    import select

    pid, fd = pty.fork()
    if pid == 0:                                   # the child: the CLI on the terminal
        os.chdir(project.root)
        os.execve(str(SEQUENCE), [str(SEQUENCE), "--sandbox", "watch", "mm"], {**clean_env(project.home), "TERM": "xterm"})
    out, pressed, deadline = b"", False, time.time() + 30
    while time.time() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                out += os.read(fd, 65536)
            except OSError:                        # the child closed the terminal: it exited
                break
        if not pressed and b"latest fills" in out:
            os.write(fd, b"q")
            pressed = True
    for _ in range(50):
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.1)
    else:                                          # q did not stop it
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    return out.decode(errors="replace"), os.waitstatus_to_exitcode(status)


def test_edges_must_cover_each_venue_once(project):
    project.edit(lambda t: t.replace('venues = ["binance"]', 'venues = ["binance", "okx"]')
                 + '\n[[edges]]\nlabel = "eu"\nvenues = ["binance"]\n')
    bad = json.loads(project("preflight", "--output", "json").stdout)
    venues = next(c for c in bad if c["name"] == "venues")
    assert not venues["ok"] and "no edge hosts okx" in venues["detail"]
    project.edit(lambda t: t + '\n[[edges]]\nlabel = "eu2"\nvenues = ["okx", "binance"]\n')
    twice = next(c for c in json.loads(project("preflight", "--output", "json").stdout) if c["name"] == "venues")
    assert "binance is on both 'eu' and 'eu2'" in twice["detail"]
    project.edit(lambda t: t + '\n[mesh]\ntransport = "carrier-pigeon"\n')
    nope = next(c for c in json.loads(project("preflight", "--output", "json").stdout) if c["name"] == "venues")
    assert "transport 'carrier-pigeon' is not installed; installed: udp" in nope["detail"]


# Takes parents and rests one post-only child 100,000 ticks under the touch; logs when a parent ends.
PARENT_RESTER = """(module
  (import "seq" "place_for" (func $place_for (param i64 i32 i32 i64 i64 i32) (result i64)))
  (import "seq" "book" (func $book (param i32 i32) (result i64)))
  (import "seq" "log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "parent ended")
  (func (export "seq_abi_version") (result i32) (i32.const 1))
  (func (export "on_parent") (param $id i64) (param $inst i32) (param $side i32) (param $size i64) (param $limit i64) (result i32)
    (if (i64.le_s (call $place_for (local.get $id) (local.get $inst) (local.get $side)
                        (i64.sub (call $book (local.get $inst) (i32.const 0))
                                 (i64.mul (i64.const 100000) (call $book (local.get $inst) (i32.const 4))))
                        (local.get $size) (i32.const 1)) (i64.const 0))
      (then unreachable))
    (i32.const 0))
  (func (export "on_order") (param $id i64) (param $event i32) (param $status i32) (result i32)
    (if (i32.eq (local.get $event) (i32.const 7)) (then (call $log (i32.const 1) (i32.const 0) (i32.const 12))))
    (i32.const 0)))"""


@pytest.mark.slow
def test_cancelling_a_handed_parent_cancels_its_working_children(project):
    from conftest import promote_to_production

    from sequence_core import bundles

    project.module(PARENT_RESTER)
    assert project("deploy", "--skip-build").returncode == 0
    project.wait(lambda st: st["state"] == "running" and st["status"] and st["status"]["state"] == "running", what="edge running")
    promote_to_production(project.home, bundles.compile_assignment(project.home, "a", 100 * 10**9, 0, 1).id)
    parent_id = project("buy", "BTC-USDT", "0.01").stdout.split()[0]

    def graphs():
        return [v["graph"] for v in json.loads(project("orders", "--output", "json").stdout)]
    deadline = time.time() + 30
    while not [g for g in graphs() if g["request"]["parent_id"] == parent_id and g["status"] == "WORKING"]:
        assert time.time() < deadline, "the strategy never rested a child"
        time.sleep(0.3)
    cancelled = project("cancel", parent_id)
    assert cancelled.returncode == 0, cancelled.stderr
    by_id = {g["graph_id"]: g for g in graphs()}
    children = [g for g in by_id.values() if g["request"]["parent_id"] == parent_id]
    assert by_id[parent_id]["status"] == "CANCELLED" and [c["status"] for c in children] == ["CANCELLED"]
    deadline = time.time() + 10
    while "info: parent ended" not in (project.dir() / "edge-1.log").read_text():
        assert time.time() < deadline, "the strategy was not told its parent ended"
        time.sleep(0.3)


def test_a_long_running_edge_forgets_old_finished_orders_but_never_open_ones():
    """Every place walks the edge's order table (risk limits); it keeps the open orders and
    the last KEEP_DONE finished ones, so it stays bounded however long a deployment runs."""
    from sequence_core.deploy import edge as e

    rt = object.__new__(e.EdgeRuntime)
    rt.orders, rt.by_graph, rt.parents = {}, {}, {}
    for oid in range(1, 2001):
        status = e.OPEN if oid % 500 == 0 else e.FILLED
        rt.orders[oid] = e.LocalOrder(oid, 0, 1, 100, 1, "limit", f"graph_{oid:013x}", status)
        rt.by_graph[f"graph_{oid:013x}"] = oid
    rt._prune()
    assert len(rt.orders) == e.KEEP_DONE + 4 and len(rt.by_graph) == len(rt.orders)
    assert [rt.order(oid, 0) for oid in (500, 1000, 1500, 2000)] == [e.OPEN] * 4      # open: kept
    assert rt.order(2001 - e.KEEP_DONE, 0) == e.FILLED                                # recent: kept
    assert rt.order(1, 0) == e.UNKNOWN                                                # long done


def test_after_a_reconnect_the_edge_reads_what_it_missed_once():
    """While the channel was down the engine filled one order, cancelled another, filled more of
    a third and ended a parent handed to the edge: the resync reads each open order and the
    parents once, tells the strategy every change exactly once, and leaves finished orders be."""
    from sequence_core.deploy import edge as e

    def fill(fid, qty, liquidity="taker"):
        return {"fill_id": fid, "qty": qty, "price": "100", "fee": "0.01", "liquidity": liquidity}

    def detail(status, node_status, *fills):
        return {"graph": {"status": status}, "nodes": [{"status": node_status}], "fills": list(fills)}

    engine = {"/orders/graph_a": detail("FILLED", "FILLED", fill("f1", "1")),
              "/orders/graph_b": detail("CANCELLED", "CANCELLED"),
              "/orders/graph_c": detail("WORKING", "PARTIALLY_FILLED", fill("f0", "1"), fill("f2", "1", "maker")),
              "/orders?handler=deploy%3Amm/edge-1": [{"graph": {"graph_id": "graph_p", "status": "CANCELLED",
                                                                "handler": "deploy:mm/edge-1"}}]}
    rt = object.__new__(e.EdgeRuntime)
    rt.origin, rt.positions, rt.cash, rt.fills = "deploy:mm/edge-1", [0], 0.0, 0
    rt.orders = {1: e.LocalOrder(1, 0, 1, 100 * e.SCALE, e.SCALE, "limit", "graph_a", e.OPEN),
                 2: e.LocalOrder(2, 0, 1, 100 * e.SCALE, e.SCALE, "limit", "graph_b", e.OPEN),
                 3: e.LocalOrder(3, 0, -1, 100 * e.SCALE, 3 * e.SCALE, "limit", "graph_c", e.PARTIAL, e.SCALE, ["f0"]),
                 4: e.LocalOrder(4, 0, 1, 100 * e.SCALE, e.SCALE, "limit", "graph_d", e.FILLED, e.SCALE, ["f9"])}
    rt.by_graph = {o.graph_id: o.id for o in rt.orders.values()}
    rt.parents, rt.parent_by_graph, rt._adopting, rt._not_ours = {}, {"graph_p": 7}, set(), set()
    reads, told, ended = [], [], []

    async def api(method, path, body=None):
        reads.append(path)
        return engine[path]

    rt._api, rt._call = api, lambda *a: told.append(a)
    rt._parent_ended = lambda graph_id, status: ended.append((graph_id, status))
    rt._write_log = lambda line: pytest.fail(line)
    asyncio.run(rt._resync())
    assert sorted(reads) == ["/orders/graph_a", "/orders/graph_b", "/orders/graph_c",
                             "/orders?handler=deploy%3Amm/edge-1"]                           # not graph_d
    assert told == [("on_fill", 1, 0, 1, 100 * e.SCALE, e.SCALE, 2), ("on_order", 2, 4, e.CANCELLED),
                    ("on_fill", 3, 0, -1, 100 * e.SCALE, e.SCALE, 1)]
    assert ended == [("graph_p", "CANCELLED")]
    assert [rt.orders[i].status for i in (1, 2, 3, 4)] == [e.FILLED, e.CANCELLED, e.PARTIAL, e.FILLED]
    assert rt.positions == [1 * e.SCALE - 1 * e.SCALE] and rt.fills == 2
    told.clear()
    asyncio.run(rt._resync())                         # the same word again: nothing new to tell
    assert told == []


def test_max_position_counts_the_same_sides_working_orders_not_finished_ones():
    from collections import deque
    from types import SimpleNamespace

    from sequence_core.deploy import edge as e
    from sequence_core.deploy import registry

    rt = object.__new__(e.EdgeRuntime)
    rt.dep = SimpleNamespace(risk=registry.Risk(max_position=3))
    rt.sent_times, rt.positions, rt.orders, rt.working = deque(), [e.SCALE], {}, {}
    for oid, side, status in ((1, 1, e.OPEN), (2, -1, e.OPEN), (3, 1, e.FILLED)):
        rt.orders[oid] = rt.working[oid] = e.LocalOrder(oid, 0, side, 100 * e.SCALE, e.SCALE, "limit", f"g{oid}", status)
    # held 1, buying 1 more (the sell and the filled buy do not count): up to 1 more fits
    assert rt._risk(0, 1, 100 * e.SCALE, e.SCALE) is None
    assert rt._risk(0, 1, 100 * e.SCALE, 2 * e.SCALE) == "max position 3"
    assert rt._risk(0, -1, 100 * e.SCALE, 3 * e.SCALE) is None          # selling: the open sell counts, |1 - 1 - 3|
    assert rt._risk(0, -1, 100 * e.SCALE, 4 * e.SCALE) == "max position 3"
    rt.orders[1].status, rt.positions = e.FILLED, [2 * e.SCALE]          # the open buy filled
    assert rt._risk(0, 1, 100 * e.SCALE, e.SCALE) is None
    assert set(rt.working) == {2}                                      # finished orders left the table


def _stopped_deployment(home, name="mm", state="stopped", books=(("binance", "BTC-USDT"),)):
    from sequence_core.deploy import registry

    dep = registry.Deployment(name=name, mode="sandbox", module_sha256="x", symbols=["BTC-USDT"], venues=["binance"],
                              params={}, risk=registry.Risk(), edges=[registry.Edge("edge-1", ["binance"])],
                              books=[tuple(b) for b in books], state=state)
    registry.save(home, dep)
    return dep


def test_what_must_be_complete_reads_every_order_not_the_newest_500(project, home):
    """An edge order still working behind 500 newer ones (and their 500 fills): `orders --symbol`
    lists it, the undeploy guard refuses, and the journal a restarted edge adopts from counts
    every order and fill and sums the position over all of them."""
    from decimal import Decimal
    from urllib.parse import quote

    from sequence_core.engine_client import EngineConnection

    _stopped_deployment(home)
    conn = EngineConnection("sandbox")

    def order(symbol, side, qty, **kw):
        request = {"symbol": symbol, "venue": "binance", "side": side, "qty": qty, "policy": "edge",
                   "origin": "deploy:mm/edge-1", **kw}
        return conn.request("POST", "/orders", {"request": request, "wait_s": 0})["graph"]

    resting = order("BTC-USDT", "buy", "0.01", order_type="post_only", limit_price="1000")["graph_id"]
    for n in range(500):
        order("ETH-USDT", "buy" if n % 3 else "sell", "0.005", order_type="market")
    listed = json.loads(project("orders", "--symbol", "BTC-USDT", "--output", "json").stdout)
    assert [v["graph"]["graph_id"] for v in listed] == [resting]
    assert len(json.loads(project("orders", "--output", "json").stdout)) == 501
    refused = project("undeploy", "mm")
    assert refused.returncode == 1 and resting in refused.stderr
    fills = conn.request("GET", f"/fills?origin={quote('deploy:mm/edge-1')}")
    assert len(fills) >= 500 and len(json.loads(project("fills", "--output", "json").stdout)) == len(fills)
    found = conn.request("GET", "/deployments/mm/edges/edge-1/journal")
    assert (found["orders"], found["fills"]) == (501, len(fills))
    assert [v["graph"]["graph_id"] for v in found["working"]] == [resting]
    eth = sum(Decimal(f["qty"]) * (1 if f["side"] == "buy" else -1) for f in fills if f["symbol"] == "ETH-USDT")
    assert [(b["venue"], b["symbol"], Decimal(b["qty"])) for b in found["books"]] == [("binance", "ETH-USDT", eth)]
    assert eth == Decimal("0.005") * (333 - 167)


def test_a_restarted_edge_adopts_from_every_order_of_its_origin():
    """_reconcile takes position, cash and the fill and order counts from the journal's totals
    for its origin (every order, not the newest 500) and adopts the working ones."""
    from types import SimpleNamespace

    from sequence_core.deploy import edge as e

    rt = object.__new__(e.EdgeRuntime)
    rt.name, rt.label, rt.origin = "mm", "edge-1", "deploy:mm/edge-1"
    rt.instruments = [SimpleNamespace(venue="binance", symbol="BTC-USDT"), SimpleNamespace(venue="binance", symbol="ETH-USDT")]
    rt.positions, rt.cash, rt.fills, rt.placed, rt.next_id = [0, 0], 0.0, 0, 0, 1
    rt.orders, rt.working, rt.by_graph, rt.parents, rt.parent_by_graph, rt._adopted_parents = {}, {}, {}, {}, {}, []
    rt.dep, rt.outside = SimpleNamespace(baseline={}, since_ns=0), {}
    working = {"graph": {"graph_id": "graph_w", "filled_qty": "0", "request": {
        "venue": "binance", "symbol": "BTC-USDT", "side": "buy", "qty": "0.01", "limit_price": "1000",
        "order_type": "post_only", "parent_id": ""}}, "nodes": [{"symbol": "BTC-USDT"}]}
    engine = {"/deployments/mm/edges/edge-1/journal": {
        "orders": 1201, "fills": 1200, "parents": [], "working": [working],
        "books": [{"venue": "binance", "symbol": "ETH-USDT", "qty": "0.006", "notional": "18", "fees": "0.5"}]}}
    lines = []

    async def api(method, path, body=None):
        return engine[path]

    rt._api, rt._write_log = api, lines.append
    asyncio.run(rt._reconcile())
    assert rt.positions == [0, 6_000_000] and rt.cash == -18.5 and (rt.fills, rt.placed) == (1200, 1201)
    assert rt.by_graph == {"graph_w": 1} and rt.order(1, 0) == e.OPEN and rt.order(1, 2) == 10_000_000
    assert "adopted 1 open order(s)" in lines[0] and "binance:ETH-USDT 0.006" in lines[0]


def test_start_refuses_while_another_running_deployment_trades_its_books(project, home):
    from sequence_core.deploy import registry

    _stopped_deployment(home, "other", "running")           # (its edge cannot start: no module; it still counts)
    _stopped_deployment(home, "mm")
    refused = project("start", "mm")
    assert refused.returncode == 1 and "cannot start mm: 'other' trades BTC-USDT@binance" in refused.stderr
    assert registry.load(home, "sandbox", "mm").state == "stopped"
    again = project("stop", "mm")
    assert again.returncode == 0 and "mm v1: already stopped" in again.stdout


def test_preflight_reports_a_running_deployment_of_the_same_name_with_other_params(project, home):
    from sequence_core.deploy import preflight, registry
    from sequence_core.sim.host import StrategyModule
    from sequence_core.sim.project import load_project

    p = load_project(project.root)
    module = StrategyModule(p.wasm_path(), p.name)
    content = preflight.content(p, module, preflight.plan(p, "sandbox"))
    registry.save(home, registry.Deployment(name="mm", mode="sandbox", state="stopped", version=3,
                                            **{**content, "params": {**content["params"], "size": 1}}))
    checks = {c["name"]: c for c in json.loads(project("preflight", "--output", "json").stdout)}
    assert checks["conflicts"]["ok"], checks
    assert checks["conflicts"]["detail"] == "'mm' v3, stopped has other content (params); deploy replaces it with v4"


# Logs what the ABI answers, as 'r<code>' (return codes: the character '0' minus the code) and
# 'o<id><event><status><order(id, 0) inside the callback>'. Timer 1: A, a post-only bid 100,000
# ticks under the touch; B, an IOC as far (it expires unfilled); C, post-only + market.
# Timer 4 (A acknowledged and resting): cancel A, then amend A.
ABI_PROBE = """(module
  (import "seq" "set_timer" (func $set_timer (param i64)))
  (import "seq" "place" (func $place (param i32 i32 i64 i64 i32) (result i64)))
  (import "seq" "cancel" (func $cancel (param i64) (result i32)))
  (import "seq" "amend" (func $amend (param i64 i64 i64) (result i32)))
  (import "seq" "book" (func $book (param i32 i32) (result i64)))
  (import "seq" "order" (func $order (param i64 i32) (result i64)))
  (import "seq" "log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 1)
  (global $step (mut i32) (i32.const 0))
  (global $a (mut i64) (i64.const 0))
  (global $p (mut i64) (i64.const 0))
  (func (export "seq_abi_version") (result i32) (i32.const 1))
  (func (export "on_start") (result i32) (call $set_timer (i64.const 200000000)) (i32.const 0))
  (func $rc (param $rc i32)
    (i32.store8 (i32.const 0) (i32.const 114))
    (i32.store8 (i32.const 1) (i32.sub (i32.const 48) (local.get $rc)))
    (call $log (i32.const 1) (i32.const 0) (i32.const 2)))
  (func $size (result i64) (i64.mul (i64.const 100) (call $book (i32.const 0) (i32.const 5))))
  (func (export "on_timer") (param i64) (result i32)
    (if (i64.le_s (call $book (i32.const 0) (i32.const 0)) (i64.const 0)) (then (return (i32.const 0))))
    (global.set $step (i32.add (global.get $step) (i32.const 1)))
    (if (i32.eq (global.get $step) (i32.const 1)) (then
      (global.set $p (i64.sub (call $book (i32.const 0) (i32.const 0))
                              (i64.mul (i64.const 100000) (call $book (i32.const 0) (i32.const 4)))))
      (global.set $a (call $place (i32.const 0) (i32.const 1) (global.get $p) (call $size) (i32.const 1)))
      (drop (call $place (i32.const 0) (i32.const 1) (global.get $p) (call $size) (i32.const 2)))
      (drop (call $place (i32.const 0) (i32.const 1) (i64.const 0) (call $size) (i32.const 5)))))
    (if (i32.eq (global.get $step) (i32.const 4)) (then
      (call $rc (call $cancel (global.get $a)))
      (call $rc (call $amend (global.get $a) (i64.sub (global.get $p) (call $book (i32.const 0) (i32.const 4))) (call $size)))
      (call $set_timer (i64.const 0))))
    (i32.const 0))
  (func (export "on_order") (param $id i64) (param $ev i32) (param $st i32) (result i32)
    (i32.store8 (i32.const 0) (i32.const 111))
    (i32.store8 (i32.const 1) (i32.add (i32.wrap_i64 (local.get $id)) (i32.const 48)))
    (i32.store8 (i32.const 2) (i32.add (local.get $ev) (i32.const 48)))
    (i32.store8 (i32.const 3) (i32.add (local.get $st) (i32.const 48)))
    (i32.store8 (i32.const 4) (i32.add (i32.wrap_i64 (call $order (local.get $id) (i32.const 0))) (i32.const 48)))
    (call $log (i32.const 1) (i32.const 0) (i32.const 5))
    (i32.const 0)))"""


@pytest.mark.slow
def test_the_edge_answers_the_abi_as_the_backtest_and_a_fresh_deploy_starts_from_zero(project):
    """What a strategy sees: an IOC that expires ends cancelled (not pending for ever),
    post-only + market is rejected and never sent, the ack says OPEN inside its callback, an
    amend after a cancel is refused (nothing re-placed), and the status counts what the engine
    journaled. Undeployed, then deployed afresh under the same name: it starts from zero."""
    project.module(ABI_PROBE)
    log = project.dir() / "edge-1.log"

    def said():
        deadline = time.time() + 30
        while time.time() < deadline:
            text = log.read_text() if log.exists() else ""
            lines = [line.split(" info: ")[1] for line in text.splitlines() if " info: " in line]
            if sum(x.startswith("r") for x in lines) >= 2 and "o145" in " ".join(lines):
                return lines
            time.sleep(0.3)
        raise AssertionError("the probe did not get through:\n" + (log.read_text() if log.exists() else ""))

    assert project("deploy", "--skip-build").returncode == 0
    lines = said()
    assert {"o1122", "o2122", "o2455", "o3266", "r0", "r2", "o1455"} <= set(lines), lines
    assert lines.index("r0") < lines.index("r2")              # cancel sent, amend refused
    views = [v for v in json.loads(project("orders", "--output", "json").stdout)
             if v["graph"]["request"]["origin"] == "deploy:mm/edge-1"]
    assert sorted(v["graph"]["status"] for v in views) == ["CANCELLED", "EXPIRED"]   # C never sent
    assert len(next(v for v in views if v["graph"]["status"] == "CANCELLED")["nodes"]) == 1   # A not re-placed
    st = project.wait(lambda s: s["status"] and s["status"]["open_orders"] == 0 and s["status"]["orders"] >= 2,
                      what="its orders")
    assert (st["status"]["orders"], st["status"]["fills"]) == (2, 0)
    assert project("undeploy").returncode == 0                # (its folder and log go with it)
    assert project("deploy", "--skip-build").returncode == 0
    said()
    st = project.wait(lambda s: s["status"] and s["status"]["open_orders"] == 0 and s["status"]["orders"] >= 2,
                      what="the fresh deployment's orders")
    assert (st["version"], st["status"]["orders"], st["status"]["fills"]) == (1, 2, 0)   # not 4: its own orders only
