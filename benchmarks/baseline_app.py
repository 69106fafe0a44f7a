"""The web benchmark's yardstick: the least a FastAPI + Jinja2 page can do against the same database.

One route reads one project row (SQLAlchemy Core, the same driver and pool as internmatch) and renders it
with a small Jinja2 template; a sync route like internmatch's, served by the same uvicorn with the same
number of workers. `bench_web.py` runs it in the same run as internmatch and reports internmatch's pages'
throughput as a share of this one's, so a figure says what internmatch's own work costs on this machine
today, whatever the machine's load.

    DATABASE_URL=postgresql+psycopg://... uvicorn benchmarks.baseline_app:app --workers 2
"""

from __future__ import annotations

import os

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from jinja2 import Environment
from sqlalchemy import create_engine, text

_url = os.environ["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
_engine = create_engine(_url, pool_pre_ping=True, pool_size=10, max_overflow=10)  # internmatch's pool
_page = Environment(autoescape=True).from_string(
    "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{{ title }}</title></head>"
    "<body><main><h1>{{ title }}</h1><p>{{ city }}, {{ places }} places</p></main></body></html>")
app = FastAPI()


@app.get("/api/v1/health")
def health() -> dict:
    return {"status": "ok"}


@app.get("/baseline/projects/{project_id}", response_class=HTMLResponse)
def project(project_id: int) -> str:
    with _engine.connect() as connection:
        row = connection.execute(text("SELECT title_en, city, places_requested FROM project WHERE id = :id"),
                                 {"id": project_id}).one()
    return _page.render(title=row.title_en, city=row.city, places=row.places_requested)
