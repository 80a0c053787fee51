"""The one domain exception family. Views show the message; the API returns it with a 4xx."""


class DomainError(Exception):
    """A request the domain refuses; `message` is shown to the user as is (Chinese)."""

    status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class PermissionDeniedError(DomainError):
    status = 403


class IllegalTransition(DomainError):
    status = 409


class ConflictError(DomainError):
    status = 409


class NotFoundError(DomainError):
    status = 404
