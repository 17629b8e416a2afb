"""Admin API for staff and operations, behind a bearer token (FAQBOT_ADMIN_TOKEN)."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Request

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
