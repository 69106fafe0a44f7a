"""Funding schemes as JSON: list, create, read, edit and each scheme's dashboard (the same service as the pages)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlmodel import Session, select

from backend.core.db import DbSession
from backend.core.errors import error_responses
from backend.core.params import Count, Id, Money
from backend.identity.deps import client_address, require_permission
from backend.identity.models import User
from backend.identity.permissions import Permission
from backend.schemes import admin, lottery
from backend.schemes.facts import region_caps
from backend.schemes.kinds import ProgrammeKind
from backend.schemes.models import Scheme, SchemeSubsidyLimit
from matching.geography import REGION_BY_NAME

router = APIRouter(prefix="/schemes", tags=["schemes"], responses=error_responses(403))
StaffUser = Annotated[User, require_permission(Permission.PROJECT_VIEW_ALL)]
Manager = Annotated[User, require_permission(Permission.SCHEME_MANAGE)]


class SubsidyLimit(BaseModel):
    region: str | None = Field(default=None, description="English region name; empty for every region")
    min_weeks: Count | None = None
    max_weeks: Count | None = None
    max_subsidy_per_place: Money


Origin = Literal["hong_kong", "guangdong"]
ReservedSeats = Literal["keep", "release"]
CapRule = Literal["proportional", "flexible"]


class Criterion(BaseModel):
    code: str
    name_en: str
    name_zh: str
    weight: Count = 1
    max_score: Count = 5


class SchemeOut(BaseModel):
    id: int
    name_en: str
    name_zh: str
    budget_hkd: int
    ngo_window_opens: date
    ngo_window_closes: date
    applicant_window_opens: date
    applicant_window_closes: date
    ranking_deadline: date | None = Field(default=None, description="NGOs may rank applicants until this day")
    match_day: date | None = None
    offer_deadline: date | None = Field(default=None, description="Main-round offers must be answered by this day")
    scramble_opens: date | None = None
    scramble_closes: date | None = None
    min_age: int
    max_age: int
    max_subsidy_per_place: int
    max_choices: int
    gba_min_share_percent: int | None
    admitted_origins: list[Origin] = Field(description="Who may take part: hong_kong, guangdong or both")
    reserved_seats: ReservedSeats = Field(description="Places kept for one side that it leaves empty: keep or release")
    cap_rule: CapRule = Field(description="How a stable round keeps a binding regional cap: proportional or flexible")
    max_places_per_organisation: int | None = Field(description="Most places granted to one organisation's projects")
    kind: ProgrammeKind = Field(description="funding_scheme, thematic_programme or summer_programme")
    host_institution_en: str = Field(description="A thematic programme's Mainland host institution")
    host_institution_zh: str
    double_scoring: bool = Field(description="Two officers score each project independently")
    moderation_threshold: int = Field(description="Points out of 100 two scores may differ by without moderation")
    first_timer_priority: int = Field(description="Match policy: objective units added to a first-time participant's "
                                                  "placement (a score point is 10); 0-5000, 300 by default")
    choice_weight: int = Field(description="Match policy: percent of the choice-rank points; 0-200, 100 by default")
    fit_weight: int = Field(description="Match policy: score points for a perfect text fit; 0-100, 40 by default")
    region_caps: dict[str, int] = Field(description="Most places by English region name")
    subsidy_limits: list[SubsidyLimit]
    criteria: list[Criterion]


class SchemeIn(BaseModel):
    """Every field is optional on PATCH; on POST a missing field is reported like a form's empty field."""

    name_en: str | None = None
    name_zh: str | None = None
    budget_hkd: int | str | None = Field(default=None, description="Whole HKD; \"91,000,000\" is accepted")
    ngo_window_opens: date | str | None = None
    ngo_window_closes: date | str | None = None
    applicant_window_opens: date | str | None = None
    applicant_window_closes: date | str | None = None
    ranking_deadline: date | str | None = None
    match_day: date | str | None = None
    offer_deadline: date | str | None = None
    scramble_opens: date | str | None = None
    scramble_closes: date | str | None = None
    min_age: int | str | None = None
    max_age: int | str | None = None
    max_subsidy_per_place: int | str | None = None
    max_choices: int | str | None = None
    gba_min_share_percent: int | str | None = None
    admitted_origins: list[Origin] | None = Field(default=None, max_length=2,
                                                  description="Who may take part: hong_kong, guangdong or both")
    reserved_seats: ReservedSeats | None = Field(default=None, description="keep (stay empty) or release (go to the other side)")
    cap_rule: CapRule | None = Field(default=None, description="proportional rationing (the default) or flexible "
                                                               "deferred acceptance, for a binding regional cap in "
                                                               "stable rounds")
    max_places_per_organisation: int | str | None = Field(default=None, description="Empty or absent: no limit")
    kind: ProgrammeKind | None = Field(default=None, description="funding_scheme (when absent), thematic_programme or "
                                                                 "summer_programme")
    host_institution_en: str | None = Field(default=None, max_length=200, description="Required for a thematic programme")
    host_institution_zh: str | None = Field(default=None, max_length=200)
    double_scoring: bool | None = Field(default=None, description="Two officers score each project independently")
    moderation_threshold: int | str | None = Field(default=None, description="1-100 points; 15 when absent")
    first_timer_priority: int | str | None = Field(default=None, description="0-5000; 300 when absent")
    choice_weight: int | str | None = Field(default=None, description="0-200 percent; 100 when absent")
    fit_weight: int | str | None = Field(default=None, description="0-100 points; 40 when absent")
    region_caps: dict[str, Count] | None = Field(default=None, description="Replaces every cap when given")
    subsidy_limits: list[SubsidyLimit] | None = Field(default=None, description="Replaces every limit when given")
    criteria: list[Criterion] | None = Field(default=None, description="Replaces the criteria when given")


