"""The worker's side of the funding portfolio: claim a queued working-out, solve it, store the answer.

The solves read in a session of their own and never hold SQLite's write lock: the claim, each progress line
and the answer are short write transactions. A job whose worker stopped (started, unfinished, older than
`STALE_AFTER_SECONDS`) is claimed again.
"""

from __future__ import annotations

import logging
import threading
import traceback
from datetime import timedelta

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col

from backend.core.db import for_writing, get_engine, utcnow
from backend.projects import portfolio
from backend.projects.models import PortfolioAnalysis
from backend.schemes.models import Scheme

log = logging.getLogger("internmatch.worker")
STALE_AFTER_SECONDS = 600
EVERY_SECONDS = 2.0


def run_next(engine: Engine) -> bool:
    """Work out the oldest claimable job; False when there was none."""
    stale_before = utcnow() - timedelta(seconds=STALE_AFTER_SECONDS)
    with engine.connect() as conn:  # a read-only look first keeps an idle loop off the write lock
        found = conn.execute(select(PortfolioAnalysis.id).where(portfolio.claimable(stale_before))
                             .order_by(col(PortfolioAnalysis.id)).limit(1)).first()
    if found is None:
        return False
    job_id = found[0]
    with Session(for_writing(engine)) as db:
        claimed = db.execute(update(PortfolioAnalysis).where(col(PortfolioAnalysis.id) == job_id,
                                                             portfolio.claimable(stale_before))
                             .values(started_at=utcnow(), progress_percent=1)).rowcount
        db.commit()
    if not claimed:
        return True  # another worker took it

    def progress(percent: int) -> None:
        try:
            with Session(for_writing(engine)) as db:
                db.execute(update(PortfolioAnalysis).where(col(PortfolioAnalysis.id) == job_id)
                           .values(progress_percent=percent))
                db.commit()
        except OperationalError:
            log.warning("progress of portfolio job %s not written (database busy)", job_id)

    try:
        with Session(engine) as read:
            job = read.get(PortfolioAnalysis, job_id)
            answer = portfolio.analyse(read, read.get(Scheme, job.scheme_id), progress=progress)
            read.rollback()
        with Session(for_writing(engine)) as db:
            job = db.get(PortfolioAnalysis, job_id)
            portfolio.store(job, answer)
            db.commit()
    except Exception:  # noqa: BLE001 - the job fails, the worker goes on
        log.exception("portfolio job %s failed", job_id)
        with Session(for_writing(engine)) as db:
            db.execute(update(PortfolioAnalysis).where(col(PortfolioAnalysis.id) == job_id)
                       .values(finished_at=utcnow(), error=traceback.format_exc()[-2000:]))
            db.commit()
    return True


def analyse_portfolios_forever(stop_event: threading.Event, *, engine: Engine | None = None,
                               every_seconds: float = EVERY_SECONDS) -> None:
    if engine is None:
        engine = get_engine()
    while not stop_event.is_set():
        try:
            while run_next(engine) and not stop_event.is_set():
                pass
        except Exception:  # noqa: BLE001 - the loop outlives a database hiccup
            log.exception("working out portfolios failed")
        stop_event.wait(every_seconds)
