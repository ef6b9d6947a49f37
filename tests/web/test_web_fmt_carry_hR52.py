"""The web's `IP.fmt` writes numbers exactly as `significant_text` does (hR52), two cases where they differed:
* a value rounding carries to 10^(digits - 1): 999.96 was "1000" on both sides (the magnitude taken before
  rounding), now "1,000";
* an exact tie: JavaScript's Math.round and toFixed take the larger, Python's round() and format the even, so the
  web wrote mxfp4's 0.53125 bytes a weight "0.5313" where the CLI writes "0.5312", 1234.5 "1,235" against "1,234"
  (58 of 3,000 random values, half of them dyadic, differed; none now)."""

from __future__ import annotations

from typing import Any

from tests.web.test_web_browser import CATALOGS_READY, open_page

from infraplan.units import significant_text

VALUES = [(999.96, 4), (-999.96, 4), (9999.96, 5), (0.53125, 4), (1234.5, 4), (-0.25, 1), (0.125, 2), (2.5, 1),
          (1235.5, 4), (999.94, 4), (99.996, 4), (0.99996, 4), (150516.0, 4), (0.15, 1)]


def test_ip_fmt_writes_carries_and_ties_as_the_cli_does(live_server: str, browser: Any) -> None:
    errors: list[str] = []
    page = open_page(browser, live_server + "/facility", CATALOGS_READY, errors)
    said = page.evaluate("(vs) => vs.map(([x, d]) => IP.fmt(x, d))", [list(v) for v in VALUES])
    assert said == [significant_text(x, d) for x, d in VALUES]
    assert said[:9] == ["1,000", "-1,000", "10,000", "0.5312", "1,234", "-0.2", "0.12", "2", "1,236"]
    assert errors == []
    page.close()
