"""Key validation against published vectors."""

import json

import pytest

from sequence_core import keys
from sequence_core.errors import CredentialError


@pytest.mark.parametrize("address", [
    # EIP-55's own examples (https://eips.ethereum.org/EIPS/eip-55#test-cases)
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
])
def test_eip55_checksum_examples(address):
    assert keys.to_checksum_address(address.lower()) == address
    assert keys.parse_evm_address("f", address) == address


def test_bad_checksum_is_refused():
    with pytest.raises(CredentialError, match="checksum"):
        keys.parse_evm_address("wallet_address", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD")


def test_all_lowercase_address_is_accepted_and_checksummed():
    assert keys.parse_evm_address("a", "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed") == "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


def test_private_key_to_address_vector():
    # web3.js / eth-account documentation example key and its address
    raw = keys.parse_evm_private_key("k", "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
    assert keys.evm_address_of(raw) == "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23"


@pytest.mark.parametrize("value,msg", [
    ("0x1234", "64 hex digits"),
    ("zz" * 32, "64 hex digits"),
    ("00" * 32, "secp256k1"),
    ("ff" * 32, "secp256k1"),   # above the curve order
])
def test_evm_private_key_rejections(value, msg):
    with pytest.raises(CredentialError, match=msg):
        keys.parse_evm_private_key("wallet_key", value)


def _solana_keypair() -> bytes:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

    k = Ed25519PrivateKey.generate()
    return k.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()) + k.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def test_solana_keypair_base58_and_json_forms():
    import base58

    raw = _solana_keypair()
    assert keys.parse_solana_keypair("k", base58.b58encode(raw).decode()) == raw
    assert keys.parse_solana_keypair("k", json.dumps(list(raw))) == raw


def test_solana_keypair_with_wrong_public_half():
    raw = _solana_keypair()
    with pytest.raises(CredentialError, match="public half"):
        keys.parse_solana_keypair("sol_keypair", json.dumps(list(raw[:32] + bytes(32))))


def test_pem_rejections():
    with pytest.raises(CredentialError, match="BEGIN"):
        keys.load_private_key_pem("private_key", "not a pem")
    with pytest.raises(CredentialError, match="unreadable"):
        keys.load_private_key_pem("private_key", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")


def test_pem_key_type_restriction():
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
    assert keys.load_private_key_pem("k", pem, ("ec",))
    with pytest.raises(CredentialError, match="not accepted"):
        keys.load_private_key_pem("k", pem, ("rsa", "ed25519"))
