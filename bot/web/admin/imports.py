"""The console's import page: upload an FAQ file, read what importing it would change (a dry run),
then import it. The upload waits under var/imports/ (0600) between the two steps, a day at most."""

from __future__ import annotations

import logging
import re
import secrets
import shutil
import time
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from bot.web.admin.i18n import _
from bot.web.admin.pages import back, posted_form, render, same, session_of
from bot.web.deps import SettingsDep

router = APIRouter(prefix="/admin", include_in_schema=False)
log = logging.getLogger("faqbot.console")

FORMATS = ("auto", "csv", "xlsx", "json", "jsonl", "zendesk", "freshdesk", "intercom")
SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".json", ".jsonl")
STAGED_SECONDS = 24 * 60 * 60
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
_UNSAFE = re.compile(r"[^\w.\- ]+")


@router.get("/import")
def import_page(request: Request) -> Response:
    session = session_of(request)
    if isinstance(session, Response):
        return session
    return _page(request, session)


@router.post("/import/preview")
async def preview(request: Request, settings: SettingsDep) -> Response:
    """Stage the uploaded file and show the dry run's report, with the button that imports it."""
    session = session_of(request)
    if isinstance(session, Response):
        return session
    try:
        form = await request.form(max_files=1, max_fields=8, max_part_size=settings.max_import_bytes)
    except Exception as exc:  # a malformed multipart body: python-multipart's and starlette's errors
        return _page(request, session, 400, error=_("Could not read the upload: %(exc)s", exc=exc))
    if not same(str(form.get("csrf", "")), session.csrf):
        return render(
            request, "message.html", 403, title=_("Forbidden"), text=_("Missing or wrong CSRF token.")
        )
    choice = _choice({k: str(v) for k, v in form.items() if isinstance(v, str)})
    if isinstance(choice, str):
        return _page(request, session, 400, error=choice)
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _page(request, session, 400, error=_("Choose a file to import."), choice=choice)
    name = _safe_name(upload.filename)
    if not name.lower().endswith(SUFFIXES):
        return _page(
            request,
            session,
            400,
            error=_("Upload a %(types)s file.", types=", ".join(SUFFIXES)),
            choice=choice,
        )
    staging = settings.var_path / "imports"
    _forget_stale(staging)
    token = secrets.token_urlsafe(16)
    folder = staging / token
    folder.mkdir(parents=True, mode=0o700)
    path = folder / name
    path.write_bytes(await upload.read())
    path.chmod(0o600)
    try:
        report = await run_in_threadpool(_run, path, settings.kb_path, choice, True)
    except ValueError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        return _page(request, session, 400, error=str(exc).replace(str(folder) + "/", ""), choice=choice)
    return _page(request, session, report=report, token=token, choice=choice)


@router.post("/import/apply")
async def apply(request: Request, settings: SettingsDep) -> Response:
    """Import a file staged by the preview, with the options it was previewed with."""
    posted = await posted_form(request)
    if isinstance(posted, Response):
        return posted
    session, form = posted
    choice = _choice(form)
    token = form.get("token", "")
    folder = settings.var_path / "imports" / token
    staged = sorted(folder.iterdir()) if _TOKEN.match(token) and folder.is_dir() else []
    if isinstance(choice, str) or len(staged) != 1:
        return back(
            request,
            "/admin/import",
            error=_("That upload is gone (imported already, or over a day old): upload it again."),
        )
    try:
        report = await run_in_threadpool(_run, staged[0], settings.kb_path, choice, False)
    except ValueError as exc:
        return back(request, "/admin/import", error=str(exc))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    log.info("import by %s: %s created, %s updated", session.who, len(report.created), len(report.updated))
    ok = _(
        "Imported %(file)s: %(created)s created, %(updated)s updated. They go live when you publish.",
        file=staged[0].name, created=len(report.created), updated=len(report.updated),
    )  # fmt: skip
    return _page(request, session, report=report, choice=choice, ok=ok)


def _run(path: Path, kb: Path, choice: dict[str, str | None], dry_run: bool):
    from bot.exchange.apply import import_faq
    from bot.exchange.plan import Options

    options = Options(lang=choice["lang"], status=choice["status"])
    return import_faq(path, kb, str(choice["format"]), options, dry_run=dry_run)


def _choice(form: dict[str, str]) -> dict[str, str | None] | str:
    """The import options a form chose, or what is wrong with them."""
    fmt, lang, status = form.get("format") or "auto", form.get("lang") or None, form.get("status") or None
    if fmt not in FORMATS:
        return _("Unknown format %(value)s.", value=repr(fmt))
    if lang not in (None, "it", "en"):
        return _("Unknown language %(value)s.", value=repr(lang))
    if status not in (None, "draft", "published"):
        return _("Unknown status %(value)s.", value=repr(status))
    return {"format": fmt, "lang": lang, "status": status}


def _page(
    request: Request,
    session,
    status: int = 200,
    error: str | None = None,
    ok: str | None = None,
    report=None,
    token: str | None = None,
    choice=None,
) -> Response:
    return render(
        request,
        "import.html",
        status,
        session=session,
        report=report,
        token=token,
        choice=choice if isinstance(choice, dict) else _choice({}),
        formats=FORMATS,
        error=error,
        ok=ok,
    )


def _safe_name(filename: str) -> str:
    """The upload's file name without any folder, and only plain characters (its suffix kept)."""
    name = _UNSAFE.sub("_", Path(filename.replace("\\", "/")).name).strip(" .")
    return name[-120:] or "upload"


def _forget_stale(staging: Path) -> None:
    """Remove uploads previewed over a day ago and never imported."""
    if not staging.is_dir():
        return
    cutoff = time.time() - STAGED_SECONDS
    for folder in staging.iterdir():
        if folder.is_dir() and folder.stat().st_mtime < cutoff:
            shutil.rmtree(folder, ignore_errors=True)
