"""One form layer: field parsers that collect a message per field into one FormInvalid.

Every page and the JSON API read forms through `Fields`: each parser returns the value, or None after
recording what is wrong with that field, so one submission reports every problem at once and the valid
values are still there to save or to show again. `FormInvalid.errors` maps a form field to its message;
the API shows the same mapping as `details["fields"]`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from datetime import date
from enum import Enum
from typing import Annotated

from fastapi import Depends, Request

from backend.core.errors import DomainError
from backend.core.i18n import gettext as _

# Money columns are BIGINT. Fifteen digits leave room for a budget's sums (places × subsidy) to stay
# inside the column, and no real amount comes near it.
MONEY_MAX = 10**15 - 1
DATE_PARTS = ("day", "month", "year")


class FormInvalid(DomainError):
    """Every problem found in a submitted form, keyed by form field name."""

    status_code = 400
    code = "invalid"

    def __init__(self, errors: Mapping[str, str], message: str | None = None):
        errors = {name: str(text) for name, text in errors.items()}
        super().__init__(message or next(iter(errors.values()), _("Check the form.")), fields=errors)
        self.errors = errors


def check(errors: Mapping[str, str]) -> None:
    if errors:
        raise FormInvalid(errors)


class BadValue(ValueError):
    """One field's value cannot be used; the message says what to type instead."""

    def __init__(self, message: str):
        super().__init__(str(message))
        self.message = str(message)


def _say(message, **params) -> str:
    """A message given as a msgid (lazy or plain), translated now and filled with its parameters."""
    text = str(message)
    return text % params if params and "%(" in text else text


def clean_text(value) -> str:
    """Trimmed, with runs of spaces and tabs inside made one space."""
    return re.sub(r"[ \t]+", " ", str(value if value is not None else "").strip())


def parse_money(value, *, message=None, maximum: int = MONEY_MAX) -> int:
    """Whole HKD of any length up to the column's bound: commas, spaces and a leading HK$ are forgiven,
    decimals and signs are not."""
    if isinstance(value, int) and not isinstance(value, bool):
        cleaned = str(value)
    else:
        cleaned = re.sub(r"^(HK\$|\$)", "", str(value or "").strip().replace(",", "").replace(" ", ""),
                         flags=re.IGNORECASE)
    if not re.fullmatch(r"\d+", cleaned):
        raise BadValue(_say(message) if message else _("Enter an amount in whole Hong Kong dollars, for example 12000."))
    amount = int(cleaned)
    if amount > maximum:
        raise BadValue(_("Enter an amount of HK$%(max)s or less.", max=f"{maximum:,}"))
    return amount


def parse_whole(value, low: int, high: int, *, message=None) -> int:
    """A whole number from `low` to `high`."""
    text = str(value if value is not None else "").strip()
    if not re.fullmatch(r"\d+", text) or not low <= int(text) <= high:
        raise BadValue(_say(message, min=low, max=high) if message
                       else _("Enter a whole number from %(min)s to %(max)s.", min=low, max=high))
    return int(text)


def parse_date(value, *, message=None) -> date:
    """An ISO date (2027-07-05), as the JSON API sends it."""
    try:
        return date.fromisoformat(str(value or "").strip())
    except ValueError:
        raise BadValue(_say(message) if message else _date_message()) from None


def named(label, problem) -> str:
    """A field's message that names it: 'Start date: enter a real date…' (the problem starts lower case)."""
    text = str(problem)
    return _("%(field)s: %(problem)s", field=str(label), problem=text[:1].lower() + text[1:])


def _date_message() -> str:
    return _("Enter a real date with a day, month and year, for example 5 7 2027.")


def parse_choice(value, options, *, message=None) -> str:
    """One of `options`: an Enum class, a mapping (its keys) or any collection of strings."""
    allowed = {member.value for member in options} if isinstance(options, type) and issubclass(options, Enum) \
        else {str(option) for option in options}
    text = str(value if value is not None else "").strip()
    if text not in allowed:
        raise BadValue(_say(message) if message else _("Choose one of the options in the list."))
    return text


