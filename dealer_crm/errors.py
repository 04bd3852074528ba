"""The one exception every service raises when a business rule refuses a change."""

from django.utils.functional import Promise


class DomainError(Exception):
    """A refused business rule: 400 with a stable code, or 409 for a state conflict.

    `field` names the form field the message belongs beside in a page.
    """

    status_code = 400

    def __init__(
        self,
        code: str,
        message: str | Promise,
        *,
        field: str | None = None,
        extra: dict | None = None,
    ):
        super().__init__(str(message))
        self.code = code
        self.message = message
        self.field = field
        self.extra = extra or {}

    def as_dict(self) -> dict:
        return {"detail": str(self.message), "code": self.code, **self.extra}


class StateConflict(DomainError):
    """An illegal state change or an edit conflict."""

    status_code = 409
