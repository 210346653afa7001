"""Polymarket CLOB V2 (live since 2026-04-28: new exchange contracts, order struct and EIP-712
domain version "2", pUSD collateral, fees charged at match; V1-signed orders are refused).

Credentials (https://docs.polymarket.com/trading/overview): the EOA signer's private key
(L1: signs the EIP-712 ClobAuth message that creates or derives the API credentials, and every
order as EIP-712 typed data for the CTF exchange), the funder address (the wallet that holds
funds, for signature types 1 POLY_PROXY, 2 GNOSIS_SAFE and 3 POLY_1271 deposit wallets), the
signature type, and optional builder API credentials (they authenticate the relayer that
redeems resolved positions; a relayer API key and its address do too). L2 requests carry
POLY_ADDRESS, POLY_SIGNATURE (HMAC-SHA256), POLY_TIMESTAMP, POLY_API_KEY and POLY_PASSPHRASE.
Markets: a slug resolves to a condition id and one token id per outcome (Gamma API; see
symbols.py; a Protocol V2 market's position ids, traded through Exchange V3: signing.py);
``minimum_tick_size`` 0.01 (or 0.1 ... 0.0001), ``minimum_order_size`` 5 shares.
Settings ``[venues.polymarket]``: base_url (CLOB), ws_url (market channel), private_ws_url (user
channel; default ws_url's ``/ws/user`` sibling, else the production URL), gamma_url, data_url,
relayer_url, relayer_poll_s, chain_id (137; 80002 Amoy), markets (slugs to resolve and trade),
state_path (the signed-order log, default $SEQUENCE_HOME/polymarket/orders.jsonl), market_cache.
"""

from sequence_core.errors import CredentialError
from sequence_core.venues import CredentialField, Venue


