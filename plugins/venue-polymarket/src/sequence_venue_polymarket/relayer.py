"""Redeeming resolved positions through Polymarket's relayer (gasless wallet transactions).

Docs: https://docs.polymarket.com/trading/ctf/redeem, /trading/gasless and
/developers/builders/relayer-client; the official client github.com/Polymarket/
builder-relayer-client (@c42a054: src/builder/safe.ts, proxy.ts, derive.ts, client.ts) and its
test vectors. Relayer https://relayer-v2.polymarket.com: ``GET /deployed?address=``,
``GET /nonce?address=<EOA>&type=SAFE``, ``GET /relay-payload?address=<EOA>&type=PROXY``
({address: relay, nonce}), ``POST /submit`` (authenticated: POLY_BUILDER_API_KEY,
POLY_BUILDER_PASSPHRASE, POLY_BUILDER_TIMESTAMP, POLY_BUILDER_SIGNATURE = the CLOB's L2 HMAC
with the builder secret; or RELAYER_API_KEY + RELAYER_API_KEY_ADDRESS) -> {transactionID,
state}, ``GET /transaction?id=`` -> [{state, transactionHash}], states STATE_NEW, EXECUTED,
MINED, CONFIRMED (done) or FAILED, INVALID. /submit is limited to 25 requests a minute.

The call: in V2 (pUSD collateral) positions are redeemed through the collateral adapters,
``redeemPositions(address collateralToken, bytes32 parentCollectionId, bytes32 conditionId,
uint256[] indexSets)`` on the CtfCollateralAdapter (neg-risk markets: the
NegRiskCtfCollateralAdapter) with collateral pUSD, parent 0x0 and index sets [1, 2] — it burns
the outcome tokens through the CTF and pays pUSD to the wallet.
Safe wallets (signature type 2): SafeTx EIP-712 digest {chainId, verifyingContract: the Safe}
signed with personal_sign, v + 4 (Gnosis "eth_sign" flavour), operation 0 (one call).
Proxy wallets (type 1): keccak256("rlx:" ++ from ++ proxy factory ++ data ++ fee ++ gasPrice ++
gasLimit ++ nonce ++ relay hub ++ relay) signed with personal_sign; the data is the factory's
``proxy((uint8,address,uint256,bytes)[])``. EOAs (type 0) pay gas themselves and deposit
wallets (type 3) use another factory batch: neither goes through this path here.
"""

from __future__ import annotations

import asyncio
import time

import msgspec

from sequence_core.errors import AuthenticationError, InvalidOrder, SequenceError, VenueError
from sequence_core.keys import keccak256, to_checksum_address
from sequence_core.rest import VenueClient

from sequence_core import evm as eip712
from .signing import CONTRACTS, POLY_GNOSIS_SAFE, POLY_PROXY, POLYGON, ZERO32, ZERO_ADDRESS, ApiCreds, Wallet, builder_headers

DEFAULT_RELAYER_URL = "https://relayer-v2.polymarket.com"
SAFE_FACTORY = "0xaacFeEa03eb1561C4e67d661e40682Bd20E3541b"
SAFE_INIT_CODE_HASH = "0x2bce2127ff07fb632d16c8347c4ebf501f4841168bed00d9e6ef715ddb6fcecf"
PROXY_FACTORY = "0xaB45c5A4B0c941a2F231C04C3f49182e1A254052"
PROXY_INIT_CODE_HASH = "0xd21df8dc65880a8606f09fe0ce3df9b8869287ab0b058be05aa9e8af6330a00b"
RELAY_HUB = "0xD216153c06E857cD7f72665E0aF1d7D82172F494"
CTF_COLLATERAL_ADAPTER = "0xADa100874d00e3331D00F2007a9c336a65009718"
NEG_RISK_CTF_COLLATERAL_ADAPTER = "0xAdA200001000ef00D07553cEE7006808F895c6F1"
PROXY_GAS_LIMIT = 10_000_000          # the client's fallback when it cannot estimate gas (no RPC here)
SAFE_TX = {"SafeTx": [("to", "address"), ("value", "uint256"), ("data", "bytes"), ("operation", "uint8"),
                      ("safeTxGas", "uint256"), ("baseGas", "uint256"), ("gasPrice", "uint256"), ("gasToken", "address"),
                      ("refundReceiver", "address"), ("nonce", "uint256")]}