class Fields:
    """Reads one submitted form. Each parser returns the value, or None and keeps the field's message.

    `required` is the message for an empty field; without it an empty field gives `default`.
    """

    def __init__(self, raw: Mapping):
        self.raw = raw
        self.errors: dict[str, str] = {}

    def fail(self, name: str, message, **params) -> None:
        self.errors.setdefault(name, _say(message, **params))

    def has(self, name: str) -> bool:
        return bool(clean_text(self.raw.get(name)))

    def _read(self, name: str, parse, required, default):
        text = self.raw.get(name)
        if not clean_text(text):
            if required:
                self.fail(name, required)
            return default
        try:
            return parse(text)
        except BadValue as error:
            self.fail(name, error.message)
            return None

    def text(self, name: str, *, max_length: int = 200, required=None, default: str = "") -> str | None:
        def parse(value):
            text = clean_text(value)
            if len(text) > max_length:
                raise BadValue(_("Use %(limit)s characters or fewer.", limit=max_length))
            return text
        return self._read(name, parse, required, default)

    def bilingual(self, name: str, *, max_length: int = 200, required_en=None, required_zh=None
                  ) -> dict[str, str | None]:
        """`name_en` and `name_zh`, each with its own message."""
        return {f"{name}_{language}": self.text(f"{name}_{language}", max_length=max_length, required=required)
                for language, required in (("en", required_en), ("zh", required_zh))}

    def money(self, name: str, *, message=None, required=None, default: int | None = None,
              maximum: int = MONEY_MAX) -> int | None:
        return self._read(name, lambda value: parse_money(value, message=message, maximum=maximum), required, default)

    def whole(self, name: str, low: int, high: int, *, message=None, required=None,
              default: int | None = None) -> int | None:
        return self._read(name, lambda value: parse_whole(value, low, high, message=message), required, default)

    def choice(self, name: str, options, *, message=None, required=None, default: str | None = None) -> str | None:
        return self._read(name, lambda value: parse_choice(value, options, message=message), required, default)

    def checkbox(self, name: str) -> bool:
        return clean_text(self.raw.get(name)).lower() in ("yes", "true", "on", "1")

    def date(self, name: str, *, message=None, required=None, label=None) -> date | None:
        """The three-box day/month/year widget (`name-day`, `name-month`, `name-year`) or an ISO `name`.

        With a `label` ("Start date") each message names the field: "Start date: enter a real date…", so a
        page with several dates says which one is wrong.
        """
        parts = {part: clean_text(self.raw.get(f"{name}-{part}")) for part in DATE_PARTS}
        if label is not None:
            message = named(label, message or _date_message())
            required = named(label, required) if required and not isinstance(required, bool) else required
        if not any(parts.values()):
            return self._read(name, lambda value: parse_date(value, message=message), required, None)
        try:
            if not all(value.isdigit() for value in parts.values()):
                raise ValueError
            return date(int(parts["year"]), int(parts["month"]), int(parts["day"]))
        except ValueError:
            self.fail(name, message or _date_message())
            return None

    def raise_if_invalid(self, message: str | None = None, error: type[FormInvalid] = FormInvalid) -> None:
        if self.errors:
            raise error(self.errors, message)


def day_boxes(errors: Mapping[str, str], *date_fields: str) -> dict[str, str]:
    """Errors for a page: a date's message keyed by its day box, the box the error summary links to."""
    return {f"{name}-day" if name in date_fields else name: message for name, message in errors.items()}


# PostgreSQL text cannot hold a NUL character, and an unpaired surrogate (JSON's "\ud800" alone) cannot be
# written as UTF-8 at all: either one fails in the database or while the answer is written, a server error for
# what is only bad input. Every request's text is checked once, before any handler or form parser sees it.
UNREADABLE = re.compile(r"[\x00\ud800-\udfff]")


def unreadable_message() -> str:
    return _("This contains a character that cannot be stored (a NUL or a broken character). Remove it and "
             "try again.")


def _json_texts(value, name: str) -> Iterator[tuple[str, str]]:
    """Every string in a JSON document (keys too), with the top-level field it sits under."""
    if isinstance(value, str):
        yield name, value
    elif isinstance(value, dict):
        for key, item in value.items():
            field = name or str(key)
            yield field, str(key)
            yield from _json_texts(item, field)
    elif isinstance(value, list):
        for item in value:
            yield from _json_texts(item, name)


async def _request_texts(request: Request) -> Iterator[tuple[str, str]]:
    texts: list[tuple[str, str]] = [("path", request.scope.get("path", ""))]
    texts += [(key, key + value) for key, value in request.query_params.multi_items()]
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        try:
            texts += _json_texts(json.loads(await request.body()), "")
        except ValueError:
            pass  # not JSON: the route's own validation says so
    elif content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        texts += [(key, key + value) for key, value in (await request.form()).multi_items()
                  if isinstance(value, str)]
    return iter(texts)


async def refuse_unreadable_text(request: Request) -> None:
    """App-level dependency: a path, query, form or JSON text holding a NUL or an unpaired surrogate is bad input
    (400, `details.fields` naming each such field), whichever route it was sent to."""
    # A field named with such a character is reported without it: the answer itself must be writable.
    errors = {UNREADABLE.sub("", name) or "body": unreadable_message() for name, text in await _request_texts(request)
              if UNREADABLE.search(text)}
    if errors:
        raise FormInvalid(errors)


async def form_data(request: Request) -> dict[str, str]:
    """The submitted form's text fields (uploads are read by their own handlers)."""
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


FormData = Annotated[dict[str, str], Depends(form_data)]
