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


def _violations(validator, arguments: Any) -> list[str]:
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


_COMPILED: dict[str, Any] = {}  # schema text -> validator, in whichever process checks (server or ingest worker)


class SchemaSet:
    """One project's schemas as text: picklable, so an ingest worker process can check tool spans too."""

    __slots__ = ("texts",)

    def __init__(self, texts: dict[str, str]):
        self.texts = texts

    def __getstate__(self):
        return self.texts

    def __setstate__(self, texts):
        self.texts = texts

    def validate(self, project: str, tool: str, arguments: Any) -> list[str]:
        text = self.texts.get(tool)
        if text is None:
            return []
        validator = _COMPILED.get(text)
        if validator is None:
            validator = compile_schema(orjson.loads(text))
            if len(_COMPILED) >= 1024:
                _COMPILED.clear()
            _COMPILED[text] = validator
        return _violations(validator, arguments)


class ToolSchemas:
    def __init__(self, meta, ttl: float = 10.0):
        self.meta = meta
        self.ttl = ttl
        self._cache: dict[str, tuple[float, dict[str, Any], SchemaSet | None]] = {}
        self._lock = threading.Lock()

    def _load(self, project: str) -> tuple[float, dict[str, Any], SchemaSet | None]:
        now = time.monotonic()
        hit = self._cache.get(project)
        if hit is not None and now - hit[0] < self.ttl:
            return hit
        validators, texts = {}, {}
        for row in self.meta.rows("SELECT name, schema FROM meta_tool_schemas WHERE project = ?", [project]):
            try:
                validators[row["name"]] = compile_schema(orjson.loads(row["schema"]))
            except (SchemaInvalid, orjson.JSONDecodeError):
                continue
            texts[row["name"]] = row["schema"]
        entry = (now, validators, SchemaSet(texts) if texts else None)
        with self._lock:
            self._cache[project] = entry
        return entry

    def _validators(self, project: str) -> dict[str, Any]:
        return self._load(project)[1]

    def snapshot(self, project: str) -> SchemaSet | None:
        """The project's schemas in picklable form (None when it registered none: nothing to check)."""
        return self._load(project)[2]

    def validate(self, project: str, tool: str, arguments: Any) -> list[str]:
        """Violations of ``tool``'s registered schema by ``arguments`` (empty when fine or unregistered)."""
        validator = self._validators(project).get(tool)
        if validator is None:
            return []
        return _violations(validator, arguments)

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
