"""binance: the conformance kit plus what is specific to this venue."""

from sequence_core.testing import VenueConformance
from sequence_venue_binance.venue import BinanceVenue

VENUE = BinanceVenue()


class TestBinanceVenue(VenueConformance):
    venue = VENUE

    def valid_credentials(self):
        return {"api_key": "k123", "api_secret": "s3cret"}
