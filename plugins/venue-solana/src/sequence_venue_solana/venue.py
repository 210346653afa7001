"""Solana swaps through Jupiter's quote + swap-transaction API, signed here, sent and
confirmed through a Solana JSON-RPC node.

Credentials: an ed25519 keypair (base58 of 64 bytes as wallets export it, or the JSON array
of 64 bytes that solana-keygen writes; the last 32 bytes must be the public key of the
first 32), optionally a JSON-RPC URL and a Jupiter API key (``x-api-key``; api.jup.ag asks
for one since lite-api.jup.ag closed, https://dev.jup.ag/docs/api-setup).
Protocol facts: http.py (endpoints, limits, errors), signing.py (transaction format and
signature), execution.py (orders as swaps, journal before send, fills from the chain),
feed.py (quotes as the book). Symbols ``SOL-USDC``, ``JUP-USDC``, ``BONK-USDC`` (venue
symbol: the two mints).
Settings ``[venues.solana]``: rpc_url, aggregator_url (default https://api.jup.ag),
aggregator_rate_per_min (60, the free tier), rpc_rate_per_10s (100, public mainnet),
slippage_bps (50, for market orders), quote_size, send_max_retries (the node's own
re-broadcasts; unset: the node's default), state_path (the sent-transaction log, default
$SEQUENCE_HOME/solana/sent.jsonl).
"""

from sequence_core.venues import CredentialField, Venue


class SolanaVenue(Venue):
    name = "solana"
    title = "Solana (Jupiter)"
    docs_url = "https://dev.jup.ag/docs/swap"
    credential_fields = (
        CredentialField("keypair", "Keypair (base58 or JSON array of 64 bytes)", kind="solana_keypair"),
        CredentialField("rpc_url", "Solana JSON-RPC URL", kind="url", secret=False, optional=True),
        CredentialField("api_key", "Jupiter API key (portal.jup.ag)", kind="secret", optional=True),
    )

    @staticmethod
    def _rpc(credentials, settings, timeout_s: float = 10.0):
        from .http import DEFAULT_RPC_URL, RpcClient

        url = credentials.get("rpc_url") or settings.get("rpc_url") or DEFAULT_RPC_URL
        return RpcClient(url, timeout_s, int(settings.get("rpc_rate_per_10s", 100)))

    @staticmethod
    def _jupiter(credentials, settings, timeout_s: float = 10.0):
        from .http import DEFAULT_AGGREGATOR_URL, JupiterClient

        return JupiterClient(settings.get("aggregator_url", DEFAULT_AGGREGATOR_URL), credentials.get("api_key", ""),
                             timeout_s, int(settings.get("aggregator_rate_per_min", 60)))

    def execution_session(self, credentials, settings):
        from pathlib import Path

        from sequence_core.home import home_path
        from sequence_core.keys import parse_solana_keypair
        from sequence_core.sentlog import SentLog

        from .execution import SentRecord, SolanaSession

        state = Path(settings["state_path"]) if settings.get("state_path") else home_path() / "solana" / "sent.jsonl"
        return SolanaSession(self._rpc(credentials, settings), self._jupiter(credentials, settings),
                             parse_solana_keypair("keypair", credentials["keypair"]), SentLog(state, SentRecord), settings)

    def market_data(self, settings):
        from .feed import SolanaFeed

        return SolanaFeed(dict(settings), self._api_key())

    @staticmethod
    def _api_key() -> str:
        """The stored Jupiter key for quotes (market data is read without the wallet)."""
        try:
            from sequence_core.credentials import CredentialStore

            found = CredentialStore().get("solana", ["api_key"])
            return (found[0] or {}).get("api_key", "") if found else ""
        except Exception:  # noqa: BLE001 - no store, no key: the quote call says so if one is needed
            return ""

    async def heartbeat(self, credentials, config):
        """getVersion + getBlockHeight on the node, one quote from Jupiter, and with a
        keypair the wallet's SOL balance (getBalance)."""
        import msgspec

        from sequence_core.keys import parse_solana_keypair
        from sequence_core.venues import probe

        from .signing import b58, public_key
        from .symbols import INSTRUMENTS

        rpc, feed = self._rpc(credentials, config, 4), self.market_data(config)
        feed.client = self._jupiter(credentials, config, 4)
        seen: dict = {}

        async def calls():
            try:
                seen["version"] = (await rpc.version()).get("solana-core", "?")
                seen["height"] = await rpc.block_height()
                await feed.snapshot(INSTRUMENTS[0])
                if credentials.get("keypair"):
                    owner = b58(public_key(parse_solana_keypair("keypair", credentials["keypair"])[:32]))
                    seen["sol"] = await rpc.balance(owner)
            finally:
                await rpc.close()
                await feed.close()
        beat = await probe(calls, "JSON-RPC getVersion + getBlockHeight, Jupiter quote" +
                           (", wallet getBalance" if credentials.get("keypair") else ""))
        return msgspec.structs.replace(beat, detail=f"{beat.detail}; solana-core {seen['version']}, "
                                                    f"block height {seen['height']}")

    # symbols.py and fees.py load on first use: listing venues never needs them
    def instruments(self):
        from .symbols import INSTRUMENTS

        return list(INSTRUMENTS)

    def fee_schedule(self):
        from .fees import SCHEDULE

        return SCHEDULE
