"""Hyperliquid action signing, as the official SDK does it.

Source: hyperliquid-python-sdk ``hyperliquid/utils/signing.py`` (github.com/hyperliquid-dex/
hyperliquid-python-sdk, v0.23.0) and https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/signing
(which sends readers to that SDK).

L1 actions (order, cancel, cancelByCloid, batchModify, ...):
``action_hash`` = keccak256(msgpack(action) + nonce as 8 bytes big-endian + (``00`` without a vault,
else ``01`` + the 20 vault address bytes) [+ ``00`` + expiresAfter as 8 bytes, when set]). The
msgpack bytes depend on the action dict's key order, which must be the SDK's (the server
rebuilds the action in its own field order before hashing: any other order recovers a
different signer). The hash becomes a "phantom agent" ``{source: "a" (mainnet) | "b"
(testnet), connectionId: hash}`` signed as EIP-712 typed data: domain {name "Exchange", version
"1", chainId 1337, verifyingContract 0x00..00}, primary type ``Agent(string source,bytes32
connectionId)``.
User-signed actions (approveAgent, usdSend, withdraw3, ...): the action itself is the EIP-712
message, domain {name "HyperliquidSignTransaction", version "1", chainId =
``signatureChainId`` (the SDK uses 0x66eee), verifyingContract 0x00..00}, primary type
``HyperliquidTransaction:<Name>``, with ``hyperliquidChain`` "Mainnet" | "Testnet".
Signatures are recoverable secp256k1 (coincurve, RFC 6979) sent as ``{r, s, v}``: r and s as
0x-hex integers, v = 27 + recovery id. EIP-712 struct hashing for these flat types is done
here with keccak-256 (pycryptodome); no curve maths is written here.

Numbers on the wire (``float_to_wire``): at most 8 decimals, normalised ("100", "0.0147"),
never "-0". Client order ids (``cloid``) are 16 bytes as "0x" + 32 hex digits.
"""

from __future__ import annotations

import re
from decimal import Decimal

import msgpack

from sequence_core.errors import InvalidOrder
from sequence_core.keys import keccak256, to_checksum_address

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
DOMAIN_FIELDS = (("name", "string"), ("version", "string"), ("chainId", "uint256"), ("verifyingContract", "address"))
AGENT_FIELDS = (("source", "string"), ("connectionId", "bytes32"))
L1_DOMAIN = {"name": "Exchange", "version": "1", "chainId": 1337, "verifyingContract": ZERO_ADDRESS}
USER_SIGNED_CHAIN_ID = "0x66eee"
APPROVE_AGENT_FIELDS = (("hyperliquidChain", "string"), ("agentAddress", "address"), ("agentName", "string"),
                        ("nonce", "uint64"))
USD_SEND_FIELDS = (("hyperliquidChain", "string"), ("destination", "string"), ("amount", "string"), ("time", "uint64"))


# -- EIP-712 (flat structs of atomic types: all Hyperliquid needs) -----------------------------------
def _encode(kind: str, value) -> bytes:
    if kind == "string":
        return keccak256(value.encode())
    if kind == "bytes":
        return keccak256(value)
    if kind == "bytes32":
        raw = bytes.fromhex(value[2:]) if isinstance(value, str) else bytes(value)
        if len(raw) != 32:
            raise ValueError("bytes32 needs 32 bytes")
        return raw
    if kind == "address":
        return bytes.fromhex(value.lower().removeprefix("0x")).rjust(32, b"\0")
    if kind == "bool":
        return int(bool(value)).to_bytes(32, "big")
    if re.fullmatch(r"uint\d+", kind):
        return int(value).to_bytes(32, "big")
    if re.fullmatch(r"int\d+", kind):
        return int(value).to_bytes(32, "big", signed=True)
    raise ValueError(f"EIP-712 type {kind} is not supported here")


def hash_struct(name: str, fields: tuple, message: dict) -> bytes:
    type_string = f"{name}(" + ",".join(f"{kind} {field}" for field, kind in fields) + ")"
    return keccak256(keccak256(type_string.encode()) + b"".join(_encode(kind, message[field]) for field, kind in fields))


def typed_data_digest(domain: dict, primary: str, fields: tuple, message: dict) -> bytes:
    """keccak256(0x1901 || domainSeparator || hashStruct(message)) (EIP-712)."""
    return keccak256(b"\x19\x01" + hash_struct("EIP712Domain", DOMAIN_FIELDS, domain) + hash_struct(primary, fields, message))


