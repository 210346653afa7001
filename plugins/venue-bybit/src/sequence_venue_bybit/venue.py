"""Bybit v5 API.

Credentials (https://bybit-exchange.github.io/docs/v5/guide#authentication): API key and
secret. Headers ``X-BAPI-API-KEY``, ``X-BAPI-TIMESTAMP`` (ms), ``X-BAPI-RECV-WINDOW``
(default 5000) and ``X-BAPI-SIGN`` = hex(HMAC-SHA256(secret, timestamp + api_key +
recv_window + payload)), payload = query string (GET) or JSON body (POST).
Symbols: ``BTCUSDT`` in both ``category=spot`` and ``category=linear`` (canonical
``BTC-USDT-PERP``). Instrument fields ``priceFilter.tickSize``, ``lotSizeFilter``.
"""

from sequence_core.venues import CredentialField, Venue


class BybitVenue(Venue):
    name = "bybit"
    title = "Bybit"
    docs_url = "https://bybit-exchange.github.io/docs/v5/intro"
    credential_fields = (
        CredentialField("api_key", "API key", kind="text", secret=False),
        CredentialField("api_secret", "API secret", kind="secret"),
    )

    # symbols.py and fees.py load on first use: listing venues never needs them
    def instruments(self):
        from .symbols import INSTRUMENTS

        return list(INSTRUMENTS)

    def fee_schedule(self):
        from .fees import SCHEDULE

        return SCHEDULE
