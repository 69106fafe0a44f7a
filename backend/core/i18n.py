"""Languages: English, Traditional Chinese (Hong Kong) and Simplified Chinese (Guangdong), chosen per
request and used by code and templates alike.

The Simplified catalogue is converted from the Traditional one (`python3 dev.py translations`, OpenCC's
Hong Kong to Simplified conversion, then the reviewed wording in frontend/translations/zh_Hans_terms.txt).
Text people wrote (a project's Chinese title) is stored once, as written, and shown to a Simplified
reader converted (`localised`).

Catalogues are the Babel .po files under frontend/translations; they are compiled in memory at start,
so a fresh checkout needs no build step and a stale .mo can never be served.
"""

from __future__ import annotations

import io
from contextvars import ContextVar
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import LazyProxy, NullTranslations, Translations

from matching import chinese

TRANSLATIONS_DIR = Path(__file__).resolve().parents[2] / "frontend" / "translations"

# URL/cookie codes (BCP 47) mapped to Babel locale identifiers.
LANGUAGES: dict[str, str] = {"en": "en", "zh-Hant": "zh_Hant", "zh-Hans": "zh_Hans"}
LANGUAGE_NAMES: dict[str, str] = {"en": "English", "zh-Hant": "繁體中文", "zh-Hans": "简体中文"}
CHINESE_LANGUAGES = ("zh-Hant", "zh-Hans")
# Browser tags that mean Simplified characters; any other Chinese tag reads Traditional (Hong Kong).
_SIMPLIFIED_TAGS = ("zh-hans", "zh-cn", "zh-sg", "zh-my")
DEFAULT_LANGUAGE = "en"
LANGUAGE_COOKIE = "lang"

_current_language: ContextVar[str] = ContextVar("current_language", default=DEFAULT_LANGUAGE)


@cache
def translations_for(language: str) -> NullTranslations:
    locale = LANGUAGES.get(language, "en")
    po_path = TRANSLATIONS_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not po_path.exists():
        return NullTranslations()
    with po_path.open("rb") as po_file:
        catalog = read_po(po_file, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(fp=buffer)


def set_language(language: str) -> None:
    _current_language.set(language if language in LANGUAGES else DEFAULT_LANGUAGE)


def get_language() -> str:
    return _current_language.get()


def gettext(message: str, **params) -> str:
    text = translations_for(get_language()).gettext(message)
    return text % params if params else text


def ngettext(singular: str, plural: str, n: int, **params) -> str:
    text = translations_for(get_language()).ngettext(singular, plural, n)
    params.setdefault("num", n)
    return text % params


def lazy_gettext(message: str, **params) -> LazyProxy:
    """For messages defined at import time (validation texts) and translated when shown."""
    return LazyProxy(gettext, message, enable_cache=False, **params)


_ = gettext


def negotiate_language(query_lang: str | None, cookie_lang: str | None, accept_language: str | None) -> str:
    """?lang= wins, then the remembered cookie, then the browser's Accept-Language, then English."""
    for candidate in (query_lang, cookie_lang):
        if candidate in LANGUAGES:
            return candidate
    if accept_language:
        weighted: list[tuple[float, int, str]] = []
        for position, part in enumerate(accept_language.split(",")):
            tag, _sep, q = part.strip().partition(";q=")
            try:
                weight = float(q) if q else 1.0
            except ValueError:
                weight = 0.0
            weighted.append((-weight, position, tag.strip().lower()))
        for _weight, _pos, tag in sorted(weighted):
            if tag.startswith(_SIMPLIFIED_TAGS):
                return "zh-Hans"
            if tag.startswith("zh"):
                return "zh-Hant"
            if tag.startswith("en"):
                return "en"
    return DEFAULT_LANGUAGE


def is_chinese(language: str | None = None) -> bool:
    """Whether `language` (by default the reader's) is one of the Chinese ones."""
    return (language or get_language()) in CHINESE_LANGUAGES


def in_reader_script(text: str) -> str:
    """Chinese text as written, converted to Simplified characters for a Simplified reader."""
    return chinese.to_simplified(text) if get_language() == "zh-Hans" else text


def localised(obj, field: str) -> str:
    """The zh or en variant of a bilingual field (`title_en`/`title_zh`), falling back to the other."""
    en = getattr(obj, f"{field}_en", "") or ""
    zh = getattr(obj, f"{field}_zh", "") or ""
    if is_chinese():
        return in_reader_script(zh) if zh else en
    return en or in_reader_script(zh)
