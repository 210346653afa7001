"""The signed-before-sent log that lets hash-identified orders be found again after a crash."""

import stat

import msgspec

from sequence_core.sentlog import SentLog


class Rec(msgspec.Struct):
    client_order_id: str
    tx_hash: str


def test_records_survive_a_restart_and_a_torn_last_line(tmp_path):
    path = tmp_path / "venue" / "sent.jsonl"
    log = SentLog(path, Rec)
    log.put(Rec("n1", "0xaa"))
    log.put(Rec("n2", "0xbb"))
    log.put(Rec("n1", "0xcc"))                       # a re-signed replacement wins
    with open(path, "ab") as f:
        f.write(b'{"client_order_id":"n3","tx_ha')     # crash mid-write
    again = SentLog(path, Rec)
    assert again.get("n1").tx_hash == "0xcc"
    assert again.get("n2").tx_hash == "0xbb"
    assert again.get("n3") is None
    assert again.find(lambda r: r.tx_hash == "0xbb").client_order_id == "n2"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_without_a_path_it_only_remembers_in_memory(tmp_path):
    log = SentLog(None, Rec)
    log.put(Rec("n1", "0xaa"))
    assert [r.tx_hash for r in log] == ["0xaa"]
