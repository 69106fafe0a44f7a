"""Whether a signed-in applicant meets a project's requirements, requirement by requirement, and why not.

The verdicts come from `matching.rules.check_all` on the adapter's dataclasses, the same rules the matcher
applies; this module only words them for people, in the current language. Whether the project is among
the applicant's choices is the matcher's business, not a requirement for applying, so it is left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session, col, select

import matching
from backend.applicants.models import ApplicantProfile
from backend.applicants.profile import ELIGIBILITY_STEPS, find_profile, missing_steps, step_title
from backend.core.errors import NotFound
from backend.core.formatting import long_date, region_name
from backend.core.i18n import gettext as _
from backend.identity import permissions as authz
from backend.identity.models import User
from backend.market.inputs import to_matching_applicant, to_matching_project
from backend.projects.catalogue import EDUCATION_NAMES, LANGUAGE_NAMES
from backend.projects.models import Project, ProjectStatus
from matching.rules import RuleCheck, check_all

NOT_REQUIREMENTS = frozenset({"choices"})
VISIBLE_STATUSES = (ProjectStatus.OPEN, ProjectStatus.CLOSED, ProjectStatus.COMPLETED)


# The profile step whose answer a rule reads: where an applicant goes to change what makes them not eligible.
RULE_STEPS = {"origin": "residency", "age": "names", "education": "education", "languages": "languages",
              "dates": "availability", "region": "regions"}


@dataclass(frozen=True)
class Requirement:
    rule: str
    met: bool
    message: str

    @property
    def step(self) -> str | None:
        return RULE_STEPS.get(self.rule)

    @property
    def step_title(self) -> str:
        return step_title(self.step) if self.step else ""


@dataclass(frozen=True)
class MissingStep:
    step: str
    title: str


@dataclass
class Eligibility:
    project_id: int
    # False while the profile lacks what the rules need; `missing` then names those steps.
    complete: bool
    requirements: list[Requirement] = field(default_factory=list)
    missing: list[MissingStep] = field(default_factory=list)

    @property
    def eligible(self) -> bool:
        return self.complete and all(r.met for r in self.requirements)

    @property
    def unmet(self) -> list[Requirement]:
        return [r for r in self.requirements if not r.met]

    @property
    def summary(self) -> str:
        """One sentence for a refusal: the unmet reasons, or what to complete first."""
        if not self.complete:
            return _("Complete your profile first: %(steps)s.", steps="; ".join(m.title for m in self.missing))
        return " ".join(r.message for r in self.unmet)


def _date(iso: str) -> str:
    return long_date(date.fromisoformat(iso))


def _language(code: str) -> str:
    return str(LANGUAGE_NAMES.get(code, code.title()))


def _education(code: str) -> str:
    return str(EDUCATION_NAMES.get(code, code))


def _origin_message(check: RuleCheck) -> str:
    origin, admitted = check.params["origin"], check.params["admitted"]
    if check.passed:
        if origin == matching.GUANGDONG:
            return _("You have declared that you are from Guangdong, and this scheme admits youth from Guangdong.")
        return _("You have declared that you are a Hong Kong resident.")
    if admitted == [matching.HONG_KONG]:
        return _("This scheme is for Hong Kong residents; you have not declared that you are one.")
    if not origin:
        return _("This scheme admits youth from Hong Kong and from Guangdong; say in your profile where you are from.")
    return _("This scheme admits youth from Guangdong only.")


def message_for(check: RuleCheck) -> str:
    """A rule check worded for the applicant ("you"), from its code and params."""
    p = check.params
    code = check.code
    if check.rule == "origin":
        return _origin_message(check)
    if check.rule == "age":
        return _("You will be %(age)s on %(on)s; this project takes ages %(min_age)s to %(max_age)s.",
                 age=p["age"], on=_date(p["on"]), min_age=p["min_age"], max_age=p["max_age"])
    if check.rule == "education":
        if check.passed:
            return _("Your education (%(education)s) meets the minimum of %(min_education)s.",
                     education=_education(p["education"]), min_education=_education(p["min_education"]))
        return _("This project needs at least %(min_education)s; you have %(education)s.",
                 education=_education(p["education"]), min_education=_education(p["min_education"]))
    if check.rule == "languages":
        if check.passed:
            if not p.get("required"):
                return _("This project has no language requirement.")
            return _("You meet the language requirements.")
        return " ".join(_("%(language)s level %(required)s needed; you have %(actual)s.",
                          language=_language(s["language"]), required=s["required"], actual=s["actual"])
                        for s in p.get("shortfalls") or [p])
    if check.rule == "dates":
        if code == "available_too_late":
            return _("The internship starts on %(start)s; you are available only from %(available_from)s.",
                     start=_date(p["start_date"]), available_from=_date(p["available_from"]))
        if code == "available_too_short":
            return _("The internship ends on %(end)s; you are available only until %(available_to)s.",
                     end=_date(p["end_date"]), available_to=_date(p["available_to"]))
        return _("You are available for the whole internship, %(start)s to %(end)s.",
                 start=_date(p["start_date"]), end=_date(p["end_date"]))
    if check.rule == "region":
        if not check.passed:
            return _("This project is in %(region)s, which is not among the regions you accept.",
                     region=region_name(p["region"]))
        if not p.get("regions"):
            return _("You accept any region.")
        return _("%(region)s is among the regions you accept.", region=region_name(p["region"]))
    return code  # a rule added to the matcher later shows its code until it is worded here


def evaluate(profile: ApplicantProfile | None, project: Project) -> Eligibility:
    """No permission check: for services that already hold the actor's own profile."""
    missing = missing_steps(profile, ELIGIBILITY_STEPS)
    applicant = to_matching_applicant(profile) if profile is not None and not missing else None
    if applicant is None:
        missing = missing or list(ELIGIBILITY_STEPS)
        return Eligibility(project.id, False, missing=[MissingStep(s, step_title(s)) for s in missing])
    checks = check_all(applicant, to_matching_project(project))
    return Eligibility(project.id, True, [Requirement(c.rule, c.passed, message_for(c))
                                          for c in checks if c.rule not in NOT_REQUIREMENTS])


def check_project(session: Session, actor: User, project_id: int) -> Eligibility:
    """The signed-in applicant against one published project."""
    authz.require(actor, authz.Permission.APPLICANT_VIEW_OWN)
    project = session.get(Project, project_id)
    if project is None or project.status not in VISIBLE_STATUSES:
        raise NotFound(_("We could not find that project."))
    return evaluate(find_profile(session, actor), project)


def for_projects(session: Session, actor: User, project_ids: list[int]) -> dict[int, Eligibility]:
    """The signed-in applicant against each of these projects (their choices), read in one query."""
    authz.require(actor, authz.Permission.APPLICANT_VIEW_OWN)
    if not project_ids:
        return {}
    profile = find_profile(session, actor)
    projects = session.exec(select(Project).where(col(Project.id).in_(project_ids))).all()
    return {project.id: evaluate(profile, project) for project in projects}
