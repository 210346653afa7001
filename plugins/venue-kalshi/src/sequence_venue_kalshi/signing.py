"""Kalshi request signing (https://docs.kalshi.com/getting_started/api_keys,
https://docs.kalshi.com/getting_started/quick_start_authenticated_requests,
https://docs.kalshi.com/getting_started/api_environments).

Every signed request carries ``KALSHI-ACCESS-KEY`` (the key id), ``KALSHI-ACCESS-TIMESTAMP``
(Unix time in milliseconds) and ``KALSHI-ACCESS-SIGNATURE``: base64 of the signature of
``timestamp + METHOD + path``, where path is the full path from the API root including the
``/trade-api/v2`` prefix and *without* the query string (``/trade-api/v2/portfolio/orders``
for ``...orders?limit=5``); the host never enters it, and the body is not signed.
RSA keys sign with RSA-PSS, SHA-256, MGF1-SHA-256 and a salt as long as the digest (the
docs' sample code and the official TypeScript SDK's ``RSA_PSS_SALTLEN_DIGEST``); Ed25519
keys, which Kalshi also accepts, sign the same bytes with EdDSA. The websocket handshake
is signed the same way over ``timestamp + "GET" + "/trade-api/ws/v2"``.

RSA-PSS is randomised, so no fixed expected signature exists (Kalshi and its SDKs publish
none): tests verify with the public key, as Kalshi does. Ed25519 is deterministic: its
test value was computed independently with ``openssl pkeyutl -sign -rawin``.
"""

from __future__ import annotations

import base64

API_PREFIX = "/trade-api/v2"
WS_PATH = "/trade-api/ws/v2"


def load_key(pem: str):
    """The private key (RSA or Ed25519); CredentialError names the field, never the value."""
    from sequence_core.keys import load_private_key_pem

    return load_private_key_pem("private_key", pem, ("rsa", "ed25519"))


def message(ts_ms: int | str, method: str, path: str) -> bytes:
    """What is signed: timestamp, upper-case method, path without its query string."""
    return f"{ts_ms}{method.upper()}{path.split('?', 1)[0]}".encode()


def _pss():
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    return padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH), hashes.SHA256()


def sign(key, ts_ms: int | str, method: str, path: str) -> str:
    from cryptography.hazmat.primitives.asymmetric import ed25519

    data = message(ts_ms, method, path)
    raw = key.sign(data) if isinstance(key, ed25519.Ed25519PrivateKey) else key.sign(data, *_pss())
    return base64.b64encode(raw).decode()


def verify(public_key, signature_b64: str, ts_ms: int | str, method: str, path: str) -> bool:
    """Kalshi's side of the check (used by the fake server and the tests)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric import ed25519

    try:
        raw = base64.b64decode(signature_b64, validate=True)
        data = message(ts_ms, method, path)
        if isinstance(public_key, ed25519.Ed25519PublicKey):
            public_key.verify(raw, data)
        else:
            public_key.verify(raw, data, *_pss())
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def headers(key_id: str, key, ts_ms: int, method: str, path: str) -> dict[str, str]:
    return {"KALSHI-ACCESS-KEY": key_id, "KALSHI-ACCESS-TIMESTAMP": str(ts_ms),
            "KALSHI-ACCESS-SIGNATURE": sign(key, ts_ms, method, path)}
