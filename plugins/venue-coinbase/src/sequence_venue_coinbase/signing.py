"""Coinbase Advanced Trade request signing: a CDP API key signs a short-lived JWT.

https://docs.cdp.coinbase.com/coinbase-app/authentication-authorization/api-key-authentication
and the official SDK (github.com/coinbase/coinbase-advanced-py, ``coinbase/jwt_generator.py``):

- every REST request carries ``Authorization: Bearer <JWT>``; a JWT is valid for one request;
- JOSE header ``{"alg": "ES256" | "EdDSA", "kid": <key name>, "nonce": <random hex>, "typ": "JWT"}``;
- claims ``{"sub": <key name>, "iss": "cdp", "nbf": now, "exp": now + 120, "uri": "<METHOD>
  <host><path>"}`` (seconds; the path without its query string, e.g.
  ``"GET api.coinbase.com/api/v3/brokerage/accounts"``); a websocket JWT has no ``uri``;
- ES256 keys are ECDSA P-256 ("EC PRIVATE KEY" PEM), the signature in JOSE form: r || s, 32
  bytes each (RFC 7518 section 3.4), not DER; EdDSA keys are Ed25519, handed out by the CDP
  portal as base64 of 64 bytes (seed + public key) or the 32-byte seed, or as PKCS#8 PEM.

Coinbase publishes no fixed signature to check against; Ed25519 signatures are deterministic,
so the tests check one computed with ``openssl pkeyutl`` over the same signing input.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import time

JWT_LIFETIME_S = 120


def load_key(secret: str):
    """The private key from a PEM (EC or Ed25519) or from a CDP base64 Ed25519 secret."""
    from cryptography.hazmat.primitives.asymmetric import ed25519
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    text = secret.strip().replace("\\n", "\n")
    if text.startswith("-----BEGIN"):
        return load_pem_private_key(text.encode(), password=None)
    try:
        raw = base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("private_key: neither a PEM key nor a base64 Ed25519 key") from None
    if len(raw) not in (32, 64):
        raise ValueError(f"private_key: a base64 Ed25519 key is 32 or 64 bytes, this one is {len(raw)}")
    return ed25519.Ed25519PrivateKey.from_private_bytes(raw[:32])


def algorithm(key) -> str:
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "EdDSA"
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1":
        return "ES256"
    raise ValueError("private_key: Coinbase signs with ECDSA P-256 (ES256) or Ed25519 (EdDSA) keys only")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _compact(obj: dict) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def sign(key, message: bytes) -> bytes:
    """The JWS signature of ``message``: Ed25519, or ECDSA-SHA256 as raw r || s."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    if algorithm(key) == "EdDSA":
        return key.sign(message)
    r, s = decode_dss_signature(key.sign(message, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def build_jwt(key_name: str, key, uri: str | None = None, now: int | None = None, nonce: str | None = None) -> str:
    """A signed JWT for one REST request (``uri``) or a websocket subscribe (no ``uri``)."""
    now = int(time.time()) if now is None else now
    header = {"alg": algorithm(key), "kid": key_name, "nonce": nonce or secrets.token_hex(16), "typ": "JWT"}
    claims = {"sub": key_name, "iss": "cdp", "nbf": now, "exp": now + JWT_LIFETIME_S}
    if uri:
        claims["uri"] = uri
    signing_input = f"{b64url(_compact(header))}.{b64url(_compact(claims))}".encode()
    return f"{signing_input.decode()}.{b64url(sign(key, signing_input))}"


def rest_uri(method: str, host: str, path: str) -> str:
    """The ``uri`` claim: method, space, host (with any port) and path, no scheme, no query."""
    return f"{method.upper()} {host}{path}"


def headers(key_name: str, key, method: str, host: str, path: str, now: int) -> dict:
    return {"Authorization": f"Bearer {build_jwt(key_name, key, rest_uri(method, host, path), now)}",
            "Content-Type": "application/json"}
