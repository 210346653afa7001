"""Hyperliquid (L1 perpetuals exchange).

Credentials (https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/exchange-endpoint):
an EVM private key: the main wallet's, or an API ("agent") wallet's approved by it, in which
case the main account address is needed to read state. L1 actions are signed as the
official SDK does: msgpack of the action + nonce (+ vault) hashed with keccak into a
"phantom agent" that is signed with EIP-712 (domain "Exchange", chainId 1337).
Assets: perps by index from the ``meta`` info request; sizes to ``szDecimals``, prices to 5
significant figures and at most 6 - szDecimals decimals (ticks here are at the reference
prices: BTC 1, ETH 0.1, SOL 0.01). Margin and collateral in USDC.
"""

from sequence_core.venues import CredentialField, Venue


class HyperliquidVenue(Venue):
    name = "hyperliquid"
    title = "Hyperliquid"
    docs_url = "https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api"
    credential_fields = (
        CredentialField("private_key", "Private key (main or API wallet, hex)", kind="evm_private_key"),
        CredentialField("account_address", "Main account address (when the key is an API wallet)", kind="evm_address", secret=False, optional=True),
        CredentialField("vault_address", "Vault address (to trade for a vault)", kind="evm_address", secret=False, optional=True),
    )

    # symbols.py and fees.py load on first use: listing venues never needs them
    def instruments(self):
        from .symbols import INSTRUMENTS

        return list(INSTRUMENTS)

    def fee_schedule(self):
        from .fees import SCHEDULE

        return SCHEDULE
