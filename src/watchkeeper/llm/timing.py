"""Token-level timing of a streamed LLM response, from the gaps between token arrivals.

A stream is stored compactly as integer microsecond gaps: ``gaps[0]`` is the time to the first
token (prompt processing, queueing), ``gaps[i]`` the wait before token ``i`` (generation). From
those, ``analyze`` derives what an engineer asks at 3am: how long until the first token, how fast
tokens came after it, which tokens were slowest, where generation slowed down, and whether the
time went into the prompt or into generation. Pure Python: the SDK and the server both use it.
"""

from __future__ import annotations

from typing import Sequence

SLOW_TOKENS = 5
MIN_SEGMENT = 4          # tokens on each side of a slowdown point
SLOWDOWN_RATIO = 1.5     # mean gap after the point / mean gap before it
SLOWDOWN_MIN_MS = 2.0    # and at least this much slower per token


def percentile(sorted_values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (``q`` in 0..1) of an already sorted sequence."""
    n = len(sorted_values)
    if n == 0:
        return None
    pos = q * (n - 1)
    lo = int(pos)
    hi = min(lo + 1, n - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def slowdown_point(itl_ms: Sequence[float]) -> dict | None:
    """The token after which inter-token latency rose the most, or None when it stayed flat.

    Scans every split with prefix sums (O(n)) and keeps the one with the largest rise in mean gap.
    ``token_index`` counts output tokens from 0, so gaps[k] (the wait before token k) is after it.
    """
    n = len(itl_ms)
    if n < 2 * MIN_SEGMENT:
        return None
    prefix = [0.0]
    for g in itl_ms:
        prefix.append(prefix[-1] + g)
    best = None
    for k in range(MIN_SEGMENT, n - MIN_SEGMENT + 1):
        before = prefix[k] / k
        after = (prefix[n] - prefix[k]) / (n - k)
        rise = after - before
        if best is None or rise > best[0]:
            best = (rise, k, before, after)
    rise, k, before, after = best
    if rise < SLOWDOWN_MIN_MS or after < SLOWDOWN_RATIO * max(before, 1e-9):
        return None
    # itl_ms[j] is the gap before output token j + 1.
    return {"token_index": k + 1, "before_ms": round(before, 3), "after_ms": round(after, 3),
            "ratio": round(after / before, 2) if before > 0 else None}


def verdict(ttft_ms: float | None, generation_ms: float, tokens: int, itl_p50: float | None,
            slowdown: dict | None) -> dict:
    """Answer "is it a prompt problem or a generation problem?" with the numbers behind it."""
    if ttft_ms is None:
        return {"problem": "unknown", "reason": "no token arrival times were recorded for this span"}
    total = ttft_ms + generation_ms
    share = ttft_ms / total if total > 0 else 1.0
    if share >= 0.5:
        return {"problem": "prompt", "prompt_share": round(share, 3),
                "reason": (f"the first token took {ttft_ms:.0f} ms, {share:.0%} of the response time: prompt "
                           "processing dominates (long prompt, queueing, cold cache or a slow retrieval before the call)")}
    reason = (f"{tokens} tokens took {generation_ms:.0f} ms after the first one "
              f"({itl_p50 or 0:.1f} ms per token at the median): generation dominates")
    if slowdown:
        reason += (f"; it slowed down after token {slowdown['token_index']} "
                   f"({slowdown['before_ms']:.1f} -> {slowdown['after_ms']:.1f} ms per token)")
    elif tokens > 0:
        reason += " (too many output tokens or a slow decoder)"
    return {"problem": "generation", "prompt_share": round(share, 3), "reason": reason}


def analyze(gaps_us: Sequence[int], tokens: Sequence[str] | None = None) -> dict:
    """Summarise one stream: TTFT, inter-token latency percentiles, tokens/s, slow tokens, slowdown, verdict."""
    if not gaps_us:
        return {"tokens": 0, "time_to_first_token_ms": None, "verdict": verdict(None, 0.0, 0, None, None)}
    ttft_ms = gaps_us[0] / 1000.0
    itl = [g / 1000.0 for g in gaps_us[1:]]
    ordered = sorted(itl)
    generation_ms = sum(itl)
    n = len(gaps_us)
    p50 = percentile(ordered, 0.5)
    slow = sorted(range(len(itl)), key=lambda j: itl[j], reverse=True)[:SLOW_TOKENS]
    slow_tokens = []
    for j in slow:
        index = j + 1
        text = tokens[index] if tokens is not None and index < len(tokens) else None
        slow_tokens.append({"index": index, "text": text, "gap_ms": round(itl[j], 3)})
    point = slowdown_point(itl)
    return {
        "tokens": n,
        "time_to_first_token_ms": round(ttft_ms, 3),
        "generation_ms": round(generation_ms, 3),
        "total_ms": round(ttft_ms + generation_ms, 3),
        "inter_token_latency_ms": {
            "mean": round(generation_ms / len(itl), 3) if itl else None,
            "p50": _r(p50), "p95": _r(percentile(ordered, 0.95)), "p99": _r(percentile(ordered, 0.99)),
            "max": _r(ordered[-1]) if ordered else None,
        },
        "tokens_per_s": round((n - 1) / (generation_ms / 1000.0), 2) if generation_ms > 0 else None,
        "slow_tokens": slow_tokens,
        "slowdown": point,
        "verdict": verdict(ttft_ms, generation_ms, n, p50, point),
    }


def token_at(gaps_us: Sequence[int], offset_us: int) -> int:
    """How many tokens had arrived ``offset_us`` after the stream started (for mid-generation retrieval)."""
    elapsed = 0
    for i, g in enumerate(gaps_us):
        elapsed += g
        if elapsed > offset_us:
            return i
    return len(gaps_us)


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
