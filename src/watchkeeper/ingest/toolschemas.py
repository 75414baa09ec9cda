"""JSON Schemas for agent tool arguments, registered per project and checked on every tool span.

Schemas live in the metadata store (``meta_tool_schemas``); each server keeps compiled validators
in memory and reloads a project's set at most every ``ttl`` seconds, so a schema registered on one
replica reaches the others within that time. A tool without a registered schema is not checked.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import orjson

from ..ingest.timestamps import now_us

MAX_VIOLATIONS = 5


class SchemaInvalid(ValueError):
    pass


def compile_schema(schema: Any):
    """A validator for ``schema``, or SchemaInvalid naming what is wrong with it."""
    import jsonschema

    if not isinstance(schema, dict):
        raise SchemaInvalid(f"a tool schema must be a JSON object, got {type(schema).__name__}")
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    try:
        cls.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise SchemaInvalid(f"not a valid JSON Schema: {exc.message}") from None
    return cls(schema)


class ToolSchemas:
    def __init__(self, meta, ttl: float = 10.0):
        self.meta = meta
        self.ttl = ttl
        self._cache: dict[str, tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def _validators(self, project: str) -> dict[str, Any]:
        now = time.monotonic()
        hit = self._cache.get(project)
        if hit is not None and now - hit[0] < self.ttl:
            return hit[1]
        validators = {}
        for row in self.meta.rows("SELECT name, schema FROM meta_tool_schemas WHERE project = ?", [project]):
            try:
                validators[row["name"]] = compile_schema(orjson.loads(row["schema"]))
            except (SchemaInvalid, orjson.JSONDecodeError):
                continue
        with self._lock:
            self._cache[project] = (now, validators)
        return validators

    def validate(self, project: str, tool: str, arguments: Any) -> list[str]:
        """Violations of ``tool``'s registered schema by ``arguments`` (empty when fine or unregistered)."""
        validator = self._validators(project).get(tool)
        if validator is None:
            return []
        if isinstance(arguments, str):
            return [f"arguments are not JSON: {arguments[:80]!r}"]
        if arguments is None:
            arguments = {}
        out = []
        for err in validator.iter_errors(arguments):
            where = "/".join(str(p) for p in err.absolute_path) or "(root)"
            out.append(f"{where}: {err.message[:200]}")
            if len(out) >= MAX_VIOLATIONS:
                break
        return out

    def put(self, project: str, tool: str, schema: Any) -> None:
        compile_schema(schema)
        text = orjson.dumps(schema).decode()
        with self.meta.transaction() as tx:
            tx.execute("DELETE FROM meta_tool_schemas WHERE project = ? AND name = ?", [project, tool])
            tx.execute("INSERT INTO meta_tool_schemas VALUES (?, ?, ?, ?)", [project, tool, text, now_us()])
        self._cache.pop(project, None)

    def delete(self, project: str, tool: str) -> bool:
        found = bool(self.meta.rows("SELECT name FROM meta_tool_schemas WHERE project = ? AND name = ?", [project, tool]))
        self.meta.execute("DELETE FROM meta_tool_schemas WHERE project = ? AND name = ?", [project, tool])
        self._cache.pop(project, None)
        return found

    def list(self, project: str) -> list[dict[str, Any]]:
        rows = self.meta.rows("SELECT name, schema, updated_us FROM meta_tool_schemas WHERE project = ? ORDER BY name", [project])
        return [{"name": r["name"], "schema": orjson.loads(r["schema"]), "updated_us": r["updated_us"]} for r in rows]
