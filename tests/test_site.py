"""The course site (``make site``): built from the notebooks' saved outputs, every page opened in headless Chromium.

Checks that each student notebook's page shows every figure its saved outputs hold (each image loaded by the
browser), carries its Colab badge, that no internal link of any page is broken, that the front page is the
README's notebook table, and that no instructor material reaches the site. Skips, saying why, when the site
builder (the ``site`` extra) or Debian's ``chromium`` and ``chromium-driver`` are absent.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest

from conftest import REPO

pytestmark = pytest.mark.site

STUDENT = sorted(path for path in (REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")


def _missing() -> str | None:
    for module, extra in (("sphinx", "site"), ("myst_nb", "site"), ("selenium", "site")):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed (pip install -e '.[{extra}]')"
    if CHROMIUM is None or DRIVER is None:
        return "Chromium or its driver is not installed (apt-get install -y chromium chromium-driver)"
    return None


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    reason = _missing()
    if reason:
        pytest.skip(reason)
    out = tmp_path_factory.mktemp("site") / "html"
    build = subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-q", "-W", "--keep-going",
                            str(REPO / "site"), str(out)], capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, f"the site did not build without warnings:\n{build.stderr[-3000:]}"
    return out


@pytest.fixture(scope="module")
def browser(site, tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(DRIVER))
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def _open(browser, page: Path) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(page.as_uri())
    # get() may return before the page has finished (a large page, a resource that fails slowly offline)
    WebDriverWait(browser, 30).until(lambda driver: driver.execute_script("return document.readyState") == "complete")


def _saved_figures(notebook: Path) -> int:
    cells = nbformat.read(notebook, as_version=4).cells
    return sum("image/png" in output.get("data", {}) for cell in cells if cell.cell_type == "code" for output in cell.outputs)


@pytest.mark.parametrize("notebook", STUDENT, ids=lambda p: p.stem)
def test_each_notebook_page_shows_its_figures_and_its_colab_badge(site, browser, notebook):
    _open(browser, site / "notebooks" / f"{notebook.stem}.html")
    images = browser.execute_script(
        "return Array.from(document.images).filter(i => i.src.startsWith('file:'))"
        ".map(i => [i.src, i.complete && i.naturalWidth > 0])")
    expected = _saved_figures(notebook)
    assert expected > 0, f"{notebook.name} has no saved figure: run `make notebooks`"
    assert len(images) >= expected, f"{len(images)} images on the page, {expected} figures saved in the notebook"
    assert all(loaded for _, loaded in images), f"not loaded: {[src for src, ok in images if not ok]}"
    links = browser.execute_script("return Array.from(document.links).map(a => a.href)")
    assert any(link.startswith("https://colab.research.google.com/github/") and link.endswith(f"/notebooks/{notebook.name}")
               for link in links), "the page's Colab badge"


def test_no_internal_link_of_any_page_is_broken(site, browser):
    pages = sorted(site.rglob("*.html"))
    assert len(pages) >= len(STUDENT) + 1
    broken = []
    for page in pages:
        _open(browser, page)
        for href in browser.execute_script("return Array.from(document.links).map(a => a.href)"):
            parts = urlsplit(href)
            if parts.scheme != "file":
                continue
            target = Path(unquote(parts.path))
            if not target.exists():
                broken.append(f"{page.relative_to(site)} -> {href}")
            elif parts.fragment and target.suffix == ".html" and f'id="{parts.fragment}"' not in target.read_text(encoding="utf-8"):
                broken.append(f"{page.relative_to(site)} -> {href} (no such anchor)")
    assert not broken, "broken internal links:\n" + "\n".join(broken)


def test_the_front_page_is_the_readme_notebook_table(site, browser):
    _open(browser, site / "index.html")
    rows = browser.execute_script(
        "return Array.from(document.querySelectorAll('table tbody tr')).map(r => r.querySelector('a').href)")
    assert [Path(urlsplit(href).path).name for href in rows] == [f"{path.stem}.html" for path in STUDENT]
    header = browser.execute_script("return Array.from(document.querySelectorAll('table thead th')).map(h => h.textContent)")
    assert any("fast mode" in cell for cell in header) and any("estimate" in cell for cell in header)


def test_no_instructor_material_reaches_the_site(site):
    names = {path.name.lower() for path in site.rglob("*")}
    assert not [name for name in names if "instructor" in name or "solution" in name]
    for page in site.rglob("*.html"):
        assert "instructor/" not in page.read_text(encoding="utf-8"), f"{page.name} links instructor material"
