"""Field-by-field validation errors that a page shows in its error summary and next to each field."""

from backend.core.errors import DomainError
from backend.core.i18n import gettext as _


class FormInvalid(DomainError):
    """Raised by a service with every problem it found, keyed by form field name."""

    status_code = 400
    code = "invalid"

    def __init__(self, errors: dict[str, str]):
        super().__init__(next(iter(errors.values()), _("Check the form.")), errors=errors)
        self.errors = errors


def check(errors: dict[str, str]) -> None:
    if errors:
        raise FormInvalid(errors)