class PolymarketVenue(Venue):
    name = "polymarket"
    title = "Polymarket"
    docs_url = "https://docs.polymarket.com/"
    credential_fields = (
        CredentialField("private_key", "Signer private key (EVM, hex)", kind="evm_private_key"),
        CredentialField("funder", "Funder wallet address (types 1, 2 and 3)", kind="evm_address", secret=False, optional=True),
        CredentialField("signature_type", "Signature type: 0 EOA, 1 POLY_PROXY, 2 GNOSIS_SAFE, 3 POLY_1271", kind="text",
                        secret=False, optional=True),
        CredentialField("builder_api_key", "Builder API key", kind="text", secret=False, optional=True),
        CredentialField("builder_secret", "Builder API secret", kind="secret", optional=True),
        CredentialField("builder_passphrase", "Builder API passphrase", kind="passphrase", optional=True),
        CredentialField("relayer_api_key", "Relayer API key (instead of builder credentials)", kind="secret", optional=True),
        CredentialField("relayer_api_key_address", "Address that owns the relayer API key", kind="evm_address",
                        secret=False, optional=True),
    )

    def validate_credentials(self, creds):
        clean = super().validate_credentials(creds)
        kind = clean.get("signature_type", "0")
        if kind not in ("0", "1", "2", "3"):
            raise CredentialError("signature_type: expected 0 (EOA), 1 (POLY_PROXY), 2 (GNOSIS_SAFE) or 3 (POLY_1271)")
        if kind in ("1", "2", "3") and "funder" not in clean:
            raise CredentialError("funder: required for signature types 1, 2 and 3 (the wallet holding your funds)")
        builder = [f for f in ("builder_api_key", "builder_secret", "builder_passphrase") if f in clean]
        if builder and len(builder) != 3:
            raise CredentialError("builder credentials need all three of builder_api_key, builder_secret, builder_passphrase")
        if ("relayer_api_key" in clean) != ("relayer_api_key_address" in clean):
            raise CredentialError("relayer credentials need both relayer_api_key and relayer_api_key_address")
        return clean

    # -- trading -------------------------------------------------------------------------------
    def execution_session(self, credentials, settings):
        from pathlib import Path

        from sequence_core.home import home_path
        from sequence_core.sentlog import SentLog

        from .execution import OrderRecord, PolymarketSession
        from .http import DEFAULT_BASE_URL, DEFAULT_DATA_URL, DEFAULT_GAMMA_URL, DataApi, Gamma, PolymarketClient
        from .relayer import DEFAULT_RELAYER_URL, Relayer
        from .signing import ApiCreds
        from .symbols import cache_path

        wallet = self.wallet(credentials, settings)
        builder = (ApiCreds(credentials["builder_api_key"], credentials["builder_secret"], credentials["builder_passphrase"])
                   if credentials.get("builder_api_key") else None)
        relayer_key = ((credentials["relayer_api_key"], credentials["relayer_api_key_address"])
                       if credentials.get("relayer_api_key") else None)
        state = Path(settings["state_path"]) if settings.get("state_path") else home_path() / "polymarket" / "orders.jsonl"
        return PolymarketSession(
            PolymarketClient(settings.get("base_url", DEFAULT_BASE_URL), wallet),
            Gamma(settings.get("gamma_url", DEFAULT_GAMMA_URL)), DataApi(settings.get("data_url", DEFAULT_DATA_URL)),
            Relayer(settings.get("relayer_url", DEFAULT_RELAYER_URL), builder, relayer_key,
                    poll_s=float(settings.get("relayer_poll_s", 2.0))),
            wallet, SentLog(state, OrderRecord), Path(settings["market_cache"]) if settings.get("market_cache") else cache_path(),
            dict(settings))

    @staticmethod
    def wallet(credentials, settings):
        from .signing import POLYGON, Wallet

        return Wallet(credentials["private_key"], int(credentials.get("signature_type") or 0),
                      credentials.get("funder") or None, int(settings.get("chain_id", POLYGON)))

    def market_data(self, settings):
        from .feed import PolymarketFeed

        return PolymarketFeed(dict(settings))

    async def heartbeat(self, credentials, config):
        """GET /time and /version; with credentials the L1-derived API key and a signed
        GET /balance-allowance; then the market websocket (subscribe one book, wait for it)."""
        from sequence_core.venues import probe

        from .http import DEFAULT_BASE_URL, PolymarketClient
        from .symbols import INSTRUMENTS

        wallet = self.wallet(credentials, config) if credentials.get("private_key") else None
        client = PolymarketClient(config.get("base_url", DEFAULT_BASE_URL), wallet, timeout_s=4)

        async def calls():
            try:
                await client.server_time_ms()
                version = await client.version()
                if wallet is not None:
                    await client.collateral()
                return version
            finally:
                await client.close()
        return await probe(calls, "time + version + L1-derived key + signed balance", self.market_data(config), INSTRUMENTS[0])

    # -- markets -------------------------------------------------------------------------------
    _unknown: set = set()        # configured slugs Gamma did not resolve in this process

    def instruments(self):
        """The declared markets, every market resolved before (the cache), and the slugs listed
        in ``[venues.polymarket] markets`` (resolved through Gamma once, then cached)."""
        from .symbols import INSTRUMENTS, instruments_of, load_cache

        cached = load_cache()
        wanted = [s for s in self._configured() if s not in cached and s not in self._unknown
                  and not any(i.symbol == s for i in INSTRUMENTS)]
        if wanted:
            found = self._resolve(wanted)
            self._unknown.update(set(wanted) - set(found))     # asked once per process, not per listing
            cached.update(found)
        declared = {i.symbol for i in INSTRUMENTS}
        return [*INSTRUMENTS, *(i for slug, mk in cached.items() if slug not in declared for i in instruments_of(mk))]

    @staticmethod
    def _configured() -> list[str]:
        from sequence_core.home import home_path

        if not (home_path() / "config.toml").exists():
            return []                                   # no home yet: never create one from here
        try:
            from sequence_core.config import load_config, venue_settings

            return [str(s) for s in venue_settings("polymarket", load_config()).get("markets", [])]
        except Exception:  # noqa: BLE001 - listing markets never fails on a bad config
            return []

    @staticmethod
    def _resolve(slugs: list[str]) -> dict:
        """Gamma lookups for new slugs (bounded; a slug Gamma does not know is skipped)."""
        import logging

        from sequence_core.config import venue_settings
        from sequence_core.errors import SequenceError
        from sequence_core.feeds import _run_sync

        from .http import DEFAULT_GAMMA_URL, Gamma
        from .symbols import from_gamma, save_market

        gamma_url = venue_settings("polymarket").get("gamma_url", DEFAULT_GAMMA_URL)

        async def lookup():
            gamma, found = Gamma(gamma_url, timeout_s=5), {}
            try:
                for slug in slugs:
                    try:
                        mk = from_gamma(await gamma.market_by_slug(slug) or {})
                    except SequenceError as exc:
                        logging.getLogger("sequence.polymarket").warning("polymarket: cannot resolve %s: %s", slug, exc)
                        continue
                    if mk is not None:
                        save_market(mk)
                        found[slug] = mk
            finally:
                await gamma.close()
            return found
        try:
            return _run_sync(lookup, 15) or {}
        except Exception:  # noqa: BLE001 - resolution is best effort; the declared markets remain
            return {}

    fees_by_market = True            # each market sets its own fee parameters (fees.py)

    def fee_schedule(self):
        from .fees import SCHEDULE

        return SCHEDULE

    def fee_schedule_for(self, instrument):
        """The market's schedule as last read (``PolymarketSession.prepare``), else the general one."""
        from .fees import FD, schedule_for

        return schedule_for(FD.get(instrument.venue_symbol))

    def fee(self, instrument, price, qty, liquidity):
        from .fees import FD, market_fee

        return market_fee(price, qty, liquidity, FD.get(instrument.venue_symbol))
