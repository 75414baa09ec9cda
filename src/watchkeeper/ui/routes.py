"""The web UI at ``/``: one HTML shell for every page path, and the static assets beside it.

The pages are a small vanilla-JS app (ES modules under ``static/js/``) that reads the JSON API with
the user's key; there is no build step and no CDN. Asset URLs carry a content hash so browsers may
cache them for a year, while the shell itself is never cached.
"""

from __future__ import annotations

import hashlib
import mimetypes
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from .. import __version__
from ..server.errors import ApiError

router = APIRouter(include_in_schema=False)

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
TEMPLATE = HERE / "templates" / "index.html"

#: Page paths served by the single-page app (every view has its own URL).
PAGES = ("/", "/models/{rest:path}", "/traces", "/traces/{rest:path}", "/security", "/alerts", "/slos",
         "/incidents", "/incidents/{rest:path}")

_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml",
          ".txt": "text/plain; charset=utf-8", ".json": "application/json"}


@lru_cache(maxsize=1)
def _asset_hash() -> str:
    """One short hash over every static file: changes whenever any asset changes."""
    digest = hashlib.sha256()
    for path in sorted(STATIC.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(STATIC)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


@lru_cache(maxsize=1)
def _shell() -> str:
    return TEMPLATE.read_text(encoding="utf-8").replace("{{asset}}", f"/ui/{_asset_hash()}").replace("{{version}}", __version__)


def _page(request: Request) -> HTMLResponse:
    return HTMLResponse(_shell(), headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff",
                                           "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
                                                                      "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'"})


for _path in PAGES:
    router.add_api_route(_path, _page, methods=["GET"], response_class=HTMLResponse)


@router.get("/favicon.ico")
async def favicon():
    return Response((STATIC / "favicon.svg").read_bytes(), media_type="image/svg+xml",
                    headers={"Cache-Control": "public, max-age=86400"})


@router.get("/ui/{build}/{path:path}")
async def asset(build: str, path: str):
    target = (STATIC / path).resolve()
    if not target.is_relative_to(STATIC) or not target.is_file():
        raise ApiError(404, "not_found", f"no UI asset {path!r}")
    media = _TYPES.get(target.suffix) or mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    cache = "public, max-age=31536000, immutable" if build == _asset_hash() else "no-cache"
    return Response(target.read_bytes(), media_type=media, headers={"Cache-Control": cache, "X-Content-Type-Options": "nosniff"})
