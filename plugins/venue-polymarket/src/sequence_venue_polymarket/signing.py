"""Polymarket CLOB V2 authentication and order signing, as the official V2 SDKs do it.

Sources: py-clob-client-v2 (github.com/Polymarket/py-clob-client-v2 @ b0a97fa, 2026-05-04) and
clob-client-v2 (github.com/Polymarket/clob-client-v2 @ f3e1a05, 2026-07-17); docs
https://docs.polymarket.com/api-reference/authentication and /v2-migration.

L1 (creating/deriving API credentials): EIP-712 ``ClobAuth(address address,string timestamp,
uint256 nonce,string message)`` in domain {name "ClobAuthDomain", version "1", chainId}
(ClobAuth stays at version "1" in V2), message "This message attests that I control the given
wallet"; headers POLY_ADDRESS, POLY_SIGNATURE, POLY_TIMESTAMP (unix seconds), POLY_NONCE.
L2 (everything else): POLY_SIGNATURE = urlsafe-base64(HMAC-SHA256(base64url-decode(secret),
timestamp + METHOD + requestPath + body)), the query string not included, the body exactly as
sent (compact JSON); with POLY_ADDRESS (the signer), POLY_TIMESTAMP, POLY_API_KEY, POLY_PASSPHRASE.
Builder/relayer headers POLY_BUILDER_* use the same HMAC.

Orders (V2, domain {name "Polymarket CTF Exchange", version "2", chainId 137,
verifyingContract = CTF Exchange V2, or the Neg Risk CTF Exchange V2 for neg-risk markets}):
``Order(uint256 salt,address maker,address signer,uint256 tokenId,uint256 makerAmount,uint256
takerAmount,uint8 side,uint8 signatureType,uint256 timestamp,bytes32 metadata,bytes32 builder)``
— V1's taker, nonce, feeRateBps and (signed) expiration are gone; ``expiration`` still travels in
the JSON (GTD). Side BUY 0 / SELL 1. Signature types: 0 EOA (maker = signer), 1 POLY_PROXY and
2 POLY_GNOSIS_SAFE (maker = the funder wallet, signer = the EOA), 3 POLY_1271 (deposit wallet:
maker = signer = the wallet; the EOA signs ``TypedDataSign(Order contents,string name,string
version,uint256 chainId,address verifyingContract,bytes32 salt)`` for "DepositWallet" "1" and
the signature is inner(65) || app domain separator || contents hash || type string || uint16 len).
The CLOB reports its order version at ``GET /version``; the TS SDK also signs version 3
(domain version "3", Exchange V3, same struct), which is supported here the same way.
Polymarket Protocol V2 markets (https://docs.polymarket.com/protocol-v2-migration and
/migrate/polymarket-v2/api-integrations) trade position ids, and "V2 orders use ExchangeV3,
signing domain version "3"" (one exchange for binary and neg-risk markets), whatever
``/version`` says for CTF tokens. A position id is told from a CTF token id as both official
clients do (clob-client-v2 src/protocol.ts ``isV2PositionId``, with ``resolveOrderRouting``
sending position ids to version 3; ts-sdk ``createOrderRouting``): bits 40..103 of the uint256
are all zero, which a CTF token id (a hash) never has.
The order id the CLOB answers is the EIP-712 digest of the order, so a salt derived from the
engine's client order id makes a retried place recognisable.
Amounts are 6-decimal integers, rounded as the SDK does per tick size (ROUNDING below):
limit orders round the size down to 2 decimals and the notional down to the tick's amount
decimals; FOK/FAK ("market") orders round the price down, and a BUY's maker amount (dollars)
to 2 decimals.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

import msgspec

from sequence_core.keys import evm_address_of, keccak256, to_checksum_address

from sequence_core import evm as eip712

POLYGON, AMOY = 137, 80002
ZERO32 = "0x" + "00" * 32
ZERO_ADDRESS = "0x" + "00" * 20
CLOB_AUTH_MESSAGE = "This message attests that I control the given wallet"
CLOB_AUTH_TYPES = {"ClobAuth": [("address", "address"), ("timestamp", "string"), ("nonce", "uint256"), ("message", "string")]}
ORDER_FIELDS = [("salt", "uint256"), ("maker", "address"), ("signer", "address"), ("tokenId", "uint256"),
                ("makerAmount", "uint256"), ("takerAmount", "uint256"), ("side", "uint8"), ("signatureType", "uint8"),
                ("timestamp", "uint256"), ("metadata", "bytes32"), ("builder", "bytes32")]
ORDER_TYPES = {"Order": ORDER_FIELDS,
               "TypedDataSign": [("contents", "Order"), ("name", "string"), ("version", "string"), ("chainId", "uint256"),
                                 ("verifyingContract", "address"), ("salt", "bytes32")]}
EXCHANGE_NAME = "Polymarket CTF Exchange"
EOA, POLY_PROXY, POLY_GNOSIS_SAFE, POLY_1271 = 0, 1, 2, 3

# py-clob-client-v2 config.py / clob-client-v2 src/config.ts (exchange V3: TS only)
CONTRACTS = {
    POLYGON: {"exchange_v2": "0xE111180000d2663C0091e4f400237545B87B996B",
              "neg_risk_exchange_v2": "0xe2222d279d744050d28e00520010520000310F59",
              "exchange_v3": "0xe3333700cA9d93003F00f0F71f8515005F6c00Aa",
              "collateral": "0xC011a7E12a19f7B1f670d46F03B03f3342E82DFB",          # pUSD
              "conditional_tokens": "0x4D97DCd97eC945f40cF65F87097ACe5EA0476045"},
    AMOY: {"exchange_v2": "0xE111180000d2663C0091e4f400237545B87B996B",
           "neg_risk_exchange_v2": "0xe2222d279d744050d28e00520010520000310F59",
           "exchange_v3": "0x9fE6e61422AdB6F610d8597F9684b16912D50C3D",
           "collateral": "0xC011a7E12a19f7B1f670d46F03B03f3342E82DFB",
           "conditional_tokens": "0x69308FB512518e39F9b16112fA8d994F4e2Bf8bB"},
}
SIGNED_VERSIONS = (2, 3)
V2_RESERVED_BITS = ((1 << 64) - 1) << 40

# tick size -> decimals of (price, size, amount): clob-client-v2 roundingConfig.ts
ROUNDING = {"0.1": (1, 2, 3), "0.01": (2, 2, 4), "0.005": (3, 2, 5), "0.0025": (4, 2, 6),
            "0.001": (3, 2, 5), "0.0001": (4, 2, 6)}
UNIT = Decimal(10) ** 6


class ApiCreds(msgspec.Struct, frozen=True):
    api_key: str
    secret: str
    passphrase: str

    def __repr__(self) -> str:
        return "ApiCreds(<hidden>)"


class Wallet:
    """The signer key, the funder wallet and how orders name them (signature type)."""

    def __init__(self, private_key: str, signature_type: int = EOA, funder: str | None = None, chain_id: int = POLYGON):
        self._key = bytes.fromhex(private_key.removeprefix("0x"))
        self.address = evm_address_of(self._key)
        self.signature_type = int(signature_type)
        self.funder = to_checksum_address(funder) if funder else self.address
        self.chain_id = chain_id

    def __repr__(self) -> str:
        return f"Wallet({self.address})"

    def sign(self, digest32: bytes) -> bytes:
        return eip712.sign_digest(self._key, digest32)

    def sign_personal(self, message: bytes) -> bytes:
        return eip712.sign_digest(self._key, eip712.personal_digest(message))


# -- L1 / L2 -----------------------------------------------------------------------------------
def clob_auth_digest(address: str, timestamp: int, nonce: int, chain_id: int) -> bytes:
    message = {"address": address, "timestamp": str(timestamp), "nonce": nonce, "message": CLOB_AUTH_MESSAGE}
    return eip712.digest({"name": "ClobAuthDomain", "version": "1", "chainId": chain_id}, "ClobAuth", message, CLOB_AUTH_TYPES)


def l1_headers(wallet: Wallet, timestamp: int, nonce: int = 0) -> dict:
    sig = wallet.sign(clob_auth_digest(wallet.address, timestamp, nonce, wallet.chain_id))
    return {"POLY_ADDRESS": wallet.address, "POLY_SIGNATURE": "0x" + sig.hex(), "POLY_TIMESTAMP": str(timestamp),
            "POLY_NONCE": str(nonce)}


def hmac_signature(secret: str, timestamp: int | str, method: str, request_path: str, body: str = "") -> str:
    key = base64.urlsafe_b64decode(secret + "=" * (-len(secret) % 4))
    message = f"{timestamp}{method}{request_path}{body or ''}"
    return base64.urlsafe_b64encode(hmac.new(key, message.encode(), hashlib.sha256).digest()).decode()


def l2_headers(address: str, creds: ApiCreds, timestamp: int, method: str, request_path: str, body: str = "") -> dict:
    return {"POLY_ADDRESS": address, "POLY_SIGNATURE": hmac_signature(creds.secret, timestamp, method, request_path, body),
            "POLY_TIMESTAMP": str(timestamp), "POLY_API_KEY": creds.api_key, "POLY_PASSPHRASE": creds.passphrase}


def builder_headers(creds: ApiCreds, timestamp: int, method: str, request_path: str, body: str = "") -> dict:
    return {"POLY_BUILDER_API_KEY": creds.api_key, "POLY_BUILDER_PASSPHRASE": creds.passphrase,
            "POLY_BUILDER_SIGNATURE": hmac_signature(creds.secret, timestamp, method, request_path, body),
            "POLY_BUILDER_TIMESTAMP": str(timestamp)}


# -- amounts -------------------------------------------------------------------------------------
def _round(x: Decimal, places: int, mode) -> Decimal:
    return x.quantize(Decimal(1).scaleb(-places), rounding=mode)


def _cap(x: Decimal, places: int) -> Decimal:
    """The SDK's "round up at amount+4 decimals, then down at amount" (float-noise guard): exact
    in Decimal, so only the final round-down remains."""
    return _round(x, places, ROUND_DOWN) if -x.as_tuple().exponent > places else x


def order_amounts(side: str, size: Decimal, price: Decimal, tick: str, market: bool = False) -> tuple[int, int]:
    """(makerAmount, takerAmount) in 6-decimal units. Limit orders: getOrderRawAmounts; FOK/FAK:
    getMarketOrderRawAmounts with ``size`` in shares (a BUY spends size x price dollars)."""
    if tick not in ROUNDING:
        raise ValueError(f"unknown tick size {tick} (known: {', '.join(ROUNDING)})")
    p_dec, s_dec, a_dec = ROUNDING[tick]
    px = _round(price, p_dec, ROUND_DOWN if market else ROUND_HALF_UP)
    if side == "buy" and market:
        maker = _round(size * px, s_dec, ROUND_DOWN)            # dollars, 2 decimals
        taker = _cap(maker / px, a_dec)
    elif side == "buy":
        taker = _round(size, s_dec, ROUND_DOWN)
        maker = _cap(taker * px, a_dec)
    else:
        maker = _round(size, s_dec, ROUND_DOWN)
        taker = _cap(maker * px, a_dec)
    return int(maker * UNIT), int(taker * UNIT)


def salt_for(client_order_id: str) -> int:
    """A salt that is a pure function of the client order id (48 bits: exact in JSON numbers)."""
    return int.from_bytes(keccak256(b"sequence-polymarket:" + client_order_id.encode())[:6], "big")


# -- orders --------------------------------------------------------------------------------------
def is_v2_position_id(asset_id: str) -> bool:
    """A Protocol V2 position id (traded through Exchange V3), not a CTF token id."""
    text = str(asset_id).strip()
    if not text.isdigit():
        return False
    value = int(text)
    return value < 1 << 256 and not value & V2_RESERVED_BITS


def order_version(asset_id: str, clob_version: int) -> int:
    """The version to sign an order for this asset: 3 for a V2 position, else the CLOB's."""
    return 3 if is_v2_position_id(asset_id) else clob_version


