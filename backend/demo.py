"""`internmatch demo`: a reproducible data set shaped like the real scheme, plus a login for each role.

The shape (projects, places, applicants, choices) comes from `matching.synthetic`, the same generator the
benchmarks use; this module only adapts it to the database and adds people, organisations and accounts.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import delete, insert
from sqlmodel import Session, select

from backend import models
from backend.accounts.passwords import hash_password
from backend.applicants.models import ApplicantProfile, Choice
from backend.complaints.models import Complaint, ComplaintStatus
from backend.core import clock
from backend.core.db import get_engine, utcnow
from backend.identity import second_factor
from backend.identity.models import Role, User
from backend.identity.roles import is_admin_made
from backend.organisations.models import Organisation, OrganisationMember
from backend.projects.models import Project, ProjectStatus
from backend.schemes import payments
from backend.schemes.models import AssessmentCriterion, Scheme, SchemeRegionCap
from matching.geography import CITIES
from matching.synthetic import generate

DEMO_PASSWORD = "internmatch-demo-2026"  # noqa: S105 - printed in the README on purpose
DEMO_DOMAIN = "demo.internmatch.hk"
# Demo staff accounts need a second factor like real ones; this published key goes into any authenticator app
# (the README prints it), so people trying the demo can sign in as staff. Never for a real deployment.
DEMO_STAFF_TOTP_SECRET = "INTERNMATCHDEMOSTAFFTOTPSECRETAA"  # noqa: S105 - printed in the README on purpose
DEMO_ACCOUNTS = (
    ("admin", Role.ADMIN, "Demo Administrator"),
    ("officer", Role.OFFICER, "Demo Officer (Wong Ka Ming)"),
    ("officer2", Role.OFFICER, "Demo Officer (Lee Wai Man)"),
    ("guangdong-office", Role.GUANGDONG_OFFICE, "Demo Guangdong Coordinating Office"),
    ("approver", Role.APPROVER, "Demo Approver (Chan Siu Fong)"),
    ("ngo", Role.NGO, "Demo NGO (Youth Bridge)"),
    ("applicant", Role.APPLICANT, "Demo Applicant (Cheung Hoi Ching)"),
)

_NGO_NAMES = (
    ("Youth Bridge Association", "青年橋協會"), ("Greater Bay Youth Exchange", "大灣區青年交流會"),
    ("Harbour Youth Development", "海港青年發展"), ("Lion Rock Youth Network", "獅子山青年網絡"),
    ("New Horizons Youth Centre", "新視野青年中心"), ("Pearl River Internship Alliance", "珠江實習聯盟"),
    ("Kowloon Youth Services", "九龍青年服務"), ("Silk Road Youth Council", "絲路青年議會"),
    ("Heritage Youth Trust", "文化傳承青年基金"), ("Green Future Youth Society", "綠色未來青年會"),
    ("Tech Youth Hong Kong", "香港科技青年"), ("Sha Tin Youth Outreach", "沙田青年外展"),
    ("Island Youth Association", "港島青年協會"), ("Bauhinia Youth Foundation", "紫荊青年基金"),
    ("Youth Career Ladder", "青年職涯階梯"), ("Tsuen Wan Youth Federation", "荃灣青年聯會"),
    ("Mainland Horizons Society", "內地視野協會"), ("Young Professionals Guild", "青年專業人士公會"),
    ("Cross-Boundary Youth Link", "跨境青年連線"), ("Hong Kong Youth Pathways", "香港青年路向"),
)
_SURNAMES = (("Chan", "陳"), ("Wong", "黃"), ("Lee", "李"), ("Cheung", "張"), ("Lau", "劉"), ("Ho", "何"),
             ("Ng", "吳"), ("Leung", "梁"), ("Lam", "林"), ("Tsang", "曾"), ("Yip", "葉"), ("Chow", "周"),
             ("Tam", "譚"), ("Fung", "馮"), ("Kwok", "郭"), ("Mak", "麥"), ("Law", "羅"), ("Choi", "蔡"),
             ("Yeung", "楊"), ("Tang", "鄧"))
_GIVEN = (("Ka Yan", "嘉欣"), ("Wing Sze", "詠詩"), ("Chun Hei", "俊希"), ("Tsz Ho", "梓豪"),
          ("Hoi Ching", "凱晴"), ("Ho Yin", "浩賢"), ("Sum Yi", "心怡"), ("Pak Hei", "柏希"),
          ("Man Kit", "文傑"), ("Hiu Tung", "曉彤"), ("Wai Lam", "慧琳"), ("Chi Fung", "志峰"),
          ("Yan Ting", "欣婷"), ("Ka Lok", "家樂"), ("Sze Wing", "思穎"), ("Kin Wai", "健威"))
_INSTITUTIONS = ("The University of Hong Kong", "The Chinese University of Hong Kong",
                 "The Hong Kong University of Science and Technology", "The Hong Kong Polytechnic University",
                 "City University of Hong Kong", "Hong Kong Baptist University", "Lingnan University",
                 "The Education University of Hong Kong", "Hong Kong Metropolitan University",
                 "Vocational Training Council")
_CITY_ZH = {city.name_en: city.name_zh for city in CITIES}
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]+")
_CRITERIA = (
    ("learning", "Learning content", "學習內容", 3), ("host", "Host organisation quality", "實習機構質素", 2),
    ("cost", "Cost-effectiveness", "成本效益", 3), ("track_record", "NGO track record", "機構往績", 2),
)


def split_bilingual(text: str) -> tuple[str, str]:
    """Separate the generator's "English text 中文文字" into its English and Chinese parts."""
    runs = list(_CJK.finditer(text))
    if not runs:
        return text.strip(), ""
    start, end = runs[0].start(), runs[-1].end()
    english = re.sub(r"\s+", " ", text[:start] + " " + text[end:]).strip(" -–·,;:")
    return english, text[start:end].strip()


