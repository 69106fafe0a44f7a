"""JSON API for the Guangdong coordinating office: the same operations as its pages (applicants.origin_confirmation).

A Hong Kong applicant's id, or any the office may not see, answers 404 exactly like a missing one.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from backend.applicants import origin_confirmation
from backend.core.db import DbSession
from backend.core.errors import error_responses
from backend.core.params import Id
from backend.identity.deps import client_address, require_permission
from backend.identity.models import User
from backend.identity.permissions import Permission

router = APIRouter(tags=["guangdong office"], responses=error_responses(403))
Office = Annotated[User, require_permission(Permission.ORIGIN_CONFIRM)]
CohortReader = Annotated[User, require_permission(Permission.GUANGDONG_COHORTS_VIEW)]


class AwaitingOut(BaseModel):
    id: int
    name: str
    city: str = Field(description="The city in Guangdong she declared (English name)")
    institution: str
    programme: str
    declared_on: date | None


class DecisionOut(BaseModel):
    id: int
    state: str = Field(description='"confirmed" or "refused"')
    confirmed_at: datetime | None
    refusal_reason: str


class RefusalIn(BaseModel):
    reason: str = Field(min_length=1, max_length=origin_confirmation.REFUSAL_REASON_MAX,
                        description="Why the office cannot confirm her; the applicant reads it on her status page")


class CohortOut(BaseModel):
    id: int
    scheme_id: int
    scheme_name_en: str
    scheme_name_zh: str
    title_en: str
    title_zh: str
    city: str
    start_date: date | None
    end_date: date | None
    places: int
    guangdong_seats: list[int] | None = Field(description="At least and at most so many places for Guangdong youth")


@router.get("/guangdong-office/participants", response_model=list[AwaitingOut],
            summary="Guangdong applicants awaiting the office's confirmation (only what confirming needs)")
def awaiting(db: DbSession, user: Office):
    return origin_confirmation.list_awaiting(db, user)


@router.post("/guangdong-office/participants/{participant_id}/confirm", response_model=DecisionOut,
             summary="Confirm a Guangdong applicant: she may be matched",
             responses=error_responses(404, 409, e404="No Guangdong applicant with this id",
                                       e409="The office has already confirmed or refused her"))
def confirm(request: Request, db: DbSession, user: Office, participant_id: Id):
    return origin_confirmation.confirm(db, user, participant_id, client_address=client_address(request))


@router.post("/guangdong-office/participants/{participant_id}/refuse", response_model=DecisionOut,
             summary="Refuse a Guangdong applicant, with the reason she will read",
             responses=error_responses(404, 409, e404="No Guangdong applicant with this id",
                                       e409="The office has already confirmed or refused her"))
def refuse(request: Request, db: DbSession, user: Office, participant_id: Id, body: RefusalIn):
    return origin_confirmation.refuse(db, user, participant_id, body.reason, client_address=client_address(request))


@router.get("/guangdong-office/cohorts", response_model=list[CohortOut],
            summary="Funded cohorts of the programmes that admit Guangdong youth")
def cohorts(db: DbSession, user: CohortReader):
    return origin_confirmation.list_cohorts(db, user)


class NominationIn(BaseModel):
    email: str = Field(max_length=254, description="The participant's e-mail address, which she will sign up with")
    guangdong_city: str = Field(max_length=40, description="Her city in Guangdong (English name, e.g. Shenzhen)")


class NominationOut(BaseModel):
    email: str
    city: str
    nominated_on: date
    used: bool = Field(description="She has signed up, declared Guangdong and been confirmed by this nomination")


@router.get("/guangdong-office/nominations", response_model=list[NominationOut],
            summary="Participants the office has nominated, newest first")
def nominations(db: DbSession, user: Office):
    return origin_confirmation.list_nominations(db, user)


@router.post("/guangdong-office/nominations", response_model=NominationOut, status_code=201,
             summary="Nominate a Guangdong participant by e-mail: confirmed as soon as she declares Guangdong",
             responses=error_responses(400))
def nominate(request: Request, db: DbSession, user: Office, body: NominationIn):
    return origin_confirmation.nominate(db, user, body.email, body.guangdong_city,
                                        client_address=client_address(request))
