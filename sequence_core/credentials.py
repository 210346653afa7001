"""Venue credentials: a 0600 file in the 0700 home, optionally encrypted at rest.

``<home>/credentials.json`` is either plain::

    {"format": "sequence-credentials", "version": 1, "encrypted": false,
     "venues": {"binance": {"api_key": "...", "api_secret": "..."}}}

or encrypted with a passphrase (scrypt key derivation, AES-256-GCM; the header is bound
as associated data so its parameters cannot be swapped)::

    {"format": "sequence-credentials", "version": 1, "encrypted": true,
     "kdf": {"name": "scrypt", "n": 32768, "r": 8, "p": 1, "salt": "<b64>"},
     "nonce": "<b64>", "ciphertext": "<b64>"}

Changing the passphrase decrypts with the old one and re-encrypts everything with a new
salt in one atomic write, so a mistake never leaves an unreadable store. Credentials may
also come from the environment: ``SEQUENCE_<VENUE>_<FIELD>`` (e.g.
``SEQUENCE_BINANCE_API_SECRET``), which wins over the file, for CI and containers.
Values never appear in messages, logs or ``repr``.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from pathlib import Path

import msgspec

from .errors import CredentialError
from .home import atomic_write, check_secret_file, ensure_home, locked

FORMAT = "sequence-credentials"
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1

PassphraseSource = Callable[[str], str]   # prompt text -> passphrase


class Kdf(msgspec.Struct, frozen=True):
    name: str
    n: int
    r: int
    p: int
    salt: str


class StoreFile(msgspec.Struct, omit_defaults=True):
    format: str = FORMAT
    version: int = 1
    encrypted: bool = False
    venues: dict[str, dict[str, str]] | None = None
    kdf: Kdf | None = None
    nonce: str | None = None
    ciphertext: str | None = None


def credentials_path() -> Path:
    return ensure_home() / "credentials.json"


def env_var(venue: str, field: str) -> str:
    return f"SEQUENCE_{venue.upper()}_{field.upper()}"


def _derive(passphrase: str, kdf: Kdf) -> bytes:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    return Scrypt(salt=base64.b64decode(kdf.salt), length=32, n=kdf.n, r=kdf.r, p=kdf.p).derive(passphrase.encode())


def _aad(kdf: Kdf) -> bytes:
    return msgspec.json.encode({"format": FORMAT, "version": 1, "kdf": kdf})


def _encrypt(venues: dict, passphrase: str) -> StoreFile:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if not passphrase:
        raise CredentialError("the passphrase must not be empty")
    kdf = Kdf("scrypt", SCRYPT_N, SCRYPT_R, SCRYPT_P, base64.b64encode(os.urandom(16)).decode())
    nonce = os.urandom(12)
    ct = AESGCM(_derive(passphrase, kdf)).encrypt(nonce, msgspec.json.encode(venues), _aad(kdf))
    return StoreFile(encrypted=True, kdf=kdf, nonce=base64.b64encode(nonce).decode(), ciphertext=base64.b64encode(ct).decode())


def _decrypt(store: StoreFile, passphrase: str, path: Path) -> dict[str, dict[str, str]]:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if store.kdf is None or store.nonce is None or store.ciphertext is None or store.kdf.name != "scrypt":
        raise CredentialError(f"credentials file {path} is damaged (encryption header incomplete)")
    try:
        plain = AESGCM(_derive(passphrase, store.kdf)).decrypt(base64.b64decode(store.nonce), base64.b64decode(store.ciphertext), _aad(store.kdf))
    except InvalidTag:
        raise CredentialError(f"wrong passphrase for {path} (or the file was altered)") from None
    return msgspec.json.decode(plain, type=dict[str, dict[str, str]])


class CredentialStore:
    """Read and write venue credentials. ``passphrase`` is asked only when needed."""

    def __init__(self, passphrase: PassphraseSource | None = None, path: Path | None = None):
        self.path = path or credentials_path()
        self._passphrase_source = passphrase
        self._passphrase: str | None = None

    # -- file level ---------------------------------------------------------------
    def _read_file(self) -> StoreFile:
        if not self.path.exists():
            return StoreFile(venues={})
        check_secret_file(self.path)
        try:
            store = msgspec.json.decode(self.path.read_bytes(), type=StoreFile)
        except msgspec.DecodeError as exc:
            raise CredentialError(f"credentials file {self.path} is damaged ({exc}); remove it and run `sequence connect` again") from None
        if store.format != FORMAT or store.version != 1:
            raise CredentialError(f"credentials file {self.path} has an unknown format or version")
        return store

    def _get_passphrase(self, prompt: str = "Credentials passphrase") -> str:
        if self._passphrase is None:
            env = os.environ.get("SEQUENCE_PASSPHRASE")
            if env is not None:
                self._passphrase = env
            elif self._passphrase_source is not None:
                self._passphrase = self._passphrase_source(prompt)
            else:
                raise CredentialError("the credentials store is encrypted: set SEQUENCE_PASSPHRASE or run in a terminal to be asked")
        return self._passphrase

    def unlock(self, prompt: str = "Credentials passphrase") -> None:
        """Ask for (or read) the current passphrase now, before anything else is asked."""
        self._get_passphrase(prompt)

    def is_encrypted(self) -> bool:
        return self._read_file().encrypted

    def _load(self) -> tuple[dict[str, dict[str, str]], bool]:
        store = self._read_file()
        if not store.encrypted:
            return dict(store.venues or {}), False
        return _decrypt(store, self._get_passphrase(), self.path), True

    def _save(self, venues: dict, encrypted: bool, passphrase: str | None = None) -> None:
        store = _encrypt(venues, passphrase or self._get_passphrase()) if encrypted else StoreFile(venues=venues)
        # the documented header (format, version, encrypted) always; fields that do not apply left out
        data = {k: v for k, v in msgspec.structs.asdict(store).items() if v is not None}
        atomic_write(self.path, msgspec.json.format(msgspec.json.encode(data)))

    def _modify(self, change: Callable[[dict], object]):
        with locked(self.path):
            venues, encrypted = self._load()
            result = change(venues)
            self._save(venues, encrypted)
        return result

    # -- venue level ----------------------------------------------------------------
    def stored_venues(self) -> list[str]:
        """Venues with credentials in the file (no decryption needed for a plain file)."""
        return sorted(self._load()[0])

    def get(self, venue: str, fields: list[str] | None = None) -> tuple[dict[str, str], str] | None:
        """(credentials, source) for a venue, env vars winning; None when there are none.

        ``fields`` lists the venue's field names so environment variables can be found.
        """
        from_env = {f: os.environ[env_var(venue, f)] for f in fields or [] if os.environ.get(env_var(venue, f))}
        stored = {}
        if self.path.exists():
            store = self._read_file()
            if not store.encrypted or not from_env:
                stored = self._load()[0].get(venue, {})
        if from_env:
            return {**stored, **from_env}, "env"
        return (dict(stored), "file") if stored else None

    def put(self, venue: str, creds: dict[str, str]) -> None:
        self._modify(lambda venues: venues.__setitem__(venue, dict(creds)))

    def delete(self, venue: str) -> bool:
        return bool(self._modify(lambda venues: venues.pop(venue, None) is not None))

    # -- encryption management --------------------------------------------------------
    def encrypt(self, new_passphrase: str) -> None:
        with locked(self.path):
            venues, encrypted = self._load()
            if encrypted:
                raise CredentialError("the credentials store is already encrypted; use `sequence credentials passphrase` to change the passphrase")
            self._save(venues, True, new_passphrase)

    def decrypt(self) -> None:
        with locked(self.path):
            venues, encrypted = self._load()
            if not encrypted:
                raise CredentialError("the credentials store is not encrypted")
            self._save(venues, False)

    def change_passphrase(self, new_passphrase: str) -> None:
        with locked(self.path):
            venues, encrypted = self._load()  # proves the old passphrase first
            if not encrypted:
                raise CredentialError("the credentials store is not encrypted; use `sequence credentials encrypt`")
            self._save(venues, True, new_passphrase)
