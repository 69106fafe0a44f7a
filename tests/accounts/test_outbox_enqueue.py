"""E-mails are queued in the recipient's language, whatever language the person causing them uses."""

from backend.accounts import emails
from backend.core.i18n import get_language, set_language
from backend.outbox.models import EmailStatus
from backend.outbox.service import enqueue


def test_an_email_is_rendered_in_the_recipients_language_and_queued_pending(session):
    set_language("en")
    email = enqueue(session, to="chan@example.hk", subject=emails.RESET_SUBJECT, body=emails.RESET_BODY,
                    language="zh-Hant", name="陳大文", link="https://x/reset", sign_off="—")
    assert email.id is not None and email.status == EmailStatus.PENDING
    assert email.subject == "重設你的 internmatch 密碼"
    assert email.body_text.startswith("陳大文 你好") and "https://x/reset" in email.body_text
    assert get_language() == "en", "the request's own language is restored"


def test_an_unknown_language_falls_back_to_english(session):
    email = enqueue(session, to="a@example.hk", subject=emails.VERIFY_SUBJECT, body=emails.VERIFY_BODY,
                    language="fr", name="A", link="L", sign_off="S")
    assert email.language == "en" and email.subject == "Confirm your e-mail address for internmatch"