def exchange_address(version: int, neg_risk: bool, chain_id: int = POLYGON) -> str:
    c = CONTRACTS[chain_id]
    if version == 3:
        return c["exchange_v3"]
    if version == 2:
        return c["neg_risk_exchange_v2"] if neg_risk else c["exchange_v2"]
    raise ValueError(f"order version {version} is not signed here (accepted: {SIGNED_VERSIONS})")


def domain(version: int, neg_risk: bool, chain_id: int = POLYGON) -> dict:
    return {"name": EXCHANGE_NAME, "version": str(version), "chainId": chain_id,
            "verifyingContract": exchange_address(version, neg_risk, chain_id)}


def order_message(order: dict) -> dict:
    """The EIP-712 message of an order as it travels in JSON (side "BUY"/"SELL")."""
    return {"salt": int(order["salt"]), "maker": order["maker"], "signer": order["signer"], "tokenId": int(order["tokenId"]),
            "makerAmount": int(order["makerAmount"]), "takerAmount": int(order["takerAmount"]),
            "side": 0 if order["side"] == "BUY" else 1, "signatureType": int(order["signatureType"]),
            "timestamp": int(order["timestamp"]), "metadata": order["metadata"], "builder": order["builder"]}


def order_hash(order: dict, version: int, neg_risk: bool, chain_id: int = POLYGON) -> str:
    """The order's EIP-712 digest: what the CLOB answers as ``orderID``."""
    return "0x" + eip712.digest(domain(version, neg_risk, chain_id), "Order", order_message(order), ORDER_TYPES).hex()