def sign_digest(private_key: bytes, digest: bytes) -> dict:
    import coincurve

    raw = coincurve.PrivateKey(private_key).sign_recoverable(digest, hasher=None)
    return {"r": hex(int.from_bytes(raw[:32], "big")), "s": hex(int.from_bytes(raw[32:64], "big")), "v": 27 + raw[64]}


def recover_address(digest: bytes, signature: dict) -> str:
    """The address whose key made ``signature`` over ``digest`` (what the venue checks)."""
    import coincurve

    v = int(signature["v"])
    raw = (int(signature["r"], 16).to_bytes(32, "big") + int(signature["s"], 16).to_bytes(32, "big")
           + bytes([v - 27 if v >= 27 else v]))
    public = coincurve.PublicKey.from_signature_and_message(raw, digest, hasher=None).format(compressed=False)[1:]
    return to_checksum_address("0x" + keccak256(public)[-20:].hex())


# -- L1 actions ----------------------------------------------------------------------------------------
def action_hash(action, vault_address: str | None, nonce: int, expires_after: int | None = None) -> bytes:
    data = msgpack.packb(action) + nonce.to_bytes(8, "big")
    data += b"\x00" if vault_address is None else b"\x01" + bytes.fromhex(vault_address.lower().removeprefix("0x"))
    if expires_after is not None:
        data += b"\x00" + expires_after.to_bytes(8, "big")
    return keccak256(data)


def phantom_agent(connection_id: bytes, mainnet: bool) -> dict:
    return {"source": "a" if mainnet else "b", "connectionId": connection_id}


def l1_digest(action, vault_address: str | None, nonce: int, mainnet: bool, expires_after: int | None = None) -> bytes:
    agent = phantom_agent(action_hash(action, vault_address, nonce, expires_after), mainnet)
    return typed_data_digest(L1_DOMAIN, "Agent", AGENT_FIELDS, agent)


def sign_l1_action(private_key: bytes, action, vault_address: str | None, nonce: int, mainnet: bool,
                   expires_after: int | None = None) -> dict:
    return sign_digest(private_key, l1_digest(action, vault_address, nonce, mainnet, expires_after))


# -- user-signed actions ---------------------------------------------------------------------------------
def user_signed_digest(action: dict, fields: tuple, primary: str) -> bytes:
    domain = {"name": "HyperliquidSignTransaction", "version": "1", "chainId": int(action["signatureChainId"], 16),
              "verifyingContract": ZERO_ADDRESS}
    return typed_data_digest(domain, primary, fields, action)


def sign_user_action(private_key: bytes, action: dict, fields: tuple, primary: str, mainnet: bool) -> dict:
    """Sets ``signatureChainId`` and ``hyperliquidChain`` on ``action`` (they are sent too)."""
    action["signatureChainId"] = USER_SIGNED_CHAIN_ID
    action["hyperliquidChain"] = "Mainnet" if mainnet else "Testnet"
    return sign_digest(private_key, user_signed_digest(action, fields, primary))


# -- numbers and ids on the wire ---------------------------------------------------------------------------
def to_wire(value: Decimal) -> str:
    """The SDK's ``float_to_wire`` for exact Decimals: at most 8 decimals, normalised, no "-0"."""
    rounded = value.quantize(Decimal("1e-8"))
    if rounded != value:
        raise InvalidOrder(f"hyperliquid: {value} has more than 8 decimals")
    text = format(rounded.normalize(), "f")
    return "0" if text == "-0" else text


_CLIENT_ID = re.compile(r"^sq([0-9a-f]{12})n(\d+)s(\d+)$")
_TAG = "5351"          # "SQ": a cloid that encodes an engine client order id


def cloid_for(client_order_id: str) -> str:
    """16 bytes for the engine's client order id: "SQ" + the graph's 6 bytes + node and seq as
    4 bytes each, so it maps back (``client_id_of``); other ids are hashed (keccak, 16 bytes)."""
    m = _CLIENT_ID.match(client_order_id)
    if m and int(m.group(2)) < 1 << 32 and int(m.group(3)) < 1 << 32:
        return f"0x{_TAG}{m.group(1)}{int(m.group(2)):08x}{int(m.group(3)):08x}"
    return "0x" + keccak256(client_order_id.encode())[:16].hex()


def client_id_of(cloid: str | None) -> str | None:
    """The engine's client order id a cloid encodes (None: not one of ours)."""
    if not cloid or len(cloid) != 34 or not cloid.startswith("0x" + _TAG):
        return None
    body = cloid[6:]
    return f"sq{body[:12]}n{int(body[12:20], 16)}s{int(body[20:], 16)}"
