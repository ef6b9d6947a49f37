"""Text for a terminal: a user file's strings (names, sources, notes, an `assumptions` reason) shown, never obeyed.

A control character in a file's text (ESC starting an ANSI sequence that clears the screen or recolours what
follows, NUL, BEL, a CR that overwrites the line, an 8-bit CSI) reached the terminal as it was (hH63, session 48;
Rich strips BEL, BS, VT, FF and CR silently but passes ESC, NUL, DEL and the C1 range: rich/control.py
`STRIP_CONTROL_CODES`, rich 14.3). Every such character of the Unicode category Cc but newline and tab is written
as Python's repr writes it (ESC as \\x1b, CR as \\r), so the reader sees it is there.

So is every invisible format character (category Cf, hH70, session 49): the bidi embeddings and overrides
U+202A-U+202E and isolates U+2066-U+2069 reorder the rest of the line as the terminal draws it (a "Trojan Source"
name: Boucher and Anderson, "Trojan Source: Invisible Vulnerabilities", arXiv:2111.00169), the zero-width space /
joiners / marks U+200B-U+200F, the word joiner and invisible operators U+2060-U+2064, the BOM U+FEFF, the soft
hyphen U+00AD and the tag characters U+E0001-U+E007F hide text or make two different names look alike. The line and
paragraph separators U+2028 / U+2029 (Zl, Zp: a line break to some terminals) and the lone surrogates U+D800-U+DFFF
(Cs: a file or folder name's bytes that are not UTF-8, as Python's surrogateescape reads them; printed raw they are
either those bytes or an encoding error) are escaped too. The classes are Unicode 14.0's (Python 3.11's
`unicodedata`; tests/cli/test_terminal_text_hH70.py checks them against the running Python's table). Each is
written as repr writes it (U+202E as \\u202e, U+00AD as \\xad).

The JSON output keeps the strings exact (JSON escapes them itself); this is for the human lines only: the shared
Rich console (`cli/commands/_output.console`) and the one-line errors and warnings of `cli/main.py`.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(  # Cc: C0 but \t and \n, DEL, C1; Cf; Zl, Zp; Cs (Unicode 14.0)
    "[\x00-\x08\x0b-\x1f\x7f-\x9f"  # Cc
    "\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064"
    "\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U00013438\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"  # Cf
    "\u2028\u2029"  # Zl, Zp
    "\ud800-\udfff]"  # Cs
)


def _escaped(match: re.Match[str]) -> str:
    return repr(match.group())[1:-1]  # '\x1b', '\r', '\x00', '\x9b', '\u202e', '\udcff'


def terminal_text(text: str) -> str:
    """`text` with each control, format, line-separator or surrogate character (newline and tab kept) written as
    its repr escape (ESC -> \\x1b, U+202E -> \\u202e); the same string where there is none."""
    return _CONTROL.sub(_escaped, text) if _CONTROL.search(text) else text
