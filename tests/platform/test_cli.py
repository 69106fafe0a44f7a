"""The `internmatch` command: staff accounts from the terminal and the demo data set."""

from sqlmodel import col, func, select

from backend.accounts.service import AccountError, create_staff
from backend.applicants.models import ApplicantProfile, Choice, ProjectDemand
from backend.cli import build_parser
from backend.demo import DEMO_ACCOUNTS, DEMO_DOMAIN, DEMO_PASSWORD, load_demo, split_bilingual
from backend.identity.models import Role, User
from backend.organisations.models import OrganisationMember
from backend.projects.models import Project
from backend.schemes.models import Scheme


def test_the_command_offers_serve_migrate_demo_match_and_create_staff():
    subcommands = build_parser()._subparsers._group_actions[0].choices  # noqa: SLF001
    assert {"serve", "migrate", "demo", "match", "create-staff"} <= set(subcommands)
    serve = build_parser().parse_args(["serve", "--host", "0.0.0.0", "--port", "9000", "--workers", "2"])  # noqa: S104
    assert (serve.host, serve.port, serve.workers) == ("0.0.0.0", 9000, 2)  # noqa: S104


def test_create_staff_makes_a_verified_officer_with_a_hashed_password(session):
    user = create_staff(session, email=" Officer@HAB.gov.hk ", password="a long enough passphrase",
                        role="officer", display_name="Officer", actor=None)
    assert user.email == "officer@hab.gov.hk"
    assert user.role == Role.OFFICER and user.email_verified_at is not None
    assert user.password_hash.startswith("$argon2")
    assert "a long enough passphrase" not in user.password_hash


def test_create_staff_refuses_weak_passwords_duplicates_and_non_staff_roles(session):
    create_staff(session, email="a@hab.gov.hk", password="correct horse battery", role="admin",
                 display_name="A", actor=None)
    for email, password, role, field in [
        ("b@hab.gov.hk", "short", "officer", "password"),
        ("b@hab.gov.hk", "password1234", "officer", "password"),
        ("A@hab.gov.hk", "another fine passphrase", "officer", "email"),
        ("c@hab.gov.hk", "another fine passphrase", "applicant", "role"),
    ]:
        try:
            create_staff(session, email=email, password=password, role=role, display_name="x", actor=None)
        except AccountError as error:
            assert error.details["field"] == field
        else:
            raise AssertionError(f"{email}/{role} should have been refused")


def test_demo_data_is_shaped_like_the_real_scheme_and_has_a_login_for_each_role(session):
    report = load_demo(n_applicants=400, n_projects=40, seed=7, session=session)

    scheme = session.exec(select(Scheme).where(Scheme.kind == "funding_scheme")).one()
    projects = session.exec(select(Project).where(Project.scheme_id == scheme.id)).all()
    assert len(projects) == 40 and report.projects > 40, "the Funding Scheme's projects, then the other programmes'"
    places = sum(p.places_granted for p in projects)
    funded = sum(p.funding_granted for p in projects)
    assert funded <= scheme.budget_hkd, "the demo never grants more than the budget"
    guangdong = sum(p.places_granted for p in projects if p.region == "Guangdong")
    assert 0.2 <= guangdong / places <= 0.45, "about a third of the places are in Guangdong"
    assert all(p.title_en and p.title_zh for p in projects), "every project is bilingual"
    assert all(p.subsidy_requested_per_place == p.subsidy_granted_per_place for p in projects)
    assert session.exec(select(func.count()).select_from(ApplicantProfile)
                        .where(ApplicantProfile.origin != "guangdong")).one() == 400
    assert session.exec(select(func.count()).select_from(ApplicantProfile)).one() == report.applicants
    assert session.exec(select(func.count()).select_from(Choice)).one() == report.choices > 400
    chosen = dict(session.exec(select(Choice.project_id, func.count()).group_by(Choice.project_id)).all())
    counted = {row.project_id: row.applicants for row in session.exec(select(ProjectDemand))}
    assert {pid: counted.get(pid, 0) for pid in chosen} == chosen, "project pages count the demo's choices"

    emails = {u.email: u for u in session.exec(select(User))}
    for local, role, _name in DEMO_ACCOUNTS:
        assert emails[f"{local}@{DEMO_DOMAIN}"].role == role
    ngo = emails[f"ngo@{DEMO_DOMAIN}"]
    assert session.exec(select(OrganisationMember).where(OrganisationMember.user_id == ngo.id)).one().is_admin
    from backend.accounts.passwords import verify_password

    assert verify_password(DEMO_PASSWORD, emails[f"admin@{DEMO_DOMAIN}"].password_hash)[0]


