"""peyvand.js in real Chromium: date picker, charts, htmx with CSRF, drag and drop, confirm."""

import datetime as dt
import re

import pytest

from tests.browser import assert_clean, shot
from tests.core.ui import sample

pytestmark = pytest.mark.e2e

PERSIAN_DATE = re.compile(r"^[۰-۹]{4}/[۰-۹]{2}/[۰-۹]{2}$")
LATIN_DATE = re.compile(r"^\d{4}/\d{2}/\d{2}$")


@pytest.fixture
def sample_server(app, live_server):
    app.register_blueprint(sample.bp)
    sample.STATE.clear()
    with app.app_context():
        sample.create_items([{"id": i, "name": f"item {i:02d}", "score": i % 3,
                              "created_at": dt.datetime(2024, 1, 1)} for i in range(1, 26)])
    yield live_server
    with app.app_context():
        sample.drop_items()


def use_language(page, server, lang: str) -> None:
    page.goto(server("/auth/login"))
    if page.get_attribute("html", "lang") != lang:
        page.click(f"button[data-language={lang}]")
        page.wait_for_selector(f"html[lang={lang}]")


@pytest.mark.parametrize("lang", ["fa", "en"])
def test_jalali_date_picker_fills_a_date_the_server_reads(browser_page, sample_server, lang):
    page = browser_page
    use_language(page, sample_server, lang)
    page.goto(sample_server("/uitest/form"))
    page.fill("#name", "Ali")
    page.click("#born")
    picker = page.locator("jdp-container")
    picker.wait_for(state="visible")
    assert "Vazirmatn" in picker.evaluate("e => getComputedStyle(e).fontFamily")
    month_names = picker.inner_text()
    assert ("فروردین" in month_names or "اسفند" in month_names or "مهر" in month_names) \
        if lang == "fa" else re.search(r"Farvardin|Mehr|Esfand|Dey|Tir|Aban", month_names)
    shot(page, f"datepicker-{lang}")
    page.locator("jdp-container .jdp-day:not(.not-in-month):not(.disabled-day)").nth(9).click()
    value = page.input_value("#born")
    assert (PERSIAN_DATE if lang == "fa" else LATIN_DATE).match(value), value
    # opening it again shows the chosen day (Persian digits are read back too)
    page.click("#name")
    page.click("#born")
    picker.wait_for(state="visible")
    assert picker.locator(".jdp-day.selected").count() == 1
    page.keyboard.press("Escape")
    page.click("form button[type=submit]")
    parsed = page.get_attribute("[data-parsed]", "data-parsed")
    assert dt.date.fromisoformat(parsed).day in range(1, 32)
    assert_clean(page)


def test_charts_htmx_sortable_confirm_and_progress(browser_page, sample_server):
    page = browser_page
    page.goto(sample_server("/uitest/widgets"))

    # a chart drawn from the data-chart JSON, in the page font
    page.wait_for_function(
        "() => window.Chart && Chart.getChart(document.querySelector('canvas'))")
    assert "Vazirmatn" in page.evaluate("Chart.defaults.font.family")
    ticks = page.evaluate(
        "Chart.getChart(document.querySelector('canvas')).scales.y.ticks.map(t => t.label)")
    assert ticks[0] == "۰" and ticks[-1] == "۵", ticks
    assert page.evaluate("Chart.getChart(document.querySelector('canvas')).data.datasets[0].label"
                         ) == 'فروش "ماه"'

    # htmx POST passes CSRF (the header from the meta tag); the swapped HTML is initialised too
    page.click("#load")
    page.wait_for_selector("[data-fragment] canvas")
    page.wait_for_function(
        "() => Chart.getChart(document.querySelector('[data-fragment] canvas')) !== undefined")
    page.click("#swapped-date")
    page.locator("jdp-container").wait_for(state="visible")
    page.keyboard.press("Escape")

    # the job progress polls every second until done
    page.wait_for_selector("[data-job-status=done]", timeout=30_000)  # busy CI machines
    assert page.inner_text("[data-job-message]") == "Imported"
    assert page.get_attribute("#job progress", "value") == "4"

    # drag and drop: the new order reaches the server
    page.drag_and_drop("#sortable [data-id=c]", "#sortable [data-id=a]")
    page.wait_for_function("() => !document.querySelector('#sortable.crm-sortable-saving')")
    page.wait_for_timeout(300)
    order = page.eval_on_selector_all("#sortable [data-id]", "els => els.map(e => e.dataset.id)")
    assert order[0] == "c", order
    assert sample.STATE["order"] == order and sample.STATE["moved"] == "c"

    # a refused reorder is put back and the reason shown
    page.drag_and_drop("#locked [data-id=y]", "#locked [data-id=x]")
    page.wait_for_selector(".toast.show")
    assert "This list is locked" in page.inner_text(".toast.show")
    locked = page.eval_on_selector_all("#locked [data-id]", "els => els.map(e => e.dataset.id)")
    assert locked == ["x", "y"]
    shot(page, "widgets-fa")

    # data-confirm: cancel keeps the page, confirm submits the form
    page.click("#delete-form button")
    page.wait_for_selector("#crm-confirm.show")
    assert page.inner_text("[data-confirm-message]") == "Delete everything?"
    page.click("#crm-confirm [data-bs-dismiss=modal].btn")
    page.wait_for_selector("#crm-confirm", state="hidden")
    assert "deleted" not in sample.STATE
    page.click("#delete-form button")
    page.click("#crm-confirm [data-confirm-ok]")
    page.wait_for_selector("[data-deleted='1']")

    problems = [p for p in page.crm_problems if "409" not in p]  # the refused reorder
    assert not problems, problems
    assert not page.evaluate("window.__crmCsp")


def test_list_pages_sorts_and_searches_in_the_browser(browser_page, sample_server):
    page = browser_page
    page.goto(sample_server("/uitest/items?min=1"))
    first = page.eval_on_selector_all("[data-item]", "els => els.map(e => e.dataset.item)")
    assert len(first) == 10
    page.click("[data-page=next]")
    page.wait_for_url(re.compile(r"after="))
    assert "min=1" in page.url
    second = page.eval_on_selector_all("[data-item]", "els => els.map(e => e.dataset.item)")
    assert not set(first) & set(second)
    page.click("[data-page=prev]")
    page.wait_for_url(re.compile(r"before="))
    assert page.eval_on_selector_all("[data-item]", "els => els.map(e => e.dataset.item)") == first
    page.click("[data-sort=score]")
    page.wait_for_url(re.compile(r"sort=-score"))
    scores = page.eval_on_selector_all("[data-item] td:last-child",
                                       "cells => cells.map(cell => cell.textContent)")
    assert scores == sorted(scores, reverse=True)
    page.fill("input[type=search]", "item 2")
    page.press("input[type=search]", "Enter")
    page.wait_for_url(re.compile(r"q=item"))
    assert "min=1" in page.url and "sort=-score" in page.url
    shot(page, "items-fa")
    assert_clean(page)
