"""Programme kinds: what sort of programme a scheme is, and the rules that follow from it.

The platform runs three programmes of the Hong Kong/Guangdong co-operation, each a scheme of one kind:
- the Funding Scheme for Youth Internship in the Mainland: NGOs' projects, a Hong Kong subsidy per place;
- thematic internship programmes co-organised by both governments with a Mainland host institution (the
  Palace Museum, Wolong National Nature Reserve): each project is a cohort with its dates, and cohorts mix
  youth from Hong Kong and from Guangdong;
- the Guangdong–Hong Kong Summer Internship Programme: Guangdong host organisations offer the places; Hong
  Kong may pay nothing for them, and the host says what it provides (allowance, accommodation).

Every page, form and service asks `rules_of(scheme)` rather than testing the kind itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from backend.core.i18n import lazy_gettext


class ProgrammeKind(StrEnum):
    FUNDING_SCHEME = "funding_scheme"
    THEMATIC_PROGRAMME = "thematic_programme"
    SUMMER_PROGRAMME = "summer_programme"


@dataclass(frozen=True)
class KindRules:
    kind: ProgrammeKind
    name: object  # lazy text
    description: object
    needs_host_institution: bool  # one Mainland host institution for the whole programme
    admits_both_sides: bool  # its cohorts mix youth from Hong Kong and from Guangdong
    subsidy_may_be_zero: bool  # the host bears the cost: a place may ask Hong Kong for nothing
    host_states_what_it_provides: bool  # each place says what the host provides (allowance, accommodation)
    project_word: object  # what one project of the programme is called
    # Which organisations may offer its places (`organisations.models.OrganisationKind` values), and what an
    # organisation of another kind is told before it drafts anything.
    offered_by: frozenset[str]
    offered_by_only: object


RULES: dict[ProgrammeKind, KindRules] = {
    ProgrammeKind.FUNDING_SCHEME: KindRules(
        ProgrammeKind.FUNDING_SCHEME, lazy_gettext("Funding scheme"),
        lazy_gettext("NGOs propose internship projects and Hong Kong pays a subsidy per place."),
        needs_host_institution=False, admits_both_sides=False, subsidy_may_be_zero=False,
        host_states_what_it_provides=False, project_word=lazy_gettext("project"),
        offered_by=frozenset({"ngo"}),
        offered_by_only=lazy_gettext("Only Hong Kong NGOs propose projects under a funding scheme.")),
    ProgrammeKind.THEMATIC_PROGRAMME: KindRules(
        ProgrammeKind.THEMATIC_PROGRAMME, lazy_gettext("Thematic internship programme"),
        lazy_gettext("Co-organised by both governments with one Mainland host institution; each cohort mixes youth "
                     "from Hong Kong and from Guangdong."),
        needs_host_institution=True, admits_both_sides=True, subsidy_may_be_zero=False,
        host_states_what_it_provides=False, project_word=lazy_gettext("cohort"),
        offered_by=frozenset({"ngo", "guangdong_host"}),
        offered_by_only=lazy_gettext("Hong Kong NGOs and Guangdong host organisations offer a thematic programme's "
                                     "cohorts.")),
    ProgrammeKind.SUMMER_PROGRAMME: KindRules(
        ProgrammeKind.SUMMER_PROGRAMME, lazy_gettext("Summer internship programme"),
        lazy_gettext("Guangdong host organisations offer the places and say what they provide; Hong Kong may pay "
                     "nothing for a place."),
        needs_host_institution=False, admits_both_sides=False, subsidy_may_be_zero=True,
        host_states_what_it_provides=True, project_word=lazy_gettext("place offer"),
        offered_by=frozenset({"guangdong_host"}),
        offered_by_only=lazy_gettext("Only Guangdong host organisations offer places in the summer internship "
                                     "programme.")),
}


def rules_of(scheme) -> KindRules:
    return RULES[ProgrammeKind(scheme.kind)]


def takes_places_from(scheme, organisation) -> bool:
    """Whether the organisation may offer places (post projects) in the scheme."""
    return organisation.kind in rules_of(scheme).offered_by