def test_demo_holds_thematic_programmes_with_mixed_cohorts_and_a_summer_programme_offered_by_guangdong(session):
    from matching.chinese import script_of

    load_demo(n_applicants=400, n_projects=40, seed=7, session=session)
    thematic = session.exec(select(Scheme).where(Scheme.kind == "thematic_programme")).all()
    assert sorted(s.host_institution_en for s in thematic) == ["Wolong National Nature Reserve", "the Palace Museum"]
    cohorts = session.exec(select(Project).where(col(Project.scheme_id).in_([s.id for s in thematic]))).all()
    assert len(cohorts) == 3 and all(c.origin_seats == {"hong_kong": [10, 10], "guangdong": [10, 10]} for c in cohorts)
    chosen_by = {p.origin for p in session.exec(select(ApplicantProfile).join(
        Choice, col(Choice.applicant_id) == ApplicantProfile.id).where(col(Choice.project_id).in_([c.id for c in cohorts])))}
    assert chosen_by == {"hong_kong", "guangdong"}, "both sides choose the cohorts"

    summer = session.exec(select(Scheme).where(Scheme.kind == "summer_programme")).one()
    places = session.exec(select(Project).where(Project.scheme_id == summer.id)).all()
    assert sum(p.places_granted for p in places) >= 100 and all(p.subsidy_requested_per_place == 0 for p in places)
    assert all(p.region == "Guangdong" and script_of(p.host_provides_zh) == "zh-Hans" for p in places)
    guangdong = session.exec(select(ApplicantProfile).where(ApplicantProfile.origin == "guangdong")).all()
    assert guangdong and all(script_of(p.statement) == "zh-Hans" for p in guangdong)
    assert sum(1 for p in guangdong if p.origin_confirmed_at is None) == 3, "a few wait for the Guangdong office"


def test_demo_is_reproducible_for_a_seed(session):
    first = load_demo(n_applicants=50, n_projects=8, seed=11, session=session)
    titles = [p.title_en for p in session.exec(select(Project).order_by(Project.id))]
    again = load_demo(n_applicants=50, n_projects=8, seed=11, session=session, reset=True)
    assert titles == [p.title_en for p in session.exec(select(Project).order_by(Project.id))]
    assert first.choices == again.choices


def test_demo_if_empty_leaves_existing_data_alone(session):
    load_demo(n_applicants=20, n_projects=5, seed=1, session=session)
    assert not load_demo(n_applicants=20, n_projects=5, seed=1, session=session, if_empty=True).loaded


def test_split_bilingual_keeps_numbers_inside_the_chinese_text():
    assert split_bilingual("Join us for 4 weeks. 於廣州實習4星期。") == ("Join us for 4 weeks.", "於廣州實習4星期。")
    assert split_bilingual("English only") == ("English only", "")


def test_a_staff_account_cannot_be_made_by_a_non_admin(session):
    officer = create_staff(session, email="o@hab.gov.hk", password="officer passphrase 1", role="officer",
                           display_name="O", actor=None)
    try:
        create_staff(session, email="p@hab.gov.hk", password="officer passphrase 2", role="officer",
                     display_name="P", actor=officer)
    except AccountError:
        pass
    else:
        raise AssertionError("an officer must not create staff")
    assert session.exec(select(User).where(User.email == "p@hab.gov.hk")).first() is None
