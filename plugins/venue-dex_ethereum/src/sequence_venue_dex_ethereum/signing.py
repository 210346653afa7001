"""EIP-1559 (type 0x02) transactions: build, sign, read back.

https://eips.ethereum.org/EIPS/eip-1559 and the EIP-2718 envelope
(https://eips.ethereum.org/EIPS/eip-2718): the signed payload is
``keccak256(0x02 || rlp([chain_id, nonce, max_priority_fee_per_gas, max_fee_per_gas, gas_limit,
destination, amount, data, access_list]))``; the raw transaction is
``0x02 || rlp([... the same nine ..., signature_y_parity, signature_r, signature_s])`` and its
hash (the transaction id) is keccak256 of those raw bytes. The signature is secp256k1 over that
digest (``sequence_core.evm.sign_digest``: libsecp256k1, RFC 6979, low-s), y_parity the
recovery id (0/1). Access lists are always empty here. Checked byte for byte against
ethereumjs's published vectors (packages/tx/test/json/eip1559.json) in the tests.
"""

from __future__ import annotations

import msgspec

from sequence_core.evm import recover, sign_digest
from sequence_core.keys import keccak256

from . import rlp


class Tx(msgspec.Struct, frozen=True):
    chain_id: int
    nonce: int
    max_priority_fee: int        # wei per gas
    max_fee: int                 # wei per gas
    gas: int
    to: str                      # 0x address
    value: int = 0
    data: bytes = b""

    def fields(self) -> list:
        return [self.chain_id, self.nonce, self.max_priority_fee, self.max_fee, self.gas,
                bytes.fromhex(self.to.removeprefix("0x")), self.value, self.data, []]

    def digest(self) -> bytes:
        return keccak256(b"\x02" + rlp.encode(self.fields()))


class Signed(msgspec.Struct, frozen=True):
    tx: Tx
    raw: bytes
    hash: str                    # 0x + 64 hex: the transaction id
    sender: str                  # checksummed address that signed


def sign(tx: Tx, private_key: bytes) -> Signed:
    from sequence_core.keys import evm_address_of

    sig = sign_digest(private_key, tx.digest())           # r || s || 27 + recovery id
    r, s, y_parity = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:64], "big"), sig[64] - 27
    raw = b"\x02" + rlp.encode(tx.fields() + [y_parity, r, s])
    return Signed(tx, raw, "0x" + keccak256(raw).hex(), evm_address_of(private_key))


def decode(raw: bytes) -> Signed:
    """A raw type-2 transaction back as (tx, sender), recovering the signer as a node does.
    Raises ValueError when it is not a well-formed signed type-2 transaction."""
    if not raw or raw[0] != 0x02:
        raise ValueError("not an EIP-1559 (type 0x02) transaction")
    items = rlp.decode(raw[1:])
    if not isinstance(items, list) or len(items) != 12:
        raise ValueError("a type-2 transaction has 12 fields")
    n = [rlp.to_int(items[i]) for i in (0, 1, 2, 3, 4)]
    tx = Tx(n[0], n[1], n[2], n[3], n[4], "0x" + items[5].hex(), rlp.to_int(items[6]), items[7])
    y_parity, r, s = rlp.to_int(items[9]), rlp.to_int(items[10]), rlp.to_int(items[11])
    if y_parity > 1 or not 0 < r < 2**256 or not 0 < s < 2**256:
        raise ValueError("invalid transaction v, r, s values")
    sender = recover(tx.digest(), r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([y_parity]))
    return Signed(tx, raw, "0x" + keccak256(raw).hex(), sender)
