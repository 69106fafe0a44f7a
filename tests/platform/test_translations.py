"""No page is born English-only: the catalogue is current and every message has a Traditional Chinese text,
and the Simplified Chinese catalogue is the one built from it."""

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from frontend.translations import make_zh_hans
from matching.chinese import to_simplified

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "frontend" / "translations"
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _catalog(locale: str):
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f, locale=locale)


def _scanned_directory(path: str) -> bool:
    name = Path(path).name
    return not name.startswith(".") and name not in {"node_modules", "__pycache__"}


def _extracted_ids() -> set[str]:
    method_map = [("backend/**.py", "python"), ("frontend/templates/**.html", "jinja2")]
    options = {"frontend/templates/**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "true"}}
    ids = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options, keywords={"_": None, "gettext": None, "lazy_gettext": None,
                                                   "ngettext": (1, 2)},
        # Babel skips folders starting with "_" by default; templates/_macros holds shared messages.
        directory_filter=_scanned_directory,
    ):
        ids.add(message if isinstance(message, str) else message[0])
    return ids


def test_the_committed_catalogue_template_is_not_stale():
    with (TRANSLATIONS / "messages.pot").open("rb") as f:
        template_ids = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id}
    extracted = _extracted_ids()
    assert extracted - template_ids == set(), "run `make translations`: new messages are not in messages.pot"
    assert template_ids - extracted == set(), "run `make translations`: messages.pot has messages no longer used"


def test_every_message_has_a_traditional_chinese_translation_with_the_same_placeholders():
    catalog = _catalog("zh_Hant")
    missing, broken = [], []
    for message in catalog:
        if not message.id:
            continue
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        text = message.string if isinstance(message.string, str) else (message.string or ("",))[0]
        if not text or message.fuzzy:
            missing.append(msgid)
        elif set(PLACEHOLDER.findall(msgid)) != set(PLACEHOLDER.findall(text)):
            broken.append(msgid)
    assert missing == [], f"messages without a zh_Hant translation: {missing}"
    assert broken == [], f"zh_Hant translations whose %(placeholders)s differ: {broken}"
    assert {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id} >= _extracted_ids()


def test_the_simplified_catalogue_is_built_from_the_traditional_one_with_the_reviewed_terms():
    committed = (TRANSLATIONS / "zh_Hans" / "LC_MESSAGES" / "messages.po").read_bytes()
    assert committed == make_zh_hans.build(), "run `make translations`: zh_Hans is not built from zh_Hant"
    simplified, traditional = _catalog("zh_Hans"), _catalog("zh_Hant")
    assert {m.id for m in simplified} == {m.id for m in traditional}
    texts = [s for m in simplified if m.id for s in ((m.string,) if isinstance(m.string, str) else m.string)]
    assert all(texts) and all(to_simplified(t) == t for t in texts)
    words = " ".join(texts)
    for hong_kong_word, mainland_word in make_zh_hans.reviewed_terms():
        assert hong_kong_word not in words or hong_kong_word in mainland_word, hong_kong_word
    assert "电子邮件" in words and "登录" in words
