"""The web pages write numbers as the CLI does (hU, session 51): `IP.fmt` used JavaScript's toPrecision, which
switches to e-notation from 10^digits on, so the facility page read "CO2 operational 1.087e+5 t/year" for 24,576 H100
where `facility` prints "108,706 t/year" (and the campus page "1.19e+6" H100-equivalents, the serve page "1.901e+4"
output tokens/s). It now follows `infraplan.units.significant_text`: thousands separated, never in e-notation."""

from __future__ import annotations

from typing import Any

from tests.web.test_web_browser import CATALOGS_READY, open_page, run_facility_page

from infraplan.units import significant_text

VALUES = [(150516.0, 4), (24576.0, 4), (1447.0, 4), (26.714, 4), (0.000123, 4), (0.5, 3), (9999.6, 4),
          (0.99996, 4), (-1234567.0, 4), (2.841, 4), (98.7654, 3), (1e-7, 4)]


def test_ip_fmt_writes_numbers_as_the_cli_does(live_server: str, browser: Any) -> None:
    errors: list[str] = []
    page = open_page(browser, live_server + "/facility", CATALOGS_READY, errors)
    said = page.evaluate("(vs) => vs.map(([x, d]) => IP.fmt(x, d))", [list(v) for v in VALUES])
    assert said == [significant_text(x, d) for x, d in VALUES]  # "1.505e+5", "2.458e+4", ... before
    api = run_facility_page(page, live_server, 24576, timeout_ms=120_000)
    assert api["co2_t_per_year"] > 1e4  # a figure of five digits or more
    shown = page.inner_text("#fac-out")
    assert f"{significant_text(api['co2_t_per_year'])} t/year" in shown
    assert "e+" not in shown
    assert errors == []
    page.close()
