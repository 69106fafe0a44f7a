"""Every page, in English, Traditional Chinese and Simplified Chinese, at desktop width and at 375 px: axe-core
finds nothing serious or critical.

The list of pages is checked against the app's routes, so a new page without a row here fails
`test_every_page_of_the_app_is_in_the_sweep`. Each page is opened by someone allowed to see it, on a live
server whose demo data is given what a real cycle leaves behind (a finished round, an offer, a draft).
"""

from __future__ import annotations

import os
import re
import time

import pytest
from sqlmodel import Session, col, select

from backend.applicants.profile import STEPS
from matching.chinese import to_simplified
from tests.browser.conftest import serious_accessibility_findings, sign_in
from tests.live import live_deployment

NOT_A_TOKEN = "not-a-real-token"
# GET routes that answer with a file or JSON, not a page.
DOWNLOADS = {"/account/export", "/ngo/applicants/{applicant_id}/cv", "/profile/cv/download",
             "/staff/reports/download.csv", "/staff/reports/download.xlsx", "/docs",
             "/applicants/import/template.csv"}
DOWNLOADS |= {"/staff/reports/track-record.csv", "/staff/reports/track-record.xlsx"}

# An officer whose password was right and who has not entered a code yet.
SECOND_STEP = "officer at the second step"
# The demo Guangdong coordinating office (guangdong-office@demo.internmatch.hk).
GUANGDONG_OFFICE = "guangdong-office"

