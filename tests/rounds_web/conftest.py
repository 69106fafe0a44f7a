"""A demo database of this package's own (committed rows: the worker reads them), and clients signed in on it."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from tests.conftest import migrated_database

DEMO_PASSWORD = "internmatch-demo-2026"


@pytest.fixture(scope="module")
def demo_engine():
    """30 projects and 600 applicants of demo data, with a budget that binds (so some stay unplaced)."""
    from backend.demo import load_demo
    from backend.projects.models import Project
    from backend.schemes.models import Scheme

    with migrated_database("internmatch_rounds_web") as (_url, engine):
        with Session(engine) as session:
            load_demo(n_projects=30, n_applicants=600, seed=2026, session=session)
            scheme = session.exec(select(Scheme).where(Scheme.kind == "funding_scheme")).one()
            cost = sum((p.places_granted or 0) * (p.subsidy_granted_per_place or 0)
                       for p in session.exec(select(Project).where(Project.scheme_id == scheme.id)))
            scheme.budget_hkd = cost * 45 // 100
            session.commit()
        yield engine


@pytest.fixture(scope="module")
def demo_app(demo_engine):
    from backend.app import create_app
    from backend.core.db import get_session

    application = create_app()

    def _session():
        # Like backend.core.db.get_session, except that after a refusal the session stays open, so the error
        # page can still read the signed-in user (see the note to the lead: get_session closes it first).
        session = Session(demo_engine, expire_on_commit=False)
        try:
            yield session
            session.commit()
        except Exception:
            session.rollback()
            raise
        else:
            session.close()

    application.dependency_overrides[get_session] = _session
    return application


def signed_in(app, email: str, password: str = DEMO_PASSWORD) -> tuple[TestClient, str]:
    """A browser-like client signed in through the sign-in form; returns it and its CSRF token."""
    from backend.demo import DEMO_STAFF_TOTP_SECRET
    from tests.accounts.helpers import csrf_from, finish_second_step

    client = TestClient(app, base_url="http://testserver")
    token = csrf_from(client.get("/sign-in").text)
    response = client.post("/sign-in", data={"csrf_token": token, "email": email, "password": password,
                                             "next": "/"}, follow_redirects=False)
    assert response.status_code == 303, response.text[:500]
    if response.headers["location"].startswith("/sign-in/code"):  # demo staff have the published key
        response = finish_second_step(client, email, DEMO_STAFF_TOTP_SECRET, next_path="/")
        assert response.status_code == 303, response.text[:500]
    return client, csrf_from(client.get("/account").text)


def run_queued_round(engine, run_id: int):
    """What the worker process does for one round: claim the oldest waiting round, run it."""
    from backend.placements import worker
    from backend.placements.models import MatchRun

    with Session(engine) as session:
        claimed = worker.claim_next(session, "test-worker")
        session.commit()
        assert claimed is not None and claimed.id == run_id
    status = worker.run_round(engine, run_id, "test-worker")
    with Session(engine, expire_on_commit=False) as session:
        run = session.get(MatchRun, run_id)
    assert str(status) == "succeeded", run.error
    return run


def run_queued_approval(engine) -> None:
    """What the worker process does for an approval: claim the oldest waiting approval job, make its offers."""
    from backend.placements import approval_jobs

    assert approval_jobs.run_next(engine, "test-worker"), "no approval was queued"


def approve_through_worker(client: TestClient, csrf: str, engine, run_id: int, data: dict | None = None) -> str:
    """Post the approve form (it only queues the approval), let the worker make the offers; the round page after."""
    response = client.post(f"/staff/rounds/{run_id}/approve",
                           data={"csrf_token": csrf, **(data or {"scope": "all", "confirmed": "yes"})},
                           follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == f"/staff/rounds/{run_id}#approval", \
        response.text[:800]
    run_queued_approval(engine)
    return client.get(f"/staff/rounds/{run_id}").text
