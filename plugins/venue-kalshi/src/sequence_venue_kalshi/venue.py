"""Kalshi Trade API v2 (event contracts).

Credentials (https://docs.kalshi.com/getting_started/api_keys): an API key id and its
private key (PEM). Requests carry ``KALSHI-ACCESS-KEY`` (key id), ``KALSHI-ACCESS-TIMESTAMP``
(ms) and ``KALSHI-ACCESS-SIGNATURE`` = base64(RSA-PSS-SHA256 (MGF1-SHA256, salt length =
digest length) of timestamp + METHOD + path without query). Kalshi also accepts Ed25519
keys (EdDSA over the same string). Order create/cancel/amend/decrease live under
``/portfolio/events/orders`` in the official SDK; the legacy ``/portfolio/orders`` writes are
deprecated from 2026-05-06.
Tickers: ``KXBTCZ-26DEC31-T99000`` with ``:YES``/``:NO``; prices in dollars, tick $0.01 on
``linear_cent`` markets (https://docs.kalshi.com/getting_started/fixed_point_migration).
"""

from sequence_core.venues import CredentialField, Venue


class KalshiVenue(Venue):
    name = "kalshi"
    title = "Kalshi"
    docs_url = "https://docs.kalshi.com/"
    credential_fields = (
        CredentialField("key_id", "API key id", kind="text", secret=False),
        CredentialField("private_key", "Private key (PEM: RSA or Ed25519)", kind="pem"),
    )
    pem_key_types = ("rsa", "ed25519")

    # symbols.py and fees.py load on first use: listing venues never needs them
    def instruments(self):
        from .symbols import INSTRUMENTS

        return list(INSTRUMENTS)

    def fee_schedule(self):
        from .fees import SCHEDULE

        return SCHEDULE

    def fee(self, instrument, price, qty, liquidity):
        from .fees import fee

        return fee(price, qty, liquidity)
