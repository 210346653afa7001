"""DEX swaps on Ethereum mainnet and Arbitrum through Uniswap v3 (quoter + router).

Credentials: an EVM private key that signs EIP-1559 (type 0x02) transactions, and
optionally a JSON-RPC URL per chain. Quotes come from the QuoterV2 contract for an exact
size (a BBO for that size); swaps go to SwapRouter02 with a slippage-bounded
``amountOutMinimum``; fills come from transaction receipts.
Symbols: ``ETH-USDC`` on Arbitrum (the ``dex:arb`` label), venue symbol
``arbitrum:WETH/USDC:500`` (chain, pair, pool fee in hundredths of a bip).
"""

from sequence_core.venues import CredentialField, Venue


class DexEthereumVenue(Venue):
    name = "dex_ethereum"
    title = "DEX (Ethereum, Arbitrum)"
    docs_url = "https://docs.uniswap.org/contracts/v3/overview"
    credential_fields = (
        CredentialField("private_key", "Wallet private key (hex)", kind="evm_private_key"),
        CredentialField("rpc_url_ethereum", "Ethereum JSON-RPC URL", kind="url", secret=False, optional=True),
        CredentialField("rpc_url_arbitrum", "Arbitrum JSON-RPC URL", kind="url", secret=False, optional=True),
    )

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
