"""The terminal escaping's other doors (hX67's `cli.terminal_text`), where session 48's tests went through one path
only (hM70 mutation wave): the Rich console's `render` of a styled Text, Rich's own control segments, the console's
markup setting and the warnings' line.

What each asserts is the module docstrings' rule: a control character of a user's text is shown as its repr escape
(ESC as \\x1b), never emitted; what Rich itself emits (a style's SGR codes, a cursor move) is kept.
"""

from __future__ import annotations

import io
import warnings

import pytest
from rich.console import Console
from rich.control import Control
from rich.text import Text

from infraplan.catalog.model_config_keys import ModelConfigWarning
from infraplan.cli.commands import _output
from infraplan.cli.main import _show_warning

ESC = "\x1b"


def _console() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return _output._terminal_console()(file=out, markup=False, force_terminal=True, color_system="standard",
                                       width=100), out


def test_a_styled_text_is_escaped_and_keeps_its_style():
    """A renderer's rich Text (`render`, not `render_str`): the same bytes as the text written pre-escaped with the
    same style, so the file's ESC is shown as \\x1b and the bold (Rich's own SGR 1) is still applied."""
    hostile, shown = _console()
    hostile.print(Text(f"x{ESC}[2Jy", style="bold"))
    escaped, expected = _console()
    escaped.print(Text("x\\x1b[2Jy", style="bold"))
    assert shown.getvalue() == expected.getvalue()
    assert f"{ESC}[1m" in shown.getvalue() and "x\\x1b[2Jy" in shown.getvalue()


def test_riches_own_control_segments_are_kept():
    """A cursor move Rich emits (a Control renderable: its segment is a control segment) reaches the terminal as
    the escape sequence it is (CSI row;col H, 1-based: ECMA-48 CUP), while a string's ESC is escaped."""
    console, out = _console()
    console.print(Control.move_to(3, 4))
    console.print(f"a{ESC}b")
    assert out.getvalue() == f"{ESC}[5;4Ha\\x1bb\n"


def test_the_shared_console_reads_no_markup(capsys: pytest.CaptureFixture[str]):
    """A file's `[/bold]` is text, not a closing tag (a MarkupError traceback under markup, hX50)."""
    _output.console.print("host_source [/bold] kept", highlight=False)
    assert "host_source [/bold] kept" in capsys.readouterr().out


@pytest.mark.parametrize(("category", "head"), [(ModelConfigWarning, "infraplan: warning: "),
                                                (RuntimeWarning, "infraplan: warning: RuntimeWarning: ")])
def test_a_warning_line_shows_its_control_characters_escaped(category: type[Warning], head: str):
    """`main._show_warning`: infraplan's own warnings and any other, each one line with the text escaped."""
    out = io.StringIO()
    with warnings.catch_warnings():
        _show_warning(category(f"key num{ESC}[2J_layers unmodelled\nsecond line"), category, "f.py", 1, file=out)
    assert out.getvalue() == f"{head}key num\\x1b[2J_layers unmodelled\n"

