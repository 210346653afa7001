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
