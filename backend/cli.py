"""The `internmatch` command. Heavy imports stay inside each subcommand so `internmatch match` starts fast.

The web stack, SQLModel, Alembic and uvicorn take most of a second to import; `internmatch --help` and
`internmatch match` need none of them, so each subcommand imports what it runs (hence the PLC0415 noqa).
"""

from __future__ import annotations

import argparse
import getpass
import logging
import signal
import sys
import threading
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def alembic_config(database_url: str | None = None):
    from alembic.config import Config  # noqa: PLC0415

    config = Config(str(REPO_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(REPO_ROOT / "alembic"))
    if database_url:
        config.attributes["database_url"] = database_url
    return config


def migrate(database_url: str | None = None) -> None:
    from alembic import command  # noqa: PLC0415

    command.upgrade(alembic_config(database_url), "head")


def _cmd_migrate(args: argparse.Namespace) -> int:
    migrate()
    print("Database is at the latest schema.")
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn  # noqa: PLC0415

    if args.migrate:
        migrate()
    print(f"internmatch is running at http://{args.host}:{args.port}/  (Ctrl+C to stop)", flush=True)
    uvicorn.run("backend.main:app", host=args.host, port=args.port, workers=args.workers,
                reload=args.reload, proxy_headers=True, log_level=args.log_level)
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from backend.demo import load_demo  # noqa: PLC0415

    migrate()
    report = load_demo(n_applicants=args.applicants, n_projects=args.projects, seed=args.seed,
                       reset=args.reset, if_empty=args.if_empty)
    print(report)
    return 0


def _cmd_match(args: list[str]) -> int:
    from matching.cli import main as match_main  # noqa: PLC0415

    return match_main(args)


def _cmd_create_staff(args: argparse.Namespace) -> int:
    from sqlmodel import Session  # noqa: PLC0415

    from backend.accounts.service import AccountError, create_staff  # noqa: PLC0415
    from backend.core.db import get_engine  # noqa: PLC0415

    password = args.password_stdin and sys.stdin.readline().rstrip("\n")
    if not password:
        password = getpass.getpass("Password (at least 12 characters): ")
        if getpass.getpass("Password again: ") != password:
            print("The two passwords do not match.", file=sys.stderr)
            return 2
    with Session(get_engine()) as session:
        try:
            user = create_staff(session, email=args.email, password=password, role=args.role,
                                display_name=args.name or args.email, actor=None)
        except AccountError as error:
            print(error.message, file=sys.stderr)
            return 2
        session.commit()
        print(f"Created {user.role} account {user.email}.")
    return 0


def _cmd_purge_unplaced(args: argparse.Namespace) -> int:
    from sqlmodel import Session  # noqa: PLC0415

    from backend.accounts.privacy import purge_unplaced  # noqa: PLC0415
    from backend.core.db import get_engine  # noqa: PLC0415

    with Session(get_engine()) as session:
        purged = purge_unplaced(session)
        session.commit()
    print(f"Erased the personal data of {purged} applicant(s) who were not placed.")
    return 0


def _cmd_ask_confirmations(args: argparse.Namespace) -> int:
    from sqlmodel import Session  # noqa: PLC0415

    from backend.core.db import for_writing, get_engine  # noqa: PLC0415
    from backend.placements.confirmations import ask_and_remind  # noqa: PLC0415

    with Session(for_writing(get_engine())) as session:
        stats = ask_and_remind(session)
        session.commit()
    print(f"Asked {stats.asked} intern(s) to confirm what they received; reminded {stats.reminded}.")
    return 0


def _cmd_worker(args: argparse.Namespace) -> int:
    from backend.placements.worker import companion_threads, run_forever  # noqa: PLC0415

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    stop = threading.Event()
    # SIGTERM (docker stop, systemd) hands a round in progress back to the queue, then exits.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda _signum, _frame: stop.set())
    # One worker process does all background work: rounds here; e-mails, offer expiry and interns' confirmations
    # in threads.
    companions = companion_threads(stop)
    for thread in companions:
        thread.start()
    run_forever(stop, poll_seconds=args.poll_seconds, stale_after_seconds=args.stale_after)
    for thread in companions:
        thread.join(timeout=30)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="internmatch", description="internmatch platform commands")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the web platform")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--reload", action="store_true", help="restart on code changes (development)")
    serve.add_argument("--no-migrate", dest="migrate", action="store_false",
                       help="do not apply pending migrations first")
    serve.add_argument("--log-level", default="info")
    serve.set_defaults(func=_cmd_serve)

    sub.add_parser("migrate", help="bring the database to the latest schema").set_defaults(func=_cmd_migrate)

    demo = sub.add_parser("demo", help="load the demo data set (a scheme, projects, applicants, accounts)")
    demo.add_argument("--applicants", type=int, default=6000)
    demo.add_argument("--projects", type=int, default=120)
    demo.add_argument("--seed", type=int, default=2026)
    demo.add_argument("--reset", action="store_true", help="remove all data first, then load the demo")
    demo.add_argument("--if-empty", action="store_true", help="load only into an empty database")
    demo.set_defaults(func=_cmd_demo)

    sub.add_parser("match", help="run the matcher on CSV files (see `internmatch match --help`)",
                   add_help=False)

    staff = sub.add_parser("create-staff", help="create an officer, approver, admin or Guangdong office account")
    staff.add_argument("--email", required=True)
    staff.add_argument("--role", choices=["officer", "approver", "admin", "guangdong_office"],
                       required=True)
    staff.add_argument("--name", default="")
    staff.add_argument("--password-stdin", action="store_true",
                       help="read the password from standard input instead of asking")
    staff.set_defaults(func=_cmd_create_staff)

    sub.add_parser("purge-unplaced", help="erase personal data of applicants not placed, once the retention "
                   "period (UNPLACED_RETENTION_DAYS) after their scheme's applicant window has passed"
                   ).set_defaults(func=_cmd_purge_unplaced)

    sub.add_parser("ask-confirmations", help="run daily: ask interns whose internship has ended to confirm the "
                   "allowance and support they received, and remind those who have not answered"
                   ).set_defaults(func=_cmd_ask_confirmations)

    worker = sub.add_parser("worker", help="run background work until SIGTERM: match rounds, e-mail delivery, offer expiry")
    worker.add_argument("--poll-seconds", type=float, default=2.0, help="how often to look for a new round")
    worker.add_argument("--stale-after", type=float, default=60.0,
                        help="seconds without a heartbeat after which a running round is taken over")
    worker.set_defaults(func=_cmd_worker)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # The matcher has its own argument parser; pass everything through untouched.
    if argv and argv[0] == "match":
        return _cmd_match(argv[1:])
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
