"""Kraken spot REST API.

Credentials (https://docs.kraken.com/api/docs/guides/spot-rest-auth): an API key in
``API-Key`` and a base64 private key. ``API-Sign`` = base64(HMAC-SHA512(base64-decoded
secret, URI path + SHA256(nonce + POST data))); ``nonce`` strictly increases per key.
Symbols: ``XBT/USD`` wsname, ``XXBTZUSD`` REST pair name; BTC is XBT on Kraken.
AssetPairs fields ``tick_size``, ``lot_decimals``, ``ordermin``, ``costmin``.
"""

from sequence_core.venues import CredentialField, Venue


class KrakenVenue(Venue):
    name = "kraken"
    title = "Kraken"
    docs_url = "https://docs.kraken.com/api/"
    credential_fields = (
        CredentialField("api_key", "API key", kind="text", secret=False),
        CredentialField("api_secret", "Private key (base64)", kind="base64"),
    )

    # symbols.py and fees.py load on first use: listing venues never needs them
    def instruments(self):
        from .symbols import INSTRUMENTS

        return list(INSTRUMENTS)

    def fee_schedule(self):
        from .fees import SCHEDULE

        return SCHEDULE
