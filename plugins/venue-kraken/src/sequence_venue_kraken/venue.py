"""Kraken spot: REST (https://docs.kraken.com/api/docs/rest-api/) and WebSocket v2.

Credentials (https://docs.kraken.com/api/docs/guides/spot-rest-auth): an API key in
``API-Key`` and a base64 private key. ``API-Sign`` = base64(HMAC-SHA512(base64-decoded
secret, URI path + SHA256(nonce + POST data))); ``nonce`` strictly increases per key.
Symbols: v2 ``BTC/USD`` is the venue symbol; REST takes the altname ``XBTUSD`` (BTC is XBT,
DOGE is XDG there) and answers under the key ``XXBTZUSD`` (symbols.py).
AssetPairs fields ``tick_size``, ``lot_decimals``, ``ordermin``, ``costmin``, ``status``.
Settings (``[venues.kraken]``): ``base_url``, ``ws_url``, ``private_ws_url`` (the
``executions`` stream, stream.py; default: ``ws_url``'s ``ws-auth.`` host), ``tier`` (starter | intermediate |
pro: the rate-limit budgets, http.py), ``book_depth`` (10, 25, 100, 500, 1000).
Perpetuals trade on Kraken Futures (futures.py, futures_http.py, futures_feed.py), which has
keys of its own: the optional credential fields ``futures_api_key`` and ``futures_api_secret``
(both or neither; futures.py says why they are fields of this venue), and settings
``futures_url`` (REST, default https://futures.kraken.com) and ``futures_ws_url`` (default
wss://futures.kraken.com/ws/v1). Perp books stream on that second socket
(``market_data_feeds``), and with futures keys perp orders and fills are pushed on a private
connection to it (futures_stream.py), a second user stream beside spot's ``executions``.
"""

from sequence_core.errors import CredentialError
from sequence_core.venues import CredentialField, Venue

FUTURES_FIELDS = ("futures_api_key", "futures_api_secret")


class KrakenVenue(Venue):
    name = "kraken"
    title = "Kraken"
    docs_url = "https://docs.kraken.com/api/"
    credential_fields = (
        CredentialField("api_key", "API key", kind="text", secret=False),
        CredentialField("api_secret", "Private key (base64)", kind="base64"),
        CredentialField("futures_api_key", "Kraken Futures public key (perps; leave empty for spot only)", kind="text",
                        secret=False, optional=True),
        CredentialField("futures_api_secret", "Kraken Futures private key (base64)", kind="base64", optional=True),
    )

    def validate_credentials(self, creds):
        clean = super().validate_credentials(creds)
        given = [f for f in FUTURES_FIELDS if f in clean]
        if len(given) == 1:
            missing = next(f for f in FUTURES_FIELDS if f not in clean)
            raise CredentialError(f"{missing} is required with {given[0]} for kraken (Kraken Futures keys come in pairs)")
        return clean

    def _client(self, credentials, settings, timeout_s: float = 10.0):
        from .http import DEFAULT_BASE_URL, KrakenClient

        return KrakenClient(credentials.get("api_key", ""), credentials.get("api_secret", ""),
                            settings.get("base_url", DEFAULT_BASE_URL), timeout_s, settings.get("tier", "starter"))

    def execution_session(self, credentials, settings):
        from .execution import KrakenSession
        from .futures import KrakenFutures
        from .futures_http import DEFAULT_FUTURES_URL, KrakenFuturesClient

        futures = KrakenFutures(KrakenFuturesClient(credentials.get("futures_api_key", ""),
                                                    credentials.get("futures_api_secret", ""),
                                                    settings.get("futures_url", DEFAULT_FUTURES_URL)),
                               settings)
        return KrakenSession(self._client(credentials, settings), dict(settings), futures)

    def market_data(self, settings):
        """The spot feed (the heartbeat probes its socket)."""
        from .feed import KrakenFeed

        return KrakenFeed(dict(settings))

    def market_data_feeds(self, settings):
        """Spot books on the v2 socket, perp books on Kraken Futures' own."""
        from .futures_feed import KrakenFuturesFeed

        return [self.market_data(settings), KrakenFuturesFeed(dict(settings))]

    async def heartbeat(self, credentials, config):
        """GET /0/public/SystemStatus (a venue not ``online`` is reported as down, with its
        state), with credentials a signed POST /0/private/Balance (the call Kraken's error
        guide suggests for testing a key), with futures keys a signed Kraken Futures
        ``accounts``, and the v2 websocket (subscribe one book)."""
        from sequence_core.errors import VenueError
        from sequence_core.venues import probe

        from .futures_http import DEFAULT_FUTURES_URL, KrakenFuturesClient
        from .symbols import INSTRUMENTS

        client = self._client(credentials, config, timeout_s=4)
        futures = credentials.get("futures_api_secret")

        async def calls():
            try:
                status = await client.system_status()
                if status != "online":
                    raise VenueError(f"kraken system status is {status} (https://status.kraken.com)")
                if credentials.get("api_secret"):
                    await client.balance()
            finally:
                await client.close()
            if futures:
                fclient = KrakenFuturesClient(credentials.get("futures_api_key", ""), futures,
                                              config.get("futures_url", DEFAULT_FUTURES_URL), timeout_s=4)
                try:
                    await fclient.accounts()
                finally:
                    await fclient.close()
        detail = "system status + signed balance" + (" + signed futures accounts" if futures else "")
        return await probe(calls, detail, self.market_data(config), INSTRUMENTS[0])

    # symbols.py and fees.py load on first use: listing venues never needs them
    def instruments(self):
        from .symbols import INSTRUMENTS

        return list(INSTRUMENTS)

    def fee_schedule(self):
        from .fees import SCHEDULE

        return SCHEDULE
