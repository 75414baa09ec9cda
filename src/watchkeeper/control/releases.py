"""Releases and aliases in the metadata store.

A release is the unit of deployment and rollback: model version + feature-set version + prompt
version + retrieval-index version + policy version + tool-schema version + runtime/generation
config. Its id defaults to ``<model>@<model_version>-<hash of the rest>``, so creating the same
release twice returns the first. An alias (``production``, ``canary``, ``shadow``, any name) points
at one release of a model; every move is appended to the alias history with who and why, and a
rollback moves the alias back to the release it pointed at before.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from ..errors import ConfigError, ConflictError
from ..ingest.timestamps import format_us, now_us

COMPONENTS = ("feature_set_version", "prompt_version", "retrieval_index_version", "policy_version", "tool_schema_version")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@+-]{0,199}$")
_ALIAS = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class NotFound(ConfigError):
    """A release, alias or record that does not exist (the API answers 404)."""


def _text(spec: dict, name: str, required: bool = False) -> str | None:
    value = spec.get(name)
    if value is None or value == "":
        if required:
            raise ConfigError(f"release: {name} is required")
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or len(value) > 256:
        raise ConfigError(f"release: {name} must be a string of at most 256 characters")
    return value


def create_release(meta, project: str, spec: dict, actor: str | None = None, now: int | None = None) -> tuple[dict, bool]:
    """Create a release from ``spec``; return (release, created). Same content -> the existing one."""
    if not isinstance(spec, dict):
        raise ConfigError("a release must be an object")
    known = {"id", "model", "model_version", "config", "description", *COMPONENTS}
    unknown = sorted(set(spec) - known)
    if unknown:
        raise ConfigError(f"release: unknown field(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    model = _text(spec, "model", True)
    version = _text(spec, "model_version", True)
    parts = {c: _text(spec, c) for c in COMPONENTS}
    config = spec.get("config") or {}
    if not isinstance(config, dict):
        raise ConfigError("release: config (runtime and generation settings) must be an object")
    config_json = json.dumps(config, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(json.dumps([model, version, parts, config_json], sort_keys=True).encode()).hexdigest()[:8]
    rid = _text(spec, "id") or f"{model}@{version}-{digest}"
    if not _ID.match(rid):
        raise ConfigError(f"release id {rid!r} is invalid: letters, digits and _.:@+- only, up to 200 characters")
    existing = get_release(meta, project, rid, missing_ok=True)
    if existing is not None:
        same = (existing["model"], existing["model_version"], {c: existing[c] for c in COMPONENTS}, existing["config"]) == \
               (model, version, parts, config)
        if same:
            return existing, False
        raise ConflictError(f"release {rid!r} already exists with different versions; releases are immutable, create a new id")
    meta.execute(
        "INSERT INTO meta_releases (project, id, model, model_version, feature_set_version, prompt_version, "
        "retrieval_index_version, policy_version, tool_schema_version, config, description, created_by, created_us) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [project, rid, model, version, *[parts[c] for c in COMPONENTS], config_json,
         _text(spec, "description"), actor, now or now_us()],
    )
    return get_release(meta, project, rid), True


def _release(row: dict) -> dict:
    out = {k: row[k] for k in ("id", "model", "model_version", *COMPONENTS, "description", "created_by")}
    out["config"] = json.loads(row["config"]) if row.get("config") else {}
    out["created_at"] = format_us(row["created_us"])
    return out


def get_release(meta, project: str, release_id: str, missing_ok: bool = False) -> dict | None:
    rows = meta.rows("SELECT * FROM meta_releases WHERE project = ? AND id = ?", [project, release_id])
    if not rows:
        if missing_ok:
            return None
        raise NotFound(f"no release {release_id!r} in project {project!r}")
    return _release(rows[0])


def list_releases(meta, project: str, model: str | None = None) -> list[dict]:
    if model:
        rows = meta.rows("SELECT * FROM meta_releases WHERE project = ? AND model = ? ORDER BY created_us, id", [project, model])
    else:
        rows = meta.rows("SELECT * FROM meta_releases WHERE project = ? ORDER BY model, created_us, id", [project])
    return [_release(r) for r in rows]


def _check_alias(alias: str) -> str:
    if not isinstance(alias, str) or not _ALIAS.match(alias):
        raise ConfigError(f"alias {alias!r} is invalid: letters, digits, '_', '.' or '-', up to 64 characters")
    return alias


def get_alias(meta, project: str, model: str, alias: str) -> dict | None:
    rows = meta.rows("SELECT * FROM meta_aliases WHERE project = ? AND model = ? AND alias = ?", [project, model, alias])
    if not rows:
        return None
    r = rows[0]
    return {"model": r["model"], "alias": r["alias"], "release_id": r["release_id"], "updated_by": r["updated_by"],
            "reason": r["reason"], "updated_at": format_us(r["updated_us"]), "updated_us": r["updated_us"]}


def resolve(meta, project: str, model: str, alias: str) -> dict:
    """The release an alias points at, with the alias's metadata under ``alias``."""
    a = get_alias(meta, project, model, _check_alias(alias))
    if a is None:
        raise NotFound(f"model {model!r} has no alias {alias!r} in project {project!r}")
    release = get_release(meta, project, a["release_id"])
    release["alias"] = {k: a[k] for k in ("alias", "updated_by", "reason", "updated_at")}
    return release


