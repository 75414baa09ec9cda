"""Reference profiles of a model's inputs and outputs, stored per model release.

A :class:`DatasetProfile` is what the online drift monitor compares every window with: one
``ColumnProfile`` per tabular input feature (bin edges from reference percentiles, counts, category
frequencies, KLL/frequent-items sketches, missing rate), profiles of the outputs (``@label``: the
predicted class mix, ``@score``: the score distribution), a vector sample per embedding input and
descriptors per text input. It is built once from training data (``profile_dataset``, used by
``watchkeeper reference set``) or from a past window of logged predictions (``profile_window``, by
SQL inside the store) and stored as JSON text in the metadata table ``reference_profiles``, keyed by
(project, model, release); release ``""`` is the model's default reference.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from ..errors import SchemaError
from .columns import infer_kind, kind_of_type
from .embedding import embedding_profile, looks_like_vector
from .profile import ColumnProfile, profile_reference
from .text_drift import looks_like_text, text_profile

LABEL, SCORE = "@label", "@score"


@dataclass
class DatasetProfile:
    columns: dict[str, ColumnProfile] = field(default_factory=dict)
    outputs: dict[str, ColumnProfile] = field(default_factory=dict)
    embeddings: dict[str, dict] = field(default_factory=dict)
    texts: dict[str, dict] = field(default_factory=dict)
    rows: int = 0
    source: str = ""
    skipped: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"version": 1, "rows": self.rows, "source": self.source,
                "columns": {k: p.to_dict() for k, p in self.columns.items()},
                "outputs": {k: p.to_dict() for k, p in self.outputs.items()},
                "embeddings": self.embeddings, "texts": self.texts, "skipped": self.skipped}

    @classmethod
    def from_dict(cls, d: dict) -> "DatasetProfile":
        if not isinstance(d, dict) or not isinstance(d.get("columns"), dict):
            raise SchemaError("a reference profile is a JSON object with a 'columns' object "
                              "(as written by `watchkeeper reference set`)")
        try:
            return cls(columns={k: ColumnProfile.from_dict(v) for k, v in d["columns"].items()},
                       outputs={k: ColumnProfile.from_dict(v) for k, v in (d.get("outputs") or {}).items()},
                       embeddings=dict(d.get("embeddings") or {}), texts=dict(d.get("texts") or {}),
                       rows=int(d.get("rows") or 0), source=str(d.get("source") or ""),
                       skipped=dict(d.get("skipped") or {}))
        except (KeyError, TypeError, ValueError) as exc:
            raise SchemaError(f"the reference profile is malformed: {type(exc).__name__}: {exc}") from None

    def summary(self) -> dict:
        return {"rows": self.rows, "source": self.source,
                "features": {k: {"type": p.kind, "missing_rate": round(p.missing_rate, 6)} for k, p in self.columns.items()},
                "outputs": sorted(self.outputs), "embeddings": sorted(self.embeddings), "texts": sorted(self.texts),
                "skipped": self.skipped}


def _first_valid(col: pa.ChunkedArray, n: int = 50) -> list:
    return [v for v in col.slice(0, 5000).drop_null().to_pylist()[:n]]


def profile_dataset(table, label_column: str | None = None, score_column: str | None = None,
                    columns: list[str] | None = None, source: str = "") -> DatasetProfile:
    """Profile a training table (pyarrow Table, DataFrame or file path) into a DatasetProfile."""
    from .report import load_table

    t = load_table(table, "reference")
    names = list(columns) if columns else list(t.column_names)
    missing = [c for c in names + [c for c in (label_column, score_column) if c] if c not in t.column_names]
    if missing:
        raise SchemaError(f"column(s) {', '.join(map(repr, missing))} not in the reference data "
                          f"(it has: {', '.join(t.column_names)})")
    out = DatasetProfile(rows=int(t.num_rows), source=source)
    for name in names:
        col = t.column(name)
        if name in (label_column, score_column):
            continue
        kind = kind_of_type(col.type)
        if pa.types.is_list(col.type) or pa.types.is_large_list(col.type) or pa.types.is_fixed_size_list(col.type):
            sample = _first_valid(col)
            if sample and looks_like_vector(sample[0]):
                out.embeddings[name] = embedding_profile(col.drop_null().to_pylist())
                continue
            out.skipped[name] = f"type {col.type} is not compared"
            continue
        if kind == "categorical" and pa.types.is_string(col.type) and looks_like_text(_first_valid(col, 500)):
            out.texts[name] = text_profile(col.drop_null().to_pylist())
            continue
        if kind == "unsupported":
            out.skipped[name] = f"type {col.type} is not compared"
            continue
        out.columns[name] = profile_reference(col, name, infer_kind(col))
    if label_column:
        out.outputs[LABEL] = profile_reference(t.column(label_column).cast(pa.string()), LABEL, "categorical")
    if score_column:
        out.outputs[SCORE] = profile_reference(t.column(score_column), SCORE, "numerical")
    if not (out.columns or out.outputs or out.embeddings or out.texts):
        raise SchemaError("the reference data has no column that drift can compare")
    return out


def profile_window(store, project: str, model: str, since_us: int, until_us: int, bins: int = 100) -> DatasetProfile:
    """Profile a window of logged predictions by SQL: quantile edges, then counts against them."""
    from ..store.queries import drift as q
    from ..store.queries.overview import sample_json_keys
    from .embedding import as_matrix, MAX_SAMPLE
    from .text_drift import MAX_SAMPLE as TEXT_SAMPLE

    kinds = dict(sample_json_keys(store, project, model, "inputs"))
    vectors, texts = _vector_and_text_keys(store, project, model, since_us, until_us)
    numeric = [k for k, v in kinds.items() if v == "num"]
    categorical = [k for k, v in kinds.items() if v == "cat" and k not in texts]
    edges = q.quantile_edges(store, project, model, since_us, until_us, numeric, bins, include_score=True)
    usable = {k: _edges(e) for k, e in edges.items() if e}
    score_edges = usable.pop(SCORE, None)
    h = q.histograms(store, project, model, since_us, until_us, numeric=usable, categorical=categorical,
                     score_edges=score_edges, output_label=True)
    if not h["rows"]:
        raise SchemaError("the window holds no predictions of this model; pick a window with traffic")
    mom = q.moments(store, project, model, since_us, until_us, list(usable))
    out = DatasetProfile(rows=h["rows"], source=f"window {since_us}..{until_us}")
    for name, e in usable.items():
        out.columns[name] = _numeric_from_counts(name, e, h["numeric"][name], h["inputs_rows"], mom.get(name))
    for name in numeric:
        if name not in usable:
            out.columns[name] = _numeric_from_counts(name, np.array([0.0, np.nextafter(0.0, 1)]), {}, h["inputs_rows"], None)
    for name in categorical:
        out.columns[name] = _categorical_from_counts(name, h["categorical"][name], h["inputs_rows"])
    label = h["categorical"].get(LABEL, {})
    if any(k is not None for k in label):
        out.outputs[LABEL] = _categorical_from_counts(LABEL, label, h["rows"])
    if score_edges is not None:
        out.outputs[SCORE] = _numeric_from_counts(SCORE, score_edges, h["numeric"][SCORE], h["rows"], None)
    for name in vectors:
        raw = q.sample_values(store, project, model, since_us, until_us, name, limit=MAX_SAMPLE)
        if len(as_matrix(raw)):
            out.embeddings[name] = embedding_profile(raw)
    for name in texts:
        raw = q.sample_values(store, project, model, since_us, until_us, name, limit=TEXT_SAMPLE)
        out.texts[name] = text_profile(raw)
    return out


def _vector_and_text_keys(store, project, model, since_us, until_us) -> tuple[list[str], list[str]]:
    rows = store.rows("SELECT inputs FROM predictions WHERE project = ? AND model = ? AND inputs IS NOT NULL "
                      "ORDER BY ts DESC LIMIT 200", [project, model])
    seen: dict[str, list] = {}
    for r in rows:
        try:
            obj = json.loads(r["inputs"])
        except ValueError:
            continue
        if isinstance(obj, dict):
            for k, v in obj.items():
                seen.setdefault(k, []).append(v)
    vectors = [k for k, vs in seen.items() if vs and looks_like_vector(vs[0])]
    texts = [k for k, vs in seen.items() if looks_like_text(vs)]
    return vectors, texts


def _edges(q: list[float]) -> np.ndarray:
    e = np.unique(np.asarray(q, dtype=float))
    e[-1] = np.nextafter(e[-1], np.inf)
    return e if e.size > 1 else np.array([e[0], np.nextafter(e[0], np.inf)])


def _numeric_from_counts(name, edges, counts: dict, rows: int, mom: dict | None) -> ColumnProfile:
    c = np.zeros(len(edges) + 1, dtype=np.int64)
    for b, n in counts.items():
        if b >= 0:
            c[b] += n
    valid = int(c.sum())
    p = ColumnProfile(name, "numerical", rows=max(rows, valid), missing=max(rows, valid) - valid, edges=np.asarray(edges),
                      counts=c)
    if mom and mom["n"]:
        p.mean, p.m2, p.min, p.max = mom["mean"], mom["m2"], mom["min"], mom["max"]
    else:  # moments from bin midpoints
        mids = np.r_[edges[0], (edges[:-1] + edges[1:]) / 2, edges[-1]]
        if valid:
            p.mean = float((mids * c).sum() / valid)
            p.m2 = float((c * (mids - p.mean) ** 2).sum())
            p.min, p.max = float(edges[0]), float(edges[-1])
    return p


def _categorical_from_counts(name, counts: dict, rows: int) -> ColumnProfile:
    cats = {str(k): int(v) for k, v in counts.items() if k is not None}
    valid = sum(cats.values())
    return ColumnProfile(name, "categorical", rows=max(rows, valid), missing=max(rows, valid) - valid, categories=cats)


# -- metadata ---------------------------------------------------------------------------------------

def save(meta, project: str, model: str, profile: DatasetProfile, release: str = "", created_by: str = "") -> dict:
    text = json.dumps(profile.to_dict(), separators=(",", ":"))
    now = int(time.time() * 1e6)
    with meta.transaction() as tx:
        tx.execute("DELETE FROM reference_profiles WHERE project = ? AND model = ? AND release = ?",
                   [project, model, release or ""])
        tx.execute("INSERT INTO reference_profiles (project, model, release, profile, rows, source, created_by, created_us) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   [project, model, release or "", text, int(profile.rows), profile.source, created_by, now])
    return {"model": model, "release": release or None, "rows": profile.rows, "created_us": now, "bytes": len(text)}


def load(meta, project: str, model: str, release: str | None = None) -> tuple[DatasetProfile, dict] | None:
    """The profile for ``release`` (falling back to the model's default reference), or None."""
    wanted = [release, ""] if release else [""]
    for rel in wanted:
        rows = meta.rows("SELECT profile, release, rows, source, created_us FROM reference_profiles "
                         "WHERE project = ? AND model = ? AND release = ?", [project, model, rel])
        if rows:
            r = rows[0]
            info = {"release": r["release"] or None, "rows": int(r["rows"]), "source": r["source"],
                    "created_us": int(r["created_us"])}
            return DatasetProfile.from_dict(json.loads(r["profile"])), info
    return None


def models_with_reference(meta) -> list[tuple[str, str, str]]:
    return [(r["project"], r["model"], r["release"]) for r in
            meta.rows("SELECT project, model, release FROM reference_profiles ORDER BY project, model, release")]
