"""Plain, immutable data model shared by the matcher, the CLI and the web app.

The backend adapts its database rows to these classes, so field names are a
public contract. Money is always an ``int`` number of HKD.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import IntEnum
from typing import Any


class Education(IntEnum):
    SECONDARY = 1
    DIPLOMA = 2
    ASSOCIATE = 3
    BACHELOR = 4
    MASTER = 5
    DOCTORATE = 6

    @classmethod
    def parse(cls, value: str | int | Education) -> Education:
        """Accept the lowercase interchange names ('bachelor') or the enum itself."""
        if isinstance(value, Education):
            return value
        if isinstance(value, int):
            return cls(value)
        try:
            return cls[str(value).strip().upper()]
        except KeyError:
            raise ValueError(f"unknown education level {value!r}") from None

    @property
    def label(self) -> str:
        return self.name.lower()


class FrozenMap(Mapping):
    """A small immutable, hashable mapping (dataclasses stay frozen *and* hashable)."""

    __slots__ = ("_data", "_hash")

    def __init__(self, data: Mapping | Iterable[tuple[Any, Any]] = ()):
        items = data.items() if isinstance(data, Mapping) else data
        # Sorted keys make repr/iteration independent of how the caller built it.
        self._data = dict(sorted(dict(items).items()))
        self._hash: int | None = None

    def __getitem__(self, key: Any) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    # The dict's own views and lookups: Mapping's generic ones go through __getitem__ per key, and the matcher
    # reads every applicant's languages.
    def items(self):
        return self._data.items()

    def keys(self):
        return self._data.keys()

    def values(self):
        return self._data.values()

    def get(self, key: Any, default: Any = None) -> Any:
        return self._data.get(key, default)

    def __contains__(self, key: Any) -> bool:
        return key in self._data

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(tuple(self._data.items()))
        return self._hash

    def __repr__(self) -> str:
        return f"FrozenMap({self._data!r})"


def _freeze_levels(levels: Mapping[str, int] | None) -> FrozenMap:
    if isinstance(levels, FrozenMap):
        return _frozen_levels(levels)
    return FrozenMap({str(k).strip().lower(): int(v) for k, v in (levels or {}).items()})


@functools.lru_cache(maxsize=4096)
def _frozen_levels(levels: FrozenMap) -> FrozenMap:
    """The same, for an already frozen map: a caller building many applicants can share one map per set of
    levels (a national round has 100,000 applicants and a few hundred sets of language levels)."""
    return FrozenMap({str(k).strip().lower(): int(v) for k, v in levels.items()})


# Where a participant comes from. A programme admits one or both; an applicant who has declared neither
# ("") is admitted nowhere.
HONG_KONG = "hong_kong"
GUANGDONG = "guangdong"
ORIGINS: tuple[str, ...] = (HONG_KONG, GUANGDONG)


def _origins(values: Iterable[str]) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(str(v) for v in values))
    unknown = [v for v in chosen if v not in ORIGINS]
    if unknown:
        raise ValueError(f"unknown origin {unknown[0]!r}: use {' or '.join(ORIGINS)}")
    return chosen


@dataclass(frozen=True)
class Project:
    id: str
    title: str
    description: str
    sector: str
    city: str
    region: str
    start_date: date
    end_date: date
    places: int
    subsidy_per_place: int
    languages: Mapping[str, int] = field(default_factory=FrozenMap)
    min_age: int = 18
    max_age: int = 29
    min_education: Education = Education.SECONDARY
    origins: tuple[str, ...] = (HONG_KONG,)  # who the project's programme admits
    # Seats per origin, origin -> (fewest, most): e.g. {"hong_kong": (20, 20), "guangdong": (20, 20)} for a
    # mixed cohort of 40. The fewest are reserved for that origin; an origin not named has (0, places).
    origin_seats: Mapping[str, tuple[int, int]] = field(default_factory=FrozenMap)

    def __post_init__(self) -> None:
        object.__setattr__(self, "languages", _freeze_levels(self.languages))
        object.__setattr__(self, "min_education", Education.parse(self.min_education))
        object.__setattr__(self, "origins", _origins(self.origins))
        seats = {str(o): (int(lo), int(hi)) for o, (lo, hi) in dict(self.origin_seats).items()}
        _origins(seats)
        for origin, (lo, hi) in seats.items():
            if not 0 <= lo <= hi:
                raise ValueError(f"seats for {origin}: need 0 <= fewest <= most, got {lo}-{hi}")
        if sum(lo for lo, _hi in seats.values()) > self.places:
            raise ValueError("the seats reserved per origin add up to more than the places")
        object.__setattr__(self, "origin_seats", FrozenMap(seats))

    def most_seats(self, origin: str) -> int:
        """The most seats applicants from `origin` can hold: their own limit, and never the seats
        reserved for the other origins."""
        _lo, hi = self.origin_seats.get(origin, (0, self.places))
        reserved_for_others = sum(lo for o, (lo, _hi) in self.origin_seats.items() if o != origin)
        return max(0, min(hi, self.places - reserved_for_others))
        if int(self.subsidy_per_place) != self.subsidy_per_place:
            raise TypeError("subsidy_per_place must be a whole number of HKD")


@dataclass(frozen=True)
class Applicant:
    id: str
    date_of_birth: date
    origin: str  # HONG_KONG or GUANGDONG as declared; "" when nothing is declared
    education: Education
    field_of_study: str = ""
    skills: str = ""
    interests: str = ""
    statement: str = ""
    languages: Mapping[str, int] = field(default_factory=FrozenMap)
    available_from: date = date.min
    available_to: date = date.max
    regions: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()
    open_to_other: bool = False
    first_timer: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "languages", _freeze_levels(self.languages))
        object.__setattr__(self, "education", Education.parse(self.education))
        if self.origin:
            _origins((self.origin,))
        object.__setattr__(self, "regions", tuple(self.regions))
        object.__setattr__(self, "choices", tuple(self.choices))


# What happens to seats reserved for an origin that its applicants leave empty (stable mode; the
# officer chooses). "keep": they stay empty, so the other origin never holds more than its share.
# "release": once every applicant of that origin who wants the project is placed, the other origin may
# take them. Optimal mode always keeps them (reserved seats are hard limits there).
RESERVED_SEATS = ("keep", "release")
# How stable mode keeps a regional cap that binds (the officer chooses; docs/matching.md compares them).
# "proportional": every project in an over-cap region loses the same share of its places, then spare places
# are recycled. "flexible": Kamada and Kojima's flexible deferred acceptance, in which the region fills its
# cap from everyone who applied to its projects: each project first up to a target (its proportional share),
# then one more seat at a time, the region's projects taking turns in a fixed order.
CAP_RULES = ("proportional", "flexible")


class MatchError(ValueError):
    """Invalid request, e.g. a pinned pair that breaks a hard rule, or a scheme setting out of range."""


@dataclass(frozen=True)
class Scheme:
    name: str
    budget_hkd: int
    region_caps: Mapping[str, int] = field(default_factory=FrozenMap)
    reserved_seats: str = "keep"
    cap_rule: str = "proportional"

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "region_caps", FrozenMap({str(k): int(v) for k, v in self.region_caps.items()})
        )
        if self.reserved_seats not in RESERVED_SEATS:
            raise ValueError(f"reserved_seats must be one of {', '.join(RESERVED_SEATS)}")
        if self.cap_rule not in CAP_RULES:
            raise MatchError(f"cap_rule must be one of {', '.join(CAP_RULES)}, got {self.cap_rule!r}")


# --- policy: the weights that decide between applicants -------------------------------------------

# Each weight's allowed range (whole numbers). The first-timer priority stays below half a placement's
# value (engine.PLACEMENT_VALUE), so no weight ever makes the matcher leave a place empty to favour someone.
POLICY_BOUNDS: dict[str, tuple[int, int]] = {"first_timer_priority": (0, 5000), "choice_weight": (0, 200),
                                             "fit_weight": (0, 100)}


@dataclass(frozen=True)
class Policy:
    """How the matcher weighs one placement against another (docs/matching.md, "Policy").

    - ``first_timer_priority``: objective units added to a first-time participant's placement (a placement
      is worth 10,000; a score point 10). 300 outweighs a 30-point better score for someone who took part
      before; 0 treats both alike.
    - ``choice_weight``: percent of the choice-rank points (first choice 60, second 48, ... later 20).
    - ``fit_weight``: score points for a perfect text fit (score = choice points + fit_weight x fit).

    The defaults are the weights every round used before they could be set, so results are unchanged.
    """

    first_timer_priority: int = 300
    choice_weight: int = 100
    fit_weight: int = 40

    def __post_init__(self) -> None:
        for name, (low, high) in POLICY_BOUNDS.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{name} must be a whole number, got {value!r}")
            if not low <= value <= high:
                raise ValueError(f"{name} must be between {low} and {high}, got {value}")

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in POLICY_BOUNDS}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Policy:
        """A stored policy; weights it does not name keep their defaults (rounds stored before policies)."""
        return cls(**{name: int(value) for name, value in (data or {}).items() if name in POLICY_BOUNDS})


# --- results ---------------------------------------------------------------


@dataclass(frozen=True)
class Reason:
    """One structured reason; ``text`` is the plain-English rendering for CSV/CLI."""

    code: str
    params: Mapping[str, Any]
    text: str


@dataclass(frozen=True)
class Placement:
    applicant_id: str
    project_id: str
    score: float
    choice_rank: int | None
    reasons: tuple[Reason, ...] = ()

    @property
    def reasons_text(self) -> str:
        return "; ".join(r.text for r in self.reasons)


@dataclass(frozen=True)
class Unplaced:
    applicant_id: str
    reason_code: str
    params: Mapping[str, Any]
    text: str


@dataclass
class MatchResult:
    placements: list[Placement]
    unplaced: list[Unplaced]
    report: dict[str, Any]
    # The prepared inputs (text fit, rules, candidate pairs) the result was solved from, kept so that a
    # caller can solve them again with a limit raised without fitting and checking everything again.
    problem: Any = field(default=None, repr=False, compare=False)
