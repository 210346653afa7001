"""cryptocom: the conformance kit plus what is specific to this venue."""

from decimal import Decimal

from sequence_core.testing import VenueConformance
from sequence_venue_cryptocom.symbols import INSTRUMENTS, SYMBOLS
from sequence_venue_cryptocom.venue import CryptocomVenue

VENUE = CryptocomVenue()


class TestCryptocomVenue(VenueConformance):
    venue = VENUE

    def valid_credentials(self):
        return {"api_key": "k123", "api_secret": "s3cret"}


def test_usd_books_and_perps_are_named_as_the_exchange_names_them():
    assert SYMBOLS.to_venue("BTC-USD") == "BTC_USD" and SYMBOLS.to_venue("BTC-USDT") == "BTC_USDT"
    assert SYMBOLS.to_canonical("BTCUSD-PERP") == "BTC-USD-PERP"


def test_perps_use_the_derivatives_schedule():
    btc_perp = next(i for i in INSTRUMENTS if i.kind == "perp")
    assert VENUE.fee(btc_perp, Decimal("90000"), Decimal("1"), "taker") == Decimal("45.0000")
    btc = next(i for i in INSTRUMENTS if i.venue_symbol == "BTC_USD")
    assert VENUE.fee(btc, Decimal("90000"), Decimal("1"), "maker") == Decimal("225.0000")


def test_the_three_perps_map_to_the_exchange_names_with_their_steps():
    perps = {i.symbol: (i.venue_symbol, i.tick_size, i.lot_size, i.quote) for i in INSTRUMENTS if i.kind == "perp"}
    assert perps == {"BTC-USD-PERP": ("BTCUSD-PERP", Decimal("0.1"), Decimal("0.0001"), "USD"),
                     "ETH-USD-PERP": ("ETHUSD-PERP", Decimal("0.01"), Decimal("0.0001"), "USD"),
                     "SOL-USD-PERP": ("SOLUSD-PERP", Decimal("0.01"), Decimal("0.01"), "USD")}
    assert [SYMBOLS.to_venue(s) for s in perps] == ["BTCUSD-PERP", "ETHUSD-PERP", "SOLUSD-PERP"]
