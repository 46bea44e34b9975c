"""The FastAPI application: security (token, CSRF, host), templates and the error pages.

Every request must carry the run's random token: the first URL has it as ``?token=…``, which sets a
cookie and redirects to the same page without it. State-changing requests are POST and must also
send the token in the ``X-Qualcode-Token`` header, which another site's page cannot set. A Host
header other than 127.0.0.1 or localhost is refused, so a DNS-rebinding page cannot reach the
server under a name of its own.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from qualcode.errors import QualcodeError
from qualcode.web.i18n import LANGUAGES, SCRIPT_KEYS, translator

HERE = Path(__file__).parent
TOKEN_HEADER = "x-qualcode-token"
ALLOWED_HOSTS = ("127.0.0.1", "localhost")
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class Settings:
    """What one run of the workbench serves: the project, the language and the token."""

    def __init__(self, folder: Path, lang: str, token: str):
        self.folder = folder
        self.lang = lang
        self.token = token
        # One cookie per project: the browser remembers who codes in which project.
        digest = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:10]
        self.coder_cookie = f"qualcode_coder_{digest}"


def token_cookie_name(request: Request) -> str:
    """The token cookie's name: one per port, since cookies do not tell ports apart."""
    return f"qualcode_token_{request.url.port or 0}"


def create_app(folder: str | Path, *, lang: str = "nb", token: str | None = None) -> FastAPI:
    """The workbench application for the project in ``folder``."""
    if lang not in LANGUAGES:
        raise QualcodeError(f"unknown language '{lang}'; use {' or '.join(LANGUAGES)}")
    settings = Settings(Path(folder), lang, token or secrets.token_urlsafe(24))
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.autoescape = True
    t = translator(lang)
    templates.env.globals.update(t=t, lang=lang, script_texts={k: t(k) for k in SCRIPT_KEYS})
    templates.env.filters["clock"] = _clock
    templates.env.filters["number"] = _number
    templates.env.globals["mark_style"] = mark_style
    app.state.templates = templates

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Any:
        host = (request.headers.get("host") or "").rsplit(":", 1)[0].strip("[]")
        if host not in ALLOWED_HOSTS:
            return PlainTextResponse("403: wrong host", status_code=403)
        given = request.query_params.get("token")
        cookie_name = token_cookie_name(request)
        if given is not None and request.method == "GET":
            if not hmac.compare_digest(given, settings.token):
                return _forbidden(t)
            target = request.url.remove_query_params("token")
            response = RedirectResponse(str(target.path) + (f"?{target.query}" if target.query else ""), 303)
            response.set_cookie(cookie_name, settings.token, httponly=True, samesite="strict")
            return response
        cookie = request.cookies.get(cookie_name, "")
        if not hmac.compare_digest(cookie, settings.token):
            if request.url.path.startswith("/api/"):
                # Most often a tab left open while the server restarted with a new token.
                return JSONResponse({"error": t("stale_token"), "stale": True}, status_code=403)
            return _forbidden(t)
        if request.method not in ("GET", "HEAD"):
            header = request.headers.get(TOKEN_HEADER, "")
            if request.method != "POST" or not hmac.compare_digest(header, settings.token):
                return JSONResponse(
                    {"error": t("stale_token"), "stale": True}, status_code=403
                )
        response = await call_next(request)
        for key, value in SECURITY_HEADERS.items():
            response.headers.setdefault(key, value)
        return response

    @app.exception_handler(QualcodeError)
    async def qualcode_error(request: Request, exc: QualcodeError) -> Any:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": str(exc)}, status_code=400)
        return templates.TemplateResponse(
            request, "error.html", {"message": str(exc), "coder": None}, status_code=400
        )

    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    from qualcode.web.routes import router

    app.include_router(router)
    return app


def _forbidden(t: Any) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><meta charset=utf-8><title>403</title><p>403 — {t('forbidden')}</p>",
        status_code=403,
    )


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return ""
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def _number(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def mark_style(codes: tuple[str, ...], styles: dict[str, Any]) -> str:
    """The inline style of a passage highlight: the code's colour, stripes when several overlap."""
    colors = [styles[c].color if c in styles else "#999999" for c in codes]
    if len(colors) == 1:
        return f"background-color: {colors[0]}55; border-bottom: 2px solid {colors[0]}"
    step = 100 / len(colors)
    stops = ", ".join(
        f"{c}55 {i * step:.0f}% {(i + 1) * step:.0f}%" for i, c in enumerate(colors)
    )
    return f"background-image: linear-gradient(180deg, {stops})"
