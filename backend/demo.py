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
from backend.applicants import demand
from backend.applicants.models import ApplicantProfile, Choice, ParticipantNomination
from backend.complaints.models import Complaint, ComplaintStatus
from backend.core import clock
from backend.core.db import get_engine, utcnow
from backend.identity import second_factor
from backend.identity.models import Role, User
from backend.identity.roles import is_admin_made
from backend.organisations.models import Organisation, OrganisationKind, OrganisationMember
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
    ("host", Role.HOST, "Demo Guangdong host (Guangzhou Metro Group)"),
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
    more_projects, more_places, more_applicants, more_choices = _demo_programmes(
        session, accounts, rng, today, n_gd_applicants=max(6, min(200, n_applicants // 30)),
        n_summer_places=max(12, min(300, n_projects * 5 // 2)), password_hash=password_hash,
        hong_kong_profiles=[pid for pid, applicant in zip(profile_ids, applicants, strict=True)
                            if applicant.origin == "hong_kong"][:max(10, n_applicants // 30)])
    demand.recount(session)  # the choices went in as one bulk insert, past the counters' writers
    return DemoReport(projects=len(projects) + more_projects, places=sum(p.places for p in projects) + more_places,
                      applicants=len(applicants) + more_applicants, choices=len(choice_rows) + more_choices,
                      budget_hkd=synthetic_scheme.budget_hkd)


# --- The programmes beside the Funding Scheme (#13): thematic programmes with a Mainland host institution,
# whose cohorts mix youth from Hong Kong and Guangdong, and a summer programme where Guangdong organisations
# offer the places. Guangdong participants and hosts write in Simplified Chinese.
_THEMATIC = (
    dict(name_en="Youth Internship Programme at the Palace Museum", name_zh="故宮博物院青年實習計劃",
         host_en="the Palace Museum", host_zh="故宮博物院", city="Beijing", region="Beijing",
         sector="heritage and museums",
         cohorts=(("Conservation of calligraphy and paintings", "書畫文物修復", "conservation, history, museum studies"),
                  ("Digital archives of the Forbidden City", "紫禁城數碼檔案", "digital archives, data, museum studies"))),
    dict(name_en="Youth Internship Programme at Wolong National Nature Reserve", name_zh="臥龍國家級自然保護區青年實習計劃",
         host_en="Wolong National Nature Reserve", host_zh="臥龍國家級自然保護區", city="Chengdu", region="Sichuan",
         sector="nature conservation",
         cohorts=(("Giant panda conservation and field ecology", "大熊貓保育及野外生態", "ecology, biology, conservation"),)),
)
_GD_HOSTS = (("Guangzhou Metro Group", "广州地铁集团"), ("Shenzhen Science and Technology Museum", "深圳科技馆"),
             ("Foshan Lingnan Tiandi Cultural Centre", "佛山岭南天地文化中心"), ("Dongguan Songshan Lake Innovation Hub", "东莞松山湖创新中心"),
             ("Zhuhai Hengqin Youth Entrepreneurship Park", "珠海横琴青年创业园"), ("Zhongshan Torch Hi-tech Zone", "中山火炬高技术产业开发区"),
             ("Jiangmen Kaiping Diaolou Heritage Office", "江门开平碉楼文物办公室"), ("Huizhou Renewable Energy Lab", "惠州新能源实验室"))
_GD_PLACES = (("Urban rail operations intern", "城市轨道运营实习生", "rail operations, engineering, data", "logistics"),
              ("Science education assistant", "科普教育助理", "science education, exhibitions", "social services"),
              ("Cultural heritage guide", "文化遗产导览员", "heritage, tourism, history", "heritage and museums"),
              ("Start-up product intern", "初创企业产品实习生", "product design, marketing, technology", "technology"),
              ("Green energy research assistant", "绿色能源研究助理", "energy, environment, research",
               "nature conservation"))
_GD_UNIVERSITIES = ("中山大学", "华南理工大学", "暨南大学", "深圳大学", "华南师范大学", "广东外语外贸大学")
_GD_FIELDS = (("历史学", "文物修复、书法、博物馆导览", "故宫的书画修复"), ("生物科学", "野外调查、数据记录、摄影", "大熊猫保育和生态研究"),
              ("博物馆学", "展览策划、档案整理", "文物数码化"), ("计算机科学", "Python、数据库、数据分析", "数字档案和数据可视化"),
              ("生态学", "物种调查、地理信息系统", "自然保护区的生态监测"))
_GD_SURNAMES = (("Chen", "陈"), ("Li", "李"), ("Huang", "黄"), ("Zhang", "张"), ("Liang", "梁"), ("Lin", "林"))
_GD_GIVEN = (("Xiaoming", "晓明"), ("Jiayi", "佳怡"), ("Zihan", "子涵"), ("Haoran", "浩然"), ("Yutong", "雨桐"))


def _capitalised(name: str) -> str:
    return name[:1].upper() + name[1:]


def _demo_programmes(session: Session, accounts: dict[str, User], rng: random.Random, today: date, *,
                     n_gd_applicants: int, n_summer_places: int, hong_kong_profiles: list[int],
                     password_hash: str) -> tuple[int, int, int, int]:
    """Two thematic programmes (three mixed cohorts), a summer programme whose places Guangdong hosts offer,
    and Guangdong applicants who chose the cohorts. Returns (projects, places, applicants, choices) added."""
    start = date(today.year + 1, 7, 5)
    windows = dict(ngo_window_opens=today - timedelta(days=120), ngo_window_closes=today - timedelta(days=45),
                   # A day before the Funding Scheme's, so the home page still leads with the Funding Scheme.
                   applicant_window_opens=today - timedelta(days=15), applicant_window_closes=today + timedelta(days=90),
                   min_age=18, max_age=29, created_by_id=accounts["admin"].id)
    projects = places = 0
    cohorts_by_scheme: dict[int, list[int]] = {}
    thematic_schemes: list[Scheme] = []
    for programme in _THEMATIC:
        host = Organisation(name_en=_capitalised(programme["host_en"]), name_zh=programme["host_zh"],
                            registration_number=f"CN/{rng.randrange(100000, 999999)}", contact_name="Programme Office",
                            contact_email=f"programmes{len(thematic_schemes)}@host.{DEMO_DOMAIN}", verified_at=utcnow(),
                            verified_by_id=accounts["officer"].id)
        scheme = Scheme(name_en=f"{programme['name_en']} {today.year + 1}", name_zh=f"{programme['name_zh']} {today.year + 1}",
                        kind="thematic_programme", host_institution_en=programme["host_en"],
                        host_institution_zh=programme["host_zh"], budget_hkd=1_500_000, max_subsidy_per_place=30_000,
                        max_choices=3, admitted_origins=["hong_kong", "guangdong"], reserved_seats="keep", **windows)
        session.add_all([host, scheme])
        session.flush()
        thematic_schemes.append(scheme)
        for code, name_en, name_zh, weight in _CRITERIA:
            session.add(AssessmentCriterion(scheme_id=scheme.id, code=code, name_en=name_en, name_zh=name_zh,
                                            weight=weight))
        for index, (title_en, title_zh, words) in enumerate(programme["cohorts"]):
            cohort = Project(
                scheme_id=scheme.id, organisation_id=host.id, status=ProjectStatus.OPEN,
                title_en=f"Cohort {index + 1}: {title_en}", title_zh=f"第{index + 1}期：{title_zh}",
                description_en=f"Twenty young people, ten from Hong Kong and ten from Guangdong, work side by side at "
                               f"{programme['host_en']} for four weeks: {words}.",
                description_zh=f"二十名青年（香港及廣東各十名）在{programme['host_zh']}並肩實習四星期。",
                host_organisation_en=_capitalised(programme["host_en"]),
                host_organisation_zh=programme["host_zh"], sector=programme["sector"], city=programme["city"], region=programme["region"],
                start_date=start + timedelta(days=28 * index), end_date=start + timedelta(days=28 * index + 27),
                places_requested=20, places_granted=20, cost_travel=4_000, cost_accommodation=9_000,
                cost_insurance=800, cost_allowance=6_000, cost_other=200, subsidy_granted_per_place=20_000,
                origin_seats={"hong_kong": [10, 10], "guangdong": [10, 10]}, languages={"putonghua": 3},
                min_education="secondary", min_age=18, max_age=29, submitted_at=utcnow(), decided_at=utcnow())
            session.add(cohort)
            session.flush()
            cohorts_by_scheme.setdefault(scheme.id, []).append(cohort.id)
            projects, places = projects + 1, places + 20

    summer = Scheme(name_en=f"Guangdong–Hong Kong Summer Internship Programme {today.year + 1}",
                    name_zh=f"粵港暑期實習計劃 {today.year + 1}", kind="summer_programme", budget_hkd=500_000,
                    max_subsidy_per_place=5_000, max_choices=5, admitted_origins=["hong_kong"], **windows)
    session.add(summer)
    session.flush()
    for code, name_en, name_zh, weight in _CRITERIA:
        session.add(AssessmentCriterion(scheme_id=summer.id, code=code, name_en=name_en, name_zh=name_zh, weight=weight))
    hosts = []
    for index, (name_en, name_zh) in enumerate(_GD_HOSTS):
        hosts.append(Organisation(kind=OrganisationKind.GUANGDONG_HOST, name_en=name_en, name_zh=name_zh,
                                  registration_number=f"91440100MA5D{20000 + index}",
                                  contact_name="Internship Office", contact_email=f"interns{index}@gdhost.{DEMO_DOMAIN}",
                                  verified_at=utcnow(), verified_by_id=accounts["guangdong-office"].id))
    # One more has registered and waits for the Guangdong office to verify it.
    session.add(Organisation(kind=OrganisationKind.GUANGDONG_HOST, name_en="Shantou Chaoshan Culture Centre",
                             name_zh="汕头潮汕文化中心", registration_number="91440500MA5D30000",
                             contact_name="Lin Xiaoyan", contact_email=f"interns@stchaoshan.{DEMO_DOMAIN}"))
    session.add_all(hosts)
    session.flush()
    session.add(OrganisationMember(organisation_id=hosts[0].id, user_id=accounts["host"].id, is_admin=True))
    # Two students the office nominated, who have not signed up yet.
    for k, city in enumerate(("Guangzhou", "Zhaoqing")):
        session.add(ParticipantNomination(email=f"nominee{k + 1}@gdstudents.{DEMO_DOMAIN}", guangdong_city=city,
                                          nominated_by_id=accounts["guangdong-office"].id))
    gd_cities = [city for city in CITIES if city.region == "Guangdong"]
    offered = 0
    index = 0
    while offered < n_summer_places:
        host = hosts[index % len(hosts)]
        title_en, title_zh, words, sector = _GD_PLACES[index % len(_GD_PLACES)]
        city = gd_cities[index % len(gd_cities)]
        n = min(rng.choice((6, 8, 10, 12)), n_summer_places - offered)
        session.add(Project(
            scheme_id=summer.id, organisation_id=host.id, status=ProjectStatus.OPEN, title_en=title_en,
            title_zh=title_zh, description_en=f"Six weeks with {host.name_en} in {city.name_en}: {words}.",
            description_zh=f"在{_CITY_ZH.get(city.name_en, city.name_en)}的{host.name_zh}实习六周。",
            host_organisation_en=host.name_en, host_organisation_zh=host.name_zh, sector=sector,
            city=city.name_en, region=city.region, start_date=start, end_date=start + timedelta(days=41),
            host_provides_en="A monthly allowance of RMB 3,000, lunch on working days and a room in the staff dormitory.",
            host_provides_zh="每月实习津贴人民币3,000元，工作日提供午餐，并安排员工宿舍。",
            places_requested=n, places_granted=n, cost_travel=0, cost_accommodation=0, cost_insurance=0,
            cost_allowance=0, cost_other=0, subsidy_granted_per_place=0, languages={"putonghua": 3},
            min_education="secondary", min_age=18, max_age=29, submitted_at=utcnow(), decided_at=utcnow()))
        offered += n
        projects, index = projects + 1, index + 1
    places += offered

    # Guangdong applicants, in Simplified Chinese, and Hong Kong applicants, choosing the mixed cohorts.
    choice_rows = []
    for k in range(n_gd_applicants):
        surname_en, surname_zh = rng.choice(_GD_SURNAMES)
        given_en, given_zh = rng.choice(_GD_GIVEN)
        field, skills, wish = rng.choice(_GD_FIELDS)
        city = rng.choice(gd_cities)
        email = f"gd.applicant{k}@{DEMO_DOMAIN}"
        user = User(email=email, password_hash=password_hash, role=Role.APPLICANT, display_name=f"{surname_zh}{given_zh}",
                    preferred_language="zh-Hans", email_verified_at=utcnow())
        session.add(user)
        session.flush()
        profile = ApplicantProfile(
            user_id=user.id, external_ref=f"demo-gd-{k}", name_en=f"{surname_en} {given_en}",
            name_zh=f"{surname_zh}{given_zh}", date_of_birth=date(today.year - rng.randint(19, 24), rng.randint(1, 12), 1),
            origin="guangdong", guangdong_city=city.name_en, origin_declared_at=utcnow(), contact_email=email,
            # The Guangdong office has confirmed all but the last few, who wait on its list.
            origin_confirmed_at=utcnow() if k < n_gd_applicants - 3 else None,
            origin_confirmed_by_id=accounts["guangdong-office"].id if k < n_gd_applicants - 3 else None,
            education_level="bachelor", institution=rng.choice(_GD_UNIVERSITIES), programme=field,
            study_year=str(rng.randint(1, 4)), field_of_study=field, skills=skills, interests=wish,
            statement=f"我在{field}专业学习，希望参与{wish}，并认识来自香港的同龄人。",
            languages={"putonghua": 5, "cantonese": rng.choice((2, 4, 5)), "english": rng.randint(2, 4)},
            available_from=start - timedelta(days=7), available_to=start + timedelta(days=120),
            regions=["Beijing", "Sichuan", "Guangdong"], submitted_at=utcnow())
        session.add(profile)
        session.flush()
        for scheme_id, cohorts in cohorts_by_scheme.items():
            for rank, cohort_id in enumerate(rng.sample(cohorts, len(cohorts)), start=1):
                choice_rows.append(dict(applicant_id=profile.id, project_id=cohort_id, scheme_id=scheme_id, rank=rank,
                                        status="submitted", interview_notes="", created_at=utcnow(), updated_at=utcnow()))
    for profile_id in hong_kong_profiles:
        for scheme_id, cohorts in cohorts_by_scheme.items():
            if rng.random() < 0.5:
                for rank, cohort_id in enumerate(rng.sample(cohorts, len(cohorts)), start=1):
                    choice_rows.append(dict(applicant_id=profile_id, project_id=cohort_id, scheme_id=scheme_id,
                                            rank=rank, status="submitted", interview_notes="", created_at=utcnow(),
                                            updated_at=utcnow()))
    if choice_rows:
        session.execute(insert(Choice), choice_rows)
    return projects, places, n_gd_applicants, len(choice_rows)
