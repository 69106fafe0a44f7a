"""JSON API about the caller: who they are, their API tokens, and a copy of their data."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from backend.accounts import privacy, service
from backend.core.db import DbSession
from backend.core.errors import Forbidden, error_responses
from backend.core.i18n import gettext as _
from backend.core.params import Id
from backend.identity import tokens as api_tokens
from backend.identity.deps import CurrentUser, require_permission
from backend.identity.models import User
from backend.identity.permissions import ROLE_PERMISSIONS, Permission

router = APIRouter(tags=["accounts"])


class TokenCannotMakeTokens(Forbidden):
    code = "token_cannot_create_tokens"


class Me(BaseModel):
    id: int
    email: str
    role: str
    display_name: str
    preferred_language: str
    email_verified: bool
    permissions: list[str]


class ApiTokenOut(BaseModel):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class NewApiToken(BaseModel):
    name: str = Field(min_length=1, max_length=100)


class CreatedApiToken(ApiTokenOut):
    token: str = Field(description="The secret itself. Shown once: only its hash is kept.")


class PersonalData(BaseModel):
    exported_at: str
    account: dict[str, Any]
    profile: dict[str, Any] | None
    choices: list[dict[str, Any]]
    placements: list[dict[str, Any]]
    audit_events: list[dict[str, Any]]


@router.get("/me", response_model=Me, summary="The signed-in user and what they may do")
def me(user: CurrentUser) -> Me:
    return Me(id=user.id, email=user.email, role=user.role, display_name=user.display_name,
              preferred_language=user.preferred_language, email_verified=user.email_verified_at is not None,
              permissions=sorted(p.value for p in ROLE_PERMISSIONS.get(user.role, ())))


@router.get("/me/tokens", response_model=list[ApiTokenOut], summary="Your personal API tokens",
            responses=error_responses(403))
def list_tokens(db: DbSession, user: Annotated[User, require_permission(Permission.API_TOKENS)]):
    return [ApiTokenOut.model_validate(t, from_attributes=True) for t in api_tokens.list_api_tokens(db, user)]


@router.post("/me/tokens", response_model=CreatedApiToken, status_code=201, summary="Create a personal API token",
             responses=error_responses(403))
def create_token(body: NewApiToken, db: DbSession, request: Request,
                 user: Annotated[User, require_permission(Permission.API_TOKENS)]):
    if request.state.auth_via != "session":
        # A leaked token must not be able to mint more tokens that outlive its own revocation.
        raise TokenCannotMakeTokens(_("API tokens can only be created by someone signed in to the website, "
                                      "not with another API token."))
    token, raw = service.create_api_token(db, user, body.name)
    return CreatedApiToken(**ApiTokenOut.model_validate(token, from_attributes=True).model_dump(), token=raw)


@router.delete("/me/tokens/{token_id}", status_code=204, response_class=Response,
               summary="Revoke one of your API tokens", responses=error_responses(403, 404))
def revoke_token(token_id: Id, db: DbSession, user: Annotated[User, require_permission(Permission.API_TOKENS)]):
    service.revoke_api_token(db, user, token_id)
    return Response(status_code=204)


@router.get("/me/export", response_model=PersonalData, summary="Everything internmatch holds about you",
            responses=error_responses(403))
def export(db: DbSession, user: Annotated[User, require_permission(Permission.ACCOUNT_EXPORT)]):
    return privacy.export_personal_data(db, user)
