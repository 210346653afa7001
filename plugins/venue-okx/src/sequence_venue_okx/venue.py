"""OKX v5 API.

Credentials (https://www.okx.com/docs-v5/en/#overview-rest-authentication): API key,
secret and the passphrase chosen when the key was created. Headers ``OK-ACCESS-KEY``,
``OK-ACCESS-SIGN`` = base64(HMAC-SHA256(secret, timestamp + METHOD + requestPath + body)),
``OK-ACCESS-TIMESTAMP`` (ISO 8601 with milliseconds, UTC) and ``OK-ACCESS-PASSPHRASE``.
Symbols: ``BTC-USDT`` spot, ``BTC-USDT-SWAP`` perps (ctVal 0.01 BTC per contract; lots here
are in BTC). Instrument fields ``tickSz``, ``lotSz``, ``minSz``.
"""

from sequence_core.venues import CredentialField, Venue


class OkxVenue(Venue):
    name = "okx"
    title = "OKX"
    docs_url = "https://www.okx.com/docs-v5/en/"
    credential_fields = (
        CredentialField("api_key", "API key", kind="text", secret=False),
        CredentialField("api_secret", "Secret key", kind="secret"),
        CredentialField("passphrase", "Passphrase (set when the key was created)", kind="passphrase"),
    )

    # symbols.py and fees.py load on first use: listing venues never needs them
    def instruments(self):
        from .symbols import INSTRUMENTS

        return list(INSTRUMENTS)

    def fee_schedule(self):
        from .fees import SCHEDULE

        return SCHEDULE