REDEEM = "redeemPositions(address,bytes32,bytes32,uint256[])"
PROXY_CALL = "proxy((uint8,address,uint256,bytes)[])"
DONE, FAILED = ("STATE_MINED", "STATE_CONFIRMED"), ("STATE_FAILED", "STATE_INVALID")


def derive_safe(owner: str) -> str:
    return eip712.create2_address(SAFE_FACTORY, keccak256(eip712.word("address", owner)), SAFE_INIT_CODE_HASH)


def derive_proxy(owner: str) -> str:
    return eip712.create2_address(PROXY_FACTORY, keccak256(bytes.fromhex(owner[2:])), PROXY_INIT_CODE_HASH)


def redeem_call(condition_id: str, neg_risk: bool) -> tuple[str, str]:
    """(adapter, calldata) redeeming both outcomes of a condition for pUSD."""
    adapter = NEG_RISK_CTF_COLLATERAL_ADAPTER if neg_risk else CTF_COLLATERAL_ADAPTER
    data = eip712.call_data(REDEEM, ["address", "bytes32", "bytes32", "uint256[]"],
                            [CONTRACTS[POLYGON]["collateral"], ZERO32, condition_id, [1, 2]])
    return adapter, "0x" + data.hex()


def safe_tx_digest(safe: str, to: str, data: str, nonce: int, chain_id: int = POLYGON, operation: int = 0) -> bytes:
    message = {"to": to, "value": 0, "data": data, "operation": operation, "safeTxGas": 0, "baseGas": 0, "gasPrice": 0,
               "gasToken": ZERO_ADDRESS, "refundReceiver": ZERO_ADDRESS, "nonce": nonce}
    return eip712.digest({"chainId": chain_id, "verifyingContract": safe}, "SafeTx", message, SAFE_TX)


def pack_safe_signature(sig: bytes) -> str:
    """builder-relayer-client splitAndPackSig: v 27/28 -> 31/32 (v 0/1 -> 31/32)."""
    v = sig[64] + 4 if sig[64] >= 27 else sig[64] + 31
    return "0x" + sig[:64].hex() + bytes([v]).hex()


def safe_request(wallet: Wallet, to: str, data: str, nonce: str, metadata: str = "") -> dict:
    safe = derive_safe(wallet.address)
    digest = safe_tx_digest(safe, to, data, int(nonce), wallet.chain_id)
    return {"from": wallet.address, "to": to, "proxyWallet": safe, "data": data, "nonce": str(nonce),
            "signature": pack_safe_signature(wallet.sign_personal(digest)),
            "signatureParams": {"gasPrice": "0", "operation": "0", "safeTxnGas": "0", "baseGas": "0",
                                "gasToken": ZERO_ADDRESS, "refundReceiver": ZERO_ADDRESS},
            "type": "SAFE", "metadata": metadata}


def proxy_struct_hash(sender: str, data: str, gas_limit: int, nonce: int, relay: str, gas_price: int = 0, fee: int = 0) -> bytes:
    raw = (b"rlx:" + bytes.fromhex(sender[2:]) + bytes.fromhex(PROXY_FACTORY[2:]) + bytes.fromhex(data[2:])
           + fee.to_bytes(32, "big") + gas_price.to_bytes(32, "big") + gas_limit.to_bytes(32, "big")
           + nonce.to_bytes(32, "big") + bytes.fromhex(RELAY_HUB[2:]) + bytes.fromhex(relay[2:]))
    return keccak256(raw)


def proxy_request(wallet: Wallet, to: str, call: str, nonce: str, relay: str, metadata: str = "",
                  gas_limit: int = PROXY_GAS_LIMIT) -> dict:
    data = "0x" + eip712.call_data(PROXY_CALL, [[("uint8", "address", "uint256", "bytes")]], [[(1, to, 0, call)]]).hex()
    sig = wallet.sign_personal(proxy_struct_hash(wallet.address, data, gas_limit, int(nonce), relay))
    return {"from": wallet.address, "to": PROXY_FACTORY, "proxyWallet": derive_proxy(wallet.address), "data": data,
            "nonce": str(nonce), "signature": "0x" + sig.hex(),
            "signatureParams": {"gasPrice": "0", "gasLimit": str(gas_limit), "relayerFee": "0", "relayHub": RELAY_HUB,
                                "relay": to_checksum_address(relay)},
            "type": "PROXY", "metadata": metadata}


def relayer_error(status: int, body) -> SequenceError:
    message = body.get("error") or body.get("message") if isinstance(body, dict) else None
    message = message or f"HTTP {status}"
    if status in (401, 403):
        return AuthenticationError(f"polymarket relayer rejected the builder/relayer credentials: {message} (HTTP {status})")
    return VenueError(f"polymarket relayer refused the transaction: {message} (HTTP {status})")


