"""One Jinja2 environment for every page, with gettext and the helpers the base layout needs."""

import hashlib
from functools import cache
from pathlib import Path
from urllib.parse import urlencode

from fastapi import Request
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape

from backend.core import i18n
from backend.core.formatting import city_name, deadline_in_words, hkd, long_date, number, region_name

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "frontend" / "templates"
STATIC_DIR = TEMPLATES_DIR.parent / "static"

env = Environment(loader=FileSystemLoader(str(TEMPLATES_DIR)), autoescape=select_autoescape(),
                  extensions=["jinja2.ext.i18n"], auto_reload=False)
templates = Jinja2Templates(env=env)
env.install_gettext_callables(  # type: ignore[attr-defined]
    lambda message: i18n.translations_for(i18n.get_language()).gettext(message),
    lambda singular, plural, n: i18n.translations_for(i18n.get_language()).ngettext(singular, plural, n),
    newstyle=True,
)
env.policies["ext.i18n.trimmed"] = True


def language_url(request: Request, language: str) -> str:
    """The current page in another language (keeps the other query parameters)."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    params.append(("lang", language))
    return f"{request.url.path}?{urlencode(params)}"


@cache
def static_url(path: str) -> str:
    """A static file's address with a fingerprint of its content, so browsers may cache it for good."""
    digest = hashlib.sha256((STATIC_DIR / path).read_bytes()).hexdigest()[:12]
    return f"/static/{path}?v={digest}"


class StaticAssets(StaticFiles):
    """/static: a fingerprinted address (`static_url`) never changes content, so it may be kept for a year."""

    def file_response(self, full_path, stat_result, scope, status_code: int = 200):
        response = super().file_response(full_path, stat_result, scope, status_code)
        if b"v=" in scope.get("query_string", b""):
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response


env.globals.update(
    language_url=language_url,
    languages=i18n.LANGUAGE_NAMES,
    current_language=i18n.get_language,
    localised=i18n.localised,
    static_url=static_url,
)
env.filters.update(hkd=hkd, number=number, long_date=long_date, region_name=region_name, city_name=city_name)
env.filters.update(deadline_in_words=deadline_in_words)


def render(request: Request, template: str, context: dict | None = None, status_code: int = 200):
    return templates.TemplateResponse(request, template, context or {}, status_code=status_code)
