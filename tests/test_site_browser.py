"""The site in a real browser: headless Chromium (Debian's chromium and chromium-driver,
installed by .ci/install-tools) driven by Selenium, against a real `healthcoop serve` on
loopback. Pages load without console errors, show their statements and quotes, the index
filter narrows the list, nothing scrolls sideways at 375 px, the picture files open on
their own, and a hostile label stays text: no script of it runs. Screenshots are kept as
artefacts (in $HEALTHCOOP_SCREENSHOTS if set, else in pytest's temporary directory)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mini_project import edit  # noqa: E402
from tools.browser import (  # noqa: E402
    chromium,
    chromium_present,
    console_errors,
    reset_width,
    selenium_present,
    set_width,
)
from tools.external import need  # noqa: E402
from tools.site_release import (  # noqa: E402
    LIVE,
    SOURCE,
    WITHDRAWN,
    WITHDRAWN_REASON,
    serving,
    site_project,
)

pytestmark = pytest.mark.external

HOSTILE_ID = "harbour-pharma"
HOSTILE = ('Harbour Pharma </script><script>window.__pwned = 1; alert(1)</script> '
           '"q" {{ 7*7 }}')
QUOTE = "Minister of Health Alice Grant led the Northbridge delegation"


def _build(tmp: Path) -> Path:
    """The mini project with a withdrawn record (as tests/tools/site_release.py) and a
    label that tries to close the JSON-LD script element and open its own."""
    from pipeline.build import build_release

    root = site_project(tmp)
    escaped = HOSTILE.replace('"', '\\"')
    edit(root / "data/records/actors.yaml", 'label: "Harbour Pharma"', f'label: "{escaped}"')
    return build_release(root, tmp / "output")


@pytest.fixture(scope="module")
def base_url(tmp_path_factory):
    """A real `healthcoop serve` on a free loopback port, serving the built site."""
    need(selenium_present(), "selenium (pip install -e '.[test]')")
    need(chromium_present(), "chromium and chromium-driver (Debian)")
    release = _build(tmp_path_factory.mktemp("browser"))
    with serving(release) as port:
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def driver(base_url):
    with chromium() as d:
        yield d


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    wanted = os.environ.get("HEALTHCOOP_SCREENSHOTS")
    path = Path(wanted) if wanted else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def load(driver, url: str, shots: Path, name: str) -> list[str]:
    """Open `url`, save a screenshot `name`.png, return the console errors it caused."""
    console_errors(driver)  # drop what earlier pages logged
    driver.get(url)
    driver.save_screenshot(str(shots / f"{name}.png"))
    return console_errors(driver)


def visible(driver, css: str) -> list:
    from selenium.webdriver.common.by import By

    return [e for e in driver.find_elements(By.CSS_SELECTOR, css) if e.is_displayed()]


PAGES = [  # (name, path, expected title start)
    ("index", "/index.html", "healthcoop"),
    ("entity", f"/doc/{LIVE}.html", "Alice Grant"),
    ("source", f"/doc/{SOURCE}.html", None),
    ("pictures", "/pictures.html", "Pictures"),
    ("tombstone", f"/doc/{WITHDRAWN}.html", "Li Wen"),
    ("kind", "/kind/all.html", "Everything"),
    ("ontology", "/ontology/index.html", "healthcoop ontology"),
    ("topics", "/topic/scheme.html", "healthcoop topics"),
]


@pytest.mark.parametrize("name, path, title", PAGES, ids=[p[0] for p in PAGES])
def test_page_loads_without_console_errors(driver, base_url, shots, name, path, title):
    """Each kind of page loads with no error in the browser console and the title it
    should have."""
    errors = load(driver, base_url + path, shots, name)
    assert errors == []
    if title:
        assert driver.title.startswith(title), driver.title


def test_entity_page_shows_statements_and_quotes(driver, base_url, shots):
    """alice-grant's statements and the quote supporting them are on screen, and the
    neighbourhood picture is drawn at a visible size."""
    assert load(driver, f"{base_url}/doc/{LIVE}.html", shots, "entity-statements") == []
    assert visible(driver, "ul.statements li")
    assert any(QUOTE in q.text for q in visible(driver, "blockquote"))
    (svg,) = visible(driver, "svg.picture")
    assert svg.size["width"] > 100 and svg.size["height"] > 50


def test_source_page_marks_its_quotes(driver, base_url, shots):
    """The source page shows its archived text with the quoted passages marked and
    linked to the statements."""
    assert load(driver, f"{base_url}/doc/{SOURCE}.html", shots, "source-marks") == []
    marks = visible(driver, "pre.source-text mark")
    assert len(marks) >= 3
    assert all(m.text.strip() for m in marks)


def test_overview_pictures_are_drawn(driver, base_url, shots):
    """The timeline and the network render as pictures of real size, with their titles
    as accessible names."""
    assert load(driver, f"{base_url}/pictures.html", shots, "pictures-drawn") == []
    pictures = visible(driver, "svg.picture")
    assert len(pictures) == 2
    for svg in pictures:
        assert svg.size["width"] > 200 and svg.size["height"] > 50
        assert svg.get_attribute("role") == "img"


@pytest.mark.parametrize("path", ["/pictures/timeline.svg", "/pictures/network.svg",
                                  f"/doc/{LIVE}.svg", f"/doc/{HOSTILE_ID}.svg"])
def test_standalone_pictures_open_on_their_own(driver, base_url, shots, path):
    """Each picture file, opened by itself (as after "Download this picture"), is an SVG
    document the browser draws without a console error, titled by its <title>; the
    hostile label in harbour-pharma's neighbourhood is text there too: no script runs."""
    from selenium.common.exceptions import NoAlertPresentException

    name = "svg-" + path.strip("/").replace("/", "-").removesuffix(".svg")
    assert load(driver, base_url + path, shots, name) == []
    root = driver.execute_script("var r = document.documentElement; "
                                 "return [r.namespaceURI, r.localName, "
                                 "r.getBoundingClientRect().width];")
    assert root[:2] == ["http://www.w3.org/2000/svg", "svg"] and root[2] > 100
    assert driver.execute_script("return document.querySelector('title').textContent")
    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert.text  # noqa: B018 - raises when no alert is open
    assert driver.execute_script("return typeof window.__pwned") == "undefined"
    assert driver.execute_script("return document.getElementsByTagName('script').length") == 0
    if HOSTILE_ID in path:
        assert "Harbour Pharma </script><script>" in driver.execute_script(
            "return document.documentElement.textContent")


