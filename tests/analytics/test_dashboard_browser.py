"""The overview dashboard in headless Chromium: the ECharts canvases are drawn (pixels, not a blank canvas), and
changing the filters changes the figures, the charts and the URL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.analytics.stub import StubReader
from tests.browser_wait import wait_for_expression
from tests.factories import DEMO_PASSWORD

# painted (non-transparent) pixels of a chart's canvas, read back with getImageData
PAINTED = """(sel) => {
  const canvas = document.querySelector(sel + ' canvas');
  if (!canvas) return 0;
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let n = 0;
  for (let i = 3; i < data.length; i += 4) { if (data[i] !== 0) n++; }
  return n;
}"""


@pytest.fixture
def stub_reader(live_server: Any) -> Iterator[StubReader]:
    """The live app reads a stub (figures that follow the filters) for this test, then its own reader again."""
    state = live_server.server.config.app.state
    previous = state.analytics_reader
    state.analytics_reader = stub = StubReader()
    yield stub
    state.analytics_reader = previous


def _tile(page: Any, code: str) -> str:
    return str(page.locator(f'#tiles .tile[data-code="{code}"] .tile-value').inner_text()).strip()


@pytest.mark.browser
def test_overview_draws_its_charts_and_the_filters_change_the_figures(live_server: Any, page: Any, artifacts: Path,
                                                                     stub_reader: StubReader) -> None:
    page.goto(f"{live_server.url}/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_load_state()
    page.goto(f"{live_server.url}/dashboard?date_from=2026-11-01&date_to=2026-11-10")
    for key in ("day", "hour_of_week", "league", "channels"):
        wait_for_expression(page, f"document.querySelector('.chart[data-chart=\"{key}\"]').dataset.drawn === '1'")
        assert page.evaluate(PAINTED, f'.chart[data-chart="{key}"]') > 500, key
    assert _tile(page, "tickets") == "100"
    before = page.evaluate("document.querySelector('.chart[data-chart=\"day\"] canvas').toDataURL()")
    page.screenshot(path=str(artifacts / "dashboard-overview.png"), full_page=True)

    page.fill("input[name=date_to]", "2026-11-20")
    page.click("#dashboard-filters button[type=submit]")
    wait_for_expression(page, "document.querySelector('#tiles .tile[data-code=\"tickets\"] .tile-value')"
                           ".innerText.trim() === '200'")
    assert "date_to=2026-11-20" in page.url  # the filters are kept in the URL
    wait_for_expression(page, "document.querySelector('.chart[data-chart=\"day\"]').dataset.drawn === '1'")
    after = page.evaluate("document.querySelector('.chart[data-chart=\"day\"] canvas').toDataURL()")
    assert after != before  # 20 days drawn instead of 10
    assert page.evaluate(PAINTED, '.chart[data-chart="day"]') > 500

    page.goto(f"{live_server.url}/dashboard/screen")
    wait_for_expression(page, "document.querySelector('.chart[data-chart=\"screen\"]').dataset.drawn === '1'")
    assert page.evaluate(PAINTED, '.chart[data-chart="screen"]') > 500
    page.screenshot(path=str(artifacts / "dashboard-screen.png"), full_page=True)