class RegionFigures(BaseModel):
    region: str
    places: int
    cap: int | None


class SectorFigures(BaseModel):
    sector: str
    projects: int
    places: int


class DashboardOut(BaseModel):
    scheme_id: int
    budget_hkd: int
    funding_granted: int
    budget_remaining: int
    funded_projects: int
    places: int
    by_region: list[RegionFigures]
    by_sector: list[SectorFigures]
    by_status: dict[str, int]


def scheme_out(session: Session, scheme: Scheme) -> SchemeOut:
    caps = region_caps(session, scheme.id)
    limits = [SubsidyLimit(region=r.region, min_weeks=r.min_weeks, max_weeks=r.max_weeks,
                           max_subsidy_per_place=r.max_subsidy_per_place)
              for r in session.exec(select(SchemeSubsidyLimit).where(SchemeSubsidyLimit.scheme_id == scheme.id))]
    criteria = [Criterion(code=c.code, name_en=c.name_en, name_zh=c.name_zh, weight=c.weight, max_score=c.max_score)
                for c in admin.criteria_of(session, scheme)]
    return SchemeOut(**scheme.model_dump(include=set(SchemeOut.model_fields) - {"region_caps", "subsidy_limits",
                                                                                 "criteria"}),
                     region_caps=caps, subsidy_limits=limits, criteria=criteria)


def _as_form(body: SchemeIn, base: admin.SchemeForm) -> admin.SchemeForm:
    form = admin.SchemeForm(values=dict(base.values), limits=[r for r in base.limits if any(r.values())],
                            criteria=[r for r in base.criteria if r["code"]])
    given = body.model_dump(exclude_unset=True)
    for name, value in given.items():
        if name in ("region_caps", "subsidy_limits", "criteria", "admitted_origins"):
            continue
        form.values[name] = "" if value is None else (value.isoformat() if isinstance(value, date) else str(value))
    if body.admitted_origins is not None:
        form.values.update({box: "on" if origin in body.admitted_origins else ""
                            for box, origin in admin.ORIGIN_BOXES.items()})
    if body.region_caps is not None:
        form.values = {k: v for k, v in form.values.items() if not k.startswith("cap_")}
        unknown = [region for region in body.region_caps if region not in REGION_BY_NAME]
        if unknown:
            message = str(admin.MESSAGES["unknown_region"]) % {"region": unknown[0]}
            raise admin.SchemeInvalid({"region_caps": message}, message)
        for region, places in body.region_caps.items():
            form.values[f"cap_{REGION_BY_NAME[region].code}"] = str(places)
    if body.subsidy_limits is not None:
        form.limits = [{"region": r.region or "", "min_weeks": str(r.min_weeks or ""), "max_weeks": str(r.max_weeks or ""),
                        "amount": str(r.max_subsidy_per_place)} for r in body.subsidy_limits]
    if body.criteria is not None:
        form.criteria = [{"code": c.code, "name_en": c.name_en, "name_zh": c.name_zh, "weight": str(c.weight),
                          "max_score": str(c.max_score)} for c in body.criteria]
    return form


