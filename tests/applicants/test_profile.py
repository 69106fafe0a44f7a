"""The step-by-step profile: each step keeps its valid answers and reports the others per field."""

from datetime import date

import pytest
from sqlmodel import select

from backend.applicants import profile as profiles
from backend.audit.models import AuditEvent
from backend.core.errors import DomainError, NotFound
from tests.accounts.helpers import make_user

TODAY = date(2026, 11, 25)


def test_names_step_saves_the_name_even_when_the_date_of_birth_is_in_the_future(session):
    user = make_user(session)

    profile, errors = profiles.save_step(session, user, "names",
                                         {"name_en": "Chan Ka Yan", "name_zh": "陳嘉欣",
                                          "date_of_birth-day": "1", "date_of_birth-month": "1",
                                          "date_of_birth-year": "2030"}, today=TODAY)

    assert errors == {"date_of_birth": "Your date of birth must be in the past."}
    assert (profile.name_en, profile.name_zh, profile.date_of_birth) == ("Chan Ka Yan", "陳嘉欣", None)
    profile, errors = profiles.save_step(session, user, "names", {"name_en": "Chan Ka Yan",
                                                                  "date_of_birth": "2004-02-30"}, today=TODAY)
    assert errors == {"date_of_birth": "Date of birth: enter a real date with a day, month and year, for example 5 7 2027."}
    profile, errors = profiles.save_step(session, user, "names", {"name_en": "Chan Ka Yan",
                                                                  "date_of_birth": "2004-02-29"}, today=TODAY)
    assert errors == {} and profile.date_of_birth == date(2004, 2, 29)


def test_availability_to_before_from_keeps_the_valid_first_day(session):
    user = make_user(session)
    profile, errors = profiles.save_step(session, user, "availability",
                                         {"available_from": "2027-07-01", "available_to": "2027-06-01"})
    assert errors == {"available_to": "The last day you are available must be on or after the first day."}
    assert profile.available_from == date(2027, 7, 1) and profile.available_to is None


def test_language_levels_outside_1_to_5_are_refused_and_the_others_kept(session):
    user = make_user(session)
    profile, errors = profiles.save_step(session, user, "languages",
                                         {"cantonese": "5", "putonghua": "7", "english": "3",
                                          "other_language": "Japanese", "other_level": "2"})
    assert errors == {"putonghua": "The Putonghua level must be a whole number from 1 to 5."}
    assert profile.languages == {"cantonese": 5, "english": 3, "japanese": 2}
    profile, errors = profiles.save_step(session, user, "languages", {"cantonese": "5", "putonghua": "3"})
    assert errors == {} and profile.languages == {"cantonese": 5, "putonghua": 3}, "cleared ones are removed"


@pytest.mark.parametrize(("step", "form", "field", "message"), [
    ("residency", {}, "origin", "Say whether you are a Hong Kong resident, from Guangdong, or neither."),
    ("residency", {"origin": "guangdong"}, "guangdong_city", "Choose the city in Guangdong where you live, study or work."),
    ("contact", {"contact_email": "not-an-address"}, "contact_email",
     "Enter an e-mail address like name@example.com."),
    ("education", {"education_level": "phd", "institution": "HKU"}, "education_level",
     "Choose your highest level of education."),
    ("study", {"field_of_study": "x" * 201}, "field_of_study", "Must be 200 characters or fewer."),
    ("regions", {"regions": ["Guangdong", "Atlantis"]}, "regions", "Choose regions from the list."),
    ("open_to_other", {"open_to_other": "maybe"}, "open_to_other",
     "Say whether you would take a project you did not choose."),
])
def test_each_step_reports_specific_field_errors(session, step, form, field, message):
    _profile, errors = profiles.save_step(session, make_user(session), step, form)
    assert errors == {field: message}


def test_unknown_steps_are_not_found(session):
    with pytest.raises(NotFound):
        profiles.save_step(session, make_user(session), "hkid", {"hkid": "A123456(7)"})


def _complete(session, user):
    steps = {
        "names": {"name_en": "Chan Ka Yan", "date_of_birth": "2004-03-01"},
        "residency": {"origin": "hong_kong"},
        "contact": {"contact_email": "ka.yan@example.hk", "phone": "9123 4567"},
        "education": {"education_level": "bachelor", "institution": "HKU", "programme": "BSc Data Science",
                      "study_year": "Year 3"},
        "study": {"field_of_study": "Data Science", "skills": "Python", "interests": "fintech",
                  "statement": "I want to learn."},
        "languages": {"cantonese": "5", "putonghua": "3"},
        "availability": {"available_from": "2027-06-01", "available_to": "2027-08-31"},
        "regions": {"regions": "Guangdong;Shanghai"},
        "open_to_other": {"open_to_other": "yes"},
        "joined_before": {"joined_before": "no"},
    }
    for step, form in steps.items():
        _profile, errors = profiles.save_step(session, user, step, form, today=TODAY)
        assert errors == {}, step


def test_submit_needs_every_step_then_records_the_time_and_audits(session):
    user = make_user(session)
    profiles.save_step(session, user, "names", {"name_en": "Chan", "date_of_birth": "2004-03-01"}, today=TODAY)
    profile = profiles.own_profile(session, user)
    assert profiles.missing_steps(profile) == ["residency", "education", "study", "languages", "availability"]
    with pytest.raises(DomainError) as refused:
        profiles.submit(session, user)
    assert refused.value.details["missing"] == profiles.missing_steps(profile)
    assert "Where you are from" in refused.value.message

    _complete(session, user)
    profile = profiles.submit(session, user)

    assert profile.submitted_at is not None and profile.regions == ["Shanghai", "Guangdong"]
    answers = {a.field: a.value for a in profiles.check_answers(session, user)}
    assert answers["date_of_birth"] == "1 March 2004" and answers["origin"] == "Hong Kong resident"
    actions = session.exec(select(AuditEvent.action).where(AuditEvent.object_id == str(profile.id))).all()
    assert "applicant_profile.submitted" in actions
    assert all("Chan" not in str(e.after) for e in session.exec(select(AuditEvent)).all()), "no personal data"
