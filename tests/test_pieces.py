"""Assembling a dump from its pieces (pipeline/publish/pieces.py): the bytes written are the
header, every piece and the tail in order, and the size and sha256 returned are those of
the file on disk, whatever the sizes of the pieces against the copy buffer."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.publish import pieces

BLOBS = st.binary(max_size=40)


@settings(max_examples=150, deadline=None)
@given(head=BLOBS, parts=st.lists(BLOBS, max_size=6), tail=BLOBS,
       block=st.sampled_from([1, 3, 8, 64, 1 << 22]))
def test_a_dump_is_its_head_pieces_and_tail_with_their_size_and_sha256(head, parts, tail,
                                                                        block):
    saved = pieces.COPY_BLOCK
    pieces.COPY_BLOCK = block  # pieces shorter, longer and many times the buffer
    try:
        with tempfile.TemporaryDirectory() as tmp:
            files = []
            for number, data in enumerate(parts):
                files.append(Path(tmp) / f"{number}.nt")
                files[-1].write_bytes(data)
            target = Path(tmp) / "dump.nt"
            size, sha256 = pieces._concatenate(target, head, files, tail)
            written = target.read_bytes()
    finally:
        pieces.COPY_BLOCK = saved
    expected = head + b"".join(parts) + tail
    assert written == expected
    assert (size, sha256) == (len(expected), hashlib.sha256(expected).hexdigest())


def test_a_write_that_takes_part_of_the_bytes_is_continued():
    """A raw (unbuffered) write may write fewer bytes than given; the rest is written."""

    class Trickle:
        def __init__(self) -> None:
            self.got = bytearray()

        def write(self, data) -> int:
            taken = bytes(data[:3])
            self.got += taken
            return len(taken)

    out = Trickle()
    pieces._write_all(out, b"a longer block than three bytes")
    assert bytes(out.got) == b"a longer block than three bytes"
