"""The one JSON error shape of the API: {"error": {"code", "message", "details"}}."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from .responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import AuthError, ConfigError, SchemaError, StoreUnavailable
from ..ingest.decode import BodyError


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, details: list[Any] | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or []
        self.headers = headers


def error_response(status: int, code: str, message: str, details: list[Any] | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message, "details": details or []}},
        status_code=status, headers=headers,
    )


_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large", 415: "unsupported_media_type"}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api(request: Request, exc: ApiError):
        return error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)

    @app.exception_handler(BodyError)
    async def _body(request: Request, exc: BodyError):
        return error_response(exc.status, exc.code, exc.message, exc.details)

    @app.exception_handler(AuthError)
    async def _auth(request: Request, exc: AuthError):
        status = getattr(exc, "status", 401)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return error_response(status, "unauthorized" if status == 401 else "forbidden", str(exc), headers=headers)

    @app.exception_handler(StoreUnavailable)
    async def _unavailable(request: Request, exc: StoreUnavailable):
        return error_response(503, "store_unavailable", str(exc), headers={"Retry-After": "5"})

    @app.exception_handler(ConfigError)
    async def _config(request: Request, exc: ConfigError):
        return error_response(400, "invalid_argument", str(exc))

    @app.exception_handler(SchemaError)
    async def _schema(request: Request, exc: SchemaError):
        return error_response(422, "invalid_input", str(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        details = [
            {"field": ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")),
             "message": err.get("msg", "")}
            for err in exc.errors()
        ]
        message = "; ".join(f"{d['field']}: {d['message']}" for d in details) or "invalid request"
        return error_response(422, "invalid_request", message, details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        return error_response(exc.status_code, code, str(exc.detail), headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):  # pragma: no cover - last resort
        import logging

        logging.getLogger("watchkeeper.server").exception("unhandled error on %s", request.url.path)
        return error_response(500, "internal_error", f"internal error: {type(exc).__name__}")
