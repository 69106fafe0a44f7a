"""Importing applicants from paper forms, in the matcher's applicants.csv format, for staff and NGOs.

Rows are parsed by `matching.io.parse_applicants` (the one parser); this module decides what the rows
mean for the database. A re-import *updates*: the same CSV id (scoped by who imports it, so two NGOs'
"A001" never collide) finds the same profile, changed rows are updated, unchanged ones are counted as
such, and no duplicate is ever created. Profiles already claimed by their applicant are skipped: from
then on the applicant's own answers win. Optional extra columns `name_en`, `name_zh`, `email`, `phone`;
with an e-mail, the applicant is invited to claim the account by a one-time link.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from backend.accounts.models import OneTimeToken, TokenPurpose
from backend.accounts.tokens import issue_one_time_token
from backend.applicants import choice_status, choices, demand, import_template, origin_confirmation
from backend.applicants.models import ApplicantProfile, Choice, ChoiceStatus
from backend.applicants.profile import _EMAIL, hk_today
from backend.audit import service as audit
from backend.core.db import utcnow
from backend.core.errors import DomainError, Forbidden
from backend.core.i18n import gettext as _
from backend.core.i18n import lazy_gettext
from backend.core.settings import CSV_IMPORT_MAX_BYTES
from backend.identity import permissions as authz
from backend.identity.models import User
from backend.identity.roles import acts_for_an_organisation
from backend.market.inputs import project_key
from backend.organisations.models import Organisation
from backend.outbox.service import enqueue, link, render, sign_off
from backend.projects.models import Project, ProjectStatus
from backend.schemes.models import Scheme
from matching.io import APPLICANT_COLUMNS, RowError, parse_applicants

MAX_IMPORT_BYTES = CSV_IMPORT_MAX_BYTES
EXTRA_COLUMNS = ("name_en", "name_zh", "email", "phone")
CLAIM_DAYS = 30
STAFF_SENDER = lazy_gettext("The Home Affairs Bureau")
CLAIM_SUBJECT = lazy_gettext("Your internship application on internmatch")
CLAIM_BODY = lazy_gettext(
    "Hello %(name)s,\n\n%(organisation)s has entered your application for Mainland internships on internmatch. "
    "Open this link within %(days)s days to create your account, check your details and follow your "
    "application:\n%(link)s\n\nIf you did not apply, ignore this e-mail.\n\n%(sign_off)s")

ROW_MESSAGES = {
    "required": lazy_gettext("A value is required."),
    "invalid_date": lazy_gettext("'%(value)s' is not a date like 2005-03-31."),
    "invalid_integer": lazy_gettext("'%(value)s' is not a whole number."),
    "invalid_boolean": lazy_gettext("'%(value)s' is not true or false."),
    "invalid_education": lazy_gettext(
        "'%(value)s' is not one of secondary, diploma, associate, bachelor, master, doctorate."),
    "invalid_language": lazy_gettext("'%(value)s' is not a language and level like putonghua=3."),
    "invalid_language_level": lazy_gettext("The level %(level)s for %(language)s is not between 0 and 5."),
    "available_to_before_from": lazy_gettext("available_to %(available_to)s is before available_from "
                                             "%(available_from)s."),
    "duplicate_id": lazy_gettext("The id '%(id)s' is also on line %(lines)s. Each applicant may appear once, so "
                                 "none of these rows was imported."),
    "unknown_project": lazy_gettext("Choice '%(project_id)s' is not an open project you can import for; "
                                    "it was left out."),
    "too_many_choices": lazy_gettext("Only the first %(max)s choices were kept: the scheme allows %(max)s."),
    "settled": lazy_gettext("This applicant has accepted a place in the scheme, so her choices there were left as "
                            "they were."),
    "invalid_email": lazy_gettext("'%(value)s' is not an e-mail address."),
    "id_too_long": lazy_gettext("The id must be %(max)s characters or fewer."),
    "claimed": lazy_gettext("The applicant has claimed this profile, so their own answers were kept."),
}


@dataclass(frozen=True)
class RowProblem:
    line: int
    column: str
    reason: str
    severity: str = "error"


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    invited: int = 0
    rejected: list[RowProblem] = field(default_factory=list)
    warnings: list[RowProblem] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        return self.created + self.updated + self.unchanged

    @property
    def rejected_rows(self) -> int:
        return len({p.line for p in self.rejected})

    def rejections_csv(self) -> str:
        """The rejected rows as a file to download, fix and send again."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(("line", "column", "reason"))
        writer.writerows((p.line, p.column, p.reason) for p in self.rejected)
        return buffer.getvalue()


