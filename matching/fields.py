"""Fields of study and the sectors they lead to: whether a placement is in the applicant's own field.

A project names its sector (the backend stores the English name in lower case, "technology"; the synthetic
data "Technology 科技"); an applicant writes her field of study in her own words ("Computer Science",
"電腦科學"). A placement is *in her own field* when her field of study names one of the fields of the
project's sector (the table in `matching.synthetic.SECTORS`, English or Chinese). A field or a sector the
table does not know counts as not in her field: the share is a floor, not a guess.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .model import Applicant, Project
from .synthetic import SECTORS

# Every spelling of a field of study, longest first (so "political science" is read before "science").
_FIELDS: list[tuple[str, str]] = sorted(
    ((name.lower(), key) for key, (_en, _zh, _roles, fields, _kw, _edu) in SECTORS.items()
     for pair in fields for name in pair),
    key=lambda item: -len(item[0]))
_SECTOR_NAMES: dict[str, str] = {name.lower(): key for key, (en, zh, *_rest) in SECTORS.items()
                                 for name in (key, en, zh)}


def sector_of_project(sector: str) -> str | None:
    """The sector key a project's sector text names ("Technology 科技", "technology"), or None."""
    text = sector.strip().lower()
    if text in _SECTOR_NAMES:
        return _SECTOR_NAMES[text]
    for word in text.split():
        if word in _SECTOR_NAMES:
            return _SECTOR_NAMES[word]
    return next((key for name, key in sorted(_SECTOR_NAMES.items(), key=lambda item: -len(item[0]))
                 if len(name) > 1 and name in text), None)


def sector_of_field(field_of_study: str) -> str | None:
    """The sector whose fields of study `field_of_study` names, or None."""
    text = field_of_study.lower()
    return next((key for name, key in _FIELDS if name in text), None)


def sector_indices(applicants: Sequence[Applicant], projects: Sequence[Project]) -> tuple[np.ndarray, np.ndarray]:
    """(sector of each applicant's field, sector of each project) as indices, -1 and -2 where unknown, so
    `app[i] == proj[j]` says applicant i placed at project j is in her own field."""
    keys = {key: k for k, key in enumerate(SECTORS)}
    app = np.array([keys.get(sector_of_field(a.field_of_study), -1) for a in applicants], np.int64)
    proj = np.array([keys.get(sector_of_project(p.sector), -2) for p in projects], np.int64)
    return app, proj
