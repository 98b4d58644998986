"""Every page kind in headless Chromium (Debian's chromium + chromium-driver, driven by
Selenium): what a person sees, and that the links lead where they say.

Skipped when chromium is not installed here; CI installs it and sets
BRIEFBOT_REQUIRE_CHROMIUM=1 (.ci/run), so there a missing browser fails them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.live import TOKEN, LiveSite, chromium, chromium_paths

ABSENT = "headless Chromium absent: apt-get install chromium chromium-driver (CI has it)"


@pytest.fixture(scope="module", autouse=True)
def needs_chromium() -> None:
    if chromium_paths() is None:
        if os.environ.get("BRIEFBOT_REQUIRE_CHROMIUM") == "1":
            pytest.fail(f"{ABSENT}; BRIEFBOT_REQUIRE_CHROMIUM=1")
        pytest.skip(ABSENT)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveSite]:
    with LiveSite(tmp_path_factory.mktemp("live")) as live:
        yield live


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    driver = chromium(1280, 900)
    try:
        yield driver
    finally:
        driver.quit()


def by_css(driver: Any, selector: str) -> list[Any]:
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, selector)


def no_alert(driver: Any) -> bool:
    from selenium.common.exceptions import NoAlertPresentException

    try:
        _ = driver.switch_to.alert
    except NoAlertPresentException:
        return True
    return False


def test_home_shows_latest_issue_and_archive_and_its_links_work(
    site: LiveSite, browser: Any
) -> None:
    browser.get(site.url + "/")
    assert browser.title == "嵌入式AI简报"
    assert by_css(browser, "p.kicker")[0].text == "最新一期"
    assert "2026-11-16" in by_css(browser, "article.issue h1")[0].text
    years = [h.text for h in by_css(browser, "section.archive h3")]
    assert years == ["2026"]
    archive = by_css(browser, "ul.issues a")
    assert len(archive) == 3
    target = next(a for a in archive if a.get_attribute("href").endswith("/2026-11-02"))
    target.click()
    assert browser.current_url == site.url + "/embedded-ai/2026-11-02"
    assert "端侧大模型INT4量化" in by_css(browser, "h1")[0].text
    feeds = by_css(browser, 'link[rel="alternate"][type="application/atom+xml"]')
    assert feeds and feeds[0].get_attribute("href") == site.url + "/embedded-ai/feed.atom"


def test_issue_page_shows_sections_and_entries(site: LiveSite, browser: Any) -> None:
    browser.get(site.url + "/embedded-ai/2026-11-02")
    headings = [h.text for h in by_css(browser, "section.section h2")]
    assert headings[:2] == ["业界新闻", "论文"]
    titles = [h.text for h in by_css(browser, "li.entry h3")]
    assert "骁龙新旗舰平台发布：NPU性能提升45%，支持端侧多模态大模型" in titles[0]
    summary = by_css(browser, "li.entry p.summary")[0]
    assert summary.is_displayed() and "3nm" in summary.text
    # a section heading leads to the section page, and a topic tag to the topic page
    by_css(browser, "#s-papers h2 a")[0].click()
    assert browser.current_url == site.url + "/embedded-ai/section/papers"
    assert by_css(browser, "h1")[0].text == "栏目：论文"
    browser.back()
    tag = by_css(browser, "p.topics a.tag")[0]
    name = tag.text
    tag.click()
    assert "/embedded-ai/topic/" in browser.current_url
    assert by_css(browser, "h1")[0].text == f"话题：{name}"


def test_hostile_issue_shows_its_title_as_text_and_runs_nothing(
    site: LiveSite, browser: Any
) -> None:
    browser.get(site.url + "/embedded-ai/2026-10-05")
    assert no_alert(browser)
    h1 = by_css(browser, "h1")[0].text
    assert "<script>alert('t')</script> 标题攻击" in h1
    assert browser.execute_script("return document.scripts.length") == 0
    first = by_css(browser, "li.entry h3")[0]
    assert '"onmouseover=alert(1) x="' in first.text
    assert by_css(browser, "li.entry h3 a")[0].get_attribute("href") == "https://example.com/ok"
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(browser).move_to_element(first).perform()
    assert no_alert(browser)


def test_section_page_links_back_to_the_issue(site: LiveSite, browser: Any) -> None:
    browser.get(site.url + "/embedded-ai/section/papers")
    entries = by_css(browser, "li.entry")
    assert len(entries) >= 5
    source = by_css(browser, "li.entry p.from a")[0]
    source.click()
    assert browser.current_url.startswith(site.url + "/embedded-ai/2026-11-16#s-papers")
    assert by_css(browser, "#s-papers")


def test_search_form_shows_highlighted_results_and_pages(site: LiveSite, browser: Any) -> None:
    from selenium.webdriver.common.keys import Keys

    browser.get(site.url + "/")
    box = by_css(browser, 'form.search input[name="q"]')[0]
    box.send_keys("NPU", Keys.ENTER)
    assert browser.current_url.startswith(site.url + "/search?q=NPU")
    assert by_css(browser, "h1")[0].text == "搜索: NPU"
    hits = by_css(browser, "li.hit")
    assert len(hits) == 10
    marks = by_css(browser, "li.hit mark")
    assert marks and all(m.text.upper() == "NPU" for m in marks)
    color = marks[0].value_of_css_property("background-color")
    assert color not in ("rgba(0, 0, 0, 0)", "transparent")  # a person sees the highlight
    by_css(browser, 'a[rel="next"]')[0].click()
    assert "page=2" in browser.current_url and by_css(browser, "li.hit")
    by_css(browser, "li.hit h3 a")[0].click()
    assert "/embedded-ai/2026-" in browser.current_url and "#s-" in browser.current_url


def test_language_switch_shows_english(site: LiveSite, browser: Any) -> None:
    browser.get(site.url + "/embedded-ai/2026-11-02")
    by_css(browser, "a.lang")[0].click()
    assert browser.current_url.endswith("/embedded-ai/2026-11-02?lang=en")
    assert [h.text for h in by_css(browser, "section.section h2")][:2] == [
        "Industry news",
        "Papers",
    ]
    by_css(browser, "a.brand")[0].click()
    assert browser.current_url.endswith("/embedded-ai?lang=en")
    assert by_css(browser, "p.kicker")[0].text.lower() == "latest issue"


def test_operator_page_draws_its_charts(site: LiveSite, browser: Any) -> None:
    browser.get(site.url + "/operator")
    # refused: the browser asks for credentials (headless: an empty page), nothing shows
    assert "Operator" not in browser.page_source and not by_css(browser, "img")
    authed = site.url.replace("http://", f"http://admin:{TOKEN}@")
    browser.get(authed + "/operator")
    assert by_css(browser, "h1")[0].text == "Operator"
    images = by_css(browser, "img.chart")
    assert len(images) == 3
    for image in images:
        width = browser.execute_script(
            "return arguments[0].complete && arguments[0].naturalWidth", image
        )
        assert width == 800, image.get_attribute("src")


def test_phone_width_has_no_sideways_scroll(site: LiveSite, tmp_path: Path) -> None:
    phone = chromium(390, 844, mobile=True)
    try:
        for path in ("/", "/embedded-ai/2026-11-02", "/search?q=量化"):
            phone.get(site.url + path)
            inner = phone.execute_script("return window.innerWidth")
            scroll = phone.execute_script("return document.documentElement.scrollWidth")
            assert inner == 390 and scroll <= inner, (path, scroll)
            size = phone.execute_script(
                "return parseFloat(getComputedStyle(document.body).fontSize)"
            )
            assert size >= 16
    finally:
        phone.quit()
