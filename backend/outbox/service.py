"""Queueing e-mails: an outbox row written in the same transaction as the change that causes it.

Texts are message ids (marked with `lazy_gettext` where they are defined) rendered in the recipient's
language here, not in the language of whoever happened to cause the e-mail.
"""

from contextlib import contextmanager
from datetime import datetime

from sqlmodel import Session

from backend.core import i18n
from backend.core.bulk import insert_rows
from backend.core.clock import HONG_KONG
from backend.core.i18n import lazy_gettext
from backend.core.settings import get_settings
from backend.outbox.models import OutboxEmail

SIGN_OFF = lazy_gettext("internmatch – internships in the Mainland for youth of Hong Kong and Guangdong")
# Hong Kong has kept UTC+8 without daylight saving since 1979, so a fixed offset needs no tz database.


@contextmanager
def speaking(language: str):
    previous = i18n.get_language()
    i18n.set_language(language)
    try:
        yield
    finally:
        i18n.set_language(previous)


def render(text, language: str, **params) -> str:
    with speaking(language):
        rendered = str(text)
    return rendered % params if params else rendered


def compose(*, to: str, subject, body, language: str = "en", template: str = "", **params) -> dict:
    """An e-mail as the outbox row's values, rendered in the recipient's language."""
    language = language if language in i18n.LANGUAGES else i18n.DEFAULT_LANGUAGE
    return dict(to_address=to, subject=render(subject, language, **params),
                body_text=render(body, language, **params), language=language, template=template)


def enqueue(session: Session, **email) -> OutboxEmail:
    row = OutboxEmail(**compose(**email))
    session.add(row)
    session.flush()
    return row


def enqueue_many(session: Session, rows: list[dict]) -> None:
    """Composed e-mails (`compose`) as outbox rows, in one COPY or multi-row INSERT: a batch of thousands of
    offers would otherwise spend most of its time building and inserting them one by one."""
    insert_rows(session, OutboxEmail.__table__, rows)


def sign_off(language: str) -> str:
    return render(SIGN_OFF, language)


def in_language(language: str, obj, field_name: str) -> str:
    """A bilingual field (`title_en`/`title_zh`) in the recipient's language, falling back to the other."""
    with speaking(language):
        return i18n.localised(obj, field_name)


def hong_kong_time(moment: datetime) -> str:
    return moment.astimezone(HONG_KONG).strftime("%Y-%m-%d %H:%M")


def link(path: str) -> str:
    """An absolute address for an e-mail: the reader is not on the site."""
    return get_settings().base_url.rstrip("/") + path
