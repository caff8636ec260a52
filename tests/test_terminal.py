"""`pipeline.terminal`: what reaches a terminal from files and servers is made harmless, and
ordinary text (any script) passes unchanged."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.terminal import terminal_safe, unsafe_character

BIDI = {chr(c) for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]}
# every code point, lone surrogates and unassigned ones included
ANY_TEXT = st.text(alphabet=st.characters(codec=None, exclude_categories=()))


@pytest.mark.parametrize("raw,shown", [
    ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"),          # ANSI colour
    ("\x1b]0;owned\x07", "\\x1b]0;owned\\x07"),              # OSC: retitles the window
    ("a\nb\tc\rd\x00", "a\\x0ab\\x09c\\x0dd\\x00"),           # C0, newline included
    ("del\x7f", "del\\x7f"),
    ("csi\x9b31m", "csi\\x9b31m"),                             # C1 one-byte CSI
    ("x\ud800y", "x\\ud800y"),                                 # lone surrogate
    ("abc\u202edcba", "abc\\u202edcba"),                       # right-to-left override
    ("\u2066isolate\u2069", "\\u2066isolate\\u2069"),
    ("line\u2028sep", "line\\u2028sep"),
])
def test_escapes_what_would_act_on_the_terminal(raw, shown):
    """Each kind of character that recolours, retitles, reorders or cannot be encoded comes
    out as a visible escape; fails if one kind is forgotten."""
    assert terminal_safe(raw) == shown
    assert unsafe_character(raw) is not None


@pytest.mark.parametrize("text", ["Northbridge University", "诺斯布里奇大学", "C:\\path\\x1b",
                                  "ملف", "café ☕ 𝄞", ""])
def test_printable_text_is_unchanged(text):
    """Chinese, Arabic, astral characters and backslashes are not touched: escaping them
    would garble every report for nothing."""
    assert terminal_safe(text) == text
    assert unsafe_character(text) is None


def test_unsafe_character_names_the_character():
    """The refusal message says which character, so a curator can find it."""
    assert unsafe_character("ok\x1b[2J") == "the control character U+001B"
    assert unsafe_character("\ud800") == "a lone surrogate U+D800"
    assert unsafe_character("a\u202eb") == "the bidirectional control U+202E"


@settings(derandomize=True, max_examples=300)
@given(ANY_TEXT)
def test_output_never_holds_a_control_surrogate_or_bidi_control(text):
    """For any string at all: no Cc/Cs character and no bidi control survives, the output
    encodes as UTF-8, and a string of printable characters is returned as it was."""
    out = terminal_safe(text)
    assert not any(unicodedata.category(ch) in ("Cc", "Cs") or ch in BIDI for ch in out)
    out.encode("utf-8")
    assert unsafe_character(out) is None
    if text.isprintable():
        assert out == text
    assert (unsafe_character(text) is None) == (out == text)


@settings(derandomize=True, max_examples=200)
@given(st.text(alphabet=st.characters(exclude_categories=("Cc", "Cs", "Cf", "Zl", "Zp"))))
def test_printable_strings_pass_unchanged(text):
    """Generated printable text (no control, format or separator characters) is never
    altered."""
    assert terminal_safe(text) == text