def _shift_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year + years, day=28)


@dataclass
class DemoReport:
    projects: int
    places: int
    applicants: int
    choices: int
    budget_hkd: int
    loaded: bool = True

    def __str__(self) -> str:
        if not self.loaded:
            return "Demo data is already loaded; nothing to do (use --reset to load it again)."
        lines = [
            f"Demo data loaded: {self.projects} projects, {self.places:,} places, "
            f"{self.applicants:,} applicants, {self.choices:,} ranked choices, budget HK${self.budget_hkd:,}.",
            "Demo sign-ins (password for all: " + DEMO_PASSWORD + "):",
        ]
        lines += [f"  {role.value:<10} {local}@{DEMO_DOMAIN}" for local, role, _name in DEMO_ACCOUNTS]
        return "\n".join(lines)


def _reset(session: Session) -> None:
    """Remove all data but the audit log, which is append-only even for the demo."""
    for table in reversed(models.metadata.sorted_tables):
        if table.name != "audit_event":
            session.execute(delete(table))


def _demo_money_and_complaints(session: Session, accounts: dict[str, User], organisations: list[Organisation],
                               scheme: Scheme, *, applicant_user_id: int | None,
                               chosen_project_ids: list[int]) -> None:
    """Grant payments for the demo NGO's projects (one advance paid, one awaiting approval), and the demo
    applicant's complaints in different states (one overdue, one being investigated, one upheld and shared)."""
    first_projects = session.exec(select(Project).where(Project.scheme_id == scheme.id)
                                  .order_by(Project.id).limit(2)).all()  # the first is the demo NGO's
    for index, project in enumerate(first_projects):
        payment = payments.propose(session, accounts["officer"], scheme,
                                   {"project_id": str(project.id), "tranche": "advance", "note": "Demo advance"})
        if index == 0:
            payments.approve(session, accounts["approver"], payment)
    if applicant_user_id is None:
        return
    now = utcnow()
    about = session.get(Project, chosen_project_ids[0]) if chosen_project_ids else None
    organisation_id = about.organisation_id if about else organisations[0].id
    project_id = about.id if about else None
    day = timedelta(days=1)
    session.add_all([
        Complaint(user_id=applicant_user_id, organisation_id=organisation_id, project_id=project_id,
                  subject="No reply about the interview date", language="en",
                  details="I was shortlisted three weeks ago and nobody has told me when the interview is.",
                  received_at=now - 10 * day, acknowledge_by=(now - 3 * day).date()),
        Complaint(user_id=applicant_user_id, organisation_id=organisations[1].id, status=ComplaintStatus.INVESTIGATING,
                  subject="Information session cancelled without notice", language="en",
                  details="We travelled to the information session and found it had been cancelled.",
                  received_at=now - 20 * day, acknowledge_by=(now - 13 * day).date(), acknowledged_at=now - 18 * day,
                  investigating_at=now - 15 * day, handled_by_id=accounts["officer"].id),
        Complaint(user_id=applicant_user_id, organisation_id=organisations[0].id, status=ComplaintStatus.UPHELD,
                  subject="Travel allowance paid late", language="en",
                  details="Last year's travel allowance arrived two months after the internship ended.",
                  reply="The organisation has apologised and changed how it pays allowances.",
                  received_at=now - 60 * day, acknowledge_by=(now - 53 * day).date(), acknowledged_at=now - 58 * day,
                  investigating_at=now - 55 * day, decided_at=now - 30 * day, shared_at=now - 54 * day,
                  handled_by_id=accounts["officer"].id),
    ])
    session.flush()


