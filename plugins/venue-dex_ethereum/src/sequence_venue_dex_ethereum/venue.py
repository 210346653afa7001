"""DEX swaps on Arbitrum One and Ethereum mainnet through Uniswap v3 (QuoterV2 + SwapRouter02).

Credentials: the wallet's EVM private key (signs EIP-1559 type-2 transactions, never leaves
this process) and optionally a JSON-RPC URL per chain (``rpc_url_arbitrum`` /
``rpc_url_ethereum``; a provider URL often carries its key, so it is never printed).
Settings ``[venues.dex_ethereum]``: ``chain`` (``arbitrum`` default, chain id 42161, positions
label ``dex:arb``; or ``ethereum``, chain 1, ``dex:eth``), ``rpc_url`` (else the credential, else
Arbitrum's public https://arb1.arbitrum.io/rpc), ``slippage_bps`` (market orders, default 50),
``quote_size`` (the size quotes are for), ``state_path`` (the signed-transaction journal, default
``$SEQUENCE_HOME/dex_ethereum/sent.jsonl``), ``timeout_s``, ``rpc_rps`` (client-side request
budget, default 25/s), ``approve_wait_s``, ``cancel_wait_s``, ``native_eth`` (``auto`` default:
a sell of ETH spends WETH when the WETH covers it, else native ETH; ``always``: sells spend and
buys deliver native ETH; ``never``: WETH only - execution.py has the rule).
Symbols: ``ETH-USDC`` is ``arbitrum:WETH/USDC:500`` (chain, pool tokens, fee tier in hundredths
of a bip). See contracts.py (addresses, ABI), signing.py (EIP-1559), http.py (JSON-RPC and its
errors), execution.py (order decisions), feed.py (quotes as the book).
"""

from sequence_core.venues import CredentialField, Venue


def _configured() -> dict:
    """``[venues.dex_ethereum]`` if a home with a config exists (never creates one)."""
    from sequence_core.home import home_path

    if not (home_path() / "config.toml").exists():
        return {}
    try:
        from sequence_core.config import load_config, venue_settings

        return dict(venue_settings("dex_ethereum", load_config()))
    except Exception:  # noqa: BLE001 - listing instruments never fails on a bad config
        return {}


def _stored_credentials() -> dict:
    """The connected credentials without prompting (the feed needs the RPC URL; an encrypted store
    without SEQUENCE_PASSPHRASE simply yields none)."""
    try:
        from sequence_core.credentials import CredentialStore

        found = CredentialStore().get("dex_ethereum", [f.name for f in DexEthereumVenue.credential_fields])
        return dict(found[0]) if found else {}
    except Exception:  # noqa: BLE001
        return {}


def rpc_url(chain, settings, credentials) -> str:
    return (settings.get(f"rpc_url_{chain.name}") or settings.get("rpc_url")
            or credentials.get(f"rpc_url_{chain.name}") or chain.default_rpc)


class DexEthereumVenue(Venue):
    name = "dex_ethereum"
    title = "DEX (Ethereum, Arbitrum)"
    docs_url = "https://docs.uniswap.org/contracts/v3/overview"
    credential_fields = (
        CredentialField("private_key", "Wallet private key (hex)", kind="evm_private_key"),
        CredentialField("rpc_url_ethereum", "Ethereum JSON-RPC URL", kind="url", secret=False, optional=True),
        CredentialField("rpc_url_arbitrum", "Arbitrum JSON-RPC URL", kind="url", secret=False, optional=True),
    )

    # -- trading -------------------------------------------------------------------------------
    def execution_session(self, credentials, settings):
        from pathlib import Path

        from sequence_core.home import home_path
        from sequence_core.keys import parse_evm_private_key
        from sequence_core.sentlog import SentLog

        from .contracts import chain_of
        from .execution import DexSession, TxRecord
        from .http import RpcClient

        chain = chain_of(settings)
        state = Path(settings["state_path"]) if settings.get("state_path") else home_path() / "dex_ethereum" / "sent.jsonl"
        client = RpcClient(rpc_url(chain, settings, credentials), timeout_s=float(settings.get("timeout_s", 10)),
                           requests_per_s=float(settings.get("rpc_rps", 25)))
        return DexSession(client, parse_evm_private_key("private_key", credentials["private_key"]), chain,
                          SentLog(state, TxRecord), dict(settings))

    def market_data(self, settings):
        from .contracts import chain_of
        from .feed import DexFeed

        chain = chain_of(settings)
        return DexFeed(dict(settings), rpc_url(chain, settings, _stored_credentials()))

    async def heartbeat(self, credentials, config):
        """eth_chainId (must be the configured chain), eth_blockNumber and, with a key, the
        wallet's native balance (eth_getBalance)."""
        import msgspec

        from sequence_core.errors import VenueError
        from sequence_core.keys import evm_address_of, parse_evm_private_key
        from sequence_core.venues import probe

        from .contracts import chain_of
        from .http import RpcClient

        chain = chain_of(config)
        client = RpcClient(rpc_url(chain, config, credentials), timeout_s=4)
        seen: list[str] = []

        async def calls():
            try:
                found = await client.chain_id()
                if found != chain.chain_id:
                    raise VenueError(f"dex_ethereum: the RPC node is chain {found}, expected {chain.name} ({chain.chain_id})")
                seen.append(f"chain {found} block {await client.block_number()}")
                if credentials.get("private_key"):
                    wallet = evm_address_of(parse_evm_private_key("private_key", credentials["private_key"]))
                    seen.append(f"wallet {await client.balance(wallet) / 10**18:.6f} ETH")
            finally:
                await client.close()
        beat = await probe(calls, "")
        return msgspec.structs.replace(beat, detail=f"{chain.label}: " + "; ".join(seen))

    def label(self, settings) -> str:
        from .contracts import chain_of

        try:
            return chain_of(settings).label
        except Exception:  # noqa: BLE001 - a bad chain setting is reported where it is used
            return "dex"

    # -- declarations (loaded on first use: listing venues never needs them) -------------------
    def instruments(self):
        from .contracts import CHAINS
        from .symbols import instruments_for

        chain = str(_configured().get("chain", "arbitrum")).lower()
        return list(instruments_for(chain if chain in CHAINS else "arbitrum"))

    def fee_schedule(self):
        from .fees import SCHEDULE

        return SCHEDULE

    def fee(self, instrument, price, qty, liquidity):
        from .fees import fee_for

        return fee_for(instrument.venue_symbol, price, qty, liquidity)