def _field(data, name: str, path: str) -> str:
    if not isinstance(data, dict) or data.get(name) in (None, ""):
        raise VenueError(f"polymarket relayer sent a malformed answer to GET {path} (no {name})")
    return str(data[name])


class Relayer(VenueClient):
    venue = "polymarket"
    limits_per_period = {"/submit": 25}
    period_s = 60.0

    def __init__(self, base_url: str = DEFAULT_RELAYER_URL, builder: ApiCreds | None = None,
                 relayer_key: tuple[str, str] | None = None, timeout_s: float = 10.0, poll_s: float = 2.0, polls: int = 30):
        self.builder, self.relayer_key, self.poll_s, self.polls = builder, relayer_key, poll_s, polls
        super().__init__(base_url, relayer_error, timeout_s)

    def _auth(self, method: str, path: str, body: str) -> dict:
        if self.builder is not None:
            return builder_headers(self.builder, int(time.time()), method, path, body)
        if self.relayer_key is not None:
            return {"RELAYER_API_KEY": self.relayer_key[0], "RELAYER_API_KEY_ADDRESS": self.relayer_key[1]}
        raise AuthenticationError("polymarket: redeeming through the relayer needs builder API credentials "
                                  "(builder_api_key, builder_secret, builder_passphrase) or a relayer API key")

    async def submit(self, request: dict) -> dict:
        body = msgspec.json.encode(request).decode()
        headers = {**self._auth("POST", "/submit", body), "Content-Type": "application/json"}
        data = await self.send("POST", "/submit", "", body, headers, idempotent=False)
        if not isinstance(data, dict) or not data.get("transactionID"):
            raise VenueError("polymarket relayer answered /submit without a transactionID")
        return data

    async def wait(self, transaction_id: str) -> dict:
        for _ in range(self.polls):
            rows = await self.public("/transaction", {"id": transaction_id})
            tx = rows[0] if isinstance(rows, list) and rows else rows if isinstance(rows, dict) else {}
            state = tx.get("state", "")
            if state in DONE:
                return tx
            if state in FAILED:
                raise VenueError(f"polymarket relayer: redeem transaction {transaction_id} ended {state}"
                                 + (f" ({tx['transactionHash']})" if tx.get("transactionHash") else ""))
            await asyncio.sleep(self.poll_s)
        raise VenueError(f"polymarket relayer: redeem transaction {transaction_id} not mined after "
                         f"{self.polls * self.poll_s:g}s; check it later")

    async def redeem(self, wallet: Wallet, condition_id: str, neg_risk: bool) -> dict:
        """Submit and wait for the redeem of one resolved condition from the funder wallet."""
        self._auth("POST", "/submit", "")                     # credentials first: fail before any signing
        to, call = redeem_call(condition_id, neg_risk)
        if wallet.signature_type == POLY_GNOSIS_SAFE:
            safe = derive_safe(wallet.address)
            if safe != wallet.funder:
                raise InvalidOrder(f"polymarket: funder {wallet.funder} is not the Safe of this signer ({safe})")
            deployed = await self.public("/deployed", {"address": safe})
            if not (isinstance(deployed, dict) and deployed.get("deployed")):
                raise InvalidOrder(f"polymarket: Safe {safe} is not deployed; nothing can be redeemed from it")
            nonce = _field(await self.public("/nonce", {"address": wallet.address, "type": "SAFE"}), "nonce", "/nonce")
            request = safe_request(wallet, to, call, nonce, f"redeem {condition_id}")
        elif wallet.signature_type == POLY_PROXY:
            proxy = derive_proxy(wallet.address)
            if proxy != wallet.funder:
                raise InvalidOrder(f"polymarket: funder {wallet.funder} is not the proxy wallet of this signer ({proxy})")
            payload = await self.public("/relay-payload", {"address": wallet.address, "type": "PROXY"})
            request = proxy_request(wallet, to, call, _field(payload, "nonce", "/relay-payload"),
                                    _field(payload, "address", "/relay-payload"), f"redeem {condition_id}")
        else:
            raise InvalidOrder("polymarket: the relayer redeems from proxy (signature type 1) or Safe (2) wallets; "
                               "an EOA (0) redeems on-chain and pays gas itself, a deposit wallet (3) through its factory")
        submitted = await self.submit(request)
        return await self.wait(submitted["transactionID"])
