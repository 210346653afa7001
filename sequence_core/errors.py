"""One error hierarchy for the whole product.

Adapters map venue error codes into these classes; the CLI turns any ``SequenceError``
into ``Error: <message>`` and exit 1 in exactly one place (``sequence_cli.main``).
Messages name the bad value and what is accepted, and never contain a secret.
"""


class SequenceError(Exception):
    """Base class: a failure the user can act on. ``str(err)`` is the message shown."""


class UsageError(SequenceError):
    """Bad input on the command line or in an SDK call."""


class ConfigError(SequenceError):
    """The home folder, config.toml or credentials store is unusable."""


class CredentialError(SequenceError):
    """Credentials are missing, malformed or cannot be decrypted."""


class PluginError(SequenceError):
    """A plugin could not be loaded or misbehaved."""


class VenueError(SequenceError):
    """A venue refused or failed a request."""


class AuthenticationError(VenueError):
    """The venue rejected the credentials or the signature."""


class InsufficientFunds(VenueError):
    """Not enough balance for the order."""


class InvalidOrder(VenueError):
    """Price, size or order parameters are not acceptable to the venue."""


class OrderNotFound(VenueError):
    """The venue does not know the order."""


class RateLimitExceeded(VenueError):
    """The venue asked us to slow down (HTTP 429/418 or a rate-limit error code)."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class NetworkError(VenueError):
    """Timeout, connection failure or a 5xx answer."""
