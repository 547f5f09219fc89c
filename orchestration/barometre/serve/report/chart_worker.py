"""The second chart engine: a process that converts Vega-Lite specs to SVG with its own
vl-convert engine, for barometre.serve.report.drawing.

    python -m barometre.serve.report.chart_worker VEGA_LITE_VERSION

Protocol on its stdin and stdout, one request at a time: frames of a 4-byte big-endian
length and a payload. The worker first answers with a frame "+ready" once its engine has
converted a one-point chart (or "-<error>" and ends); then to each request (the spec as
JSON, UTF-8) with "+<svg>" or "-<error>". It ends at end of input: when the parent closes
the pipe, or exits or dies in any way, so it never outlives it. It imports vl_convert
only (no altair, no barometre module but this one), ignores Ctrl-C (its parent decides),
and writes nothing else on its stdout (fd 1 is pointed at stderr: vl-convert's own output
cannot corrupt a frame).
"""

from __future__ import annotations

import json
import os
import signal
import struct
import sys
from typing import BinaryIO

HEADER = struct.Struct(">I")
READY = b"+ready"
WARM_UP_SPEC = {"mark": "point", "data": {"values": [{"x": 0}]}, "encoding": {"x": {"field": "x"}}}
"""A one-point chart: its first conversion starts an engine (about a second)."""


def read_frame(stream: BinaryIO) -> bytes:
    """One frame's payload; EOFError at end of input (or a frame cut short)."""
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        raise EOFError
    (size,) = HEADER.unpack(header)
    payload = stream.read(size)
    if len(payload) < size:
        raise EOFError
    return payload


def write_frame(stream: BinaryIO, payload: bytes) -> None:
    stream.write(HEADER.pack(len(payload)) + payload)
    stream.flush()


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    version = argv[0] if argv else None
    requests = sys.stdin.buffer
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    try:
        import vl_convert

        vl_convert.vegalite_to_svg(WARM_UP_SPEC, vl_version=version)
    except Exception as err:  # the parent draws every chart itself
        write_frame(answers, b"-" + repr(err).encode())
        return 1
    write_frame(answers, READY)
    while True:
        try:
            spec = json.loads(read_frame(requests))
        except (EOFError, OSError):
            return 0
        try:
            answer = b"+" + vl_convert.vegalite_to_svg(spec, vl_version=version).encode()
        except Exception as err:  # the parent draws it again and raises the error itself
            answer = b"-" + repr(err).encode()
        try:
            write_frame(answers, answer)
        except OSError:  # the parent is gone
            return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