class ImportRefused(DomainError):
    """The whole file is refused; nothing was imported."""

    code = "import_refused"

    def __init__(self, message: str):
        super().__init__(message, field="file")


def _reason(error: RowError) -> str:
    message = ROW_MESSAGES.get(error.code)
    if message is None:
        return error.text
    try:
        return str(message) % error.params if error.params else str(message)
    except (KeyError, TypeError, ValueError):
        return error.text


def _decode(data: bytes) -> str:
    if len(data) > MAX_IMPORT_BYTES:
        raise ImportRefused(_("The file is larger than %(size)s. Split it into smaller files.",
                              size=f"{MAX_IMPORT_BYTES // (1024 * 1024)} MB"))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise ImportRefused(_("Line %(line)s is not UTF-8 text, so the file is not saved as UTF-8. In Excel choose "
                              "\"CSV UTF-8 (Comma delimited)\" when you save it, then upload it again.",
                              line=line)) from None


def _check_header(header: list[str]) -> None:
    missing = [c for c in APPLICANT_COLUMNS if c not in header]
    # An unknown column is most often a misspelt optional one ("emial"): refusing beats silently ignoring it.
    unknown = [c for c in header if c not in APPLICANT_COLUMNS and c not in EXTRA_COLUMNS]
    if not any(header) or missing or unknown:
        problems = []
        if missing or not any(header):
            problems.append(_("Missing: %(columns)s.", columns=", ".join(missing or APPLICANT_COLUMNS)))
        if unknown:
            problems.append(_("Not known: %(columns)s (the optional columns are %(optional)s).",
                              columns=", ".join(c or '""' for c in unknown), optional=", ".join(EXTRA_COLUMNS)))
        raise ImportRefused(_("The first line must be the header of applicants.csv: %(columns)s. %(problems)s",
                              columns=",".join(APPLICANT_COLUMNS), problems=" ".join(problems)))


def _extras(text: str, header: list[str]) -> dict[int, dict[str, str]]:
    """{line: id and optional columns} for every row — the other values are parsed by matching.io."""
    reader = csv.reader(io.StringIO(text, newline=""))
    next(reader, None)
    at = {name: header.index(name) for name in ("id", *EXTRA_COLUMNS) if name in header}
    out: dict[int, dict[str, str]] = {}
    line = reader.line_num
    for record in reader:
        start, line = line + 1, reader.line_num
        if not any(x.strip() for x in record):
            continue
        out[start] = {name: (record[i].strip() if i < len(record) else "") for name, i in at.items()}
    return out


def _extra_problems(line: int, extra: dict[str, str], prefix: str) -> list[RowProblem]:
    """The columns only the web import has, checked on every row so that a row's errors are all listed."""
    problems = []
    email = extra.get("email", "").lower()
    if email and (len(email) > 254 or not _EMAIL.match(email)):
        problems.append(RowProblem(line, "email", str(ROW_MESSAGES["invalid_email"]) % {"value": email}))
    if len(prefix + extra.get("id", "")) > 64:
        problems.append(RowProblem(line, "id", str(ROW_MESSAGES["id_too_long"]) % {"max": 64 - len(prefix)}))
    return problems


def _scope(actor: User) -> int | None:
    """Staff import for any organisation's projects; an NGO only for its own (even with APPLICANT_IMPORT)."""
    if acts_for_an_organisation(actor):
        if authz.can(actor, authz.Permission.APPLICANT_IMPORT) or authz.can(
                actor, authz.Permission.APPLICANT_VIEW_FOR_OWN_PROJECTS):
            organisation_id = authz.organisation_id_of(actor)
            if organisation_id is not None:
                return organisation_id
        raise Forbidden(_("You do not have permission to do that."))
    if authz.can(actor, authz.Permission.APPLICANT_IMPORT):
        return None
    raise Forbidden(_("You do not have permission to do that."))


