"""One Chinese word for each thing throughout the zh_Hant catalogue: 計劃 is a funding scheme (or one of the
internship programmes a scheme can be: thematic, summer) and only that,
項目 is an NGO's internship project. A reader who meets 計劃 on one page and 項目 on the next for the same
project thinks they are two different things."""

import re
from pathlib import Path

from babel.messages.pofile import read_po

CATALOGUE = Path(__file__).resolve().parents[2] / "frontend/translations/zh_Hant/LC_MESSAGES/messages.po"
PLACEHOLDER = re.compile(r"%\(\w+\)s")


def _pairs():
    with CATALOGUE.open("rb") as f:
        catalogue = read_po(f, locale="zh_Hant")
    for message in catalogue:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        texts = message.string if isinstance(message.string, tuple) else (message.string,)
        # A placeholder (%(project)s) names a value, not a word the translation has to carry.
        english = PLACEHOLDER.sub("", " ".join(ids)).lower()
        for text in texts:
            if text:
                yield ids[0], english, text


def test_scheme_is_always_jihua_and_project_always_xiangmu():
    wrong = []
    for msgid, english, chinese in _pairs():
        says_scheme, says_project = "scheme" in english, re.search(r"\bprojects?\b", english) is not None
        # A thematic or summer internship programme is a scheme of another kind (schemes/kinds.py); "Programme"
        # alone is an applicant's course of study (課程), which the check below keeps apart.
        names_a_programme = (re.search(r"\bprogrammes?\b", english) is not None
                             and english.strip() not in ("programme", "programme (optional)"))
        if "計劃" in chinese and not (says_scheme or names_a_programme):
            wrong.append(f"計劃 (scheme) for a text about no scheme: {msgid!r} → {chinese!r}")
        if says_project and "項目" not in chinese:
            wrong.append(f"'project' not translated 項目: {msgid!r} → {chinese!r}")
        if says_scheme and "計劃" not in chinese:
            wrong.append(f"'scheme' not translated 計劃: {msgid!r} → {chinese!r}")
        for variant in ("計畫", "專案", "专案", "方案"):
            if variant in chinese:
                wrong.append(f"{variant} instead of 計劃/項目: {msgid!r} → {chinese!r}")
    assert wrong == [], "\n".join(wrong)
