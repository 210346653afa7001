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

    def _client(self, credentials, settings, timeout_s: float = 10.0):
        from .http import DEFAULT_BASE_URL, KrakenClient

        return KrakenClient(credentials.get("api_key", ""), credentials.get("api_secret", ""),
                            settings.get("base_url", DEFAULT_BASE_URL), timeout_s, settings.get("tier", "starter"))

    def execution_session(self, credentials, settings):
        from .execution import KrakenSession

        return KrakenSession(self._client(credentials, settings), dict(settings))

    def market_data(self, settings):
        from .feed import KrakenFeed

        return KrakenFeed(dict(settings))

    async def heartbeat(self, credentials, config):
        """GET /0/public/SystemStatus (a venue not ``online`` is reported as down, with its
        state), with credentials a signed POST /0/private/Balance (the call Kraken's error
        guide suggests for testing a key), and the v2 websocket (subscribe one book)."""
        from sequence_core.errors import VenueError
        from sequence_core.venues import probe

        from .symbols import INSTRUMENTS

        client = self._client(credentials, config, timeout_s=4)

        async def calls():
            try:
                status = await client.system_status()
                if status != "online":
                    raise VenueError(f"kraken system status is {status} (https://status.kraken.com)")
                if credentials.get("api_secret"):
                    await client.balance()
            finally:
                await client.close()
        return await probe(calls, "system status + signed balance", self.market_data(config), INSTRUMENTS[0])

    # symbols.py and fees.py load on first use: listing venues never needs them
    def instruments(self):
        from .symbols import INSTRUMENTS

        return list(INSTRUMENTS)

    def fee_schedule(self):
        from .fees import SCHEDULE

        return SCHEDULE
