"""The security scan worker process (started by scan_stage.py): items in, security-event rows out.

Frames on stdin and stdout: a 4-byte little-endian length, then orjson. A request is a list of
items (``pipeline.originals``), the answer the event rows ``pipeline.scan_batch`` makes of them,
or ``{"error": "..."}``. The process runs at the lowest CPU priority and exits when stdin closes
(the server stopped or died). Anything written to stdout by accident goes to stderr instead.
"""

from __future__ import annotations

import os
import sys

import orjson

_HEAD = 4


def read_frame(stream) -> bytes | None:
    head = stream.read(_HEAD)
    if len(head) < _HEAD:
        return None
    size = int.from_bytes(head, "little")
    data = stream.read(size)
    return data if len(data) == size else None


def write_frame(stream, payload: bytes) -> None:
    stream.write(len(payload).to_bytes(_HEAD, "little") + payload)
    stream.flush()


def main() -> None:
    try:
        os.nice(19)  # scanning only gets CPU that ingest and queries leave idle
    except OSError:
        pass
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # stray prints must not corrupt the frames
    inp = sys.stdin.buffer
    from ..security import warm_up
    from ..security.pipeline import scan_batch

    warm_up()  # build the detectors' indexes now, not inside the first scan

    while True:
        data = read_frame(inp)
        if data is None:
            return
        try:
            reply = scan_batch(orjson.loads(data))
        except Exception as exc:  # one bad item must not kill the worker
            reply = {"error": type(exc).__name__}  # the message may quote the scanned text
        write_frame(out, orjson.dumps(reply))


if __name__ == "__main__":
    main()
