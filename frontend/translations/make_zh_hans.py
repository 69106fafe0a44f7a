"""Build the Simplified Chinese catalogue (zh_Hans) from the Traditional one (zh_Hant).

Each message is converted with OpenCC's Hong Kong to Simplified configuration (characters and phrases),
then the reviewed Mainland wording in zh_Hans_terms.txt replaces Hong Kong words a Guangdong reader
would not use (电邮 → 电子邮件, 登入 → 登录). The result is never edited by hand: change a Traditional
text or a term and run `make translations` (or this file) again; tests/platform/test_translations.py
fails when the committed zh_Hans catalogue is not what this builds.

    .venv/bin/python frontend/translations/make_zh_hans.py
"""

from __future__ import annotations

import io
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from matching.chinese import to_simplified

HERE = Path(__file__).resolve().parent
TRADITIONAL = HERE / "zh_Hant" / "LC_MESSAGES" / "messages.po"
SIMPLIFIED = HERE / "zh_Hans" / "LC_MESSAGES" / "messages.po"
TERMS = HERE / "zh_Hans_terms.txt"
HEADER = "# Simplified Chinese for internmatch, built from zh_Hant by make_zh_hans.py: do not edit by hand."
_STAMPS = (b'"POT-Creation-Date:', b'"Generated-By:')


def reviewed_terms() -> list[tuple[str, str]]:
    """(converted word, Mainland word) pairs, longest first so a longer phrase wins over its part."""
    pairs = []
    for line in TERMS.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            before, after = (part.strip() for part in line.split("→"))
            pairs.append((before, after))
    return sorted(pairs, key=lambda pair: -len(pair[0]))


def simplify(text: str, terms: list[tuple[str, str]]) -> str:
    text = to_simplified(text)
    for before, after in terms:
        text = text.replace(before, after)
    return text


def build() -> bytes:
    with TRADITIONAL.open("rb") as f:
        traditional = read_po(f, locale="zh_Hant")
    terms = reviewed_terms()
    simplified = Catalog(locale="zh_Hans", project="internmatch", fuzzy=False, header_comment=HEADER)
    for message in traditional:
        if not message.id:
            continue
        if isinstance(message.string, tuple | list):
            string = tuple(simplify(s, terms) for s in message.string)
        else:
            string = simplify(message.string or "", terms)
        simplified.add(message.id, string, flags=message.flags)
    out = io.BytesIO()
    write_po(out, simplified, width=100, omit_header=False, sort_output=True, no_location=True)
    # Babel stamps the time and its version; without them the same input always gives the same file.
    lines = [line for line in out.getvalue().split(b"\n") if not line.startswith(_STAMPS)]
    return b"\n".join(lines)


def main() -> None:
    SIMPLIFIED.parent.mkdir(parents=True, exist_ok=True)
    SIMPLIFIED.write_bytes(build())
    print(f"wrote {SIMPLIFIED.relative_to(HERE.parents[1])}")


if __name__ == "__main__":
    main()
