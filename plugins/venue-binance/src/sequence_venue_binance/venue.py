"""Binance: spot and USD-M futures.

Credentials (https://developers.binance.com/docs/binance-spot-api-docs/rest-api/request-security):
an API key sent in the ``X-MBX-APIKEY`` header and a secret used for HMAC-SHA256 signing
of the query string (Binance also accepts Ed25519 and RSA keys; HMAC is what we ask for).
"""

from sequence_core.venues import CredentialField, Venue


class BinanceVenue(Venue):
    name = "binance"
    title = "Binance"
    docs_url = "https://developers.binance.com/docs/binance-spot-api-docs"
    credential_fields = (
        CredentialField("api_key", "API key", kind="text", secret=False),
        CredentialField("api_secret", "API secret", kind="secret"),
    )
