"""Hyperliquid (L1 exchange: perpetuals and spot).

Credentials (https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/nonces-and-api-wallets):
an EVM private key: the main wallet's, or an API ("agent") wallet's approved by it, in which
case the main account address is needed to read state (reads of the agent's own address are
empty). ``vault_address`` trades for a vault (it enters the action hash and the reads). L1
actions are signed as the official SDK does (signing.py): msgpack of the action + nonce (+ vault)
hashed with keccak into a "phantom agent" signed with EIP-712 (domain "Exchange", chainId
1337); source "a" on mainnet, "b" on testnet (settings ``network = "testnet"`` or a testnet URL).
Assets: perps by index in the ``meta`` universe, spot pairs as 10000 + their index in ``spotMeta``;
sizes to ``szDecimals``, prices to 5 significant figures and at most 6 (spot 8) - szDecimals
decimals (symbols.py). Margin and collateral in USDC.
Settings: ``base_url`` (default https://api.hyperliquid.xyz), ``ws_url`` (wss://api.hyperliquid.xyz/ws),
``private_ws_url`` (the order/fill stream's socket; default ``ws_url``, see stream.py).
"""

from sequence_core.venues import CredentialField, Venue


def _mainnet(settings) -> bool | None:
    network = settings.get("network")
    return None if network is None else network != "testnet"


class HyperliquidVenue(Venue):
    name = "hyperliquid"
    title = "Hyperliquid"
    docs_url = "https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api"
    credential_fields = (
        CredentialField("private_key", "Private key (main or API wallet, hex)", kind="evm_private_key"),
        CredentialField("account_address", "Main account address (when the key is an API wallet)", kind="evm_address", secret=False, optional=True),
        CredentialField("vault_address", "Vault address (to trade for a vault)", kind="evm_address", secret=False, optional=True),
    )

    def _client(self, credentials, settings, timeout_s: float = 10.0):
        from .http import DEFAULT_BASE_URL, HyperliquidClient

        return HyperliquidClient(credentials.get("private_key", ""), credentials.get("account_address", ""),
                                 credentials.get("vault_address", ""), settings.get("base_url", DEFAULT_BASE_URL),
                                 _mainnet(settings), timeout_s)

    def execution_session(self, credentials, settings):
        from .execution import HyperliquidSession

        return HyperliquidSession(self._client(credentials, settings), settings)

    def market_data(self, settings):
        from .feed import HyperliquidFeed

        return HyperliquidFeed(dict(settings))

    async def heartbeat(self, credentials, config):
        """``meta``; with credentials the account's ``clearinghouseState`` and, when the key is an
        API wallet, ``userRole`` of its address (it must be an agent of the account); then the
        public websocket (subscribe one book, wait for the answer)."""
        from sequence_core.errors import AuthenticationError
        from sequence_core.venues import probe

        from .symbols import INSTRUMENTS

        client = self._client(credentials, config, timeout_s=4)
        detail = "meta"

        async def calls():
            nonlocal detail
            try:
                await client.meta()
                if client.user:
                    await client.clearinghouse_state()
                    detail = f"meta + clearinghouseState {client.user[:10]}…"
                if client.signer and client.signer != client.user and not client.vault:
                    role = await client.user_role(client.signer)
                    master = str((role.get("data") or {}).get("user", "")).lower()
                    if role.get("role") != "agent" or master != client.user.lower():
                        raise AuthenticationError(f"hyperliquid: the key's address {client.signer} is not an API wallet "
                                                  f"approved by {client.user} (userRole: {role.get('role')})")
                    detail += " + agent approved"
            finally:
                await client.close()
        heartbeat = await probe(calls, "", self.market_data(config), INSTRUMENTS[0])
        import msgspec

        return msgspec.structs.replace(heartbeat, detail=detail + heartbeat.detail)

    # symbols.py and fees.py load on first use: listing venues never needs them
    def instruments(self):
        from .symbols import INSTRUMENTS

        return list(INSTRUMENTS)

    def fee_schedule(self):
        from .fees import SCHEDULE

        return SCHEDULE
