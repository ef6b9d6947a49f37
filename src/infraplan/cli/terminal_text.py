"""Text for a terminal: a user file's strings (names, sources, notes, an `assumptions` reason) shown, never obeyed.

A control character in a file's text (ESC starting an ANSI sequence that clears the screen or recolours what
follows, NUL, BEL, a CR that overwrites the line, an 8-bit CSI) reached the terminal as it was (hH63, session 48;
Rich strips BEL, BS, VT, FF and CR silently but passes ESC, NUL, DEL and the C1 range: rich/control.py
`STRIP_CONTROL_CODES`, rich 14.3). Every such character of the Unicode category Cc but newline and tab is written
as Python's repr writes it (ESC as \\x1b, CR as \\r), so the reader sees it is there. The JSON output keeps the
strings exact (JSON escapes them itself); this is for the human lines only: the shared Rich console
(`cli/commands/_output.console`) and the one-line errors and warnings of `cli/main.py`.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # Cc: C0 but \t and \n, DEL, C1


def _escaped(match: re.Match[str]) -> str:
    return repr(match.group())[1:-1]  # '\x1b', '\r', '\x00', '\x9b'


def terminal_text(text: str) -> str:
    """`text` with each control character but newline and tab written as its repr escape (ESC -> \\x1b); the same
    string where there is none."""
    return _CONTROL.sub(_escaped, text) if _CONTROL.search(text) else text
