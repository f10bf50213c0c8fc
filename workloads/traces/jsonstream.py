"""Top-level JSON values of a large file, one at a time, with their line numbers.

The Philly job log is one JSON array of about a hundred thousand objects; parsing it
whole would hold every job as Python objects at once.  This reader keeps only a
window of text: it decodes one element with :meth:`json.JSONDecoder.raw_decode`,
yields it, and drops the text before it.  It reads a top-level array (``[{...},
{...}]``) or a sequence of values (JSON Lines, or objects one after another).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from workloads.traces.errors import TraceError, where
from workloads.traces.fields import open_text

__all__ = ["iter_values"]

CHUNK = 1 << 20  # characters read at a time


class _Window:
    """A growing text window over the file and the line number of its start."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.handle = open_text(path)
        self.buf = ""
        self.pos = 0
        self.line = 1  # line of buf[pos]
        self.eof = False

    def more(self, at_least: int = CHUNK) -> bool:
        """Read more text; False at the end of the file."""
        if self.eof:
            return False
        try:
            text = self.handle.read(max(CHUNK, at_least))
        except UnicodeDecodeError as err:
            raise TraceError(where(str(self.path), self.line, "", f"not UTF-8 text: {err.reason}")) from None
        if not text:
            self.eof = True
            return False
        self.buf = self.buf[self.pos :] + text
        self.pos = 0
        return True

    def advance(self, end: int) -> None:
        self.line += self.buf.count("\n", self.pos, end)
        self.pos = end

    def skip_space(self) -> str:
        """Skip whitespace; the next character, or "" at the end of the file."""
        while True:
            n = len(self.buf)
            i = self.pos
            while i < n and self.buf[i] in " \t\r\n":
                i += 1
            self.advance(i)
            if i < n:
                return self.buf[i]
            if not self.more():
                return ""

    def fail(self, message: str) -> TraceError:
        return TraceError(where(str(self.path), self.line, "", message))


def iter_values(path: Path) -> Iterator[tuple[int, Any]]:
    """Yield ``(line, value)`` for each element of a top-level array, or each top-level value.

    ``line`` is where the value starts (1-based).

    Raises
    ------
    TraceError
        Text that is not JSON, naming the line; a syntax error ends the read (the
        structure after it cannot be trusted), whatever ``skip_bad_rows`` says.
    """
    decoder = json.JSONDecoder()
    w = _Window(path)
    try:
        first = w.skip_space()
        in_array = first == "["
        if in_array:
            w.advance(w.pos + 1)
        expect_value = True
        while True:
            c = w.skip_space()
            if c == "":
                if in_array:
                    raise w.fail("invalid JSON: the top-level array is not closed")
                return
            if in_array and c == "]":
                return
            if in_array and not expect_value:
                if c != ",":
                    raise w.fail(f"invalid JSON: expected ',' or ']' between array elements, got {c!r}")
                w.advance(w.pos + 1)
                expect_value = True
                continue
            value, end = _decode(decoder, w)
            line = w.line
            w.advance(end)
            expect_value = not in_array
            yield line, value
    finally:
        w.handle.close()


def _decode(decoder: json.JSONDecoder, w: _Window) -> tuple[Any, int]:
    """Decode the value at ``w.pos``, reading more text until it is complete."""
    want = CHUNK
    while True:
        try:
            value, end = decoder.raw_decode(w.buf, w.pos)
        except json.JSONDecodeError as err:
            if w.more(want):
                want *= 2  # doubling keeps a long value's re-parses linear overall
                continue
            line = w.line + w.buf.count("\n", w.pos, err.pos)
            raise TraceError(where(str(w.path), line, "", f"invalid JSON: {err.msg}")) from None
        # A value that runs to the very end of the window may be cut short (a number,
        # or a bare word): accept it only with text after it or at the end of the file.
        if end < len(w.buf) or not w.more(want):
            return value, end
