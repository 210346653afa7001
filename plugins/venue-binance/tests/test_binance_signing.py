"""Binance's own worked example of a SIGNED request (the HMAC-SHA256 example in
https://developers.binance.com/docs/binance-spot-api-docs/rest-api/request-security)."""

from sequence_venue_binance.signing import signature, signed_query

KEY_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
QUERY = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"


def test_published_example():
    assert signature(KEY_SECRET, QUERY) == "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"


def test_signed_query_puts_recv_window_and_timestamp_before_the_signature():
    q = signed_query(KEY_SECRET, {"symbol": "LTCBTC", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
                                  "quantity": "1", "price": "0.1"}, 1499827319559)
    assert q == QUERY + "&signature=c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"


def test_usdm_published_example():
    # "SIGNED Endpoint Examples for POST /fapi/v1/order - HMAC Keys" in
    # https://developers.binance.com/docs/derivatives/usds-margined-futures/general-info
    secret = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9"
    q = signed_query(secret, {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "1", "price": "9000",
                              "timeInForce": "GTC"}, 1591702613943)
    assert q == ("symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC&recvWindow=5000"
                 "&timestamp=1591702613943&signature=3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9")
