"""Signing and amounts against the worked examples the official SDKs publish in their tests.

Sources (all with the public dev-chain key 0xac09...ff80, address 0xf39F...2266):
- py-clob-client-v2 @ b0a97fa tests/signing/test_eip712.py and clob-client-v2 @ f3e1a05
  tests/signing/eip712.test.ts: the L1 ClobAuth signature;
- py-clob-client-v2 tests/signing/test_hmac.py and clob-client-v2 tests/signing/hmac.test.ts: L2;
- py-clob-client-v2 tests/order_utils/test_exchange_order_builder_v2.py: a POLY_1271 order
  signature, which embeds the V2 exchange's domain separator and the V2 Order struct hash;
- py-clob-client-v2 tests/order_builder/test_builder.py (and clob-client-v2 buildOrder.test.ts):
  maker/taker amounts per tick size;
- builder-relayer-client @ c42a054 tests/signatures/index.test.ts: Safe and proxy relayer
  transaction signatures;
- clob-client-v2 tests/client/feeCalculations.test.ts: the V2 fee curve.
"""

from decimal import Decimal

import pytest

from sequence_core import evm as eip712
from sequence_venue_polymarket import relayer, signing
from sequence_venue_polymarket.fees import fee

KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


def test_l1_clob_auth_signature_is_the_sdk_vector():
    wallet = signing.Wallet(KEY, chain_id=signing.AMOY)
    headers = signing.l1_headers(wallet, 10000000, 23)
    assert headers == {"POLY_ADDRESS": ADDRESS, "POLY_TIMESTAMP": "10000000", "POLY_NONCE": "23", "POLY_SIGNATURE":
                       "0xf62319a987514da40e57e2f4d7529f7bac38f0355bd88bb5adbb3768d80de6c1682518e0af677d5260366425f4361e"
                       "7b70c25ae232aff0ab2331e2b164a1aedc1b"}


def test_l2_hmac_is_the_sdk_vector():
    assert signing.hmac_signature("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "1000000", "test-sign", "/orders",
                                  '{"hash": "0x123"}') == "ZwAdJKvoYRlEKDkNMwd5BuwNNtg93kNaR_oU2HrfVvc="
    # no body and an empty body sign the same (the SDK omits both)
    assert signing.hmac_signature("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", 1, "GET", "/x") == \
        signing.hmac_signature("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", 1, "GET", "/x", "")


def test_poly_1271_order_signature_is_the_sdk_vector():
    deposit_wallet = "0x1111111111111111111111111111111111111111"
    wallet = signing.Wallet(KEY, signing.POLY_1271, deposit_wallet, signing.AMOY)
    order = {"salt": 479249096354, "maker": deposit_wallet, "signer": deposit_wallet, "tokenId": "1234",
             "makerAmount": "100000000", "takerAmount": "50000000", "side": "BUY", "signatureType": 3,
             "timestamp": "1710000000000", "metadata": signing.ZERO32, "builder": signing.ZERO32}
    assert signing.sign_order(wallet, order, 2, neg_risk=False) == (
        "0xa3a093c83b6c20c83355c16ce94c92e6e9fcbdeb840618cc74f6c57a42ad145b"
        "2b98db73d2c73cbf1f2b6af288566ae81960ddbc3a13921027358a8bff3be6ff1c"
        "a440cbd865bc0c6243d7a8df9a8bf48a8827b0a4abbb61c30e96d305423af148"
        "d23d42d3ad94e65d78258cecaf8dcbaddac0f73dc085040f2c12bb595dd83804"
        "4f726465722875696e743235362073616c742c61646472657373206d616b65722c"
        "61646472657373207369676e65722c75696e7432353620746f6b656e49642c75"
        "696e74323536206d616b6572416d6f756e742c75696e743235362074616b6572"
        "416d6f756e742c75696e743820736964652c75696e7438207369676e61747572"
        "65547970652c75696e743235362074696d657374616d702c6279746573333220"
        "6d657461646174612c62797465733332206275696c6465722900ba")


def test_eoa_order_is_signed_for_the_exchange_of_its_market_and_version():
    wallet = signing.Wallet(KEY)
    args = dict(token_id="1234", side="buy", size=Decimal("10"), price=Decimal("0.5"), tick="0.01", salt=7, timestamp_ms=1)
    plain, h1 = signing.build_order(wallet, neg_risk=False, version=2, **args)
    neg, h2 = signing.build_order(wallet, neg_risk=True, version=2, **args)
    v3, h3 = signing.build_order(wallet, neg_risk=False, version=3, **args)
    assert len({h1, h2, h3}) == 3 and plain["maker"] == plain["signer"] == ADDRESS
    for order, h, version, nr in ((plain, h1, 2, False), (neg, h2, 2, True), (v3, h3, 3, False)):
        digest = bytes.fromhex(h[2:])
        assert eip712.recover(digest, bytes.fromhex(order["signature"][2:])) == ADDRESS
        assert signing.order_hash(order, version, nr) == h
    assert signing.domain(2, True)["verifyingContract"] == "0xe2222d279d744050d28e00520010520000310F59"
    with pytest.raises(ValueError, match="version 1"):
        signing.domain(1, False)


def test_safe_and_proxy_orders_name_the_funder_as_maker():
    safe = relayer.derive_safe(ADDRESS)
    order, _ = signing.build_order(signing.Wallet(KEY, signing.POLY_GNOSIS_SAFE, safe), token_id="5", side="sell",
                                   size=Decimal("10"), price=Decimal("0.5"), tick="0.1", neg_risk=False, version=2,
                                   salt=1, timestamp_ms=1)
    assert (order["maker"], order["signer"], order["signatureType"], order["side"]) == (safe, ADDRESS, 2, "SELL")
    # the JSON carries exactly the fields of the venue's signed-order sample
    import json
    from pathlib import Path
    sample = Path("/work/shared/data/responses/polymarket/http_signed_order.json")
    if sample.exists():
        assert set(order) == set(json.loads(sample.read_text()))


