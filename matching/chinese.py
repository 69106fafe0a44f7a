"""Traditional and Simplified Chinese: one script for matching, the reader's script for display.

Hong Kong writes Traditional characters and Guangdong Simplified ones, so the same word arrives in two
forms (故宮 and 故宫, 熊貓 and 熊猫). Text fit and search fold every character onto its Simplified form
before comparing: the fold is character by character (a table built once from OpenCC's Traditional to
Simplified conversion), so it is fast enough for a national round and never merges two different
Simplified words. Several Traditional characters may share one Simplified form (乾/幹 → 干); for
matching that only makes two words look alike that a Simplified reader could not tell apart either.

For display, whole texts are converted with OpenCC's phrase-aware Hong Kong ↔ Simplified
configurations, which a reader sees, so they must read naturally rather than character by character.
"""

from __future__ import annotations

from functools import cache

import opencc

# CJK Unified Ideographs, Extension A and the compatibility block: every character a fold can touch.
_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF))


@cache
def _converter(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(config)


@cache
def _fold_table() -> dict[int, int]:
    chars = [chr(c) for start, end in _RANGES for c in range(start, end + 1)]
    # One character per line: OpenCC converts each alone, with no phrase around it to change its reading.
    folded = _converter("t2s").convert("\n".join(chars)).split("\n")
    if len(folded) != len(chars):  # pragma: no cover - a converter that changed line breaks
        raise RuntimeError("OpenCC changed the number of lines while folding characters")
    return {ord(c): ord(f) for c, f in zip(chars, folded, strict=True) if len(f) == 1 and f != c}


def fold(text: str) -> str:
    """`text` with every Chinese character in its Simplified form, for comparing words across scripts."""
    return text.translate(_fold_table())


def to_simplified(text: str) -> str:
    """Hong Kong Traditional text as a Simplified Chinese reader would write it."""
    return _converter("hk2s").convert(text) if text else text


def to_traditional(text: str) -> str:
    """Simplified text in Hong Kong's Traditional characters."""
    return _converter("s2hk").convert(text) if text else text


def script_of(text: str) -> str:
    """The BCP 47 tag of the script `text` is written in: "zh-Hans" when converting it to Simplified
    changes nothing and converting it to Traditional does, else "zh-Hant" (Hong Kong's, the default)."""
    if text and to_simplified(text) == text and to_traditional(text) != text:
        return "zh-Hans"
    return "zh-Hant"


def spellings(text: str) -> list[str]:
    """`text` as typed, in Simplified and in Hong Kong Traditional: the forms a search must look for."""
    forms = [text, to_simplified(text), to_traditional(text), fold(text)]
    return list(dict.fromkeys(forms))
