"""Messages between the crawler and its writer process: length-prefixed pickle frames.

Both ends are this project, over a private pipe the crawler created: nothing else writes to
it, so pickle (fast, and exact for bytes, datetimes and dataclasses) is safe here. A frame
is an 8-byte big-endian length and that many bytes; a short read is the other end gone.
"""

from __future__ import annotations

import pickle
import struct
from typing import IO, Any

_LENGTH = struct.Struct(">Q")


class PeerGone(EOFError):  # noqa: N818 (a state, like EOFError)
    """The other process closed its end (exited, or was killed) before a whole frame."""


def encode(message: Any) -> bytes:
    body = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return _LENGTH.pack(len(body)) + body


def _read_exactly(stream: IO[bytes], n: int) -> bytes:
    chunks = []
    while n:
        chunk = stream.read(n)
        if not chunk:
            raise PeerGone("the other end closed the pipe")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def read(stream: IO[bytes]) -> Any:
    """The next message; :class:`PeerGone` at the end of the stream."""
    (n,) = _LENGTH.unpack(_read_exactly(stream, _LENGTH.size))
    return pickle.loads(_read_exactly(stream, n))  # noqa: S301 (our own process, our own pipe)


def write(stream: IO[bytes], message: Any) -> None:
    stream.write(encode(message))
    stream.flush()