# route → (who opens it, how to fill in its parameters from the scene)
PAGES: dict[str, tuple[str, object]] = {
    "/": ("anonymous", None),
    "/projects": ("anonymous", None),
    "/projects/{project_id}": ("anonymous", lambda s: [{"project_id": s["ngo_project"]},
                                                       {"project_id": s["summer_place"]}]),
    "/sign-in": ("anonymous", None),
    "/sign-up": ("anonymous", None),
    "/sign-up/organisation": ("anonymous", None),
    "/forgot-password": ("anonymous", None),
    "/claim-account/{token}": ("anonymous", lambda s: {"token": NOT_A_TOKEN}),
    "/invitations/{token}": ("anonymous", lambda s: {"token": NOT_A_TOKEN}),
    "/reset-password/{token}": ("anonymous", lambda s: {"token": NOT_A_TOKEN}),
    "/verify-email/{token}": ("anonymous", lambda s: {"token": NOT_A_TOKEN}),
    "/account": ("applicant", None),
    "/account/delete": ("applicant", None),
    "/account/two-factor/setup": ("applicant", None),
    "/sign-in/code": (SECOND_STEP, None),
    "/profile": ("applicant", None),
    "/profile/steps/{step}": ("applicant", lambda s: [{"step": step} for step in STEPS]),
    "/profile/check-answers": ("applicant", None),
    "/profile/cv": ("applicant", None),
    "/choices": ("applicant", None),
    "/choices/{choice_id}/withdraw": ("applicant", lambda s: {"choice_id": s["choice"]}),
    "/status": ("applicant", None),
    "/scramble": ("applicant", None),
    "/placements": ("offered applicant", None),
    "/placements/{placement_id}": ("offered applicant", lambda s: {"placement_id": s["placement"]}),
    "/organisation": ("ngo", None),
    "/organisation/interns": ("ngo", None),
    "/ngo/projects": ("ngo", None),
    "/ngo/projects/new": ("ngo", None),
    "/ngo/projects/{project_id}": ("ngo", lambda s: {"project_id": s["ngo_project"]}),
    "/ngo/projects/{project_id}/edit": ("ngo", lambda s: {"project_id": s["draft_project"]}),
    "/ngo/applicants": ("ngo", None),
    "/ngo/applicants/{applicant_id}": ("ngo", lambda s: {"applicant_id": s["chooser"]}),
    "/ngo/rankings/{project_id}": ("ngo", lambda s: {"project_id": s["ngo_project"]}),
    "/applicants/import": ("ngo", None),
    "/staff/schemes": ("officer", None),
    "/staff/schemes/new": ("officer", None),
    "/staff/schemes/{scheme_id}": ("officer", lambda s: [{"scheme_id": s["scheme"]},
                                                         {"scheme_id": s["thematic_programme"]}]),
    "/staff/schemes/{scheme_id}/edit": ("officer", lambda s: {"scheme_id": s["scheme"]}),
    "/staff/schemes/{scheme_id}/portfolio": ("officer", lambda s: {"scheme_id": s["scheme"]}),
    "/staff/schemes/{scheme_id}/ranking": ("officer", lambda s: [{"scheme_id": s["scheme"]},
                                                                 {"scheme_id": s["double_scored_scheme"]}]),
    "/staff/projects": ("officer", None),
    "/staff/projects/{project_id}": ("officer", lambda s: [{"project_id": s["ngo_project"]},
                                                           {"project_id": s["to_moderate"]}]),
    "/staff/rounds": ("officer", None),
    "/staff/rounds/new": ("officer", None),
    "/staff/rounds/{run_id}": ("officer", lambda s: [{"run_id": s["run"], "": f"?view={view}"}
                                                     for view in ("projects", "applicants", "unplaced", "empty")]),
    "/staff/reports": ("officer", None),
    "/staff/rounds/{run_id}/approval": ("approver", lambda s: {"run_id": s["run"]}),
    "/staff/accounts": ("admin", None),
    "/staff/organisations": ("admin", None),
    "/staff/audit": ("admin", None),
    "/complaints": ("applicant", None),
    "/complaints/new": ("applicant", None),
    "/complaints/{complaint_id}": ("applicant", lambda s: [{"complaint_id": c} for c in s["complaints"]]),
    "/ngo/complaints": ("ngo", None),
    "/staff/complaints": ("officer", None),
    "/staff/complaints/{complaint_id}": ("officer", lambda s: [{"complaint_id": c} for c in s["complaints"]]),
    "/staff/schemes/{scheme_id}/payments": ("approver", lambda s: {"scheme_id": s["scheme"]}),
    "/staff/todo": ("approver", None),
    "/personal-information-collection-statement": ("anonymous", None),
    "/privacy": ("anonymous", None),
    "/accessibility": ("anonymous", None),
    "/contact": ("anonymous", None),
    "/terms": ("anonymous", None),
    "/ngo/projects/{project_id}/outcomes": ("ngo", lambda s: [{"project_id": p} for p in s["finished"]]),
    "/ngo/projects/{project_id}/outcomes/{intern_id}": ("ngo", lambda s: {"project_id": s["finished"][0],
                                                                         "intern_id": s["intern"]}),
    "/ngo/projects/{project_id}/report": ("ngo", lambda s: [{"project_id": p} for p in s["finished"]]),
    "/staff/projects/{project_id}/report": ("officer", lambda s: [{"project_id": p} for p in s["finished"]]),
    # the demo applicant's ended internships: one still to confirm, one confirmed (an allowance not received)
    "/status/confirmations/{internship_id}": ("applicant", lambda s: [{"internship_id": i} for i in s["internships"]]),
    "/staff/confirmations": ("officer", None),
    "/staff/reports/track-record": ("officer", None),
    # the Guangdong coordinating office: a Guangdong applicant awaiting it, a cohort of a programme admitting both
    "/guangdong-office/participants": (GUANGDONG_OFFICE, None),
    "/guangdong-office/cohorts": (GUANGDONG_OFFICE, None),
    "/guangdong-office/hosts": (GUANGDONG_OFFICE, None),
}
SHOTS = os.environ.get("INTERNMATCH_SCREENSHOTS")
ROLES = ("anonymous", "applicant", "offered applicant", "ngo", "officer", "approver", "admin", SECOND_STEP,
         GUANGDONG_OFFICE)


def test_every_page_of_the_app_is_in_the_sweep():
    from backend.app import create_app
    from tests.authz.test_permission_matrix import app_routes

    pages = {path for method, path in app_routes(create_app()) if method == "GET" and not path.startswith("/api/")}
    assert sorted(pages - DOWNLOADS - set(PAGES)) == [], "add the new page to PAGES in this file"
    assert sorted(set(PAGES) - pages) == [], "PAGES lists a page that no longer exists"


