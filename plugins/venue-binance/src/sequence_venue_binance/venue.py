"""Binance: spot and USD-M perpetual futures.

Credentials (https://developers.binance.com/docs/binance-spot-api-docs/rest-api/request-security):
an API key sent in the ``X-MBX-APIKEY`` header, and a secret that signs the query string
with HMAC-SHA256 (hex) in ``signature``, alongside ``timestamp`` and an optional
``recvWindow`` (default 5000 ms). Binance also accepts Ed25519 and RSA keys; an HMAC key
pair is what we ask for.
Symbols: spot ``BTCUSDT``, USD-M perps ``BTCUSDT`` on fapi.binance.com (canonical
``BTC-USDT-PERP``, venue symbol here ``BTCUSDT_PERP``). Filters from ``GET /api/v3/exchangeInfo``
(PRICE_FILTER.tickSize, LOT_SIZE.stepSize, NOTIONAL.minNotional) and ``GET /fapi/v1/exchangeInfo``
(PRICE_FILTER, LOT_SIZE, MIN_NOTIONAL.notional). The same key signs both hosts (its futures
permission must be enabled to trade perps). Settings ``[venues.binance]``: ``base_url`` and
``ws_url`` (spot REST and market websocket), ``ws_api_url`` (spot user data), ``fapi_url`` (USD-M
REST; when unset it follows a ``base_url`` pointed away from api.binance.com, else
https://fapi.binance.com), ``fapi_ws_url`` (USD-M book websocket, default
wss://fstream.binance.com/public/ws), ``fapi_market_ws_url`` (USD-M trades websocket, default
that URL with ``/market`` for ``/public``), ``fapi_private_ws_url`` (USD-M user data, default
wss://fstream.binance.com/private/ws), ``usdm_stream`` (false: no USD-M user data stream, for a
key without futures permission). Market data lives on three sockets (``market_data_feeds``: spot,
USD-M books, USD-M trades) and orders are pushed on two (the session's ``user_streams``); feed.py and stream.py say why.
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

    def execution_session(self, credentials, settings):
        from .execution import BinanceSession
        from .http import DEFAULT_BASE_URL, BinanceClient

        return BinanceSession(BinanceClient(credentials["api_key"], credentials["api_secret"],
                                            settings.get("base_url", DEFAULT_BASE_URL)), settings)

    def market_data(self, settings):
        """The spot feed (the heartbeat's websocket probe)."""
        from .feed import BinanceFeed

        return BinanceFeed(dict(settings))

    def market_data_feeds(self, settings):
        """Spot books and trades on the spot socket, USD-M perp books on fapi's ``/public``
        route, their trades on its ``/market`` route."""
        from .feed import BinanceFuturesFeed, BinanceFuturesTradesFeed

        return [self.market_data(settings), BinanceFuturesFeed(dict(settings)), BinanceFuturesTradesFeed(dict(settings))]

    async def heartbeat(self, credentials, config):
        """GET /api/v3/ping, with credentials a signed GET /api/v3/account, and the market-data
        websocket (subscribe one book, wait for the ack)."""
        from sequence_core.venues import probe

        from .http import DEFAULT_BASE_URL, BinanceClient
        from .symbols import INSTRUMENTS

        client = BinanceClient(credentials.get("api_key", ""), credentials.get("api_secret", ""),
                               config.get("base_url", DEFAULT_BASE_URL), timeout_s=4)

        async def calls():
            try:
                await client.ping()
                if credentials.get("api_secret"):
                    await client.account()
            finally:
                await client.close()
        return await probe(calls, "ping + signed account", self.market_data(config), INSTRUMENTS[0])

    # symbols.py and fees.py load on first use: listing venues never needs them
    def instruments(self):
        from .symbols import INSTRUMENTS

        return list(INSTRUMENTS)

    def fee_schedule(self):
        from .fees import SCHEDULE

        return SCHEDULE
