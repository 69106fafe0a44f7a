"""Why an applicant was not placed, in Chinese without the matcher's English codes or region names."""

import re

import pytest

from backend.outbox.service import speaking
from backend.placements.review import describe_unplaced
from matching.rules import RULES

LATIN = re.compile(r"[A-Za-z]{2,}")


@pytest.mark.parametrize("rule", RULES)
def test_an_ineligible_reason_names_the_rule_in_chinese(rule):
    with speaking("zh-Hant"):
        text = describe_unplaced("ineligible", {"rule": rule, "failed": 3, "considered": 4})
    assert LATIN.findall(text) == [], text


def test_a_regional_cap_names_the_region_in_chinese():
    with speaking("zh-Hant"):
        text = describe_unplaced("regional_cap_exhausted", {"region": "Guangdong", "cap": 120})
    assert "廣東" in text and LATIN.findall(text) == [], text
    with speaking("en"):
        assert "languages" not in describe_unplaced("ineligible", {"rule": "languages", "failed": 1,
                                                                    "considered": 2})
