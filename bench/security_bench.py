"""Benchmark the security detectors on the security corpus (a script, not a test).

    python bench/security_bench.py                      # corpus at ../shared/corpora/security
    python bench/security_bench.py --corpus PATH --split holdout
    python bench/security_bench.py --slices --against ../old   # 2 KB latency, alternating with another checkout

Routing: records that are data rather than a prompt (subtypes ``indirect_tool_output``,
``tool_output_document``, ``email_document``, or ``channel == "tool_output"``) go through
``scan_context(source="tool")``; everything else through ``check_input``. A record counts as
flagged when the verdict is flagged for an attack category (injection, jailbreak, extraction);
PII alone does not count.

Metrics: recall = flagged share of a label/subtype; FPR = flagged share of benign records;
precision(label) = TP / (TP + benign FP), i.e. the precision on that label mixed with the benign
set. PII span recall: a gold span counts as found when a predicted span of the same type overlaps
at least half of the shorter of the two. ``--split dev|holdout`` keeps one half of each file
(by a hash of the record id) to check that tuning on one half carries over to the other.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# --against runs this script again with another checkout's src/ here (the detectors it measures)
SRC = Path(os.environ.get("WATCHKEEPER_BENCH_SRC", ROOT / "src"))
sys.path.insert(0, str(SRC))

from watchkeeper.security import SequenceBaseline, check_calls, check_input, check_output, find_pii, scan_context, warm_up  # noqa: E402
from watchkeeper.security import textfacts  # noqa: E402

import hostspeed  # noqa: E402  (bench/ is the script's folder)

ATTACK = {"injection", "jailbreak", "extraction"}
CONTEXT_SUBTYPES = {"indirect_tool_output", "tool_output_document", "email_document"}
PII_MAP = {"PERSON": "person", "STREET_ADDRESS": "address", "CREDIT_CARD": "credit_card", "PHONE_NUMBER": "phone",
           "EMAIL_ADDRESS": "email", "IBAN_CODE": "iban", "US_SSN": "ssn", "IP_ADDRESS": "ip",
           "US_DRIVER_LICENSE": "driver_license"}


def load(path: Path, split: str) -> list[dict]:
    out = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            h = int(hashlib.sha1(r["id"].encode()).hexdigest(), 16) % 2
            if split == "all" or (h == 0) == (split == "dev"):
                out.append(r)
    return out


def pct(xs: list[float], q: float) -> float:
    if not xs:
        return 0.0
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] * 1e3


def judge(r: dict) -> tuple[bool, float]:
    t0 = time.perf_counter()
    if r["subtype"] in CONTEXT_SUBTYPES or r.get("channel") == "tool_output":
        flagged = scan_context(r["text"], source="tool").flagged
    else:
        v = check_input(r["text"], pii=False)
        flagged = v.flagged and bool(ATTACK.intersection(v.categories))
    return flagged, time.perf_counter() - t0


def detectors(corpus: Path, split: str) -> None:
    rows: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    per_label: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    lat: dict[str, list[float]] = defaultdict(list)
    sub_lat: dict[tuple[str, str], list[float]] = defaultdict(list)
    warm_up()  # the detectors' indexes, built once per process (the server's scan worker does the same)
    for name in ("injection", "jailbreak", "extraction", "benign"):
        for r in load(corpus / f"{name}.jsonl", split):
            flagged, dt = judge(r)
            lat[name].append(dt)
            st = r["subtype"] if r["subtype"].startswith("encoded_payload") else r["subtype"].split(":")[0]
            rows[(r["label"], st)][0] += 1
            rows[(r["label"], st)][1] += flagged
            sub_lat[(r["label"], st)].append(dt)
            per_label[r["label"]][0] += 1
            per_label[r["label"]][1] += flagged
    fp = per_label["benign"][1]
    nb = per_label["benign"][0]
    print(f"\n== detectors (split={split}) ==")
    print("flagged: recall for an attack subtype, false positive rate for a benign one; precision: the subtype's "
          "flagged records against them plus every flagged benign record")
    print(f"{'label':11s} {'subtype':42s} {'n':>5s} {'flagged':>8s} {'precision':>9s} {'p50 ms':>7s} {'p99 ms':>7s}")
    for (label, st), (n, f) in sorted(rows.items()):
        prec = "" if label == "benign" else f"{f / (f + fp) if f + fp else 0.0:9.3f}"
        times = sub_lat[(label, st)]
        print(f"{label:11s} {st:42s} {n:5d} {f / n:8.3f} {prec:>9s} {pct(times, .5):7.3f} {pct(times, .99):7.3f}")
    print(f"\n{'label':11s} {'n':>5s} {'recall':>7s} {'precision':>9s} {'p50 ms':>7s} {'p99 ms':>7s}")
    for label in ("injection", "jailbreak", "extraction"):
        n, tp = per_label[label]
        prec = tp / (tp + fp) if tp + fp else 0.0
        print(f"{label:11s} {n:5d} {tp / n:7.3f} {prec:9.3f} {pct(lat[label], .5):7.3f} {pct(lat[label], .99):7.3f}")
    print(f"{'benign':11s} {nb:5d} FPR={fp / nb:.3f}          {pct(lat['benign'], .5):7.3f} {pct(lat['benign'], .99):7.3f}")
    n_ij = per_label["injection"][0] + per_label["jailbreak"][0]
    tp_ij = per_label["injection"][1] + per_label["jailbreak"][1]
    print(f"injection+jailbreak recall {tp_ij / n_ij:.3f} at benign FPR {fp / nb:.3f}  (targets: >= 0.90 at <= 0.05)")
    print(f"extraction recall {per_label['extraction'][1] / per_label['extraction'][0]:.3f}  (target: >= 0.90)")


def latency_2kb(corpus: Path, per_file: int = 40, rounds: int = 12) -> None:
    """check_input / find_pii on consecutive 2 KB slices of the corpus prose (benign, jailbreak, injection).

    Real prompts are not the one hand-picked 2 KB prompt of ``micro``: these slices cut across records
    (e-mails with dates and amounts, recipes, non-ASCII names, base64 images, role-play set-ups). Per
    label: the median over slices of each slice's fastest call ("best-of", what one idle core gives; the
    development machine is shared) and the p50 / p99 over all calls.
    """
    texts = []
    for name in ("benign", "jailbreak", "injection"):
        with (corpus / f"{name}.jsonl").open(encoding="utf-8") as fh:
            prose = " ".join(json.loads(line)["text"] for line in fh)
        texts += [(name, prose[i * 2048:(i + 1) * 2048]) for i in range(min(per_file, len(prose) // 2048))]
    print(f"\n== 2 KB slices of the corpus prose ({per_file} per file, {rounds} rounds; ms per call) ==")
    print(f"{'function':12s} {'label':10s} {'best-of p50':>11s} {'best-of p90':>11s} {'p50':>7s} {'p99':>7s}")
    for label, fn in (("check_input", lambda t: check_input(t)), ("find_pii", find_pii)):
        for t in texts:
            fn(t[1])  # first calls fill the per-word caches
        times: dict[str, list[float]] = defaultdict(list)
        best: dict[int, float] = {}
        for _ in range(rounds):
            for i, (name, t) in enumerate(texts):
                t0 = time.perf_counter()
                fn(t)
                dt = time.perf_counter() - t0
                times[name].append(dt)
                best[i] = min(best.get(i, dt), dt)
        for name in ("benign", "jailbreak", "injection", "all"):
            bests = [best[i] for i, (n, _) in enumerate(texts) if name in (n, "all")]
            calls = sum(times.values(), []) if name == "all" else times[name]
            print(f"{label:12s} {name:10s} {pct(bests, .5):11.3f} {pct(bests, .9):11.3f} {pct(calls, .5):7.3f} {pct(calls, .99):7.3f}")


def alternate(corpus: Path, other: Path, runs: int) -> None:
    """``latency_2kb`` in fresh processes, this checkout's detectors and ``other``'s in turn, ``runs`` times
    each, with the host reference workload before each run: this machine's speed changes by about 2x from
    hour to hour, so only runs taken side by side compare."""
    import subprocess

    if not (other / "src" / "watchkeeper" / "security").is_dir():
        sys.exit(f"security_bench: {str(other)!r} holds no src/watchkeeper/security; pass a watchkeeper checkout")
    trees = {"this": ROOT / "src", "other": other.resolve() / "src"}
    rows: dict[str, list[str]] = defaultdict(list)
    for i in range(runs):
        for name, src in trees.items():
            env = dict(os.environ, WATCHKEEPER_BENCH_SRC=str(src))
            out = subprocess.run([sys.executable, __file__, "--slices", "--corpus", str(corpus)], env=env,
                                 capture_output=True, text=True, check=True).stdout
            lines = [ln for ln in out.splitlines() if ln.startswith(("host", "check_input", "find_pii"))]
            print(f"\n-- run {i + 1}, {name} ({src})")
            print("\n".join(lines))
            rows[name] += [ln for ln in lines if ln.startswith("check_input")]
    print("\ncheck_input best-of p50 per run (benign / jailbreak / injection / all), ms:")
    for name, lines in rows.items():
        by_run = [" / ".join(ln.split()[2] for ln in lines[k:k + 4]) for k in range(0, len(lines), 4)]
        print(f"  {name:5s} " + "   ".join(by_run))


def prompt_2kb(corpus: Path, name: str, skip: int = 0) -> str:
    """Whole records of ``name`` (longer than 200 characters) joined until 2 KB: one realistic long prompt."""
    parts, size = [], 0
    with (corpus / f"{name}.jsonl").open(encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            text = json.loads(line)["text"]
            if i < skip or len(text) <= 200:
                continue
            parts.append(text)
            size += len(text) + 1
            if size >= 2048:
                break
    return "\n".join(parts)[:2048]


def _timed(fn, text: str, reps: int, clock) -> list[float]:
    out = []
    for _ in range(reps):
        t0 = clock()
        fn(text)
        out.append(clock() - t0)
    return out


def micro(corpus: Path, runs: int = 5, reps: int = 400) -> None:
    """check_input / check_output / find_pii on one 2 KB benign and one 2 KB attack prompt, gated (fast) and ungated.

    Single-threaded; each figure is the median over ``runs`` runs of ``reps`` calls (the machine is
    shared, so one run can carry other processes' load). ``cpu`` uses time.process_time, which
    counts only this process's CPU time; calls are batched 20 at a time because its clock is coarse.
    """
    prompts = {"benign": prompt_2kb(corpus, "benign"), "attack": prompt_2kb(corpus, "jailbreak", skip=300)}
    print("\n== 2 KB micro-benchmark (median of %d runs x %d calls; ms per call) ==" % (runs, reps))
    print(f"{'prompt':7s} {'function':12s} {'path':8s} {'p50':>7s} {'p99':>7s} {'cpu p50':>8s}")
    for pname, text in prompts.items():
        for fname, fn in (("check_input", check_input), ("check_output", check_output), ("find_pii", find_pii)):
            rows = {}
            for gated in (True, False):
                prev = textfacts.set_enabled(gated)
                try:
                    for _ in range(20):
                        fn(text)
                    p50s, p99s, cpus = [], [], []
                    for _ in range(runs):
                        xs = sorted(_timed(fn, text, reps, time.perf_counter))
                        p50s.append(xs[len(xs) // 2])
                        p99s.append(xs[min(len(xs) - 1, int(0.99 * len(xs)))])
                        batch = sorted(sum(_timed(fn, text, 20, time.process_time)) / 20 for _ in range(reps // 20))
                        cpus.append(batch[len(batch) // 2])
                finally:
                    textfacts.set_enabled(prev)
                rows[gated] = [sorted(v)[len(v) // 2] * 1e3 for v in (p50s, p99s, cpus)]
                label = "fast" if gated else "ungated"
                print(f"{pname:7s} {fname:12s} {label:8s} {rows[gated][0]:7.3f} {rows[gated][1]:7.3f} {rows[gated][2]:8.3f}")
            print(f"{'':7s} {fname:12s} speed-up x{rows[False][0] / rows[True][0]:.2f} (p50)  x{rows[False][2] / rows[True][2]:.2f} (cpu)")


def pii(corpus: Path, split: str) -> None:
    total: dict[str, int] = defaultdict(int)
    found: dict[str, int] = defaultdict(int)
    pred: dict[str, int] = defaultdict(int)
    pred_ok: dict[str, int] = defaultdict(int)
    lat = []
    for r in load(corpus / "pii.jsonl", split):
        t0 = time.perf_counter()
        spans = find_pii(r["text"])
        lat.append(time.perf_counter() - t0)
        for s in r["spans"]:
            ty = PII_MAP.get(s["entity_type"])
            if ty is None:
                continue
            total[ty] += 1
            glen = s["end"] - s["start"]
            found[ty] += any(p["type"] == ty and min(p["end"], s["end"]) - max(p["start"], s["start"])
                             >= 0.5 * min(glen, p["end"] - p["start"]) for p in spans)
        for p in spans:
            pred[p["type"]] += 1
            pred_ok[p["type"]] += any(PII_MAP.get(s["entity_type"]) == p["type"] and
                                      min(p["end"], s["end"]) > max(p["start"], s["start"]) for s in r["spans"])
    print(f"\n== PII spans (split={split}) ==")
    print(f"{'type':15s} {'gold':>5s} {'recall':>7s} {'pred':>5s} {'precision~':>10s}")
    for ty in sorted(total, key=lambda t: -total[t]):
        print(f"{ty:15s} {total[ty]:5d} {found[ty] / total[ty]:7.3f} {pred[ty]:5d} {pred_ok[ty] / max(1, pred[ty]):10.3f}")
    print(f"latency per record p50 {pct(lat, .5):.3f} ms  p99 {pct(lat, .99):.3f} ms")
    print("(precision~ counts a prediction right only if it overlaps a gold span of its type; gold has no "
          "span for many true names/places, so it is a lower bound)")


def tools(corpus: Path) -> None:
    rows = [json.loads(line) for line in (corpus / "tool_calls.jsonl").open(encoding="utf-8")]
    benign = [r for r in rows if r["label"] == "benign"]
    attacks = [r for r in rows if r["label"] != "benign"]
    fit_half = [r for i, r in enumerate(benign) if i % 2 == 0]
    test_half = [r for i, r in enumerate(benign) if i % 2 == 1]
    base = SequenceBaseline.fit(r["tool_calls"] for r in fit_half)
    def flagged(r: dict) -> bool:
        return any(i.severity == "high" for i in check_calls(r["tool_calls"], None, base))
    tp = sum(flagged(r) for r in attacks)
    fp = sum(flagged(r) for r in test_half)
    print("\n== tool-call sequences (baseline fitted on half the benign runs) ==")
    print(f"injection runs flagged {tp}/{len(attacks)}   held-out benign runs flagged {fp}/{len(test_half)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpora" / "security")
    ap.add_argument("--split", choices=["all", "dev", "holdout"], default="all")
    ap.add_argument("--micro", action="store_true", help="only the 2 KB micro-benchmark")
    ap.add_argument("--slices", action="store_true", help="only the latency on 2 KB slices of the corpus prose")
    ap.add_argument("--against", type=Path, metavar="CHECKOUT",
                    help="with --slices: alternate runs of this checkout's detectors and CHECKOUT's (another release)")
    ap.add_argument("--runs", type=int, default=3, help="with --against: runs of each, alternating")
    args = ap.parse_args()
    if not args.corpus.is_dir():
        sys.exit(f"security_bench: corpus folder {str(args.corpus)!r} not found; pass --corpus PATH")
    print(f"corpus {args.corpus}  python {sys.version.split()[0]}  cpus {os.cpu_count()}")
    print(hostspeed.describe())
    if args.micro:
        micro(args.corpus)
        return
    if args.slices and args.against is not None:
        alternate(args.corpus, args.against, args.runs)
        return
    if args.slices:
        latency_2kb(args.corpus)
        return
    detectors(args.corpus, args.split)
    latency_2kb(args.corpus)
    micro(args.corpus)
    pii(args.corpus, args.split)
    tools(args.corpus)


if __name__ == "__main__":
    main()
