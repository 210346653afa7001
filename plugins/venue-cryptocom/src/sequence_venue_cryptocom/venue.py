"""Crypto.com Exchange API v1.

Credentials (https://exchange-docs.crypto.com/exchange/v1/rest-ws/index.html#digital-signature):
API key and secret. Each request body carries ``id``, ``method``, ``api_key``, ``params``,
``nonce`` (ms) and ``sig`` = hex(HMAC-SHA256(secret, method + id + api_key +
param-string + nonce)), where the param-string concatenates keys and values sorted by key
(recursively for nested objects and arrays).
Symbols: ``BTC_USD`` spot, ``BTCUSD-PERP`` perpetuals.
"""

from sequence_core.venues import CredentialField, Venue


class CryptocomVenue(Venue):
    name = "cryptocom"
    title = "Crypto.com Exchange"
    docs_url = "https://exchange-docs.crypto.com/exchange/v1/rest-ws/index.html"
    credential_fields = (
        CredentialField("api_key", "API key", kind="text", secret=False),
        CredentialField("api_secret", "Secret key", kind="secret"),
    )

    # symbols.py and fees.py load on first use: listing venues never needs them
    def instruments(self):
        from .symbols import INSTRUMENTS

        return list(INSTRUMENTS)

    def fee_schedule(self):
        from .fees import SCHEDULE

        return SCHEDULE
