"""The files of the home as docs/configuration.md shows them."""

import json

from sequence_core.credentials import CredentialStore

BINANCE = {"api_key": "binancekey123", "api_secret": "s3cr3t-binance-value"}


def test_plain_credentials_file_carries_its_documented_header(home):
    CredentialStore().put("binance", BINANCE)
    data = json.loads((home / "credentials.json").read_text())
    assert data == {"format": "sequence-credentials", "version": 1, "encrypted": False, "venues": {"binance": BINANCE}}
    assert list(data)[:3] == ["format", "version", "encrypted"]


def test_encrypted_credentials_file_carries_its_documented_header(home, monkeypatch):
    store = CredentialStore()
    store.put("binance", BINANCE)
    store.encrypt("correct horse")
    data = json.loads((home / "credentials.json").read_text())
    assert (data["format"], data["version"], data["encrypted"]) == ("sequence-credentials", 1, True)
    assert set(data) == {"format", "version", "encrypted", "kdf", "nonce", "ciphertext"}
    monkeypatch.setenv("SEQUENCE_PASSPHRASE", "correct horse")
    assert CredentialStore().get("binance", ["api_key", "api_secret"]) == (BINANCE, "file")


def test_a_file_written_without_the_header_is_still_read_and_gains_it(home):
    home.mkdir(mode=0o700, exist_ok=True)
    (home / "credentials.json").write_text(json.dumps({"venues": {"binance": BINANCE}}))
    (home / "credentials.json").chmod(0o600)
    store = CredentialStore()
    assert store.get("binance", ["api_key", "api_secret"]) == (BINANCE, "file")
    store.put("okx", {"api_key": "k"})
    assert json.loads((home / "credentials.json").read_text())["format"] == "sequence-credentials"
