"""Crypto.com Exchange API v1.

Credentials (https://exchange-docs.crypto.com/exchange/v1/rest-ws/index.html#digital-signature):
API key and secret. Each private request body carries ``id``, ``method``, ``api_key``,
``params``, ``nonce`` (ms) and ``sig`` = hex(HMAC-SHA256(secret, method + id + api_key +
parameter string + nonce)), the parameter string concatenating keys and values sorted by key,
recursively for lists of objects (signing.py). REST ``https://api.crypto.com/exchange/v1/{method}``
(http.py), market data ``wss://stream.crypto.com/exchange/v1/market`` (feed.py).
Symbols: ``BTC_USD`` spot, ``BTCUSD-PERP`` perpetuals (canonical ``BTC-USD-PERP``; linear,
USD-settled, sized in the base coin); instrument fields ``price_tick_size``,
``qty_tick_size``, ``tradable`` (symbols.py). Perp margin, positions and funding: execution.py.
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

    def execution_session(self, credentials, settings):
        from .execution import CryptocomSession
        from .http import DEFAULT_BASE_URL, CryptocomClient

        return CryptocomSession(CryptocomClient(credentials["api_key"], credentials["api_secret"],
                                                settings.get("base_url", DEFAULT_BASE_URL)), settings)

    def market_data(self, settings):
        from .feed import CryptocomFeed

        return CryptocomFeed(dict(settings))

    async def heartbeat(self, credentials, config):
        """public/get-tickers (the exchange's clock), with credentials a signed
        private/user-balance, and the market-data websocket (subscribe one book, wait for an answer)."""
        from sequence_core.venues import probe

        from .http import DEFAULT_BASE_URL, CryptocomClient
        from .symbols import INSTRUMENTS

        client = CryptocomClient(credentials.get("api_key", ""), credentials.get("api_secret", ""),
                                 config.get("base_url", DEFAULT_BASE_URL), timeout_s=4)

        async def calls():
            try:
                await client.server_time_ms()
                if credentials.get("api_secret"):
                    await client.balance()
            finally:
                await client.close()
        return await probe(calls, "ticker + signed user-balance", self.market_data(config), INSTRUMENTS[0])

    # symbols.py and fees.py load on first use: listing venues never needs them
    def instruments(self):
        from .symbols import INSTRUMENTS

        return list(INSTRUMENTS)

    def fee_schedule(self):
        from .fees import SCHEDULE

        return SCHEDULE
