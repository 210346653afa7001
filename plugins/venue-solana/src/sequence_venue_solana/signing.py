"""Solana transactions: read the aggregator's serialized transaction, check it, sign it.

Wire format (https://solana.com/docs/core/transactions and, for v0,
https://docs.anza.xyz/proposals/versioned-transactions): a compact-u16 count of signatures,
that many 64-byte signature slots, then the message. A versioned message starts with a byte
whose high bit is set (``0x80 | version``; only version 0 exists); a legacy message starts
directly with its header. The header is three bytes (numRequiredSignatures,
numReadonlySignedAccounts, numReadonlyUnsignedAccounts), then a compact-u16 count of 32-byte
account keys, the 32-byte recent blockhash, the instructions (and, in v0, the address-table
lookups). The first ``numRequiredSignatures`` keys are the signers, in the order of the
signature slots; the first key pays the fee. Each signature is Ed25519 (RFC 8032) over the
message bytes exactly as serialized; a transaction's id is base58 of its first signature.
compact-u16 ("shortvec"): 7 bits per byte, low bits first, high bit = more, at most 3 bytes.

Before signing we refuse a transaction whose fee payer is not our key (we would sign for a
stranger's fees, or the aggregator answered for another wallet), and one that needs another
signer whose slot does not already hold that signer's valid signature: we never sign a
transaction that cannot land as we read it.
"""

from __future__ import annotations

import base64

import msgspec

from sequence_core.errors import InvalidOrder

SIG_LEN = 64


class ParsedTx(msgspec.Struct, frozen=True):
    version: int | None               # None: legacy
    signatures: tuple[bytes, ...]
    message: bytes
    num_required: int
    account_keys: tuple[bytes, ...]
    recent_blockhash: bytes
    sig_offset: int                   # where the first signature slot starts


def read_shortvec(data: bytes, at: int) -> tuple[int, int]:
    """(value, offset after it) of a compact-u16 at ``at``."""
    value = 0
    for i in range(3):
        if at + i >= len(data):
            raise ValueError("truncated compact-u16")
        byte = data[at + i]
        value |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            return value, at + i + 1
    raise ValueError("compact-u16 longer than 3 bytes")


def shortvec(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def parse(raw: bytes) -> ParsedTx:
    try:
        count, at = read_shortvec(raw, 0)
        sigs = tuple(raw[at + i * SIG_LEN: at + (i + 1) * SIG_LEN] for i in range(count))
        message = raw[at + count * SIG_LEN:]
        version = message[0] & 0x7F if message[0] & 0x80 else None
        if version not in (None, 0):
            raise ValueError(f"unsupported message version {version}")
        h = 0 if version is None else 1
        num_required = message[h]
        n_keys, p = read_shortvec(message, h + 3)
        keys = tuple(message[p + 32 * i: p + 32 * (i + 1)] for i in range(n_keys))
        blockhash = message[p + 32 * n_keys: p + 32 * n_keys + 32]
    except (IndexError, ValueError) as exc:
        raise InvalidOrder(f"solana: the aggregator's transaction is not a Solana transaction ({exc})") from None
    if len(blockhash) != 32 or any(len(s) != SIG_LEN for s in sigs) or any(len(k) != 32 for k in keys):
        raise InvalidOrder("solana: the aggregator's transaction is truncated")
    if count != num_required or num_required > n_keys or num_required == 0:
        raise InvalidOrder(f"solana: the transaction has {count} signature slots for {num_required} required signers")
    return ParsedTx(version, sigs, message, num_required, keys, blockhash, at)


def b58(data: bytes) -> str:
    import base58

    return base58.b58encode(data).decode()


def public_key(seed: bytes) -> bytes:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def verify(pub: bytes, signature: bytes, message: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        Ed25519PublicKey.from_public_bytes(pub).verify(signature, message)
        return True
    except (InvalidSignature, ValueError):
        return False


def sign_transaction(raw: bytes, seed: bytes) -> tuple[bytes, str, ParsedTx]:
    """Our signature in our slot: (signed bytes, tx id = base58 of the first signature, parsed)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    tx = parse(raw)
    ours = public_key(seed)
    if tx.account_keys[0] != ours:
        raise InvalidOrder(f"solana: refusing to sign: the transaction's fee payer is {b58(tx.account_keys[0])}, "
                           f"not this wallet ({b58(ours)})")
    for i in range(1, tx.num_required):
        if tx.account_keys[i] != ours and not verify(tx.account_keys[i], tx.signatures[i], tx.message):
            raise InvalidOrder(f"solana: refusing to sign: the transaction also needs a signature from "
                               f"{b58(tx.account_keys[i])}, which this wallet does not hold")
    signature = Ed25519PrivateKey.from_private_bytes(seed).sign(tx.message)
    out = bytearray(raw)
    for i in range(tx.num_required):
        if tx.account_keys[i] == ours:
            out[tx.sig_offset + i * SIG_LEN: tx.sig_offset + (i + 1) * SIG_LEN] = signature
    signed = bytes(out)
    return signed, b58(signed[tx.sig_offset: tx.sig_offset + SIG_LEN]), parse(signed)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
