"""The list and form macros, rendered by a real view through the test client."""

import datetime as dt
import re
from html import unescape

import pytest

from tests.conftest import csrf_from
from tests.core.ui.sample import bp, create_items, drop_items


@pytest.fixture
def sample_app(app):
    app.register_blueprint(bp)
    with app.app_context():
        create_items([{"id": i, "name": f"item {i:02d}", "score": i % 4,
                       "created_at": dt.datetime(2024, 1, 1)} for i in range(1, 36)])
    yield app
    with app.app_context():
        drop_items()


def links(html: str, marker: str) -> list[str]:
    return [unescape(m) for m in re.findall(rf'href="([^"]+)"[^>]*{marker}', html)]


def test_pagination_links_keep_filters_and_sort(sample_app):
    client = sample_app.test_client()
    html = client.get("/uitest/items?min=1&sort=-score&q=item").get_data(as_text=True)
    assert 'data-page="prev"' not in html  # first page: previous is disabled
    (next_url,) = links(html, 'data-page="next"')
    assert next_url.startswith("/uitest/items?")
    assert "min=1" in next_url and "sort=-score" in next_url and "q=item" in next_url
    second = client.get(next_url).get_data(as_text=True)
    (prev_url,) = links(second, 'data-page="prev"')
    assert "before=" in prev_url and "after=" not in prev_url and "min=1" in prev_url
    first_again = client.get(prev_url).get_data(as_text=True)
    rows = re.findall(r'data-item="(\d+)"', first_again)
    assert rows == re.findall(r'data-item="(\d+)"', html)


def test_sortable_header_flips_direction_and_restarts_paging(sample_app):
    client = sample_app.test_client()
    html = client.get("/uitest/items?sort=name&min=2").get_data(as_text=True)
    name_link = re.search(
        r'<th scope="col" class="" aria-sort="ascending">\s*<a[^>]*href="([^"]+)"', html)
    assert name_link, html
    assert unescape(name_link.group(1)) == "/uitest/items?min=2&sort=-name"
    score_link = unescape(re.search(r'href="([^"]+)" data-sort="score"', html).group(1))
    assert score_link == "/uitest/items?min=2&sort=-score"  # default_descending


def test_search_box_keeps_other_arguments_but_not_page_tokens(sample_app):
    html = sample_app.test_client().get("/uitest/items?min=2&sort=score&q=it").get_data(
        as_text=True)
    form = html[html.index("data-search"):html.index("</form>", html.index("data-search"))]
    hidden = dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', form))
    assert hidden == {"min": "2", "sort": "score"}
    assert 'name="q" value="it"' in form


def test_empty_state_when_nothing_matches(sample_app):
    html = sample_app.test_client().get("/uitest/items?q=nothing-like-this").get_data(
        as_text=True)
    assert "data-empty-state" in html and "Nothing matches this search." in html
    assert "data-pagination" not in html


def test_field_macro_renders_each_kind_with_errors(sample_app):
    client = sample_app.test_client()
    page = client.get("/uitest/form")
    html = page.get_data(as_text=True)
    assert re.search(r'<select class="form-select"[^>]*name="kind"', html)
    assert re.search(r'<input class="form-check-input"[^>]*name="active"[^>]*role="switch"', html)
    assert html.count('type="radio"') == 2 and "<legend" in html
    assert re.search(r'<input class="form-control"[^>]*type="file"', html)
    assert re.search(r'<textarea class="form-control"[^>]*rows="2"', html)
    assert 'aria-describedby="name-help"' in html and 'id="name-help"' in html
    assert "data-jalali-date" in html

    response = client.post("/uitest/form", data={"csrf_token": csrf_from(page), "name": "",
                                                 "kind": "person", "channel": "sms"})
    html = response.get_data(as_text=True)
    (tag,) = re.findall(r'<input[^>]*name="name"[^>]*>', html)
    for attribute in ('class="form-control is-invalid"', 'aria-invalid="true"',
                      'aria-describedby="name-help name-error"'):
        assert attribute in tag, tag
    assert 'id="name-error"' in html


def test_form_accepts_a_jalali_date_in_persian_digits(sample_app):
    client = sample_app.test_client()
    page = client.get("/uitest/form")
    response = client.post("/uitest/form", data={
        "csrf_token": csrf_from(page), "name": "Ali", "born": "۱۴۰۳/۰۱/۰۱",
        "kind": "org", "channel": "email"})
    assert 'data-parsed="2024-03-20"' in response.get_data(as_text=True)


def test_progress_macro_polls_until_done(sample_app):
    client = sample_app.test_client()
    client.get("/uitest/widgets")
    bodies = [client.get("/uitest/job", headers={"HX-Request": "true"}).get_data(as_text=True)
              for _ in range(4)]
    assert all('hx-trigger="every 1s"' in body for body in bodies[:3])
    assert 'data-job-status="done"' in bodies[3] and "hx-trigger" not in bodies[3]
    assert 'max="4" value="4"' in bodies[3]
