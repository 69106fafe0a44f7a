"""Queueing e-mails: an outbox row written in the same transaction as the change that causes it.

Texts are message ids (marked with `lazy_gettext` where they are defined) rendered in the recipient's
language here, not in the language of whoever happened to cause the e-mail.
"""

from contextlib import contextmanager

from sqlmodel import Session

from backend.core import i18n
from backend.outbox.models import OutboxEmail


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


def enqueue(session: Session, *, to: str, subject, body, language: str = "en", template: str = "",
            **params) -> OutboxEmail:
    language = language if language in i18n.LANGUAGES else i18n.DEFAULT_LANGUAGE
    email = OutboxEmail(to_address=to, subject=render(subject, language, **params),
                        body_text=render(body, language, **params), language=language, template=template)
    session.add(email)
    session.flush()
    return email
