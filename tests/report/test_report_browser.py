"""The report in a real headless chromium, at phone (390 px) and desktop (1280 px) widths: the
page never scrolls sideways and no table is wider than its section, with every fold opened."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))
from test_web_browser import browser, screenshot_on_failure  # noqa: E402,F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.slow]
pytest_plugins = ["report_fixtures"]  # demo_run: a run folder of the demo's stages

OVERFLOW = """
document.querySelectorAll('details').forEach(d => d.open = true);
const wide = [];
for (const t of document.querySelectorAll('table')) {
  // a table is clipped (needs sideways scrolling) when wider than its scroll box
  const box = t.closest('.tbl') || t.closest('section');
  if (t.offsetWidth > 0 && box.scrollWidth > box.clientWidth + 1) {
    const cap = t.querySelector('caption');
    wide.push(t.closest('section').id + ': ' + (cap ? cap.textContent : t.className)
              + ' (' + box.scrollWidth + ' px in ' + box.clientWidth + ')');
  }
}
for (const img of document.querySelectorAll('img')) {
  const box = img.closest('section').getBoundingClientRect();
  const r = img.getBoundingClientRect();
  if (img.naturalWidth === 0 || r.right > box.right + 1) wide.push('image ' + img.alt);
}
return {page: document.documentElement.scrollWidth, view: window.innerWidth, wide: wide};
"""


@pytest.mark.parametrize("width", [390, 1280])
def test_report_fits_phone_and_desktop(demo_run, browser, tmp_path, width):  # noqa: F811
    from pluralign.report import write_report

    path, _ = write_report(demo_run, tmp_path / "report.html")
    d = browser
    d.set_window_size(width, 900)
    with screenshot_on_failure(d, f"report-{width}", tmp_path):
        d.get(path.resolve().as_uri())
        # phones draw scrollbars over the page: give the layout the full width
        bar = d.execute_script("return window.innerWidth - document.documentElement.clientWidth")
        d.set_window_size(width + bar, 900)
        found = d.execute_script(OVERFLOW)
        assert found["view"] <= width + bar
        assert found["page"] <= found["view"] - bar, found
        assert found["wide"] == [], found["wide"]
        assert d.find_element("id", "summary").is_displayed()
