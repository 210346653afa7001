"""Crypto.com Exchange v1 request signing.

https://exchange-docs.crypto.com/exchange/v1/rest-ws/index.html#digital-signature (now
https://exchange-developer.crypto.com/exchange/v1/docs/api/rest-common-api-reference, "Digital
Signature"): a private request is one JSON body ``{id, method, api_key, params, nonce, sig}``;
``sig`` = hex(HMAC-SHA256(secret, method + id + api_key + parameter string + nonce)).
The parameter string is the params' keys in ascending order, each followed by its value
with no separator; a list contributes its items one after another, an object inside a list
its own sorted key+value pairs; ``None`` is written ``null``; past ``MAX_LEVEL`` (3) nested
lists a value is written as is. The docs give the algorithm in JavaScript, Python and Java
but publish no signature value; the tests compute the expected ones with ``openssl``.
``nonce`` is the time in ms: more than 60 s from the exchange's clock is refused with
40102 INVALID_NONCE (see http.py for the resync). Parameter values are sent as strings
("All numbers must be strings"), so the string each side signs is the one on the wire.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

MAX_LEVEL = 3


def _text(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):           # JSON's spelling; the docs' Python would say "True"
        return "true" if value else "false"
    return str(value)


def _field(value: Any, level: int) -> str:
    if isinstance(value, list):
        return "".join(param_string(item, level + 1) for item in value)
    if isinstance(value, dict):           # an object value: its pairs, as the JS example does
        return param_string(value, level + 1)
    return _text(value)


def param_string(params: Any, level: int = 0) -> str:
    """The documented parameter string (``params_to_str`` in the docs' Python example)."""
    if level >= MAX_LEVEL or not isinstance(params, dict):
        return _text(params)
    return "".join(key + _field(params[key], level) for key in sorted(params))


def signature(secret: str, method: str, request_id: int | str, api_key: str, params: dict, nonce: int | str) -> str:
    payload = f"{method}{request_id}{api_key}{param_string(params)}{nonce}"
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def signed_body(api_key: str, secret: str, method: str, request_id: int, params: dict, nonce: int) -> dict:
    return {"id": request_id, "method": method, "api_key": api_key, "params": params, "nonce": nonce,
            "sig": signature(secret, method, request_id, api_key, params, nonce)}