def _set_the_scene(database_url: str) -> dict:
    """What a cycle leaves behind: a worked-out funding portfolio, a finished round, one approved offer, a draft project, a choice to withdraw."""
    from backend.applicants.models import ApplicantProfile, Choice
    from backend.complaints.models import Complaint
    from backend.core.db import make_engine
    from backend.identity.models import Role, User
    from backend.organisations.models import Organisation, OrganisationMember
    from backend.placements import approval_jobs, rounds
    from backend.placements.models import MatchProposal, MatchRun, MatchRunStatus, Placement
    from backend.projects.models import Project, ProjectStatus
    from backend.schemes.models import Scheme
    from tests.factories import make_project

    engine = make_engine(database_url)
    try:
        with Session(engine, expire_on_commit=False) as db:
            def login(email: str) -> User:
                return db.exec(select(User).where(User.email == email)).one()

            scheme = db.exec(select(Scheme).order_by(col(Scheme.id))).first()
            ngo = login("ngo@demo.internmatch.hk")
            organisation = db.get(Organisation, db.exec(select(OrganisationMember.organisation_id)
                                                        .where(OrganisationMember.user_id == ngo.id)).first())
            chosen = db.exec(select(Choice).join(Project, col(Project.id) == col(Choice.project_id))
                             .where(Project.organisation_id == organisation.id)).first()
            draft = make_project(db, scheme, organisation, status=ProjectStatus.DRAFT)
            applicant = login("applicant@demo.internmatch.hk")
            profile = db.exec(select(ApplicantProfile).where(ApplicantProfile.user_id == applicant.id)).one()
            own_choice = db.exec(select(Choice).where(Choice.applicant_id == profile.id)).first()
            run = rounds.start_round(db, login("officer@demo.internmatch.hk"), scheme)
            _worked_out_portfolio(db, scheme, organisation, login("officer@demo.internmatch.hk"))
            to_moderate = _scores_to_moderate(db, organisation, login("officer@demo.internmatch.hk"),
                                              login("officer2@demo.internmatch.hk"))
            db.commit()
            scene = {"scheme": scheme.id, "ngo_project": chosen.project_id, "chooser": chosen.applicant_id,
                     "draft_project": draft.id, "choice": own_choice.id, "run": run.id,
                     "to_moderate": to_moderate.id, "double_scored_scheme": to_moderate.scheme_id,
                     # the demo's other programmes: a thematic programme, a place a Guangdong host offers
                     "thematic_programme": db.exec(select(Scheme.id).where(Scheme.kind == "thematic_programme")).first(),
                     "summer_place": db.exec(select(Project.id).join(Scheme, col(Scheme.id) == Project.scheme_id)
                                             .where(Scheme.kind == "summer_programme")).first(),
                     # the demo applicant's complaints: received (overdue), being investigated, upheld
                     "complaints": list(db.exec(select(Complaint.id).where(Complaint.user_id == applicant.id)
                                                .order_by(col(Complaint.id))).all())}

        # The live server's in-process worker runs the round.
        deadline = time.monotonic() + 180
        while True:
            with Session(engine) as db:
                status = db.get(MatchRun, scene["run"]).status
            if status == MatchRunStatus.SUCCEEDED:
                break
            assert status not in (MatchRunStatus.FAILED, MatchRunStatus.CANCELLED), status
            assert time.monotonic() < deadline, "the round did not finish"
            time.sleep(0.5)

        with Session(engine, expire_on_commit=False) as db:
            approver = db.exec(select(User).where(User.role == Role.APPROVER)).first()
            run = db.get(MatchRun, scene["run"])
            first = db.exec(select(MatchProposal).where(MatchProposal.run_id == run.id)
                            .order_by(col(MatchProposal.id))).first()
            # Approved as the worker would (the round page then shows the approval's result), in this session.
            job = approval_jobs.queue_approval(db, approver, run, [first.id])
            approval_jobs.work_through(db, job.id)
            db.commit()
            placement = db.exec(select(Placement).where(Placement.applicant_id == first.applicant_id)).one()
            offered = db.get(User, db.get(ApplicantProfile, first.applicant_id).user_id)
            scene.update(placement=placement.id, offered_email=offered.email)
            scene.update(_finished_projects(db, scheme, organisation, ngo, avoid=first.applicant_id))
            scene.update(internships=_ended_internships(db, "ngo@demo.internmatch.hk", "applicant@demo.internmatch.hk"))
            _guangdong_side(db, organisation)
            _scramble_open(db, organisation, profile, db.get(Project, own_choice.project_id))
            db.commit()
    finally:
        engine.dispose()
    return scene


