"""An officer cannot pin an applicant to a project whose offer she declined or let lapse: the round would drop such a
pin without a word, so it is refused when it is made, in plain words."""

from __future__ import annotations

import pytest
from sqlmodel import select

from backend.core.errors import Conflict
from backend.placements import review
from backend.placements.models import MatchAdjustment, PlacementStatus
from tests.applicants.helpers import make_applicant
from tests.factories import make_project, make_scheme
from tests.placements.test_approvals import hold
from tests.placements.test_rounds import make_staff


@pytest.mark.parametrize("answer", [PlacementStatus.DECLINED, PlacementStatus.EXPIRED])
def test_a_pin_on_a_pair_she_declined_or_let_lapse_is_refused(session, answer):
    scheme = make_scheme(session)
    project, other = make_project(session, scheme), make_project(session, scheme)
    _user, profile = make_applicant(session)
    hold(session, project, profile, answer)
    officer = make_staff(session)

    with pytest.raises(Conflict, match="not offered to her again"):
        review.pin(session, officer, scheme, profile.id, project.id, "The NGO asked for her")
    assert session.exec(select(MatchAdjustment)).all() == []
    assert review.pin(session, officer, scheme, profile.id, other.id, "The NGO asked for her").project_id == other.id