def _importable_projects(session: Session, organisation_id: int | None, today) -> dict[str, Project]:
    query = (select(Project).join(Scheme, col(Scheme.id) == col(Project.scheme_id))
             .where(Project.status == ProjectStatus.OPEN, col(Scheme.applicant_window_closes) >= today))
    if organisation_id is not None:
        query = query.where(Project.organisation_id == organisation_id)
    return {project_key(p.id): p for p in session.exec(query)}


def import_applicants(session: Session, actor: User, data: bytes, *, filename: str = "applicants.csv",
                      today=None) -> ImportResult:
    organisation_id = _scope(actor)
    text = import_template.plain_text(_decode(data))
    header = [h.strip() for h in next(csv.reader(io.StringIO(text)), [])]
    _check_header(header)
    projects = _importable_projects(session, organisation_id, today or hk_today())
    # Every row is parsed, however many errors come before it: each is either imported or reported.
    applicants, errors = parse_applicants(text, filename=filename, project_ids=list(projects), max_errors=None)
    result = ImportResult()
    for error in errors:
        problem = RowProblem(error.line, error.column or "", _reason(error), error.severity)
        (result.warnings if error.severity == "warning" else result.rejected).append(problem)
    prefix = f"{organisation_id or 'staff'}:"
    extras = _extras(text, header)
    refused_lines = set()
    for line, extra in extras.items():
        problems = _extra_problems(line, extra, prefix)
        result.rejected.extend(problems)
        refused_lines.update(p.line for p in problems)
    # Ids of the parsed applicants are unique (every copy of a repeated id is refused), so each has one line.
    line_of = {extra.get("id", ""): line for line, extra in extras.items()}
    schemes: dict[int, Scheme] = {}
    for applicant in applicants:
        line = line_of.get(applicant.id, 0)
        if line in refused_lines:
            continue
        extra = extras.get(line, {})
        email = extra.get("email", "").lower()
        chosen = [projects[pid] for pid in dict.fromkeys(applicant.choices) if pid in projects]
        outcome = _save(session, actor, prefix + applicant.id, applicant, extra, chosen, schemes, result, line)
        if outcome == "created" and email:
            result.invited += _invite(session, actor, email, extra, organisation_id)
    result.rejected.sort(key=lambda p: (p.line, p.column))
    result.warnings.sort(key=lambda p: (p.line, p.column))
    audit.record(session, actor, "applicant.imported", "applicant_import", filename[:100],
                 after={"created": result.created, "updated": result.updated, "unchanged": result.unchanged,
                        "skipped": result.skipped, "rejected_rows": result.rejected_rows,
                        "invited": result.invited})
    return result


def _save(session, actor, ref, applicant, extra, chosen, schemes, result: ImportResult, line: int) -> str:
    profile = session.exec(select(ApplicantProfile).where(ApplicantProfile.external_ref == ref)).first()
    if profile is not None and profile.user_id is not None:
        result.skipped += 1
        result.warnings.append(RowProblem(line, "id", str(ROW_MESSAGES["claimed"]), "warning"))
        return "skipped"
    created = profile is None
    profile = profile or ApplicantProfile(external_ref=ref)
    values = dict(
        date_of_birth=applicant.date_of_birth, origin=applicant.origin,
        education_level=applicant.education.label, field_of_study=applicant.field_of_study,
        skills=applicant.skills, interests=applicant.interests, statement=applicant.statement,
        languages=dict(applicant.languages), available_from=applicant.available_from,
        available_to=applicant.available_to, regions=list(applicant.regions),
        open_to_other=applicant.open_to_other, joined_before=not applicant.first_timer)
    for name, limit in (("name_en", 200), ("name_zh", 100), ("phone", 30)):
        if extra.get(name):
            values[name] = extra[name][:limit]
    if extra.get("email"):
        values["contact_email"] = extra["email"].lower()
    changed = [k for k, v in values.items() if getattr(profile, k) != v]
    for name in changed:
        setattr(profile, name, values[name])
    if created or changed:
        profile.updated_at = utcnow()
        if profile.origin_declared_at is None:
            profile.origin_declared_at = profile.updated_at  # declared on the paper form
        if "origin" in changed:
            # A new origin on the paper form: the Guangdong office's answer about the old one no longer holds.
            origin_confirmation.reset_after_declaration(session, actor, profile)
        session.add(profile)
        session.flush()
    choices_changed = _sync_choices(session, actor, profile, chosen, schemes, result, line)
    if created:
        result.created += 1
        audit.record(session, actor, "applicant.imported_created", "applicant_profile", profile.id,
                     after={"external_ref": ref})
        return "created"
    if changed or choices_changed:
        result.updated += 1
        audit.record(session, actor, "applicant.imported_updated", "applicant_profile", profile.id,
                     after={"fields": changed, "choices_changed": choices_changed})
        return "updated"
    result.unchanged += 1
    return "unchanged"