def test_tombstone_at_the_id(driver, base_url, shots):
    """/id/<withdrawn> shows the tombstone page (served with 410 Gone) with the reason;
    the only console entry is the browser's note of that 410 status."""
    errors = load(driver, f"{base_url}/id/{WITHDRAWN}", shots, "tombstone-410")
    assert all("410" in e for e in errors), errors
    (box,) = visible(driver, ".tombstone")
    assert "This record was withdrawn" in box.text and WITHDRAWN_REASON in box.text


def test_filter_narrows_the_index(driver, base_url, shots):
    """Typing into the index's filter hides the entries that do not match, updates the
    count, and clearing it shows them all again."""
    from selenium.webdriver.common.by import By

    load(driver, f"{base_url}/kind/all.html", shots, "filter-before")
    everything = visible(driver, "#items li")
    assert len(everything) > 5
    box = driver.find_element(By.ID, "filter")
    box.send_keys("alice")
    shown = visible(driver, "#items li")
    driver.save_screenshot(str(shots / "filter-alice.png"))
    assert 0 < len(shown) < len(everything)
    assert all("alice" in li.text.lower() for li in shown)
    assert driver.find_element(By.ID, "count").text == str(len(shown))
    box.clear()
    box.send_keys(" ")
    box.send_keys("\b")
    assert len(visible(driver, "#items li")) == len(everything)


@pytest.mark.parametrize("name, path, title", PAGES, ids=[p[0] for p in PAGES])
def test_readable_at_phone_width(driver, base_url, shots, name, path, title):
    """At 375 CSS px nothing scrolls sideways (document.scrollWidth <= 375)."""
    set_width(driver, 375)
    try:
        load(driver, base_url + path, shots, f"375-{name}")
        width = driver.execute_script("return document.documentElement.scrollWidth")
        assert width <= 375, width
    finally:
        reset_width(driver)


@pytest.mark.parametrize("path", [f"/doc/{HOSTILE_ID}.html", "/kind/all.html",
                                  "/pictures.html"])
def test_hostile_label_is_text_and_no_script_runs(driver, base_url, shots, path):
    """A label holding `</script><script>window.__pwned = 1; alert(1)</script>` is shown
    as text; its script never runs (no alert opens, the window flag stays unset), and the
    page has no console error."""
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    errors = load(driver, base_url + path, shots, "hostile-" + path.strip("/").replace("/", "-"))
    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert.text  # noqa: B018 - raises when no alert is open
    assert driver.execute_script("return typeof window.__pwned") == "undefined"
    assert errors == []
    text = driver.execute_script("return document.body.textContent")
    assert HOSTILE in text
    assert driver.execute_script("return document.scripts.length") <= 2  # ours only
    if path.startswith("/doc/"):
        assert driver.find_element(By.TAG_NAME, "h1").text == HOSTILE