def load_demo(*, n_applicants: int = 6000, n_projects: int = 120, seed: int = 2026, reset: bool = False,
              if_empty: bool = False, session: Session | None = None) -> DemoReport:
    if session is None:
        with Session(get_engine(), expire_on_commit=False) as own_session:
            report = load_demo(n_applicants=n_applicants, n_projects=n_projects, seed=seed, reset=reset,
                               if_empty=if_empty, session=own_session)
            own_session.commit()
            return report
    if reset:
        _reset(session)
    elif session.exec(select(Scheme.id)).first() is not None:
        if if_empty:
            return DemoReport(0, 0, 0, 0, 0, loaded=False)
        raise SystemExit("The database already has data. Use --reset to replace it with the demo data set.")

    projects, applicants, synthetic_scheme = generate(n_projects=n_projects, n_applicants=n_applicants, seed=seed)
    rng = random.Random(seed)
    password_hash = hash_password(DEMO_PASSWORD)
    today = clock.today()
    # Internships run next summer; people's ages and availability move with the dates.
    years = today.year + 1 - min((p.start_date.year for p in projects), default=today.year + 1)

    accounts: dict[str, User] = {}
    for local, role, name in DEMO_ACCOUNTS:
        if role == Role.APPLICANT:
            continue  # made below with the generated applicants, as the first of them
        user = User(email=f"{local}@{DEMO_DOMAIN}", password_hash=password_hash, role=role, display_name=name,
                    email_verified_at=utcnow())
        session.add(user)
        accounts[local] = user
    session.flush()
    for user in accounts.values():
        if is_admin_made(user):
            second_factor.enrol_with_secret(session, user, DEMO_STAFF_TOTP_SECRET)

    organisations = []
    for index, (name_en, name_zh) in enumerate(_NGO_NAMES):
        organisation = Organisation(
            name_en=name_en, name_zh=name_zh, registration_number=f"91/{10000 + index}",
            contact_name="Project Coordinator", contact_email=f"projects{index}@ngo.{DEMO_DOMAIN}",
            contact_phone=f"+852 2{rng.randrange(1000000, 9999999)}", verified_at=utcnow(),
            verified_by_id=accounts["officer"].id,
        )
        session.add(organisation)
        organisations.append(organisation)
    session.flush()
    session.add(OrganisationMember(organisation_id=organisations[0].id, user_id=accounts["ngo"].id, is_admin=True))

    scheme = Scheme(
        name_en=f"Funding Scheme for Youth Internship in the Mainland {today.year + 1}",
        name_zh=f"青年內地實習資助計劃 {today.year + 1}",
        budget_hkd=synthetic_scheme.budget_hkd,
        ngo_window_opens=today - timedelta(days=120), ngo_window_closes=today - timedelta(days=45),
        applicant_window_opens=today - timedelta(days=14), applicant_window_closes=today + timedelta(days=90),
        min_age=18, max_age=29,
        max_subsidy_per_place=max(p.subsidy_per_place for p in projects) if projects else 40_000,
        max_choices=5, gba_min_share_percent=30, created_by_id=accounts["admin"].id,
    )
    session.add(scheme)
    session.flush()
    for region, cap in synthetic_scheme.region_caps.items():
        session.add(SchemeRegionCap(scheme_id=scheme.id, region=region, max_places=cap))
    for code, name_en, name_zh, weight in _CRITERIA:
        session.add(AssessmentCriterion(scheme_id=scheme.id, code=code, name_en=name_en, name_zh=name_zh,
                                        weight=weight))

    project_rows = []
    for index, project in enumerate(projects):
        title_en, title_zh = split_bilingual(project.title)
        description_en, description_zh = split_bilingual(project.description)
        subsidy = project.subsidy_per_place
        travel, insurance = 2_000 + 100 * rng.randrange(0, 30), 800 + 100 * rng.randrange(0, 5)
        accommodation = (subsidy - travel - insurance) * 55 // 100 // 100 * 100
        other = 500
        allowance = subsidy - travel - insurance - accommodation - other
        host = organisations[index % len(organisations)]
        project_rows.append(dict(
            scheme_id=scheme.id, organisation_id=host.id, status=ProjectStatus.OPEN.value,
            title_en=title_en[:200], title_zh=title_zh[:200],
            description_en=description_en, description_zh=description_zh,
            host_organisation_en=f"{project.city} host partner {index + 1}",
            host_organisation_zh=f"{_CITY_ZH.get(project.city, project.city)}實習機構 {index + 1}",
            sector=split_bilingual(project.sector)[0].lower(), city=project.city, region=project.region,
            start_date=_shift_years(project.start_date, years), end_date=_shift_years(project.end_date, years),
            places_requested=project.places, places_granted=project.places,
            cost_travel=travel, cost_accommodation=accommodation, cost_insurance=insurance,
            cost_allowance=allowance, cost_other=other, subsidy_granted_per_place=subsidy,
            languages=dict(project.languages), min_education=project.min_education.label,
            min_age=project.min_age, max_age=project.max_age,
            created_at=utcnow(), updated_at=utcnow(), submitted_at=utcnow(), decided_at=utcnow(),
        ))
    project_ids = list(session.scalars(insert(Project).returning(Project.id, sort_by_parameter_order=True),
                                       project_rows))
    project_id_by_key = {project.id: pid for project, pid in zip(projects, project_ids, strict=True)}

    user_rows, profile_rows = [], []
    for index, applicant in enumerate(applicants):
        surname_en, surname_zh = rng.choice(_SURNAMES)
        given_en, given_zh = rng.choice(_GIVEN)
        email = f"applicant@{DEMO_DOMAIN}" if index == 0 else f"applicant{index}@{DEMO_DOMAIN}"
        user_rows.append(dict(email=email, password_hash=password_hash, role=Role.APPLICANT.value,
                              display_name=f"{surname_en} {given_en}", preferred_language="en",
                              is_active=True, email_verified_at=utcnow(), created_at=utcnow(),
                              failed_sign_ins=0))
        profile_rows.append(dict(
            external_ref=f"demo-{applicant.id}", name_en=f"{surname_en} {given_en}",
            name_zh=f"{surname_zh}{given_zh}", date_of_birth=_shift_years(applicant.date_of_birth, years),
            origin=applicant.origin, origin_declared_at=utcnow(),
            contact_email=email, education_level=applicant.education.label,
            institution=rng.choice(_INSTITUTIONS), programme=applicant.field_of_study[:200],
            study_year=str(rng.randint(1, 4)), field_of_study=applicant.field_of_study[:200],
            skills=applicant.skills, interests=applicant.interests, statement=applicant.statement,
            languages=dict(applicant.languages), available_from=_shift_years(applicant.available_from, years),
            available_to=_shift_years(applicant.available_to, years), regions=list(applicant.regions),
            open_to_other=applicant.open_to_other, joined_before=not applicant.first_timer,
            submitted_at=utcnow(), created_at=utcnow(), updated_at=utcnow(),
        ))
    user_ids = list(session.scalars(insert(User).returning(User.id, sort_by_parameter_order=True), user_rows))
    for row, user_id in zip(profile_rows, user_ids, strict=True):
        row["user_id"] = user_id
    profile_ids = list(session.scalars(
        insert(ApplicantProfile).returning(ApplicantProfile.id, sort_by_parameter_order=True), profile_rows))

    choice_rows = []
    for applicant, profile_id in zip(applicants, profile_ids, strict=True):
        for rank, project_key in enumerate(applicant.choices, start=1):
            if project_key in project_id_by_key:
                choice_rows.append(dict(applicant_id=profile_id, project_id=project_id_by_key[project_key],
                                        scheme_id=scheme.id, rank=rank, status="submitted",
                                        interview_notes="", created_at=utcnow(), updated_at=utcnow()))
    if choice_rows:
        session.execute(insert(Choice), choice_rows)
    session.flush()
    _demo_money_and_complaints(session, accounts, organisations, scheme,
                               applicant_user_id=user_ids[0] if user_ids else None,
                               chosen_project_ids=[row["project_id"] for row in choice_rows
                                                   if profile_ids and row["applicant_id"] == profile_ids[0]])
    return DemoReport(projects=len(projects), places=sum(p.places for p in projects),
                      applicants=len(applicants), choices=len(choice_rows),
                      budget_hkd=synthetic_scheme.budget_hkd)