def _sync_choices(session: Session, actor: User, profile: ApplicantProfile, chosen: list[Project],
                  schemes: dict, result: ImportResult, line: int) -> bool:
    """The file's choices become the applicant's, ranked per scheme; ones no longer listed are withdrawn."""
    existing = {c.project_id: c for c in session.exec(select(Choice).where(Choice.applicant_id == profile.id))}
    # Where she holds a place her list is settled: the file changes nothing there.
    settled = choices.settled_schemes(session, [profile.id], existing.values())
    if any(project.scheme_id in settled for project in chosen):
        result.warnings.append(RowProblem(line, "choices", str(ROW_MESSAGES["settled"]), "warning"))
    existing = {pid: c for pid, c in existing.items() if c.scheme_id not in settled}
    ranked_before = choices.park_ranks(session, existing.values())
    wanted: dict[int, list[Project]] = {}
    for project in chosen:
        if project.scheme_id not in settled:
            wanted.setdefault(project.scheme_id, []).append(project)
    changed = False
    keep: set[int] = set()
    for scheme_id, projects in wanted.items():
        scheme = schemes.get(scheme_id) or schemes.setdefault(scheme_id, session.get(Scheme, scheme_id))
        if len(projects) > scheme.max_choices:
            result.warnings.append(RowProblem(line, "choices", str(ROW_MESSAGES["too_many_choices"]) % {
                "max": scheme.max_choices}, "warning"))
            projects = projects[:scheme.max_choices]
        for rank, project in enumerate(projects, 1):
            keep.add(project.id)
            choice = existing.get(project.id)
            if choice is None:
                session.add(Choice(applicant_id=profile.id, project_id=project.id, scheme_id=scheme_id, rank=rank))
                demand.chosen(session, project.id)
                changed = True
            elif ranked_before.get(choice.id) != rank or choice.status == ChoiceStatus.WITHDRAWN:
                if choice.status == ChoiceStatus.WITHDRAWN:
                    choice_status.revive(session, choice, rank)
                else:
                    choice.rank, choice.updated_at = rank, utcnow()
                    session.add(choice)
                changed = True
            else:
                choice.rank = rank
    choices.settle_parked_ranks(session, profile)
    for project_id, choice in existing.items():
        if project_id not in keep and choice.status == ChoiceStatus.SUBMITTED:
            choice_status.withdraw(session, actor, choice)
            changed = True
    choices.settle_parked_ranks(session, profile)
    if changed:
        session.flush()
    return changed


def _invite(session: Session, actor: User, email: str, extra: dict, organisation_id: int | None) -> int:
    """One claim link per address: none if it already has an account or an unused, unexpired link."""
    if session.exec(select(User.id).where(User.email == email)).first() is not None:
        return 0
    pending = session.exec(select(OneTimeToken.id).where(
        OneTimeToken.email == email, OneTimeToken.purpose == TokenPurpose.CLAIM_ACCOUNT,
        col(OneTimeToken.used_at).is_(None), OneTimeToken.expires_at > utcnow())).first()
    if pending is not None:
        return 0
    raw = issue_one_time_token(session, TokenPurpose.CLAIM_ACCOUNT, email=email, organisation_id=organisation_id,
                               created_by=actor, hours=CLAIM_DAYS * 24)
    language = "zh-Hant" if extra.get("name_zh") and not extra.get("name_en") else "en"
    organisation = render(STAFF_SENDER, language)
    if organisation_id is not None:
        found = session.get(Organisation, organisation_id)
        if found is not None:
            organisation = (found.name_zh if language == "zh-Hant" else found.name_en) or found.name_en
    enqueue(session, to=email, subject=CLAIM_SUBJECT, body=CLAIM_BODY, language=language, template="claim_account",
            name=extra.get("name_en") or extra.get("name_zh") or email, organisation=organisation, days=CLAIM_DAYS,
            link=link(f"/claim-account/{raw}"), sign_off=sign_off(language))
    return 1
