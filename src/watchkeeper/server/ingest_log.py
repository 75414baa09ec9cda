"""A local append-only log that makes an ingest batch durable before it reaches the store.

Committing every request to DuckDB costs a WAL sync per transaction and an insert too small for
DuckDB's fast path. Instead the writer appends each batch (as Arrow IPC) to this log, answers the
client, and commits to the store in large groups (every second, up to 5 s apart under heavy ingest, or
every ~150,000 rows, and before any read). The store remembers, in the same transaction as the
data, how far into the log it got (``gen``, ``pos``); on start-up whatever the log holds beyond
that point is replayed, so a batch
acknowledged just before ``kill -9`` is never lost. Once everything is committed the log is
emptied and its generation number goes up.

Commits run beside the appends (server/queue.py), so under steady ingest the log may never be
empty at the end of a commit. When it has grown past a limit, the next commit *seals* it: the file
is renamed to ``<log>.sealed``, appends go on in a fresh log of the next generation, and the sealed
file is deleted once that commit (whose marker is the sealed log's end) is in the store. There is at
most one sealed log; start-up replays it before the current one.

Record format: ``u32 length, u32 crc32, payload``; payload = repeated ``u16 len, kind, u32 len,
Arrow IPC stream``. A torn last record (the process died mid-write) fails its CRC and is ignored:
it was never acknowledged.
"""

from __future__ import annotations

import os
import struct
import zlib
from typing import Iterator

import pyarrow as pa

from ..store.schema import ipc_bytes

MAGIC = b"WKLOG001"
_HEAD = struct.Struct("<8sQ")  # magic, generation
_REC = struct.Struct("<II")


def _serialize(tables: list[tuple[str, pa.Table]], streams: list[bytes | None] | None = None) -> bytes:
    parts = []
    for i, (kind, table) in enumerate(tables):
        data = streams[i] if streams is not None and streams[i] is not None else ipc_bytes(table)
        k = kind.encode()
        parts.append(struct.pack("<H", len(k)) + k + struct.pack("<I", len(data)) + data)
    return b"".join(parts)


def _deserialize(payload: bytes) -> list[tuple[str, pa.Table]]:
    out, i = [], 0
    while i < len(payload):
        (klen,) = struct.unpack_from("<H", payload, i)
        i += 2
        kind = payload[i:i + klen].decode()
        i += klen
        (dlen,) = struct.unpack_from("<I", payload, i)
        i += 4
        out.append((kind, pa.ipc.open_stream(payload[i:i + dlen]).read_all()))
        i += dlen
    return out


def sealed_path(path: str) -> str:
    """Where a log's older records wait for their commit while new ones go on in ``path``."""
    return path + ".sealed"


def _generation(path: str) -> int:
    """The generation in the header of the log at ``path``; 0 when there is none."""
    try:
        with open(path, "rb") as fh:
            magic, gen = _HEAD.unpack(fh.read(_HEAD.size))
    except (OSError, struct.error):
        return 0
    return gen if magic == MAGIC else 0


def drop_sealed(path: str) -> None:
    try:
        os.remove(sealed_path(path))
    except FileNotFoundError:
        pass


class IngestLog:
    def __init__(self, path: str, fsync: bool = False):
        self.path = path
        self.fsync = fsync
        exists = os.path.exists(path) and os.path.getsize(path) >= _HEAD.size
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        if exists:
            magic, gen = _HEAD.unpack(os.pread(self._fd, _HEAD.size, 0))
            if magic != MAGIC:
                raise ValueError(f"{path} is not a watchkeeper ingest log")
            self.gen = gen
        else:  # after a sealed log, never a lower generation (the process may have died between seal's steps)
            self.gen = _generation(sealed_path(path)) + 1
            self._write_header()
        self.end = os.lseek(self._fd, 0, os.SEEK_END)

    def _write_header(self) -> None:
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, _HEAD.pack(MAGIC, self.gen), 0)
        os.lseek(self._fd, _HEAD.size, os.SEEK_SET)
        self.end = _HEAD.size

    @property
    def empty(self) -> bool:
        return self.end <= _HEAD.size

    def append(self, tables: list[tuple[str, pa.Table]], streams: list[bytes | None] | None = None) -> int:
        """Write one record; return the log position after it (what a commit marker records). ``streams``:
        each table's Arrow IPC stream where one is at hand (an ingest worker's), so it is not written again."""
        payload = _serialize(tables, streams)
        record = _REC.pack(len(payload), zlib.crc32(payload)) + payload
        view = memoryview(record)
        while view:
            n = os.write(self._fd, view)
            view = view[n:]
        if self.fsync:
            os.fsync(self._fd)
        self.end += len(record)
        return self.end

    def records(self, start: int | None = None) -> Iterator[tuple[int, list[tuple[str, pa.Table]]]]:
        """(position after the record, tables) for every intact record from ``start``."""
        pos = _HEAD.size if start is None or start < _HEAD.size else start
        size = os.lseek(self._fd, 0, os.SEEK_END)
        while pos + _REC.size <= size:
            length, crc = _REC.unpack(os.pread(self._fd, _REC.size, pos))
            payload = os.pread(self._fd, length, pos + _REC.size)
            if len(payload) < length or zlib.crc32(payload) != crc:
                break  # a torn tail: never acknowledged
            pos += _REC.size + length
            yield pos, _deserialize(payload)
        # Anything after the last intact record is garbage from a crash: cut it off.
        if pos < size:
            os.ftruncate(self._fd, pos)
        self.end = pos
        os.lseek(self._fd, pos, os.SEEK_SET)

    def reset(self, gen: int | None = None) -> None:
        """Everything is in the store: start an empty log of the next generation (or of ``gen``)."""
        self.gen = self.gen + 1 if gen is None else gen
        self._write_header()
        if self.fsync:
            os.fsync(self._fd)

    def seal(self) -> int:
        """Move this log's records aside to ``sealed_path(self.path)`` and go on in an empty log of the next
        generation; return the sealed log's generation. Its rows stay replayable until ``drop_sealed``."""
        gen = self.gen
        os.replace(self.path, sealed_path(self.path))  # the open descriptor follows the file
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        os.close(self._fd)
        self._fd = fd
        self.reset(gen + 1)
        if self.fsync:  # make the rename durable too
            dir_fd = os.open(os.path.dirname(os.path.abspath(self.path)), os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        return gen

    def close(self) -> None:
        try:
            os.close(self._fd)
        except OSError:
            pass