@router.get("", response_model=list[SchemeOut])
def list_schemes(db: DbSession, user: StaffUser):
    return [scheme_out(db, s) for s in admin.all_schemes(db)]


@router.post("", response_model=SchemeOut, status_code=201)
def create_scheme(db: DbSession, user: Manager, body: SchemeIn):
    scheme = admin.create_scheme(db, user, _as_form(body, admin.SchemeForm(values={"max_choices": "5", "admits_hong_kong": "on"})))
    return scheme_out(db, scheme)


@router.get("/{scheme_id}", response_model=SchemeOut, responses=error_responses(404))
def get_scheme(db: DbSession, user: StaffUser, scheme_id: Id):
    return scheme_out(db, admin.get_scheme(db, scheme_id))


@router.patch("/{scheme_id}", response_model=SchemeOut, responses=error_responses(404))
def edit_scheme(db: DbSession, user: Manager, scheme_id: Id, body: SchemeIn):
    scheme = admin.get_scheme(db, scheme_id)
    scheme = admin.update_scheme(db, user, scheme.id, _as_form(body, admin.form_of(db, scheme)))
    return scheme_out(db, scheme)


@router.get("/{scheme_id}/dashboard", response_model=DashboardOut, responses=error_responses(404))
def scheme_dashboard(db: DbSession, user: StaffUser, scheme_id: Id):
    d = admin.dashboard(db, admin.get_scheme(db, scheme_id))
    s = d.summary
    return DashboardOut(scheme_id=d.scheme.id, budget_hkd=d.scheme.budget_hkd, funding_granted=s.funding_granted,
                        budget_remaining=s.budget_remaining, funded_projects=s.funded_projects, places=s.places,
                        by_region=[RegionFigures(region=r.region, places=r.places, cap=r.cap) for r in s.regions],
                        by_sector=[SectorFigures(sector=a, projects=b, places=c) for a, b, c in d.by_sector],
                        by_status=dict(d.by_status))


class LotteryOut(BaseModel):
    drawn: bool
    commitment: str | None = Field(None, description="SHA-256 (hex) of the seed written in decimal, published when "
                                                     "it is drawn")
    drawn_at: datetime | None = None
    reveal_on: date | None = Field(None, description="Match day: the seed itself is shown from this day")
    seed: int | None = Field(None, description="The seed, from match day; null before")


def _lottery_out(published: lottery.Lottery | None) -> LotteryOut:
    if published is None:
        return LotteryOut(drawn=False)
    return LotteryOut(drawn=True, commitment=published.commitment, drawn_at=published.drawn_at,
                      reveal_on=published.reveal_on, seed=published.seed)


@router.get("/{scheme_id}/lottery", response_model=LotteryOut, responses=error_responses(404),
            summary="The scheme's lottery seed: whether drawn, its commitment, and from match day the seed")
def get_lottery(db: DbSession, user: StaffUser, scheme_id: Id):
    return _lottery_out(lottery.published(admin.get_scheme(db, scheme_id)))


@router.post("/{scheme_id}/lottery", response_model=LotteryOut, status_code=201, responses=error_responses(404, 409),
             summary="Draw the scheme's tie-break seed once, before match day; its commitment is published at once")
def draw_lottery(request: Request, db: DbSession, user: Manager, scheme_id: Id):
    return _lottery_out(lottery.draw(db, user, admin.get_scheme(db, scheme_id), client_address=client_address(request)))
