"""The audit log reads in words, in either language, with Hong Kong times: no bare codes for a Chinese reader."""

import re
from datetime import UTC, datetime
from pathlib import Path

from backend.audit import labels
from backend.audit.models import AuditEvent
from backend.identity.models import Role
from tests.accounts.helpers import make_user, sign_in_as

BACKEND = Path(__file__).resolve().parents[2] / "backend"
# An action is the first text argument of audit.record(...) or an `action=` given to a status move.
RECORDED = re.compile(r"audit\.record\(\s*\w+,\s*\w+,\s*\"([a-z_]+\.[a-z_]+)\"|action=\"([a-z_]+\.[a-z_]+)\"")


def test_every_action_the_code_records_has_a_label_and_every_record_type_too():
    found = set()
    for path in BACKEND.rglob("*.py"):
        for match in RECORDED.finditer(path.read_text(encoding="utf-8")):
            found.add(match.group(1) or match.group(2))
    # Built from a value: review.py's f"match.{kind}" (and _removed), complaints' f"complaint.{outcome}".
    found |= {"match.pin", "match.exclude", "match.pin_removed", "match.exclude_removed",
              "complaint.upheld", "complaint.not_upheld"}
    assert len(found) > 50
    assert sorted(found - set(labels.ACTION_LABELS)) == []


def test_the_log_page_shows_labels_and_hong_kong_times_in_chinese(session, client):
    officer = make_user(session, Role.OFFICER)
    session.add(AuditEvent(actor_id=officer.id, actor_role="officer", action="placement.offered",
                           object_type="placement", object_id="7",
                           occurred_at=datetime(2027, 5, 3, 17, 30, tzinfo=UTC)))
    session.flush()
    sign_in_as(client, session, officer)
    page = client.get("/staff/audit?lang=zh-Hant&from-day=4&from-month=5&from-year=2027"
                      "&to-day=4&to-month=5&to-year=2027")
    assert page.status_code == 200, page.text[:500]
    assert "已發出錄取" in page.text, "the action in words"
    assert "2027-05-04 01:30:00" in page.text, "17:30 UTC is 01:30 the next day in Hong Kong"
    assert "錄取 7" in page.text, "the kind of record in words"
