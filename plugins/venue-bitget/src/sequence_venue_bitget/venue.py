"""Bitget v2 API.

Credentials (https://www.bitget.com/api-doc/common/signature): API key, secret and the
passphrase set at key creation. Headers ``ACCESS-KEY``, ``ACCESS-SIGN`` =
base64(HMAC-SHA256(secret, timestamp + METHOD + requestPath + "?" + query + body)),
``ACCESS-TIMESTAMP`` (ms) and ``ACCESS-PASSPHRASE``.
Symbols: ``BTCUSDT`` for spot and for USDT-M futures (``productType=USDT-FUTURES``).
"""

from sequence_core.venues import CredentialField, Venue


class BitgetVenue(Venue):
    name = "bitget"
    title = "Bitget"
    docs_url = "https://www.bitget.com/api-doc/common/intro"
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
