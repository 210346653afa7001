"""EVM primitives for the adapters that sign for Ethereum-family chains: EIP-712 typed-data
hashing, ABI encoding for calldata, and secp256k1 signing.

EIP-712 (https://eips.ethereum.org/EIPS/eip-712): ``hashStruct(s) = keccak256(typeHash ||
encodeData(s))``, ``typeHash = keccak256(encodeType)`` where ``encodeType`` is
``Name(type1 name1,...)`` followed by the referenced struct types sorted by name; atomic
values are 32-byte words, ``string``/``bytes`` are their keccak256, structs their hashStruct;
the digest signed is ``keccak256(0x1901 || domainSeparator || hashStruct(message))``.
ABI encoding follows https://docs.soliditylang.org/en/latest/abi-spec.html (heads and tails).
Keccak is pycryptodome's (``sequence_core.keys.keccak256``); the curve is libsecp256k1 via
coincurve (RFC 6979 nonces, low-s), so signatures match ethers/viem/eth-account byte for byte.
"""

from __future__ import annotations

import re

from sequence_core.keys import keccak256

Types = dict[str, list[tuple[str, str]]]        # struct name -> [(field name, type)]
DOMAIN_FIELDS = (("name", "string"), ("version", "string"), ("chainId", "uint256"),
                 ("verifyingContract", "address"), ("salt", "bytes32"))


# -- ABI words -------------------------------------------------------------------------------------
def _bytes(value) -> bytes:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    text = str(value)
    return bytes.fromhex(text[2:] if text.startswith("0x") else text)


def word(kind: str, value) -> bytes:
    """One static ABI value as its 32-byte word."""
    if kind.startswith("uint") or kind.startswith("int"):
        n = int(value)
        return (n % (1 << 256)).to_bytes(32, "big")
    if kind == "address":
        return _bytes(value).rjust(32, b"\0")
    if kind == "bool":
        return int(bool(value)).to_bytes(32, "big")
    if re.fullmatch(r"bytes([1-9]|[12][0-9]|3[0-2])", kind):
        return _bytes(value).ljust(32, b"\0")
    raise ValueError(f"not a static ABI type: {kind}")


def _is_dynamic(kind) -> bool:
    if isinstance(kind, list):
        return True
    if isinstance(kind, tuple):
        return any(_is_dynamic(k) for k in kind)
    return kind in ("bytes", "string") or kind.endswith("[]")


def abi_encode(kinds: list, values: list) -> bytes:
    """ABI-encode values. A kind is a type name (``"uint256"``, ``"bytes"``, ``"uint256[]"``), a
    tuple of kinds (a struct), or ``[kinds]``: a dynamic array of that struct."""
    heads, tails = [], []
    offset = 32 * len(kinds)
    for kind, value in zip(kinds, values):
        if _is_dynamic(kind):
            body = _encode_dynamic(kind, value)
            heads.append(offset.to_bytes(32, "big"))
            tails.append(body)
            offset += len(body)
        elif isinstance(kind, tuple):
            heads.append(abi_encode(list(kind), list(value)))
        else:
            heads.append(word(kind, value))
    return b"".join(heads) + b"".join(tails)


def _encode_dynamic(kind, value) -> bytes:
    if isinstance(kind, list):                           # [tuple kinds]: a dynamic array of tuples
        inner = tuple(kind[0])
        return len(value).to_bytes(32, "big") + abi_encode([inner] * len(value), list(value))
    if isinstance(kind, tuple):
        return abi_encode(list(kind), list(value))
    if kind in ("bytes", "string"):
        raw = value.encode() if kind == "string" else _bytes(value)
        return len(raw).to_bytes(32, "big") + raw.ljust((len(raw) + 31) // 32 * 32, b"\0")
    inner = kind[:-2]
    return len(value).to_bytes(32, "big") + abi_encode([inner] * len(value), list(value))


def selector(signature: str) -> bytes:
    return keccak256(signature.encode())[:4]


def call_data(signature: str, kinds: list, values: list) -> bytes:
    return selector(signature) + abi_encode(kinds, values)


# -- EIP-712 ---------------------------------------------------------------------------------------
def _deps(primary: str, types: Types, found: set) -> set:
    if primary in found or primary not in types:
        return found
    found.add(primary)
    for _, kind in types[primary]:
        _deps(kind.removesuffix("[]"), types, found)
    return found


def encode_type(primary: str, types: Types) -> str:
    deps = sorted(_deps(primary, types, set()) - {primary})
    return "".join(f"{name}({','.join(f'{k} {n}' for n, k in types[name])})" for name in [primary, *deps])


def type_hash(primary: str, types: Types) -> bytes:
    return keccak256(encode_type(primary, types).encode())


def _field(kind: str, value, types: Types) -> bytes:
    if kind in types:
        return hash_struct(kind, value, types)
    if kind.endswith("[]"):
        return keccak256(b"".join(_field(kind[:-2], v, types) for v in value))
    if kind == "string":
        return keccak256(value.encode())
    if kind == "bytes":
        return keccak256(_bytes(value))
    return word(kind, value)


def hash_struct(primary: str, value: dict, types: Types) -> bytes:
    return keccak256(type_hash(primary, types) + b"".join(_field(k, value[n], types) for n, k in types[primary]))


def domain_separator(domain: dict) -> bytes:
    fields = [(n, k) for n, k in DOMAIN_FIELDS if n in domain]
    return hash_struct("EIP712Domain", domain, {"EIP712Domain": fields})


def digest(domain: dict, primary: str, message: dict, types: Types) -> bytes:
    """The 32 bytes an EIP-712 signature signs."""
    return keccak256(b"\x19\x01" + domain_separator(domain) + hash_struct(primary, message, types))


# -- secp256k1 -----------------------------------------------------------------------------------
def sign_digest(private_key: bytes, digest32: bytes) -> bytes:
    """65 bytes r || s || v (v = 27 + recovery id), as ethers and eth-account produce."""
    import coincurve

    raw = coincurve.PrivateKey(private_key).sign_recoverable(digest32, hasher=None)
    return raw[:64] + bytes([27 + raw[64]])


def personal_digest(message: bytes) -> bytes:
    """EIP-191 ``personal_sign``: keccak256("\\x19Ethereum Signed Message:\\n" + len + message)."""
    return keccak256(b"\x19Ethereum Signed Message:\n" + str(len(message)).encode() + message)


def recover(digest32: bytes, signature: bytes) -> str:
    """The checksummed address that signed ``digest32`` (v 27/28 or 0/1)."""
    import coincurve

    from sequence_core.keys import to_checksum_address

    v = signature[64]
    rec = v - 27 if v >= 27 else v
    public = coincurve.PublicKey.from_signature_and_message(signature[:64] + bytes([rec]), digest32, hasher=None)
    return to_checksum_address("0x" + keccak256(public.format(compressed=False)[1:])[-20:].hex())


def create2_address(factory: str, salt: bytes, init_code_hash: str) -> str:
    """CREATE2: the last 20 bytes of keccak256(0xff || factory || salt || keccak(init code))."""
    from sequence_core.keys import to_checksum_address

    raw = keccak256(b"\xff" + _bytes(factory) + salt + _bytes(init_code_hash))
    return to_checksum_address("0x" + raw[-20:].hex())
