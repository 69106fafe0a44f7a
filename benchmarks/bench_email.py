"""E-mail delivery through a real SMTP server: the outbox sender's e-mails per second.

N offer e-mails (default 2,000; half in English, half in Traditional Chinese, rendered from the real offer
texts by `backend.outbox.service.enqueue`) are queued in a scratch database; an aiosmtpd server in a process of
its own, on loopback, accepts them and writes down each one's Message-ID; the sender's own delivery loop
(`run_sender_forever`, as the worker runs it, in a thread of this process) delivers them. Timed: from starting
the loop to the moment every row is marked sent and the server has written down all N. Then "exactly once" is
checked (each e-mail's Message-ID arrived once, none is missing) and printed with the figure.

    .venv/bin/python benchmarks/bench_email.py [--count 2000] [--database sqlite|postgresql|all] [--limit N]

SQLite is a database file in a scratch folder; PostgreSQL is a scratch database beside DATABASE_URL
(PostgreSQL's local default if unset), dropped afterwards. Both are migrated by `internmatch migrate`.

The SMTP server is a separate process, as a relay is (in one process the two would take turns on one
interpreter lock, and the figure would be theirs together), but it shares this machine's 2 cores with the
sender and the database. Figures are printed, never asserted; the machine is shared, so the load average is
printed with them.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
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


SERVER = """
import sys
from email.parser import BytesHeaderParser

from aiosmtpd.controller import Controller

port, path = int(sys.argv[1]), sys.argv[2]
received = open(path, "a", buffering=1)


class Keep:
    async def handle_DATA(self, server, session, envelope):
        received.write(BytesHeaderParser().parsebytes(envelope.content)["Message-ID"] + "\\n")
        return "250 2.0.0 Accepted"


controller = Controller(Keep(), hostname="127.0.0.1", port=port)
controller.start()
print("ready", flush=True)
sys.stdin.read()  # until the benchmark closes it
controller.stop()
received.close()
"""


@contextmanager
def smtp_server(folder: Path) -> Iterator[tuple[int, Path]]:
    """aiosmtpd in a process of its own; yields its port and the file it writes each Message-ID to."""
    port, received = free_port(), folder / "received.txt"
    received.touch()
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(port), str(received)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        if server.stdout.readline().strip() != "ready":
            raise RuntimeError("the SMTP server did not start")
        yield port, received
    finally:
        server.stdin.close()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


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


def arrived(received: Path) -> list[str]:
    return [line for line in received.read_text().splitlines() if line]


def measure(kind: str, url: str, count: int, limit: int, chunk: int) -> None:
    migrate(url)
    engine = make_engine(url)
    try:
        queue_offers(engine, count)
        with tempfile.TemporaryDirectory(prefix="internmatch_bench_smtp") as folder, \
                smtp_server(Path(folder)) as (port, received):
            settings = Settings(smtp_host="127.0.0.1", smtp_port=port,
                                mail_from="internmatch <no-reply@internmatch.example.hk>")
            stop = threading.Event()
            loop = threading.Thread(target=run_sender_forever, args=(stop,), name="outbox-sender",
                                    kwargs={"engine": engine, "settings": settings, "limit": limit,
                                            "chunk_size": chunk, "idle_seconds": 0.05})
            started = time.perf_counter()
            give_up = started + 60 + count / 5
            loop.start()
            try:
                while (sent_count(engine) < count or len(arrived(received)) < count) \
                        and time.perf_counter() < give_up:
                    time.sleep(0.01)
                seconds = time.perf_counter() - started
            finally:
                stop.set()
                loop.join(timeout=60)
            ids = arrived(received)
        sent = sent_count(engine)
        repeats = sum(n - 1 for n in Counter(ids).values())
        once = len(ids) == count and repeats == 0 and sent == count
        print(f"{kind:>10} {count:>7} {limit:>6} {chunk:>6} {seconds:>8.2f} {count / seconds:>10.0f} {len(ids):>8} "
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
