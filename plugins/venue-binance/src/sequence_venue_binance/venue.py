"""Binance: spot and USD-M perpetual futures.

Credentials (https://developers.binance.com/docs/binance-spot-api-docs/rest-api/request-security):
an API key sent in the ``X-MBX-APIKEY`` header, and a secret that signs the query string
with HMAC-SHA256 (hex) in ``signature``, alongside ``timestamp`` and an optional
``recvWindow`` (default 5000 ms). Binance also accepts Ed25519 and RSA keys; an HMAC key
pair is what we ask for.
Symbols: spot ``BTCUSDT``, USD-M perps ``BTCUSDT`` on fapi.binance.com (canonical
``BTC-USDT-PERP``). Filters from ``GET /api/v3/exchangeInfo`` (PRICE_FILTER.tickSize,
LOT_SIZE.stepSize, NOTIONAL.minNotional).
"""

from sequence_core.venues import CredentialField, Venue


class BinanceVenue(Venue):
    name = "binance"
    title = "Binance"
    docs_url = "https://developers.binance.com/docs/binance-spot-api-docs"
    credential_fields = (
        CredentialField("api_key", "API key", kind="text", secret=False),
        CredentialField("api_secret", "API secret (HMAC)", kind="secret"),
    )

    # symbols.py and fees.py load on first use: listing venues never needs them
    def instruments(self):
        from .symbols import INSTRUMENTS

        return list(INSTRUMENTS)

    def fee_schedule(self):
        from .fees import SCHEDULE

        return SCHEDULE
