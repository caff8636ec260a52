"""Text from files and servers, made safe to print on a terminal.

In:  any `str` (a label from Wikidata, a file name, a parser's message quoting a file, a
     store's error page).
Out: `terminal_safe(text)`: the same text with every character that could move the cursor,
     recolour or retitle the terminal, reorder what is shown, or fail to encode written as a
     visible escape (`\\x1b`, `\\u202e`); `unsafe_character(text)`: the first such character
     (or None), for code that refuses such text instead of escaping it.

Escaped: C0 controls U+0000-U+001F (newline and tab included: a message is one line of
someone else's text), DEL U+007F, C1 controls U+0080-U+009F (U+009B is a one-byte CSI on
some terminals), lone surrogates U+D800-U+DFFF (they cannot be encoded as UTF-8, so writing
them raises), the bidirectional embeddings and overrides U+202A-U+202E and isolates
U+2066-U+2069 ("Trojan Source": they make text display in another order than it is), and
the line and paragraph separators U+2028/U+2029. Everything else, including backslashes and
all printable text in any script, is returned unchanged.
"""

from __future__ import annotations

import re

# one character class: C0, DEL + C1, surrogates, line/paragraph separators, bidi controls
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def terminal_safe(text: str) -> str:
    """`text` with controls, lone surrogates and bidi controls as `\\xNN` / `\\uNNNN`."""
    return _UNSAFE.sub(_escape, str(text))


def unsafe_character(text: str) -> str | None:
    """A description of the first character `terminal_safe` would escape, or None.

    E.g. ``"the control character U+001B"``; used to refuse text rather than store it."""
    match = _UNSAFE.search(text)
    if match is None:
        return None
    code = ord(match.group())
    if 0xD800 <= code <= 0xDFFF:
        kind = "a lone surrogate"
    elif 0x202A <= code <= 0x202E or 0x2066 <= code <= 0x2069:
        kind = "the bidirectional control"
    elif code in (0x2028, 0x2029):
        kind = "the line separator"
    else:
        kind = "the control character"
    return f"{kind} U+{code:04X}"
