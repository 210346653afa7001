"""The Binance adapter through the real CLI and engine, live mode, against the fake server:
connect, heartbeat, buy, a resting order, cancel, fills. (Validation books come from the
synthetic source here, since the live market-data source arrives with the websocket client.)"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))   # the fake server beside this file
from fake_binance import FakeBinance  # noqa: E402

SEQUENCE = Path(sys.executable).parent / "sequence"
KEY, SECRET = "cli-api-key-0002", "cli-secret-0002"


@pytest.fixture
def world(tmp_path):
    server = FakeBinance(KEY, SECRET)
    url = server.start()
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEQUENCE_")}
    env.update(SEQUENCE_HOME=str(home), SEQUENCE_LOAD_PLUGINS="binance,sim,synthetic")

    def run(*args, stdin=""):
        return subprocess.run([str(SEQUENCE), *args], input=stdin, capture_output=True, text=True, env=env, timeout=60)

    assert run("connect", "binance", stdin=json.dumps({"api_key": KEY, "api_secret": SECRET})).returncode == 0
    (home / "config.toml").write_text(f'[venues.binance]\nbase_url = "{url}"\n\n[market_data]\nsource = "synthetic"\n')
    yield run, server, home
    info = home / "engine.json"
    if info.exists():
        try:
            os.kill(json.loads(info.read_text())["pid"], 9)
        except ProcessLookupError:
            pass
    server.stop()


def test_heartbeat_is_a_real_signed_call(world):
    run, server, _ = world
    rows = json.loads(run("venues", "--output", "json").stdout)
    assert rows[0]["venue"] == "binance" and rows[0]["state"] == "ok" and rows[0]["mode"] == "live"
    assert ("GET", "/api/v3/account") in server.requests


def test_heartbeat_down_with_a_wrong_secret(world):
    run, server, home = world
    run("connect", "binance", stdin=json.dumps({"api_key": KEY, "api_secret": "wrong"}))
    rows = json.loads(run("venues", "--output", "json").stdout)
    assert rows[0]["state"] in ("down", "stale") and "signature" in rows[0]["detail"].lower()
    assert "wrong" not in rows[0]["detail"]


def test_live_buy_fills_through_the_adapter(world):
    run, server, _ = world
    r = run("buy", "BTC-USDT", "0.01", "--venue", "binance", "--output", "json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["graph"]["mode"] == "live" and d["graph"]["status"] == "FILLED"
    assert d["fills"][0]["price"] == "91000.00" and d["fills"][0]["venue"] == "binance"
    placed = [o for o in server.orders.values()]
    assert len(placed) == 1 and placed[0]["clientOrderId"] == d["nodes"][0]["node_order_id"].replace("graph_", "sq").replace(":node_", "n").replace(":", "s")
    fills = json.loads(run("fills", "--output", "json").stdout)
    assert len(fills) == 1


def test_live_resting_order_then_cancel(world):
    run, server, _ = world
    d = json.loads(run("buy", "BTC-USDT", "0.01", "--venue", "binance", "--limit-price", "80000.00", "--output", "json").stdout)
    assert d["graph"]["status"] == "WORKING"
    c = run("cancel", d["graph"]["graph_id"], "--output", "json")
    assert c.returncode == 0, c.stderr
    assert [o["status"] for o in server.orders.values()] == ["CANCELED"]


def test_live_insufficient_balance_is_refused_before_sending(world):
    run, server, _ = world
    r = run("buy", "BTC-USDT", "5", "--venue", "binance")                 # 455k USDT > 100k at the venue
    assert r.returncode == 1 and "insufficient balance" in r.stderr
    assert not server.orders