def _guangdong_side(db, organisation) -> None:
    """A Guangdong applicant awaiting the office's confirmation and a cohort of a programme admitting both sides."""
    from datetime import date

    from backend.applicants.models import ApplicantProfile
    from backend.core.db import utcnow
    from backend.projects.models import ProjectStatus
    from tests.factories import make_project, make_scheme

    db.add(ApplicantProfile(name_en="Li Xiaomei", name_zh="李小梅", date_of_birth=date(2004, 5, 1), origin="guangdong",
                            guangdong_city="Shenzhen", origin_declared_at=utcnow(), institution="深圳大学",
                            programme="Museum Studies", education_level="bachelor"))
    palace = make_scheme(db, name_en="Palace Museum internship programme", name_zh="故宮博物院實習計劃",
                         admitted_origins=["hong_kong", "guangdong"],
                         # past windows: the demo's own scheme stays the one applicants are shown
                         ngo_window_opens=date(2025, 9, 1), ngo_window_closes=date(2025, 10, 31),
                         applicant_window_opens=date(2025, 11, 1), applicant_window_closes=date(2026, 3, 31))
    make_project(db, palace, organisation, status=ProjectStatus.OPEN, title_en="Palace Museum summer cohort",
                 title_zh="故宮暑期組別", origin_seats={"guangdong": [5, 10]})


def _scramble_open(db, organisation, profile, like) -> None:
    """A scheme past match day whose scramble is open today: the demo applicant chose one of its projects and was
    not placed, and two of its projects she meets have places left, so /scramble lists them."""
    from datetime import timedelta

    from backend.applicants.models import Choice
    from backend.core import clock
    from backend.projects.models import ProjectStatus
    from tests.factories import make_project, make_scheme

    today = clock.today()
    earlier = make_scheme(db, name_en="Summer internship programme (second call)", name_zh="暑期實習計劃（第二輪）",
                          ngo_window_opens=today - timedelta(days=120), ngo_window_closes=today - timedelta(days=90),
                          applicant_window_opens=today - timedelta(days=80),
                          applicant_window_closes=today - timedelta(days=40), match_day=today - timedelta(days=20),
                          scramble_opens=today - timedelta(days=2), scramble_closes=today + timedelta(days=12))
    facts = dict(start_date=like.start_date, end_date=like.end_date, city=like.city, region=like.region,
                 languages=like.languages, min_age=like.min_age, max_age=like.max_age,
                 min_education=like.min_education, status=ProjectStatus.CLOSED)
    full = make_project(db, earlier, organisation, places=1, title_en="Museum archive intern",
                        title_zh="博物館檔案實習生", **facts)
    db.add(Choice(applicant_id=profile.id, project_id=full.id, scheme_id=earlier.id, rank=1))
    for title_en, title_zh, places in (("Wolong panda keeping", "臥龍大熊貓護理", 3),
                                       ("Greater Bay Area data lab", "大灣區數據實驗室", 1)):
        make_project(db, earlier, organisation, places=places, title_en=title_en, title_zh=title_zh, **facts)


