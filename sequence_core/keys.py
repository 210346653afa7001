"""Local validation of the key material a venue asks for.

Nothing here talks to a network: each function parses what the user pasted and raises
``CredentialError`` naming the field (never its value) when it is unusable. Curve and
hash maths come from cryptography, coincurve and pycryptodome; none is written here.
"""

from __future__ import annotations

import base64
import binascii
import json
import re

from .errors import CredentialError

_HEX_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


def keccak256(data: bytes) -> bytes:
    """Keccak-256 as Ethereum uses it (not NIST SHA3-256, which pads differently)."""
    from Crypto.Hash import keccak

    return keccak.new(digest_bits=256, data=data).digest()


def load_private_key_pem(field: str, pem: str, allowed: tuple[str, ...] = ("rsa", "ed25519", "ec")):
    """Load a PEM private key; ``allowed`` names the key types the venue accepts."""
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    text = pem.strip().replace("\\n", "\n")
    if "-----BEGIN" not in text:
        raise CredentialError(f"{field}: expected a PEM private key starting with '-----BEGIN'")
    try:
        key = load_pem_private_key(text.encode(), password=None)
    except (ValueError, TypeError) as exc:
        reason = "it is encrypted; export it without a password" if "encrypted" in str(exc).lower() else "cryptography cannot parse it"
        raise CredentialError(f"{field}: unreadable PEM private key ({reason})") from None
    kinds = {"rsa": rsa.RSAPrivateKey, "ed25519": ed25519.Ed25519PrivateKey, "ec": ec.EllipticCurvePrivateKey}
    if not any(isinstance(key, kinds[k]) for k in allowed):
        raise CredentialError(f"{field}: key type not accepted here (accepted: {', '.join(allowed)})")
    return key


def parse_evm_private_key(field: str, value: str) -> bytes:
    """A secp256k1 private key as 64 hex digits, with or without 0x; returns 32 bytes."""
    import coincurve

    text = value.strip().lower().removeprefix("0x")
    if not re.fullmatch(r"[0-9a-f]{64}", text):
        raise CredentialError(f"{field}: expected 32 bytes as 64 hex digits (optionally 0x-prefixed)")
    raw = bytes.fromhex(text)
    try:
        coincurve.PrivateKey(raw)
    except ValueError:
        raise CredentialError(f"{field}: not a valid secp256k1 private key (zero or above the curve order)") from None
    return raw


def evm_address_of(private_key: bytes) -> str:
    """The EIP-55 checksummed address of a secp256k1 private key."""
    import coincurve

    public = coincurve.PrivateKey(private_key).public_key.format(compressed=False)[1:]
    return to_checksum_address("0x" + keccak256(public)[-20:].hex())


def to_checksum_address(address: str) -> str:
    """EIP-55 mixed-case checksum encoding of a 20-byte hex address."""
    lower = address.lower().removeprefix("0x")
    digest = keccak256(lower.encode()).hex()
    return "0x" + "".join(c.upper() if int(digest[i], 16) >= 8 else c for i, c in enumerate(lower))


def parse_evm_address(field: str, value: str) -> str:
    """0x + 40 hex digits; a mixed-case address must carry a valid EIP-55 checksum."""
    text = value.strip()
    if not _HEX_ADDRESS.match(text):
        raise CredentialError(f"{field}: expected an address like 0x followed by 40 hex digits")
    body = text[2:]
    if body != body.lower() and body != body.upper() and to_checksum_address(text) != text:
        raise CredentialError(f"{field}: address checksum (EIP-55) does not match; check for a typo")
    return to_checksum_address(text)


def parse_solana_keypair(field: str, value: str) -> bytes:
    """A Solana keypair: base58 of 64 bytes (wallet export) or a JSON array of 64 ints
    (solana-keygen's file). The last 32 bytes must be the public key of the first 32."""
    import base58
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    text = value.strip()
    try:
        if text.startswith("["):
            raw = bytes(json.loads(text))
        else:
            raw = base58.b58decode(text)
    except (ValueError, TypeError):
        raise CredentialError(f"{field}: expected base58 text or a JSON array of 64 numbers") from None
    if len(raw) != 64:
        raise CredentialError(f"{field}: a Solana keypair is 64 bytes, got {len(raw)}")
    public = Ed25519PrivateKey.from_private_bytes(raw[:32]).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    if public != raw[32:]:
        raise CredentialError(f"{field}: the public half does not match the secret half of this keypair")
    return raw


def parse_base64_secret(field: str, value: str) -> bytes:
    """A base64-encoded secret (Kraken's API secret, for example)."""
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise CredentialError(f"{field}: expected base64 text") from None
    if not raw:
        raise CredentialError(f"{field}: is empty")
    return raw
