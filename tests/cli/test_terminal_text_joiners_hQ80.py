"""ZWNJ / ZWJ (U+200C / U+200D) kept raw where they join letters or emoji, escaped where they only hide (hQ80).

A Persian word, an Indic conjunct and an emoji sequence need them and cannot be reordered by them (they are not
bidi controls: Unicode UAX #9 gives them class BN); between Latin letters, at a name's edge or beside another
invisible character they only make two names look alike, and stay escaped as every other Cf character
(`cli.terminal_text`'s docstring: RFC 5892 Appendix A.1 / A.2, UTS #51 section 2.3)."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
import yaml
from tests.cli.conftest import cli_json

from infraplan.cli import main
from infraplan.cli.terminal_text import terminal_text

ZWNJ, ZWJ = "\u200c", "\u200d"
KEPT = [
    f"\u0645\u06cc{ZWNJ}\u062e\u0648\u0627\u0647\u0645",  # Persian mi-khaham: ZWNJ between two Arabic letters
    f"\u0628\u064e{ZWNJ}\u0628",  # a fatha (nonspacing mark) between the letter and the ZWNJ
    f"\u0915\u094d{ZWJ}\u0937",  # Devanagari KA + VIRAMA + ZWJ + SSA: the half form
    f"\u0915\u094d{ZWNJ}\u0937",  # and the explicit virama
    f"\u0d15\u0d4d{ZWJ}",  # Malayalam chillu (old encoding): ZWJ after the virama at the word's end
    f"\U0001f468{ZWJ}\U0001f469{ZWJ}\U0001f467",  # family
    f"\U0001f469\U0001f3fd{ZWJ}\U0001f4bb",  # woman technologist, skin tone 4
    f"\u2764\ufe0f{ZWJ}\U0001f525",  # heart on fire (emoji variation selector before the ZWJ)
    f"\U0001f3f3\ufe0f{ZWJ}\U0001f308",  # rainbow flag
]
ESCAPED = [
    (f"ad{ZWJ}min", "ad\\u200dmin"),  # a Latin look-alike of "admin"
    (f"ad{ZWNJ}min", "ad\\u200cmin"),
    (f"{ZWJ}admin", "\\u200dadmin"),  # at an edge
    (f"admin{ZWNJ}", "admin\\u200c"),
    (f"\u0645\u06cc{ZWNJ}", "\u0645\u06cc\\u200c"),  # a Persian letter, then nothing
    (f"\u0645 {ZWNJ}\u062e", "\u0645 \\u200c\u062e"),  # beside a space
    (f"\u0915\u094d{ZWJ}{ZWJ}\u0937", "\u0915\u094d\u200d\\u200d\u0937"),  # a second one after the first
    (f"\u0628{ZWNJ}\u202e\u0628", "\u0628\\u200c\\u202e\u0628"),  # beside a bidi override (Trojan Source)
    (f"\U0001f468{ZWNJ}\U0001f469", "\U0001f468\\u200c\U0001f469"),  # a ZWNJ joins no emoji
    (f"\U0001f468{ZWJ}x", "\U0001f468\\u200dx"),  # an emoji, then a Latin letter
    (f"\u043f{ZWJ}\u0430", "\u043f\\u200d\u0430"),  # Cyrillic does not join
]


@pytest.mark.parametrize("text", KEPT)
def test_a_joiner_that_joins_is_kept_raw(text: str) -> None:
    assert terminal_text(text) == text


@pytest.mark.parametrize(("text", "shown"), ESCAPED)
def test_a_joiner_that_only_hides_is_escaped(text: str, shown: str) -> None:
    assert terminal_text(text) == shown


def test_the_other_invisible_characters_stay_escaped_beside_a_kept_joiner() -> None:
    persian = KEPT[0]
    shown = terminal_text(f"\u202e{persian}\u200b\ufeff\U000e0041\xad")
    assert shown == f"\\u202e{persian}\\u200b\\ufeff\\U000e0041\\xad"
    assert unicodedata.bidirectional(ZWJ) == unicodedata.bidirectional(ZWNJ) == "BN"  # not a bidi control


def test_a_persian_device_name_is_shown_as_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = cli_json(capsys, "catalog video-devices msvp") | {"name": KEPT[0]}
    path = tmp_path / "device.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert main(["video", "--device", str(path), "--input", "1080p30"]) == 0
    out = capsys.readouterr().out
    assert KEPT[0] in out and "\\u200c" not in out
