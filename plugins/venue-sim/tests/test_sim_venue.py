import asyncio

from sequence_venue_sim.venue import SimVenue


def test_heartbeat_ok_and_creates_sandbox_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQUENCE_HOME", str(tmp_path / "home"))
    beat = asyncio.run(SimVenue().heartbeat({}, {}))
    assert beat.state == "ok"
    assert (tmp_path / "home" / "sandbox").is_dir()


def test_heartbeat_down_when_sandbox_is_not_a_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQUENCE_HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir(mode=0o700)
    (tmp_path / "home" / "sandbox").write_text("not a folder")
    beat = asyncio.run(SimVenue().heartbeat({}, {}))
    assert beat.state == "down"
    assert "not a folder" in beat.detail
