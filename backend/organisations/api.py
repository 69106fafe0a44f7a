"""JSON API about organisations: staff read them and verify NGOs; the Guangdong coordinating office verifies
Guangdong host organisations."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel

from backend.core.db import DbSession
from backend.core.errors import error_responses
from backend.core.params import Id
from backend.identity.deps import require_permission
from backend.identity.models import User
from backend.identity.permissions import Permission
from backend.organisations import service

router = APIRouter(tags=["organisations"], responses=error_responses(403))


class OrganisationOut(BaseModel):
    id: int
    kind: str  # "ngo" (a Hong Kong NGO) or "guangdong_host" (a Guangdong host organisation)
    name_en: str
    name_zh: str
    registration_number: str
    contact_name: str
    contact_email: str
    contact_phone: str
    verified: bool
    verified_at: datetime | None
    created_at: datetime


def _out(organisation) -> OrganisationOut:
    return OrganisationOut(**organisation.model_dump(exclude={"verified_by_id"}), verified=organisation.is_verified)


@router.get("/organisations", response_model=list[OrganisationOut], summary="Organisations (staff)")
def list_organisations(db: DbSession,
                       user: Annotated[User, require_permission(Permission.ORGANISATION_VIEW_ALL)],
                       awaiting_verification: bool | None = None):
    return [_out(o) for o in service.list_organisations(db, user, awaiting_verification=awaiting_verification)]


@router.post("/organisations/{organisation_id}/verify", response_model=OrganisationOut,
             summary="Verify an NGO so it may post projects (officers and admins; a Guangdong host organisation "
                     "is the Guangdong office's to verify)",
             responses=error_responses(404, 409))
def verify(organisation_id: Id, db: DbSession,
           user: Annotated[User, require_permission(Permission.ORGANISATION_VERIFY)]):
    return _out(service.verify(db, user, organisation_id))


@router.get("/guangdong-office/hosts", response_model=list[OrganisationOut],
            summary="Guangdong host organisations, awaiting verification first (the Guangdong office)")
def list_hosts(db: DbSession, user: Annotated[User, require_permission(Permission.HOST_VERIFY)]):
    awaiting, verified = service.list_hosts(db, user)
    return [_out(o) for o in [*awaiting, *verified]]


@router.post("/guangdong-office/hosts/{host_id}/verify", response_model=OrganisationOut,
             summary="Verify a Guangdong host organisation so it may offer places (the Guangdong office)",
             responses=error_responses(404, 409))
def verify_host(host_id: Id, db: DbSession, user: Annotated[User, require_permission(Permission.HOST_VERIFY)]):
    return _out(service.verify(db, user, host_id))