def _finished_projects(db, scheme, organisation, ngo, *, avoid: int) -> dict:
    """Two of the NGO's projects whose internship is over: one with an intern's outcome still to record, one
    whose completion report (every outcome recorded) has been sent for staff to review."""
    from datetime import date, timedelta

    from backend.applicants.models import ApplicantProfile
    from backend.core.db import utcnow
    from backend.placements import offers
    from backend.placements.models import Placement, PlacementStatus
    from backend.projects import completion
    from backend.projects.models import ProjectStatus
    from tests.factories import make_project

    ngo = db.get(type(ngo), ngo.id)  # read again in this session: its organisation is looked up through it
    end = date.today() - timedelta(days=10)
    editable, sent = (make_project(db, scheme, organisation, status=ProjectStatus.CLOSED, places=2,
                                   start_date=end - timedelta(days=40), end_date=end) for _ in range(2))
    profiles = db.exec(select(ApplicantProfile.id).where(ApplicantProfile.id != avoid)
                       .order_by(col(ApplicantProfile.id).desc()).limit(3)).all()
    interns = [Placement(scheme_id=scheme.id, project_id=project.id, applicant_id=profile_id,
                         status=PlacementStatus.ACCEPTED, subsidy_hkd=project.subsidy_granted_per_place,
                         offer_deadline=utcnow()) for project, profile_id in zip((editable, sent, sent), profiles, strict=True)]
    db.add_all(interns)
    db.flush()
    offers.record_outcome(db, ngo, sent, interns[1].id, PlacementStatus.COMPLETED)
    offers.record_outcome(db, ngo, sent, interns[2].id, PlacementStatus.LEFT_EARLY,
                          left_on=sent.start_date + timedelta(days=9), reason="Went back to university early")
    completion.send(db, ngo, sent, "Both interns worked on the logistics dashboard.")
    db.commit()
    return {"finished": [editable.id, sent.id], "intern": interns[0].id}
def _ended_internships(db, ngo_email: str, applicant_email: str) -> list[int]:
    """Two accepted places of the applicant's on the organisation's projects that ended last week (a scheme each):
    the first not yet confirmed, the second confirmed with the allowance not received."""
    from datetime import timedelta

    from backend.applicants.models import ApplicantProfile
    from backend.core.db import utcnow
    from backend.identity.models import User
    from backend.organisations.models import Organisation, OrganisationMember
    from backend.placements import confirmations
    from backend.placements.models import Placement, PlacementStatus
    from backend.projects.models import ProjectStatus
    from tests.factories import make_project, make_scheme

    ngo = db.exec(select(User).where(User.email == ngo_email)).one()
    organisation = db.get(Organisation, db.exec(select(OrganisationMember.organisation_id)
                                                .where(OrganisationMember.user_id == ngo.id)).first())
    applicant = db.exec(select(User).where(User.email == applicant_email)).one()
    profile = db.exec(select(ApplicantProfile).where(ApplicantProfile.user_id == applicant.id)).one()
    ended = utcnow().date() - timedelta(days=7)
    ids = []
    for _ in range(2):
        project = make_project(db, make_scheme(db), organisation, status=ProjectStatus.CLOSED,
                               start_date=ended - timedelta(days=30), end_date=ended)
        placement = Placement(scheme_id=project.scheme_id, project_id=project.id, applicant_id=profile.id,
                              subsidy_hkd=25_000, status=PlacementStatus.ACCEPTED, offer_deadline=utcnow())
        db.add(placement)
        db.flush()
        ids.append(placement.id)
    confirmations.save(db, applicant, ids[1], {"allowance_received": "none", "travel_received": "full",
                                               "accommodation_received": "part", "accommodation_amount": "6000",
                                               "insurance_received": "full", "rating": "2"}, send=True)
    return ids


@pytest.fixture(scope="module")
def deployment():
    with live_deployment() as (base_url, database_url):
        yield base_url, _set_the_scene(database_url)


def _addresses(scene: dict, role: str) -> list[str]:
    addresses = []
    for route, (who, fill) in PAGES.items():
        if who != role:
            continue
        values = fill(scene) if fill else {}
        for one in values if isinstance(values, list) else [values]:
            path = route
            for name, value in one.items():
                path = path.replace("{" + name + "}", str(value)) if name else path + value
            addresses.append(path)
    return addresses


