"""Numbered SQL migrations, one folder per backend (NNNN_name.sql, applied in order)."""

from __future__ import annotations

from importlib import resources


def load(backend: str) -> list[tuple[int, str, str]]:
    """Return (version, name, sql) for every migration of ``backend``, in order."""
    folder = resources.files(__package__).joinpath(backend)
    out = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            version = int(entry.name.split("_", 1)[0])
            out.append((version, entry.name, entry.read_text()))
    return sorted(out)


def split_statements(sql: str) -> list[str]:
    lines = [line for line in sql.splitlines() if not line.strip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def latest_version(backend: str) -> int:
    return max((v for v, _, _ in load(backend)), default=0)