def _poly_1271(wallet: Wallet, message: dict, dom: dict) -> str:
    contents = eip712.hash_struct("Order", message, ORDER_TYPES)
    inner = wallet.sign(eip712.digest(dom, "TypedDataSign", {
        "contents": message, "name": "DepositWallet", "version": "1", "chainId": dom["chainId"],
        "verifyingContract": message["signer"], "salt": ZERO32}, ORDER_TYPES))
    type_string = eip712.encode_type("Order", ORDER_TYPES)
    return ("0x" + inner.hex() + eip712.domain_separator(dom).hex() + contents.hex() + type_string.encode().hex()
            + len(type_string).to_bytes(2, "big").hex())


def sign_order(wallet: Wallet, order: dict, version: int, neg_risk: bool) -> str:
    dom = domain(version, neg_risk, wallet.chain_id)
    message = order_message(order)
    if message["signatureType"] == POLY_1271:
        return _poly_1271(wallet, message, dom)
    return "0x" + wallet.sign(eip712.digest(dom, "Order", message, ORDER_TYPES)).hex()


def build_order(wallet: Wallet, *, token_id: str, side: str, size: Decimal, price: Decimal, tick: str, neg_risk: bool,
                version: int, salt: int, timestamp_ms: int, market: bool = False, expiration: int = 0,
                builder: str = ZERO32, metadata: str = ZERO32) -> tuple[dict, str]:
    """A signed V2 order as ``POST /order`` carries it, and its hash (the order id)."""
    maker_amount, taker_amount = order_amounts(side, size, price, tick, market)
    maker = wallet.funder
    signer = wallet.funder if wallet.signature_type == POLY_1271 else wallet.address
    if wallet.signature_type == EOA:
        maker = wallet.address
    order = {"salt": salt, "maker": maker, "signer": signer, "tokenId": str(token_id), "makerAmount": str(maker_amount),
             "takerAmount": str(taker_amount), "side": "BUY" if side == "buy" else "SELL", "expiration": str(expiration),
             "signatureType": wallet.signature_type, "timestamp": str(timestamp_ms), "metadata": metadata, "builder": builder}
    order["signature"] = sign_order(wallet, order, version, neg_risk)
    return order, order_hash(order, version, neg_risk, wallet.chain_id)
