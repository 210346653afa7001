"""Bybit v5 API.

Credentials (https://bybit-exchange.github.io/docs/v5/guide#authentication): API key and
secret. Headers ``X-BAPI-API-KEY``, ``X-BAPI-TIMESTAMP`` (ms), ``X-BAPI-RECV-WINDOW``
(default 5000) and ``X-BAPI-SIGN`` = hex(HMAC-SHA256(secret, timestamp + api_key +
recv_window + payload)), payload = query string (GET) or JSON body (POST).
Symbols: ``BTCUSDT`` in both ``category=spot`` and ``category=linear`` (canonical
``BTC-USDT-PERP``). Instrument fields ``priceFilter.tickSize``, ``lotSizeFilter``.
Market data (feed.py; https://bybit-exchange.github.io/docs/v5/ws/connect): spot books on the
``/v5/public/spot`` socket, linear perp books on ``/v5/public/linear``, one feed each.
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

    def execution_session(self, credentials, settings):
        from .execution import BybitSession
        from .http import DEFAULT_BASE_URL, BybitClient

        return BybitSession(BybitClient(credentials["api_key"], credentials["api_secret"],
                                        settings.get("base_url", DEFAULT_BASE_URL)), settings)

    def market_data(self, settings):
        """The spot feed (the heartbeat probes its socket)."""
        from .feed import BybitFeed

        return BybitFeed(dict(settings))

    def market_data_feeds(self, settings):
        """Spot books on the spot socket, linear perp books on the linear one."""
        from .feed import BybitLinearFeed

        return [self.market_data(settings), BybitLinearFeed(dict(settings))]

    async def heartbeat(self, credentials, config):
        """GET /v5/market/time, with credentials a signed wallet balance, and the spot websocket."""
        from sequence_core.venues import probe

        from .http import DEFAULT_BASE_URL, BybitClient
        from .symbols import INSTRUMENTS

        client = BybitClient(credentials.get("api_key", ""), credentials.get("api_secret", ""),
                             config.get("base_url", DEFAULT_BASE_URL), timeout_s=4)

        async def calls():
            try:
                await client.server_time_ms()
                if credentials.get("api_secret"):
                    await client.wallet()
            finally:
                await client.close()
        return await probe(calls, "time + signed wallet", self.market_data(config), INSTRUMENTS[0])

    # symbols.py and fees.py load on first use: listing venues never needs them
    def instruments(self):
        from .symbols import INSTRUMENTS

        return list(INSTRUMENTS)

    def fee_schedule(self):
        from .fees import SCHEDULE

        return SCHEDULE
