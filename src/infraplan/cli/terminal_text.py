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

The zero-width non-joiner and joiner U+200C / U+200D are kept raw where they do their work (hQ80, session 50):
they select a letter's joined or unjoined form, or glue an emoji sequence, and cannot reorder a line (they are not
bidi controls). Kept in three contexts, escaped everywhere else (between Latin letters, at a name's edge, next to a
space or another invisible character: where they only make two names look alike):
- after a virama (canonical combining class 9: Devanagari, Malayalam, ... conjuncts and chillus), RFC 5892 Appendix
  A.1 / A.2 (IDNA's ContextJ rule, first clause);
- between two letters of a joining script (Arabic, Syriac, N'Ko, Mongolian, ...: a Persian "mi-khaham" with its
  ZWNJ), nonspacing marks between them skipped, RFC 5892 A.1's joining-type clause read with the script in place of
  the joining type (Python's `unicodedata` has no Joining_Type);
- a ZWJ between two emoji (an emoji, a skin-tone modifier or the emoji variation selector U+FE0F before, an emoji
  after: a family, a profession, a flag), Unicode Technical Standard #51, section 2.3 (emoji ZWJ sequences).

The JSON output keeps the strings exact (JSON escapes them itself); this is for the human lines only: the shared
Rich console (`cli/commands/_output.console`) and the one-line errors and warnings of `cli/main.py`.
"""

from __future__ import annotations

import re
import unicodedata

_CONTROL = re.compile(  # Cc: C0 but \t and \n, DEL, C1; Cf; Zl, Zp; Cs (Unicode 14.0)
    "[\x00-\x08\x0b-\x1f\x7f-\x9f"  # Cc
    "\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064"
    "\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U00013438\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"  # Cf
    "\u2028\u2029"  # Zl, Zp
    "\ud800-\udfff]"  # Cs
)


_JOINERS = "\u200c\u200d"  # ZWNJ, ZWJ
_JOINING_SCRIPTS = ("ARABIC", "SYRIAC", "NKO", "MONGOLIAN", "MANDAIC", "PHAGS-PA", "MANICHAEAN", "PSALTER PAHLAVI",
                    "ADLAM", "HANIFI ROHINGYA", "SOGDIAN", "CHORASMIAN", "OLD UYGHUR")
"""Scripts whose letters join (Unicode's ArabicShaping.txt lists joining types for these scripts' letters)."""
_EMOJI_MODIFIERS = range(0x1F3FB, 0x1F400)  # skin tones (Sk)


def _at(text: str, index: int) -> str:
    """The character at `index` ('' outside the text)."""
    return text[index] if 0 <= index < len(text) else ""


def _letter(text: str, index: int, step: int) -> str:
    """The first character from `index` on in direction `step` that is not a nonspacing mark ('' past an end)."""
    while _at(text, index) and unicodedata.category(text[index]) == "Mn":
        index += step
    return _at(text, index)


def _joining_letter(char: str) -> bool:
    return bool(char) and unicodedata.category(char)[0] == "L" and unicodedata.name(char, "").startswith(
        _JOINING_SCRIPTS)


def _joins(text: str, index: int) -> bool:
    """Whether the ZWNJ / ZWJ at `index` does its work there (the module docstring's three contexts)."""
    before, after = _at(text, index - 1), _at(text, index + 1)
    if before and unicodedata.combining(before) == 9:  # after a virama
        return True
    if _joining_letter(_letter(text, index - 1, -1)) and _joining_letter(_letter(text, index + 1, 1)):
        return True
    emoji_before = bool(before) and (before == "\ufe0f" or unicodedata.category(before) == "So"
                                     or ord(before) in _EMOJI_MODIFIERS)
    return text[index] == "\u200d" and emoji_before and bool(after) and unicodedata.category(after) == "So"


def _escaped(match: re.Match[str]) -> str:
    if match.group() in _JOINERS and _joins(match.string, match.start()):
        return match.group()
    return repr(match.group())[1:-1]  # '\x1b', '\r', '\x00', '\x9b', '\u202e', '\udcff'


def terminal_text(text: str) -> str:
    """`text` with each control, format, line-separator or surrogate character (newline and tab kept) written as
    its repr escape (ESC -> \\x1b, U+202E -> \\u202e), but a ZWNJ / ZWJ where it joins (`_joins`); the same string
    where there is none."""
    return _CONTROL.sub(_escaped, text) if _CONTROL.search(text) else text
