"""internmatch matching engine: eligibility rules, text fit and the matcher.

A pure library (no web framework or database imports). Importing the package
is cheap; numpy, scipy and OR-Tools load on the first call to :func:`match`.
"""

from __future__ import annotations

from .model import (
    GUANGDONG,
    HONG_KONG,
    ORIGINS,
    Applicant,
    Education,
    MatchResult,
    Placement,
    Policy,
    Project,
    Reason,
    Scheme,
    Unplaced,
)
from .verification import verify as _verify

__all__ = ["GUANGDONG", "HONG_KONG", "ORIGINS", "Applicant", "Education", "MatchResult", "Placement", "Policy", "Project", "Reason", "Scheme",
           "Unplaced", "match", "verify"]


def match(projects, applicants, scheme, **kwargs) -> MatchResult:
    """See :func:`matching.engine.match`."""
    # The engine brings numpy and scipy; the web app and the CLI import the package for its dataclasses.
    from .engine import match as _match  # noqa: PLC0415

    return _match(projects, applicants, scheme, **kwargs)


def verify(result, projects, applicants, scheme, **kwargs) -> list[str]:
    """See :func:`matching.verification.verify`."""
    return _verify(result, projects, applicants, scheme, **kwargs)
