"""Credentials at rest: plain 0600 file, optional passphrase encryption, re-keying."""

import json

import pytest

from sequence_core.credentials import CredentialStore
from sequence_core.errors import CredentialError

BINANCE = {"api_key": "binancekey123", "api_secret": "s3cr3t-binance-value"}


def test_store_roundtrip_and_delete(home):
    store = CredentialStore()
    store.put("binance", BINANCE)
    assert store.get("binance", ["api_key", "api_secret"]) == (BINANCE, "file")
    assert store.delete("binance") is True
    assert store.delete("binance") is False
    assert store.get("binance") is None


def test_env_wins_over_file(home, monkeypatch):
    store = CredentialStore()
    store.put("binance", BINANCE)
    monkeypatch.setenv("SEQUENCE_BINANCE_API_SECRET", "from-env")
    creds, source = store.get("binance", ["api_key", "api_secret"])
    assert source == "env" and creds == {"api_key": "binancekey123", "api_secret": "from-env"}


def test_encrypt_hides_secrets_and_needs_passphrase(home, monkeypatch):
    store = CredentialStore()
    store.put("binance", BINANCE)
    store.encrypt("correct horse")
    raw = (home / "credentials.json").read_text()
    assert "s3cr3t" not in raw and "binancekey123" not in raw and json.loads(raw)["encrypted"] is True
    with pytest.raises(CredentialError, match="SEQUENCE_PASSPHRASE"):
        CredentialStore().get("binance")
    monkeypatch.setenv("SEQUENCE_PASSPHRASE", "wrong")
    with pytest.raises(CredentialError, match="wrong passphrase"):
        CredentialStore().get("binance")
    monkeypatch.setenv("SEQUENCE_PASSPHRASE", "correct horse")
    assert CredentialStore().get("binance") == (BINANCE, "file")


def test_change_passphrase_reencrypts(home, monkeypatch):
    store = CredentialStore()
    store.put("binance", BINANCE)
    store.encrypt("old pass")
    monkeypatch.setenv("SEQUENCE_PASSPHRASE", "old pass")
    CredentialStore().change_passphrase("new pass")
    with pytest.raises(CredentialError, match="wrong passphrase"):
        CredentialStore().get("binance")
    monkeypatch.setenv("SEQUENCE_PASSPHRASE", "new pass")
    assert CredentialStore().get("binance")[0] == BINANCE


def test_change_passphrase_with_wrong_old_one_changes_nothing(home, monkeypatch):
    store = CredentialStore()
    store.put("binance", BINANCE)
    store.encrypt("old pass")
    before = (home / "credentials.json").read_bytes()
    monkeypatch.setenv("SEQUENCE_PASSPHRASE", "not it")
    with pytest.raises(CredentialError):
        CredentialStore().change_passphrase("new pass")
    assert (home / "credentials.json").read_bytes() == before


def test_tampered_ciphertext_is_detected(home, monkeypatch):
    store = CredentialStore()
    store.put("binance", BINANCE)
    store.encrypt("pass")
    doc = json.loads((home / "credentials.json").read_text())
    doc["kdf"]["n"] = 16384  # swapping a header parameter breaks the bound AAD too
    (home / "credentials.json").write_text(json.dumps(doc))
    monkeypatch.setenv("SEQUENCE_PASSPHRASE", "pass")
    with pytest.raises(CredentialError, match="wrong passphrase|altered"):
        CredentialStore().get("binance")


def test_damaged_file_is_a_clear_error(home):
    home.mkdir(mode=0o700)
    (home / "credentials.json").write_text("{not json")
    with pytest.raises(CredentialError, match="credentials.json is damaged"):
        CredentialStore().get("binance")


KRAKEN = {"api_key": "krakenkey123", "api_secret": "c2VjcmV0LWJ5dGVz"}   # no adapter yet: venues makes no call


def test_cli_encrypt_then_use_then_passphrase_then_decrypt(sequence, home):
    sequence("connect", "kraken", input=json.dumps(KRAKEN))
    r = sequence("credentials", "encrypt", env={"SEQUENCE_NEW_PASSPHRASE": "p1"})
    assert r.returncode == 0, r.stderr
    locked = sequence("venues")
    assert locked.returncode == 1 and "SEQUENCE_PASSPHRASE" in locked.stderr
    ok = sequence("venues", "--output", "json", env={"SEQUENCE_PASSPHRASE": "p1"})
    assert ok.returncode == 0 and json.loads(ok.stdout)[0]["venue"] == "kraken"
    # connecting another venue keeps the store encrypted
    r = sequence("credentials", "passphrase", env={"SEQUENCE_PASSPHRASE": "p1", "SEQUENCE_NEW_PASSPHRASE": "p2"})
    assert r.returncode == 0, r.stderr
    assert sequence("venues", env={"SEQUENCE_PASSPHRASE": "p1"}).returncode == 1
    r = sequence("credentials", "decrypt", env={"SEQUENCE_PASSPHRASE": "p2"})
    assert r.returncode == 0
    assert json.loads((home / "credentials.json").read_text())["venues"]["kraken"] == KRAKEN


def test_cli_connect_while_encrypted_keeps_encryption(sequence, home):
    sequence("connect", "binance", input=json.dumps(BINANCE))
    sequence("credentials", "encrypt", env={"SEQUENCE_NEW_PASSPHRASE": "p1"})
    r = sequence("connect", "binance", input=json.dumps({**BINANCE, "api_key": "rotated"}), env={"SEQUENCE_PASSPHRASE": "p1"})
    assert r.returncode == 0, r.stderr
    assert json.loads((home / "credentials.json").read_text())["encrypted"] is True
