"""The open lottery: a scheme's stable-mode tie-break seed, committed before match day and revealed on it.

Stable mode breaks ties between applicants a project ranks equally by one random number per applicant, drawn
from a seed. So that nobody (staff included) can choose a seed that favours someone, staff draw it once, from
the operating system's randomness, before match day; the platform publishes at once its SHA-256 (the
commitment) and, from match day, the seed itself. Anyone can then check that SHA-256 of the seed, written in
decimal, equals the commitment published earlier, and re-run the round with it. The seed is 63 bits: too many to
guess from the commitment.

A scheme's main rounds use its seed; a round started with another seed (the API allows one, for a what-if) is a
what-if and cannot be approved.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session

from backend.audit import service as audit
from backend.core import clock
from backend.core.db import utcnow
from backend.core.errors import Conflict
from backend.core.formatting import long_date
from backend.core.i18n import gettext as _
from backend.identity import permissions as authz
from backend.identity.models import User
from backend.schemes.facts import lock_scheme
from backend.schemes.models import Scheme

SEED_BITS = 63
MAX_SEED = (1 << SEED_BITS) - 1


def commitment_of(seed: int) -> str:
    return hashlib.sha256(str(seed).encode("ascii")).hexdigest()


@dataclass(frozen=True)
class Lottery:
    """What anyone may read about a scheme's seed today."""

    commitment: str
    drawn_at: datetime
    reveal_on: date
    seed: int | None  # None until match day


def published(scheme: Scheme, today: date | None = None) -> Lottery | None:
    if scheme.lottery_seed is None or scheme.lottery_seed_drawn_at is None or scheme.match_day is None:
        return None
    today = today or clock.today()
    return Lottery(commitment_of(scheme.lottery_seed), scheme.lottery_seed_drawn_at, scheme.match_day,
                   scheme.lottery_seed if today >= scheme.match_day else None)


def drawable(scheme: Scheme, today: date | None = None) -> bool:
    """Whether the seed may be drawn now: not yet drawn, and match day is set and still ahead."""
    return scheme.lottery_seed is None and scheme.match_day is not None and (today or clock.today()) < scheme.match_day


def draw(session: Session, actor: User, scheme: Scheme, *, client_address: str = "") -> Lottery:
    """Draw the scheme's seed, once: a lottery whose seed could be drawn again would be no lottery."""
    authz.require(actor, authz.Permission.SCHEME_MANAGE)
    lock_scheme(session, scheme.id)
    session.refresh(scheme)
    if scheme.lottery_seed is not None:
        raise Conflict(_("The lottery seed has already been drawn and its commitment published: it cannot be "
                         "drawn again."))
    if scheme.match_day is None:
        raise Conflict(_("Set the scheme's match day first: the seed is revealed on it."))
    if clock.today() >= scheme.match_day:
        raise Conflict(_("The seed must be drawn before match day, so that its commitment is published first."))
    scheme.lottery_seed = secrets.randbits(SEED_BITS)
    scheme.lottery_seed_drawn_at = utcnow()
    session.add(scheme)
    session.flush()
    # The audit log is readable by staff: it records the commitment, never the seed before it is revealed.
    audit.record(session, actor, "scheme.lottery_seed_drawn", "scheme", scheme.id,
                 after={"commitment": commitment_of(scheme.lottery_seed), "reveal_on": scheme.match_day.isoformat()},
                 client_address=client_address)
    return published(scheme)


def seed_for_round(scheme: Scheme, asked: int | None, default: int) -> tuple[int, bool]:
    """The seed a new round uses, and whether it is a what-if for it: the scheme's drawn seed unless another
    was asked for; a scheme without one uses the platform default, as before."""
    if asked is not None:
        return asked, scheme.lottery_seed is not None and asked != scheme.lottery_seed
    if scheme.lottery_seed is not None:
        return scheme.lottery_seed, False
    return default, False


def round_seed_words(scheme: Scheme, parameters: dict, today: date | None = None) -> str:
    """How a round broke ties, as its page says it: the lottery seed (shown once revealed), a what-if's own seed,
    or the platform's fixed seed for a scheme that drew none."""
    seed = (parameters or {}).get("seed")
    if parameters.get("seed_what_if"):
        return _("Ties broken with a seed chosen for this what-if, %(seed)s, not the scheme's lottery seed.", seed=seed)
    lottery = published(scheme, today)
    if lottery is not None and seed == scheme.lottery_seed:
        if lottery.seed is None:
            return _("Ties broken with the scheme's lottery seed, revealed on match day (%(day)s); its commitment is "
                     "%(commitment)s.", day=long_date(lottery.reveal_on), commitment=lottery.commitment)
        return _("Ties broken with the scheme's lottery seed, %(seed)s (commitment %(commitment)s).", seed=seed,
                 commitment=lottery.commitment)
    return _("Ties broken with the seed %(seed)s.", seed=seed)