WITHOUT_QUOTED_TEXT = """() => {
  const heading = document.querySelector("h1").cloneNode(true);
  heading.querySelectorAll("[lang]").forEach((quoted) => quoted.remove());
  return heading.textContent;
}"""


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("width", [1280, 375], ids=["desktop", "phone-375px"])
def test_every_page_has_no_serious_accessibility_findings_in_every_language(browser, deployment, role, width):
    base_url, scene = deployment
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    problems = []
    try:
        if role == SECOND_STEP:
            sign_in(page, base_url, "officer@demo.internmatch.hk", second_step=False)
        elif role != "anonymous":
            email = scene["offered_email"] if role == "offered applicant" else f"{role}@demo.internmatch.hk"
            sign_in(page, base_url, email)
        for path in _addresses(scene, role):
            for language in ("en", "zh-Hant", "zh-Hans"):
                address = f"{path}{'&' if '?' in path else '?'}lang={language}"
                response = page.goto(base_url + address)
                if response is None or response.status >= 500:
                    problems.append(f"{address}: {response.status if response else 'no response'}")
                    continue
                if "/sign-in" in page.url and role not in ("anonymous", SECOND_STEP):
                    problems.append(f"{address}: sent to sign in")
                    continue
                if page.get_attribute("html", "lang") != language:
                    problems.append(f"{address}: the page is not in {language}")
                heading = page.locator("h1").first.inner_text()
                if language != "en" and not re.search(r"[\u4e00-\u9fff]", heading):
                    problems.append(f"{address}: the main heading has no Chinese")
                # People's own words (a name written in Traditional characters) are marked with their lang.
                own_text = page.evaluate(WITHOUT_QUOTED_TEXT)
                if language == "zh-Hans" and to_simplified(own_text) != own_text:
                    problems.append(f"{address}: the main heading is not in Simplified characters: {own_text}")
                problems += [f"{address}: {finding}" for finding in serious_accessibility_findings(page)]
                if SHOTS:  # INTERNMATCH_SCREENSHOTS=folder saves every page swept, to look at
                    os.makedirs(SHOTS, exist_ok=True)
                    name = re.sub(r"[^a-z0-9]+", "-", f"{role} {path} {language} {width}".lower()).strip("-")
                    page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)
    finally:
        context.close()
    assert problems == []


def _scores_to_moderate(db, organisation, officer, other_scorer):
    """A scheme scored twice, independently, and a project whose two scores are too far apart: the officer's page
    shows both scores and the moderation form."""
    from backend.projects.models import Assessment, AssessmentDecision, ConflictDeclaration, ProjectStatus
    from backend.schemes.models import AssessmentCriterion
    from tests.factories import make_project, make_scheme

    scheme = make_scheme(db, name_en="Palace Museum Youth Internship Programme", name_zh="故宮博物院青年實習計劃",
                         double_scoring=True, moderation_threshold=10)
    db.add(AssessmentCriterion(scheme_id=scheme.id, code="learning", name_en="Learning plan", name_zh="學習計劃"))
    project = make_project(db, scheme, organisation, status=ProjectStatus.UNDER_ASSESSMENT)
    for scorer, score in ((other_scorer, 5), (officer, 2)):
        db.add(Assessment(project_id=project.id, officer_id=scorer.id, scores={"learning": score},
                          proposed_decision=AssessmentDecision.APPROVE, proposed_places=project.places_requested,
                          proposed_subsidy_per_place=project.subsidy_requested_per_place,
                          superseded=scorer is other_scorer))
    db.add(ConflictDeclaration(user_id=officer.id, organisation_id=organisation.id, has_conflict=False))
    db.flush()
    return project


def _worked_out_portfolio(db, scheme, organisation, officer) -> None:
    """A scored submitted project and the scheme's portfolio worked out, so the page shows its tables."""
    from backend.projects import portfolio
    from backend.projects.models import Assessment, AssessmentDecision, ProjectStatus
    from backend.schemes.models import AssessmentCriterion
    from tests.factories import make_project

    project = make_project(db, scheme, organisation, status=ProjectStatus.UNDER_ASSESSMENT, places=4, min_places=2)
    criteria = db.exec(select(AssessmentCriterion).where(AssessmentCriterion.scheme_id == scheme.id)).all()
    db.add(Assessment(project_id=project.id, officer_id=officer.id, scores={c.code: c.max_score for c in criteria},
                      proposed_decision=AssessmentDecision.APPROVE))
    db.flush()
    portfolio.run_analysis(db, portfolio.queue_analysis(db, officer, scheme))
