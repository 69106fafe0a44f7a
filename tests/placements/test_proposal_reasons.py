"""Why each applicant was proposed, in the reader's language: every reason the matcher can give is translated."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import matching.explain
from backend.outbox.service import speaking
from backend.placements.models import MatchProposal
from backend.placements.review import describe_reason, describe_unplaced, proposal_reasons
from matching.rules import RULES

# Facts a reason needs to be put in words; a code not listed here is described without any.
SAMPLE_PARAMS = {"choice": {"rank": 2}, "shared_terms": {"terms": ["robotics", "data"]},
                 "rules_passed": {"rules": list(RULES)}}
FALLBACK = "the matcher's own English text"


def _codes_in_explain(constructor: str, position: int) -> set[str]:
    """Every literal code passed to Reason(...) / Unplaced(...) in matching/explain.py."""
    tree = ast.parse(Path(matching.explain.__file__).read_text(encoding="utf-8"))
    codes = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == constructor:
            argument = node.args[position] if len(node.args) > position else None
            assert isinstance(argument, ast.Constant) and isinstance(argument.value, str), \
                f"a {constructor}(...) in matching/explain.py has a code that is not a literal: read it by hand"
            codes.add(argument.value)
    return codes


PROPOSAL_CODES = sorted(_codes_in_explain("Reason", 0))
UNPLACED_CODES = sorted(_codes_in_explain("Unplaced", 1))


def _chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def test_the_codes_are_read_from_the_matcher():
    assert {"pinned", "choice", "open_to_other", "shared_terms", "first_timer", "rules_passed"} <= set(PROPOSAL_CODES)
    assert {"ineligible", "budget_exhausted", "not_selected"} <= set(UNPLACED_CODES)


@pytest.mark.parametrize("code", PROPOSAL_CODES)
def test_every_reason_the_matcher_gives_has_english_and_traditional_chinese_words(code):
    params = SAMPLE_PARAMS.get(code, {})
    with speaking("en"):
        english = describe_reason(code, params, FALLBACK)
    with speaking("zh-Hant"):
        chinese = describe_reason(code, params, FALLBACK)
    assert english != FALLBACK and chinese != FALLBACK, f"add {code!r} to describe_reason in backend/placements/review.py"
    assert _chinese(chinese) and not _chinese(english), f"translate the words for {code!r} in messages.po"


def test_reasons_are_worded_with_their_facts():
    with speaking("en"):
        assert describe_reason("choice", {"rank": 1}) == "Their first choice"
        assert describe_reason("choice", {"rank": 3}) == "Their choice number 3"
        assert describe_reason("shared_terms", {"terms": ["robotics", "data"]}) == "Shared interests: robotics, data"
        assert describe_reason("rules_passed", {"rules": list(RULES)}) == f"Meets all {len(RULES)} requirements"
    with speaking("zh-Hant"):
        assert describe_reason("choice", {"rank": 1}) == "申請人的第一志願"
        assert describe_reason("choice", {"rank": 3}) == "申請人的第 3 志願"
        assert describe_reason("shared_terms", {"terms": ["機械人", "data"]}) == "共同興趣：機械人、data"
        assert describe_reason("rules_passed", {"rules": list(RULES)}) == f"符合全部 {len(RULES)} 項要求"


def test_an_unknown_code_or_missing_facts_fall_back_to_the_stored_text():
    with speaking("zh-Hant"):
        assert describe_reason("new_in_a_later_matcher", {"x": 1}, "a reason from the future") == \
            "a reason from the future"
        assert describe_reason("choice", {}, "your 1st choice") == "your 1st choice"
        assert describe_reason("shared_terms", {"terms": []}, "shared interests: ") == "shared interests: "
        assert describe_reason("new_in_a_later_matcher", {}) == "new_in_a_later_matcher"


def test_a_proposals_reasons_keep_code_and_params_and_are_worded_in_the_readers_language():
    proposal = MatchProposal(run_id=1, applicant_id=1, project_id=1, score=1.0, reasons=[
        {"code": "choice", "params": {"rank": 1}, "text": "your 1st choice"},
        {"code": "something_new", "params": {}, "text": "kept as stored"}])
    with speaking("zh-Hant"):
        reasons = proposal_reasons(proposal)
    assert reasons == [{"code": "choice", "params": {"rank": 1}, "text": "申請人的第一志願"},
                       {"code": "something_new", "params": {}, "text": "kept as stored"}]
    assert proposal.reasons[0]["text"] == "your 1st choice"  # the stored reasons are not changed


def test_every_unplaced_reason_the_matcher_gives_has_its_own_words():
    params = {"rule": "age", "failed": 2, "considered": 3, "budget_left": 1000, "region": "Guangdong", "cap": 5,
              "eligible_projects": 2}
    with speaking("zh-Hant"):
        texts = {code: describe_unplaced(code, params) for code in UNPLACED_CODES}
        default = describe_unplaced("not_selected", params)
    assert all(_chinese(text) for text in texts.values())
    assert [code for code, text in texts.items() if text == default] == ["not_selected"], \
        "a new unplaced code falls back to 'Eligible but not selected': add it to describe_unplaced"
