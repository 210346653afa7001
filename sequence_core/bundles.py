"""Bundles: compiled, signed, content-addressed artifacts (docs/bundles.md).

A bundle file is a msgpack envelope ``{manifest, signature, payload}``. The manifest is a
msgspec Struct encoded canonically (msgpack, fields in declaration order); it carries the
SHA-256 of the payload, so the bundle's id, the SHA-256 of the manifest bytes, names the
payload too. The manifest is signed with the user's Ed25519 key (``<home>/keys/bundle.key``,
created 0600 on first use). Loading verifies the id, the payload hash, the signature, and that
the signing key is the user's own or listed in ``<home>/keys/trusted_bundle_keys``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import msgspec

from .errors import ConfigError, UsageError

KINDS = ("edge", "sor", "assignment")


class Manifest(msgspec.Struct, frozen=True, kw_only=True):
    kind: str                       # edge | sor | assignment
    artifact: str                   # the user's name for what it is
    created_at: str                 # ISO 8601 UTC
    payload_sha256: str
    payload_size: int
    public_key: str                 # hex Ed25519 public key of the signer
    strategy: str = ""              # edge: strategy family
    risk_version: str = ""          # edge: risk limits version
    abi_version: int = 0            # edge: the wasm ABI the payload was built for


class Bundle(msgspec.Struct, frozen=True):
    id: str                         # sha256 of the canonical manifest bytes
    manifest: Manifest
    payload: bytes


class _Envelope(msgspec.Struct, frozen=True):
    manifest: bytes
    signature: bytes
    payload: bytes


def _dirs(home: Path) -> tuple[Path, Path]:
    return home / "bundles", home / "keys"


def _signing_key(home: Path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    from .home import atomic_write, check_secret_file

    path = _dirs(home)[1] / "bundle.key"
    if path.exists():
        check_secret_file(path)
        try:
            return serialization.load_pem_private_key(path.read_bytes(), password=None)
        except ValueError:
            raise ConfigError(f"{path} is not a PEM private key; move it away to create a new signing key") from None
    key = ed25519.Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    atomic_write(path, pem)          # 0600
    return key


def _public_hex(key) -> str:
    from cryptography.hazmat.primitives import serialization

    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def trusted_keys(home: Path) -> set[str]:
    keys = {_public_hex(_signing_key(home).public_key())}
    extra = _dirs(home)[1] / "trusted_bundle_keys"
    if extra.exists():
        keys |= {line.split("#")[0].strip().lower() for line in extra.read_text().splitlines() if line.split("#")[0].strip()}
    return keys


def create(home: Path, kind: str, artifact: str, payload: bytes, **fields) -> Bundle:
    """Sign and store a bundle; the same content under the same key gives the same id."""
    from .home import atomic_write

    if kind not in KINDS:
        raise UsageError(f"bundle kind '{kind}' is not one of {', '.join(KINDS)}")
    if not artifact or len(artifact) > 128 or any(c.isspace() for c in artifact):
        raise UsageError(f"--artifact '{artifact}' must be 1-128 characters without spaces")
    key = _signing_key(home)
    manifest = Manifest(kind=kind, artifact=artifact, created_at=_created_at(home, kind, artifact, payload),
                        payload_sha256=hashlib.sha256(payload).hexdigest(), payload_size=len(payload),
                        public_key=_public_hex(key.public_key()), **fields)
    raw = msgspec.msgpack.encode(manifest)
    bundle_id = hashlib.sha256(raw).hexdigest()
    envelope = _Envelope(raw, key.sign(raw), payload)
    path = _dirs(home)[0] / f"{bundle_id}.bundle"
    if not path.exists():
        atomic_write(path, msgspec.msgpack.encode(envelope), mode=0o644)
    return Bundle(bundle_id, manifest, payload)


def _created_at(home: Path, kind: str, artifact: str, payload: bytes) -> str:
    """Re-compiling identical content keeps the first creation time, so the id is stable."""
    digest = hashlib.sha256(payload).hexdigest()
    for path in sorted(_dirs(home)[0].glob("*.bundle")):
        try:
            m = msgspec.msgpack.decode(_decode(path).manifest, type=Manifest)
        except (ConfigError, msgspec.DecodeError, msgspec.ValidationError):
            continue
        if m.kind == kind and m.artifact == artifact and m.payload_sha256 == digest:
            return m.created_at
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _decode(path: Path) -> _Envelope:
    try:
        return msgspec.msgpack.decode(path.read_bytes(), type=_Envelope)
    except (msgspec.DecodeError, msgspec.ValidationError, OSError) as exc:
        raise ConfigError(f"bundle file {path} is unreadable or not a bundle ({exc}); it was damaged") from None


def load(home: Path, ref: str) -> Bundle:
    """The bundle *ref* (its id or a unique prefix of 8+ characters), verified."""
    folder = _dirs(home)[0]
    ref = ref.strip().lower()
    matches = sorted(folder.glob(f"{ref}*.bundle")) if len(ref) >= 8 and all(c in "0123456789abcdef" for c in ref) else []
    if not matches:
        raise UsageError(f"unknown bundle '{ref}'; `sequence bundle list` shows the bundles in {folder}")
    if len(matches) > 1:
        raise UsageError(f"bundle prefix '{ref}' matches {len(matches)} bundles; give more characters")
    return verify(home, matches[0])


def verify(home: Path, path: Path) -> Bundle:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric import ed25519

    env = _decode(path)
    bundle_id = path.name.split(".")[0]
    if hashlib.sha256(env.manifest).hexdigest() != bundle_id:
        raise ConfigError(f"bundle {bundle_id[:12]} was tampered with: its manifest does not hash to its id; refusing it")
    try:
        manifest = msgspec.msgpack.decode(env.manifest, type=Manifest)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ConfigError(f"bundle {bundle_id[:12]} has an unreadable manifest ({exc})") from None
    if hashlib.sha256(env.payload).hexdigest() != manifest.payload_sha256 or len(env.payload) != manifest.payload_size:
        raise ConfigError(f"bundle {bundle_id[:12]} was tampered with: its payload does not match the SHA-256 in its "
                          "manifest; refusing it")
    try:
        ed25519.Ed25519PublicKey.from_public_bytes(bytes.fromhex(manifest.public_key)).verify(env.signature, env.manifest)
    except (InvalidSignature, ValueError):
        raise ConfigError(f"bundle {bundle_id[:12]} has an invalid signature; refusing it") from None
    if manifest.public_key not in trusted_keys(home):
        raise ConfigError(f"bundle {bundle_id[:12]} is signed by key {manifest.public_key[:16]}…, which is not yours or "
                          f"in {_dirs(home)[1] / 'trusted_bundle_keys'}; refusing it")
    return Bundle(bundle_id, manifest, env.payload)


class BundleInfo(msgspec.Struct, frozen=True):
    id: str
    kind: str
    artifact: str
    created_at: str
    strategy: str
    payload_size: int
    stage: str | None = None        # set by promotion (not available yet)
    promoted_at: str | None = None
    approver: str | None = None
    problem: str | None = None      # why it would be refused (tampered, untrusted key)


def list_bundles(home: Path) -> list[BundleInfo]:
    """Every stored bundle, each verified; a bad one is listed with its problem."""
    out = []
    for path in sorted(_dirs(home)[0].glob("*.bundle")):
        problem = None
        try:
            m = verify(home, path).manifest
        except ConfigError as exc:
            problem = str(exc)
            try:
                m = msgspec.msgpack.decode(_decode(path).manifest, type=Manifest)
            except (ConfigError, msgspec.DecodeError, msgspec.ValidationError):
                out.append(BundleInfo(path.name.split(".")[0], "?", "?", "", "", 0, problem=problem))
                continue
        out.append(BundleInfo(path.name.split(".")[0], m.kind, m.artifact, m.created_at, m.strategy, m.payload_size,
                              problem=problem))
    return sorted(out, key=lambda b: (b.created_at, b.id))
