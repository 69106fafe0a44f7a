"""E-mail delivery through a real SMTP server: the outbox sender's e-mails per second.

N offer e-mails (default 2,000; half in English, half in Traditional Chinese, rendered from the real offer
texts by `backend.outbox.service.enqueue`) are queued in a scratch database; a local aiosmtpd server on
loopback accepts them; the sender's own delivery loop (`run_sender_forever`, as the worker runs it, in a
thread of this process) delivers them. Timed: from starting the loop to the moment the server holds all N and
every row is marked sent. Then "exactly once" is checked (each e-mail's Message-ID arrived once, none is
missing) and printed with the figure.

    .venv/bin/python benchmarks/bench_email.py [--count 2000] [--database sqlite|postgresql|all] [--limit N]

SQLite is a database file in a scratch folder; PostgreSQL is a scratch database beside DATABASE_URL
(PostgreSQL's local default if unset), dropped afterwards. Both are migrated by `internmatch migrate`.

The SMTP server runs in this process too (its own thread and event loop), so the figure is for sender and
server sharing the machine: a real relay elsewhere takes that work off it. Figures are printed, never asserted;
the machine is shared (2 cores), so the load average is printed with them.
"""

from __future__ import annotations

import argparse
import email
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from email import policy
from pathlib import Path

from harness import free_port, postgres_url, scratch_database

from backend.cli import migrate
from backend.core.db import make_engine
from backend.core.settings import Settings
from backend.outbox.models import EmailStatus, OutboxEmail
from backend.outbox.sender import BATCH_SIZE, CHUNK_SIZE, run_sender_forever
from backend.outbox.service import enqueue, sign_off
from backend.placements.offer_emails import OFFER_BODY, OFFER_SUBJECT

PROJECTS = [("Data analyst intern", "數據分析實習生"), ("Product design intern", "產品設計實習生"),
            ("Marketing intern", "市場推廣實習生")]


class Counting:
    """An aiosmtpd handler that keeps each accepted e-mail's Message-ID."""

    def __init__(self, expected: int):
        self.expected = expected
        self.ids: list[str] = []
        self.all_arrived = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        self.ids.append(message["Message-ID"])
        if len(self.ids) >= self.expected:
            self.all_arrived.set()
        return "250 2.0.0 Accepted"


def queue_offers(engine, count: int) -> None:
    from sqlmodel import Session

    with Session(engine) as db:
        for i in range(count):
            language = "zh-Hant" if i % 2 else "en"
            title_en, title_zh = PROJECTS[i % len(PROJECTS)]
            enqueue(db, to=f"applicant{i}@mail.example.hk", subject=OFFER_SUBJECT, body=OFFER_BODY,
                    language=language, template="placement_offer", name=f"Applicant {i}",
                    project=title_zh if language == "zh-Hant" else title_en, organisation="Shenzhen Youth Link",
                    city="Shenzhen", start="1 June 2027", end="31 July 2027", deadline="by 23:59 on 12 June 2027",
                    link=f"https://internmatch.example.hk/placements/{i + 1}", sign_off=sign_off(language))
        db.commit()


def sent_count(engine) -> int:
    from sqlalchemy import func, select

    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(OutboxEmail)
                            .where(OutboxEmail.status == EmailStatus.SENT)).scalar_one()


def measure(kind: str, url: str, count: int, limit: int, chunk: int) -> None:
    from aiosmtpd.controller import Controller

    migrate(url)
    engine = make_engine(url)
    try:
        queue_offers(engine, count)
        handler = Counting(count)
        controller = Controller(handler, hostname="127.0.0.1", port=free_port())
        controller.start()
        settings = Settings(smtp_host="127.0.0.1", smtp_port=controller.port,
                            mail_from="internmatch <no-reply@internmatch.example.hk>")
        stop = threading.Event()
        loop = threading.Thread(target=run_sender_forever, args=(stop,), name="outbox-sender",
                                kwargs={"engine": engine, "settings": settings, "limit": limit, "chunk_size": chunk,
                                        "idle_seconds": 0.05})
        started = time.perf_counter()
        loop.start()
        try:
            arrived = handler.all_arrived.wait(timeout=max(60.0, count / 5))
            while arrived and sent_count(engine) < count and time.perf_counter() - started < 60 + count / 5:
                time.sleep(0.005)
            seconds = time.perf_counter() - started
        finally:
            stop.set()
            loop.join(timeout=60)
            controller.stop()
        sent = sent_count(engine)
        repeats = sum(n - 1 for n in Counter(handler.ids).values())
        once = len(handler.ids) == count and repeats == 0 and sent == count
        print(f"{kind:>10} {count:>7} {limit:>6} {chunk:>6} {seconds:>8.2f} {count / seconds:>10.0f} {len(handler.ids):>8} "
              f"{sent:>6} {repeats:>7} {'yes' if once else 'NO':>12}")
    finally:
        engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--database", choices=["sqlite", "postgresql", "all"], default="all")
    ap.add_argument("--limit", type=int, default=BATCH_SIZE, help="e-mails one batch (SMTP connection) sends")
    ap.add_argument("--chunk", type=int, default=CHUNK_SIZE, help="e-mails claimed and recorded per transaction")
    args = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f}")
    print(f"{'database':>10} {'e-mails':>7} {'batch':>6} {'chunk':>6} {'seconds':>8} {'e-mails/s':>10} {'arrived':>8} "
          f"{'sent':>6} {'repeats':>7} {'exactly once':>12}")
    if args.database in ("sqlite", "all"):
        with tempfile.TemporaryDirectory(prefix="internmatch_bench_email") as folder:
            measure("SQLite", f"sqlite:///{Path(folder) / 'outbox.db'}", args.count, args.limit, args.chunk)
    if args.database in ("postgresql", "all"):
        base = postgres_url("bench_email.py")
        if base is None:
            sys.exit(1)
        with scratch_database(base) as (url, _env, _scratch):
            measure("PostgreSQL", url, args.count, args.limit, args.chunk)
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
