"""Admin API for staff and operations, behind a bearer token (FAQBOT_ADMIN_TOKEN)."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request

from bot.index import current_version

router = APIRouter(prefix="/api/v1/admin")


def require_admin(request: Request, authorization: Annotated[str | None, Header()] = None) -> None:
    """A valid `Authorization: Bearer <FAQBOT_ADMIN_TOKEN>`; without a configured token, no admin API."""
    token = request.app.state.settings.admin_token
    if token is None:
        raise HTTPException(403, "admin API disabled: set FAQBOT_ADMIN_TOKEN")
    expected = f"Bearer {token.get_secret_value()}"
    if authorization is None or not secrets.compare_digest(authorization.encode(), expected.encode()):
        raise HTTPException(401, "missing or wrong admin token", headers={"WWW-Authenticate": "Bearer"})


@router.post("/reindex", status_code=202, dependencies=[Depends(require_admin)])
def reindex(request: Request) -> dict[str, str | None]:
    """Look for a newly published index version now and swap it in once fully loaded."""
    watcher = request.app.state.watcher
    if watcher is None:
        raise HTTPException(409, "hot reload is off (FAQBOT_RELOAD_INTERVAL=0)")
    watcher.trigger()
    settings = request.app.state.settings
    return {
        "serving": request.app.state.chat.bot.retriever.version,
        "published": current_version(settings.index_path),
    }


@router.get("/missed", dependencies=[Depends(require_admin)])
def missed(
    request: Request,
    q: Annotated[str | None, Query(max_length=200)] = None,
    lang: Literal["it", "en"] | None = None,
    channel: Annotated[str | None, Query(pattern=r"^[a-z0-9_-]{1,32}$")] = None,
    since: dt.datetime | None = None,
    status: Literal["open", "resolved", "dismissed", "all"] = "open",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """The missed-query log (redacted), newest first."""
    store = request.app.state.chat.store
    items, total = store.missed(q, lang, channel, since, None if status == "all" else status, limit, offset)
    return {
        "items": [
            {
                "id": m.id,
                "text": m.text,
                "lang": m.lang,
                "channel": m.channel,
                "reason": m.reason,
                "confidence": m.confidence,
                "status": m.status,
                "created_at": m.created_at.isoformat(),
                "candidates": m.candidates,
            }
            for m in items
        ],
        "total": total,
    }
