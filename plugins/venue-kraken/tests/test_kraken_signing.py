"""Kraken's own worked signing example (https://docs.kraken.com/api/docs/guides/spot-rest-auth)."""

from sequence_venue_kraken.signing import signature

SECRET = "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="
NONCE = "1616492376594"
BODY = "nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25"


def test_the_documented_example():
    assert signature(SECRET, "/0/private/AddOrder", NONCE, BODY) == \
        "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ=="


def test_a_changed_body_changes_the_signature():
    assert signature(SECRET, "/0/private/AddOrder", NONCE, BODY.replace("1.25", "1.26")) != \
        signature(SECRET, "/0/private/AddOrder", NONCE, BODY)
