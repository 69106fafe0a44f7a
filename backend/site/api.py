from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel
from sqlalchemy import text
from sqlmodel import Session

from backend.core.db import get_session

router = APIRouter(tags=["platform"])


class Health(BaseModel):
    status: str
    database: str
    version: str


@router.get("/health", response_model=Health, summary="Liveness and database reachability")
def health(session: Annotated[Session, Depends(get_session)]) -> Health:
    session.exec(text("SELECT 1"))  # type: ignore[call-overload]
    return Health(status="ok", database=session.get_bind().dialect.name, version="0.1.0")