@pytest.mark.parametrize("side,price,size,tick,maker,taker", [
    ("buy", "0.5", "100", "0.1", 50000000, 100000000),
    ("sell", "0.5", "100", "0.1", 100000000, 50000000),
    ("buy", "0.56", "21.04", "0.01", 11782400, 21040000),
    ("sell", "0.56", "21.04", "0.01", 21040000, 11782400),
    ("buy", "0.056", "21.04", "0.001", 1178240, 21040000),
    ("sell", "0.056", "21.04", "0.001", 21040000, 1178240),
    ("buy", "0.0056", "21.04", "0.0001", 117824, 21040000),
    ("sell", "0.0056", "21.04", "0.0001", 21040000, 117824),
    ("buy", "0.82", "20", "0.01", 16400000, 20000000),
])
def test_limit_amounts_are_the_sdk_amounts(side, price, size, tick, maker, taker):
    assert signing.order_amounts(side, Decimal(size), Decimal(price), tick) == (maker, taker)


@pytest.mark.parametrize("tick", ["0.1", "0.01", "0.001", "0.0001"])
@pytest.mark.parametrize("size", ["5", "21.04", "33.33", "100"])
def test_market_buy_amounts_never_pay_above_the_price(tick, size):
    # test_builder.py test_get_market_order_amounts_buy_*: maker/taker >= the (rounded-down) price
    for price in (Decimal("0.1"), Decimal("0.37"), Decimal("0.5"), Decimal("0.999")):
        price = price.quantize(Decimal(tick), rounding="ROUND_DOWN")
        maker, taker = signing.order_amounts("buy", Decimal(size), price, tick, market=True)
        assert maker % 10_000 == 0                   # dollars to 2 decimals
        assert Decimal(maker) / Decimal(taker) >= price


def test_position_ids_are_told_from_token_ids_as_the_sdk_does():
    """clob-client-v2 tests/protocol: bits 40..103 clear is a Protocol V2 position (Exchange V3)."""
    for value in (0, 1, 1 << 39, 1 << 104, 1 << 255, (1 << 256) - (1 << 104)):
        assert signing.is_v2_position_id(str(value)) and signing.order_version(str(value), 2) == 3
    assert not any(signing.is_v2_position_id(str(1 << 248 | 1 << bit)) for bit in range(40, 104))
    for text in ("", " ", "not-a-token", "1.5", "1e3", "-1", str(1 << 256), str((1 << 256) - 1)):
        assert not signing.is_v2_position_id(text)
    token = "21742633143463906290569050155826241533067272736897614950488156847949938836455"    # a CTF token id
    assert signing.is_v2_position_id(" 1 ") and signing.order_version(token, 2) == 2


def test_salt_is_a_pure_function_of_the_client_order_id():
    assert signing.salt_for("sq00feedn0s0") == signing.salt_for("sq00feedn0s0") != signing.salt_for("sq00feedn0s1")
    assert signing.salt_for("sq00feedn0s0") < 2 ** 48


def test_relayer_safe_and_proxy_signatures_are_the_sdk_vectors():
    wallet = signing.Wallet(KEY, signing.POLY_GNOSIS_SAFE, relayer.derive_safe(ADDRESS), signing.POLYGON)
    usdc = "0x2791Bca1f2de4661ED88A30C99A7a9449Aa84174"
    approve = ("0x095ea7b30000000000000000000000004d97dcd97ec945f40cf65f87097ace5ea0476045"
               "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff")
    safe = relayer.safe_request(wallet, usdc, approve, "0")
    assert safe["signature"] == ("0xf368488355b0566e99eff3bccc35e98b77d8f3a6e6866176188488c34f0305b07e4a4c600c7a1592e4"
                                 "ac1e96b5887ebff2cb26987a3ad501006b39944df098c21f")
    proxy = relayer.proxy_request(wallet, usdc, approve, "0", "0xae700edfd9ab986395f3999fe11177b9903a52f1", gas_limit=85338)
    assert proxy["signature"] == ("0x4c18e2d2294a00d686714aff8e7936ab657cb4655dfccb2b556efadcb7e835f800dc2fecec69c501e2"
                                  "9bb36ecb54b4da6b7c410c4dc740a33af2afde2b77297e1b")


def test_redeem_calldata_targets_the_collateral_adapter():
    to, data = relayer.redeem_call("0x" + "ab" * 32, neg_risk=False)
    raw = bytes.fromhex(data[2:])
    assert to == relayer.CTF_COLLATERAL_ADAPTER and raw[:4] == eip712.selector(relayer.REDEEM)
    assert raw[4 + 12:4 + 32].hex() == signing.CONTRACTS[137]["collateral"][2:].lower()     # pUSD
    assert raw[4 + 64:4 + 96] == bytes.fromhex("ab" * 32)
    assert int.from_bytes(raw[-64:-32], "big") == 1 and int.from_bytes(raw[-32:], "big") == 2   # index sets [1, 2]
    assert relayer.redeem_call("0x" + "ab" * 32, neg_risk=True)[0] == relayer.NEG_RISK_CTF_COLLATERAL_ADAPTER


@pytest.mark.parametrize("price,expected", [("0.5", "1.5625"), ("0.3", "1.1025"), ("0.1", "0.2025"), ("0.7", "1.1025")])
def test_fee_curve_is_the_sdk_example(price, expected):
    assert fee(Decimal(price), Decimal(100), "taker", Decimal("0.25"), 2) == Decimal(expected)
