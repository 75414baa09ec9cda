"""The data contract file: what a dataset or a model's inputs promise, parsed and checked strictly.

```yaml
name: fraud-inputs                 # what the contract covers
owner: risk-ml@example.com         # who answers for it
upstream: [payments-etl@example.com]     # who feeds it (contacted when it breaks)
downstream: [fraud-detector-oncall]      # who consumes it
fields:
  amount:            {type: number, nullable: false, min: 0, max: 50000}
  country:           {type: string, enum: [US, GB, DE, FR]}
  email:             {type: string, regex: '^[^@\\s]+@[^@\\s]+$'}
  txn_id:            {type: string, unique: true}
  merchant_age_days: {type: number, max_missing: 0.05}
  amount_dist:       ...            # any field may add  distribution: {method: psi, threshold: 0.2}
distribution: {method: js, threshold: 0.2}   # default for fields compared with a reference profile
freshness: {column: event_time, max_age: 2h}  # newest row at most this old
completeness: {min_rows: 1000, max_drop: 0.2} # and at most 20% fewer rows than the previous batch/day
mitigation: raise                  # raise | fallback | alert (the pipeline API's default)
```

Types: ``number`` (any numeric), ``integer``, ``string``, ``boolean``, ``timestamp``. A field may also
say ``required: false`` (absent column allowed). Unknown keys, wrong value types and bad regexes are
refused with a :class:`ContractError` naming the key, so a typo never silently disables a rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError

TYPES = ("number", "integer", "string", "boolean", "timestamp")
FIELD_KEYS = {"type", "nullable", "required", "min", "max", "enum", "regex", "unique", "max_missing",
              "distribution", "description"}
TOP_KEYS = {"name", "version", "description", "owner", "contacts", "upstream", "downstream", "fields",
            "distribution", "freshness", "completeness", "mitigation", "model"}
MITIGATIONS = ("raise", "fallback", "alert")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)?\s*$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, None: 1}


class ContractError(ConfigError):
    """The contract file itself is wrong (bad YAML, unknown key, bad value); the message names it."""


@dataclass
class FieldRule:
    name: str
    type: str | None = None
    nullable: bool = True
    required: bool = True
    min: float | None = None
    max: float | None = None
    enum: list | None = None
    regex: str | None = None
    unique: bool = False
    max_missing: float | None = None
    distribution: dict | None = None


@dataclass
class Contract:
    name: str = ""
    owner: str = ""
    upstream: list[str] = field(default_factory=list)
    downstream: list[str] = field(default_factory=list)
    fields: dict[str, FieldRule] = field(default_factory=dict)
    distribution: dict | None = None
    freshness: dict | None = None
    completeness: dict | None = None
    mitigation: str = "raise"
    source: dict = field(default_factory=dict)

    def contacts(self) -> dict:
        return {"owner": self.owner, "upstream": self.upstream, "downstream": self.downstream}


def _num(where: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ContractError(f"{where} must be a number, got {value!r}")
    return float(value)


def duration_s(where: str, value) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    m = _DURATION.match(str(value))
    if not m:
        raise ContractError(f"{where} must be a duration like 90s, 15m, 2h or 1d, got {value!r}")
    return float(m.group(1)) * _UNIT[m.group(2)]


def _names(where: str, value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise ContractError(f"{where} must be a name or a list of names, got {value!r}")


def _dist(where: str, value) -> dict:
    if value is True:
        return {}
    if not isinstance(value, dict):
        raise ContractError(f"{where} must be a mapping like {{method: psi, threshold: 0.2}}, got {value!r}")
    unknown = set(value) - {"method", "threshold", "reference"}
    if unknown:
        raise ContractError(f"{where}: unknown key {sorted(unknown)[0]!r} (expected method, threshold, reference)")
    out = dict(value)
    if "threshold" in out:
        out["threshold"] = _num(f"{where}.threshold", out["threshold"])
    if "method" in out:
        from .drift.registry import get_method

        try:
            get_method(out["method"])
        except ConfigError as exc:
            raise ContractError(f"{where}.method: {exc}") from None
    return out


def _field(name: str, spec) -> FieldRule:
    where = f"fields.{name}"
    if spec is None:
        spec = {}
    if isinstance(spec, str):
        spec = {"type": spec}
    if not isinstance(spec, dict):
        raise ContractError(f"{where} must be a mapping of rules (type, nullable, min, ...), got {spec!r}")
    unknown = set(spec) - FIELD_KEYS
    if unknown:
        raise ContractError(f"{where}: unknown key {sorted(unknown)[0]!r}; allowed: {', '.join(sorted(FIELD_KEYS))}")
    rule = FieldRule(name)
    if "type" in spec:
        if spec["type"] not in TYPES:
            raise ContractError(f"{where}.type must be one of {', '.join(TYPES)}, got {spec['type']!r}")
        rule.type = spec["type"]
    for key in ("nullable", "required", "unique"):
        if key in spec:
            if not isinstance(spec[key], bool):
                raise ContractError(f"{where}.{key} must be true or false, got {spec[key]!r}")
            setattr(rule, key, spec[key])
    for key in ("min", "max"):
        if key in spec:
            setattr(rule, key, _num(f"{where}.{key}", spec[key]))
    if rule.min is not None and rule.max is not None and rule.min > rule.max:
        raise ContractError(f"{where}: min ({rule.min:g}) is above max ({rule.max:g})")
    if "max_missing" in spec:
        rule.max_missing = _num(f"{where}.max_missing", spec["max_missing"])
        if not 0 <= rule.max_missing <= 1:
            raise ContractError(f"{where}.max_missing is a share between 0 and 1, got {rule.max_missing:g}")
    if "enum" in spec:
        if not isinstance(spec["enum"], list) or not spec["enum"]:
            raise ContractError(f"{where}.enum must be a non-empty list of allowed values")
        rule.enum = list(spec["enum"])
    if "regex" in spec:
        try:
            re.compile(str(spec["regex"]))
        except re.error as exc:
            raise ContractError(f"{where}.regex {spec['regex']!r} is not a valid regular expression: {exc}") from None
        rule.regex = str(spec["regex"])
    if "distribution" in spec:
        rule.distribution = _dist(f"{where}.distribution", spec["distribution"])
    return rule


def parse(doc: Any) -> Contract:
    """A Contract from a parsed YAML/JSON document; raises ContractError naming any bad key."""
    if not isinstance(doc, dict):
        raise ContractError(f"a contract is a mapping with a 'fields' key, got {type(doc).__name__}")
    unknown = set(doc) - TOP_KEYS
    if unknown:
        raise ContractError(f"unknown top-level key {sorted(unknown)[0]!r}; allowed: {', '.join(sorted(TOP_KEYS))}")
    fields = doc.get("fields")
    if fields is None and not (doc.get("freshness") or doc.get("completeness")):
        raise ContractError("the contract has no 'fields' (and no freshness or completeness rule): nothing to check")
    if fields is not None and not isinstance(fields, dict):
        raise ContractError("'fields' must be a mapping of column name -> rules")
    c = Contract(name=str(doc.get("name") or ""), owner=str(doc.get("owner") or ""), source=doc)
    contacts = doc.get("contacts") or {}
    if not isinstance(contacts, dict):
        raise ContractError("'contacts' must be a mapping with owner, upstream and downstream")
    c.owner = c.owner or str(contacts.get("owner") or "")
    c.upstream = _names("upstream", doc.get("upstream", contacts.get("upstream")))
    c.downstream = _names("downstream", doc.get("downstream", contacts.get("downstream")))
    c.fields = {str(k): _field(str(k), v) for k, v in (fields or {}).items()}
    if doc.get("distribution") is not None:
        c.distribution = _dist("distribution", doc["distribution"])
    if doc.get("freshness") is not None:
        f = doc["freshness"]
        if not isinstance(f, dict) or "max_age" not in f:
            raise ContractError("freshness must be a mapping with max_age (and column, for files)")
        bad = set(f) - {"column", "max_age"}
        if bad:
            raise ContractError(f"freshness: unknown key {sorted(bad)[0]!r} (expected column, max_age)")
        c.freshness = {"column": f.get("column"), "max_age_s": duration_s("freshness.max_age", f["max_age"])}
    if doc.get("completeness") is not None:
        f = doc["completeness"]
        bad = set(f) - {"min_rows", "max_drop"} if isinstance(f, dict) else {"(not a mapping)"}
        if bad:
            raise ContractError(f"completeness: unknown key {sorted(bad)[0]!r} (expected min_rows, max_drop)")
        c.completeness = {}
        if "min_rows" in f:
            c.completeness["min_rows"] = int(_num("completeness.min_rows", f["min_rows"]))
        if "max_drop" in f:
            drop = _num("completeness.max_drop", f["max_drop"])
            if not 0 < drop < 1:
                raise ContractError(f"completeness.max_drop is a share between 0 and 1 (0.2 = 20%), got {drop:g}")
            c.completeness["max_drop"] = drop
    mitigation = doc.get("mitigation", "raise")
    if mitigation not in MITIGATIONS:
        raise ContractError(f"mitigation must be one of {', '.join(MITIGATIONS)}, got {mitigation!r}")
    c.mitigation = mitigation
    return c


def load_contract(source) -> Contract:
    """A Contract from a path, YAML/JSON text, a dict, or a Contract."""
    import yaml

    if isinstance(source, Contract):
        return source
    if isinstance(source, dict):
        return parse(source)
    text = None
    if isinstance(source, Path) or (isinstance(source, str) and "\n" not in source and len(source) < 4096
                                     and (source.endswith((".yaml", ".yml", ".json")) or Path(source).exists())):
        path = Path(source)
        if not path.exists():
            raise ContractError(f"contract file {str(path)!r} does not exist")
        if path.is_dir():
            raise ContractError(f"contract path {str(path)!r} is a directory")
        text = path.read_text(encoding="utf-8", errors="replace")
    elif isinstance(source, str):
        text = source
    else:
        raise ContractError(f"a contract is a path, YAML text or a mapping, got {type(source).__name__}")
    if not text.strip():
        raise ContractError("the contract is empty")
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ContractError(f"the contract is not valid YAML{where}: {getattr(exc, 'problem', None) or exc}") from None
    return parse(doc)