def list_aliases(meta, project: str, model: str | None = None) -> list[dict]:
    sql = "SELECT * FROM meta_aliases WHERE project = ?" + (" AND model = ?" if model else "") + " ORDER BY model, alias"
    rows = meta.rows(sql, [project, model] if model else [project])
    return [{"model": r["model"], "alias": r["alias"], "release_id": r["release_id"], "updated_by": r["updated_by"],
             "reason": r["reason"], "updated_at": format_us(r["updated_us"])} for r in rows]


def history(meta, project: str, model: str, alias: str | None = None, limit: int = 100) -> list[dict]:
    sql = "SELECT * FROM meta_alias_history WHERE project = ? AND model = ?"
    params: list[Any] = [project, model]
    if alias:
        sql += " AND alias = ?"
        params.append(alias)
    order = "seq DESC" if alias else "at_us DESC, seq DESC"  # within one alias, seq is the order of the moves
    rows = meta.rows(sql + f" ORDER BY {order} LIMIT {int(limit)}", params)
    return [{"alias": r["alias"], "seq": r["seq"], "action": r["action"], "from_release": r["from_release"],
             "to_release": r["to_release"], "actor": r["actor"], "reason": r["reason"], "at": format_us(r["at_us"]),
             "at_us": r["at_us"]} for r in rows]


def _move(meta, project: str, model: str, alias: str, release_id: str | None, action: str,
          actor: str | None, reason: str | None, now: int | None) -> dict:
    at = now or now_us()
    with meta.transaction() as tx:
        cur = tx.rows("SELECT release_id FROM meta_aliases WHERE project = ? AND model = ? AND alias = ?",
                      [project, model, alias])
        current = cur[0]["release_id"] if cur else None
        if action.endswith("rollback"):
            prev = tx.rows(
                "SELECT from_release FROM meta_alias_history WHERE project = ? AND model = ? AND alias = ? "
                "AND action = 'promote' AND to_release = ? AND from_release IS NOT NULL AND from_release <> ? "
                "ORDER BY seq DESC LIMIT 1",
                [project, model, alias, current or "", current or ""])
            if current is None or not prev:
                raise ConflictError(f"alias {alias!r} of model {model!r} has no previous release to roll back to")
            release_id = prev[0]["from_release"]
        seq_rows = tx.rows("SELECT coalesce(max(seq), 0) AS s FROM meta_alias_history WHERE project = ? AND model = ? AND alias = ?",
                           [project, model, alias])
        seq = int(seq_rows[0]["s"]) + 1
        tx.execute(
            "INSERT INTO meta_alias_history (project, model, alias, seq, action, from_release, to_release, actor, reason, at_us) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [project, model, alias, seq, action, current, release_id, actor, reason, at])
        if current is None:
            tx.execute("INSERT INTO meta_aliases (project, model, alias, release_id, updated_by, reason, updated_us) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?)", [project, model, alias, release_id, actor, reason, at])
        else:
            tx.execute("UPDATE meta_aliases SET release_id = ?, updated_by = ?, reason = ?, updated_us = ? "
                       "WHERE project = ? AND model = ? AND alias = ?",
                       [release_id, actor, reason, at, project, model, alias])
    return {"model": model, "alias": alias, "from_release": current, "to_release": release_id, "action": action,
            "actor": actor, "reason": reason, "at": format_us(at)}


def promote(meta, project: str, release_id: str, alias: str = "production", actor: str | None = None,
            reason: str | None = None, now: int | None = None) -> dict:
    """Point ``alias`` of the release's model at ``release_id``."""
    release = get_release(meta, project, release_id)
    return _move(meta, project, release["model"], _check_alias(alias), release_id, "promote", actor, reason, now)


def rollback(meta, project: str, model: str, alias: str = "production", actor: str | None = None,
             reason: str | None = None, now: int | None = None, automatic: bool = False) -> dict:
    """Point ``alias`` back at the release it pointed at before its current one."""
    return _move(meta, project, model, _check_alias(alias), None, "auto_rollback" if automatic else "rollback",
                 actor, reason, now)


def releases_in_force(meta, project: str, model: str | None = None) -> list[dict]:
    """Every alias with its full release: what an incident freezes."""
    out = []
    for a in list_aliases(meta, project, model):
        release = get_release(meta, project, a["release_id"], missing_ok=True) or {"id": a["release_id"]}
        out.append({"alias": a["alias"], "model": a["model"], "updated_at": a["updated_at"], "release": release})
    return out
