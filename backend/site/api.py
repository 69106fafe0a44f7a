
from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import text

from backend.core.db import DbSession

router = APIRouter(tags=["platform"])


class Health(BaseModel):
    status: str
    database: str
    version: str


@router.get("/health", response_model=Health, summary="Liveness and database reachability")
def health(session: DbSession) -> Health:
    session.exec(text("SELECT 1"))  # type: ignore[call-overload]
    return Health(status="ok", database=session.get_bind().dialect.name, version="0.1.0")
