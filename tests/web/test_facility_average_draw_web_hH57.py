"""The facility page answers the average draw beside the peak, as the CLI does (hH57's review of hC57).

hC57 gave `facility` two powers: the peak (`it_power_w`, `facility_power_w`: the design load capacity and capex are
sized for) and the average draw (`it_power_average_w`, `facility_power_average_w` = peak x the load factor, the one
figure energy, opex and carbon count at). The CLI's table labels the first "(peak)" and prints the second and the
energy a year at that load; the page's summary still said "IT power" / "facility power" unlabelled, with no average
and no energy row, so a planner comparing a site's MW with a TOP500 figure (an average) read the peak as the draw.
"""

from __future__ import annotations

from typing import Any

from tests.web.test_web_browser import CATALOGS_READY, open_page, run_facility_page


def test_the_facility_page_shows_the_peak_labelled_the_average_draw_and_the_energy(live_server: str,
                                                                                   browser: Any) -> None:
    errors: list[str] = []
    page = open_page(browser, live_server + "/facility", CATALOGS_READY, errors)
    api = run_facility_page(page, live_server, 1024)
    rows = dict(line.split("\t", 1) for line in page.inner_text("#fac-out .summary").splitlines() if "\t" in line)
    assert "IT power (peak)" in rows and "facility power (peak)" in rows, rows
    assert float(page.get_attribute("#fac-out #average-power", "data-value") or "nan") == \
        api["facility_power_average_w"]
    load = api["assumptions"]["load_factor"]
    assert api["facility_power_average_w"] == api["facility_power_w"] * load < api["facility_power_w"]
    assert f"{100 * load:g} % load" in rows["IT / facility power (average)"]
    assert float(page.get_attribute("#fac-out #energy", "data-value") or "nan") == api["energy_mwh_per_year"]
    assert rows["energy"].endswith(f"MWh/year at {100 * load:g} % load")
    assert errors == []
    page.close()
