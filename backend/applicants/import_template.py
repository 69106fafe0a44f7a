"""The CSV import's template and column help, in English and Traditional Chinese side by side.

The template is one file for every reader, so each header and each note holds both languages (they are
data, not interface text, and are not translated by the catalogue). Its header cells read
`name (中文名)` and its notes are lines starting with `#` straight after the header; `plain_text` turns
such a file back into the matcher's applicants.csv before it is parsed, keeping every line number.
"""

from __future__ import annotations

import csv
import io
from typing import NamedTuple

from matching.geography import REGIONS
from matching.io import APPLICANT_COLUMNS

_TEXT = ("any text", "任何文字")
_BOOL = ("true or false", "true（是）或 false（否）")
_DATE = ("a date written year-month-day, e.g. 2005-03-31", "以「年-月-日」填寫的日期，例如 2005-03-31")


class ColumnHelp(NamedTuple):
    name: str
    label_en: str
    label_zh: str
    values_en: str
    values_zh: str
    required: bool = True


COLUMNS: tuple[ColumnHelp, ...] = (
    ColumnHelp("id", "Your reference for the applicant", "申請人參考編號",
               "letters and digits, unique in the file, e.g. A001", "英文字母及數字，同一檔案內不可重複，例如 A001"),
    ColumnHelp("date_of_birth", "Date of birth", "出生日期", *_DATE),
    ColumnHelp("origin", "Where the applicant is from", "申請人來自",
               "hong_kong (a Hong Kong resident), guangdong, or empty if neither",
               "hong_kong（香港居民）、guangdong（廣東），兩者皆否則留空"),
    ColumnHelp("education", "Highest education", "最高學歷",
               "secondary, diploma, associate, bachelor, master, doctorate",
               "secondary（中學）、diploma（高級文憑）、associate（副學士）、bachelor（學士）、master（碩士）、"
               "doctorate（博士）"),
    ColumnHelp("field_of_study", "Field of study", "修讀範疇", *_TEXT),
    ColumnHelp("skills", "Skills", "技能", *_TEXT),
    ColumnHelp("interests", "Interests", "興趣", *_TEXT),
    ColumnHelp("statement", "Personal statement", "個人陳述", *_TEXT),
    ColumnHelp("languages", "Languages and levels", "語言及程度",
               "language=level (0 to 5) separated by ;  — cantonese, putonghua, english; e.g. cantonese=5;english=4",
               "「語言=程度」（0 至 5），以 ; 分隔：cantonese（粵語）、putonghua（普通話）、english（英語）；"
               "例如 cantonese=5;english=4"),
    ColumnHelp("available_from", "First day available", "最早可實習日期", *_DATE),
    ColumnHelp("available_to", "Last day available (not before the first)", "最後可實習日期（不早於最早日期）",
               *_DATE),
    ColumnHelp("regions", "Regions wanted (empty: any region)", "希望前往的地區（留空即任何地區）",
               "English names separated by ; — " + ", ".join(r.name_en for r in REGIONS),
               "以 ; 分隔的英文名稱：" + "、".join(f"{r.name_en}（{r.name_zh}）" for r in REGIONS)),
    ColumnHelp("choices", "Project numbers, most wanted first", "項目編號（最想參加的排先）",
               "numbers separated by ; — the number in the project's web address, e.g. 12;7",
               "以 ; 分隔的數字：即項目網址中的編號，例如 12;7"),
    ColumnHelp("open_to_other", "Open to other projects", "願意考慮其他項目", *_BOOL),
    ColumnHelp("first_timer", "First funded internship", "首次參加資助實習", *_BOOL),
    ColumnHelp("name_en", "Name in English", "英文姓名", *_TEXT, required=False),
    ColumnHelp("name_zh", "Name in Chinese", "中文姓名", *_TEXT, required=False),
    ColumnHelp("email", "E-mail: the applicant is invited to create an account", "電郵：申請人會收到建立帳戶的邀請",
               "an e-mail address", "電郵地址", required=False),
    ColumnHelp("phone", "Phone", "電話", *_TEXT, required=False),
)
assert tuple(c.name for c in COLUMNS if c.required) == APPLICANT_COLUMNS


def header_cell(column: ColumnHelp) -> str:
    return f"{column.name} ({column.label_zh})"


def template_csv() -> bytes:
    """The header in both languages, then one note per column (lines starting with #) that the import skips."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([header_cell(c) for c in COLUMNS])
    for c in COLUMNS:
        need = "required 必填" if c.required else "optional 選填"
        writer.writerow([f"# {c.name}: {c.label_en} / {c.label_zh} ({need})",
                         f"{c.values_en} / {c.values_zh}"])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _is_note(line: str) -> bool:
    return line.lstrip().lstrip('"').startswith("#")


def plain_text(text: str) -> str:
    """The template's header cells back to plain column names, and the notes under the header to blank lines
    (so line numbers in reports still match the file). Any other file is returned unchanged."""
    lines = text.splitlines(keepends=True)
    if not lines:
        return text
    ending = lines[0][len(lines[0].rstrip("\r\n")):]
    cells = next(csv.reader([lines[0].rstrip("\r\n")]), [])
    names = []
    for cell in cells:
        name, _space, rest = cell.strip().partition(" (")
        names.append(name if rest.endswith(")") and name in {c.name for c in COLUMNS} else cell)
    if names != cells:
        out = io.StringIO()
        csv.writer(out, lineterminator="").writerow(names)
        lines[0] = out.getvalue() + ending
    at = 1
    while at < len(lines) and _is_note(lines[at]):
        lines[at] = lines[at][len(lines[at].rstrip("\r\n")):] or "\n"
        at += 1
    return "".join(lines)
