"""OKX v5 API.

Credentials (https://www.okx.com/docs-v5/en/#overview-rest-authentication): API key,
secret and the passphrase chosen when the key was created. Headers ``OK-ACCESS-KEY``,
``OK-ACCESS-SIGN`` = base64(HMAC-SHA256(secret, timestamp + METHOD + requestPath + body)),
``OK-ACCESS-TIMESTAMP`` (ISO 8601 with milliseconds, UTC) and ``OK-ACCESS-PASSPHRASE``.
Symbols: ``BTC-USDT`` spot, ``BTC-USDT-SWAP`` USDT-margined perpetuals (``BTC-USDT-PERP``
here; OKX trades them in contracts of ``ctVal`` base units, 0.01 BTC, 0.1 ETH, 1 SOL, which
the adapter converts so lots and quantities here are in the base). Instrument fields
``tickSz``, ``lotSz``, ``minSz`` (contracts for swaps), ``ctVal``; see symbols.py.
Swaps trade with ``tdMode`` cross in the one-way (net) position mode; see execution.py.
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

    def execution_session(self, credentials, settings):
        from .execution import OkxSession
        from .http import DEFAULT_BASE_URL, OkxClient

        return OkxSession(OkxClient(credentials["api_key"], credentials["api_secret"], credentials["passphrase"],
                                    settings.get("base_url", DEFAULT_BASE_URL)), settings)

    def market_data(self, settings):
        from .feed import OkxFeed

        return OkxFeed(dict(settings))

    async def heartbeat(self, credentials, config):
        """GET /api/v5/public/time, with credentials a signed GET /api/v5/account/balance, and
        the public websocket (subscribe one book, wait for the ack)."""
        from sequence_core.venues import probe

        from .http import DEFAULT_BASE_URL, OkxClient
        from .symbols import INSTRUMENTS

        client = OkxClient(credentials.get("api_key", ""), credentials.get("api_secret", ""),
                           credentials.get("passphrase", ""), config.get("base_url", DEFAULT_BASE_URL), timeout_s=4)

        async def calls():
            try:
                await client.server_time_ms()
                if credentials.get("api_secret"):
                    await client.balance()
            finally:
                await client.close()
        return await probe(calls, "time + signed balance", self.market_data(config), INSTRUMENTS[0])

    # symbols.py and fees.py load on first use: listing venues never needs them
    def instruments(self):
        from .symbols import INSTRUMENTS

        return list(INSTRUMENTS)

    def fee_schedule(self):
        from .fees import SCHEDULE

        return SCHEDULE
