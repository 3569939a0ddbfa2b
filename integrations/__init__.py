"""The edges: organisation sources, calendar invites, MIME and mail transports.

Each integration builds a payload, sends it and parses the answer; vendor types stay inside.
"""

from strides.domain.errors import StridesError


class IntegrationError(StridesError):
    """Root of the integrations' errors."""


class DeliveryError(IntegrationError):
    """A transport refused a message; carries the message key and the provider's answer.

    `ambiguous`: the connection broke after the whole message went over and before the server
    answered, so the server may have it (sending it again may deliver it twice)."""

    def __init__(self, key: str, answer: str, *, permanent: bool = False, ambiguous: bool = False) -> None:
        super().__init__(f"message {key}: {answer}")
        self.key = key
        self.answer = answer
        self.permanent = permanent
        self.ambiguous = ambiguous


class SourceError(IntegrationError, OSError):
    """An organisation source (a folder of files, an HR export) could not be read at all."""
