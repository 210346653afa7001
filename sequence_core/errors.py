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


class ClockRejected(VenueError):
    """The venue refused a request's timestamp (outside its recv window): our clock is off."""


def named(type_name: str, message: str) -> SequenceError:
    """The error an engine answer names by class (``{"error", "type"}``): that subclass of
    SequenceError, or SequenceError itself for a name that is not one."""
    cls = globals().get(type_name)
    return (cls if isinstance(cls, type) and issubclass(cls, SequenceError) else SequenceError)(message)


class ErrorCodes:
    """A venue's documented error codes by meaning; ``error(code, msg)`` is the core error for
    one (first match in this order: clock, auth, not found, funds, invalid, rate limit)."""

    def __init__(self, venue: str, *, clock=(), auth=(), not_found=(), funds=(), invalid=(), rate=(),
                 auth_what: str = "the API key or signature"):
        self.venue, self.auth_what = venue, auth_what
        self.table = ((clock, ClockRejected), (auth, AuthenticationError), (not_found, OrderNotFound),
                      (funds, InsufficientFunds), (invalid, InvalidOrder), (rate, RateLimitExceeded))

    def error(self, code, msg: str, *, auth: bool = False) -> VenueError:
        """``auth``: the transport already says the credentials were refused (HTTP 401); a
        clock code still wins, since resyncing the clock is what repairs it."""
        kind = next((k for codes, k in self.table if code in codes), VenueError)
        if auth and kind is not ClockRejected:
            kind = AuthenticationError
        if kind is AuthenticationError:
            return kind(f"{self.venue} rejected {self.auth_what}: {msg} ({code})")
        return kind(f"{self.venue}: {msg or 'request refused'} ({code})")
