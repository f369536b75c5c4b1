"""The kanban board draws the first cards of each stage; "Show more" (GET /sales/board/cards)
appends the next ones, keyset-paged in the board's order, with the board's filters and scope."""

import html as htmllib
import re

import pytest

from core.extensions import db
from modules.sales.board import CARD_LIMIT
from tests.modules.sales.deal_helpers import make_customer, seed_pipeline


@pytest.fixture
def app_overrides():
    return {"BABEL_DEFAULT_LOCALE": "en"}


@pytest.fixture
def sales(app, make_user):
    """An admin and two agents ("own" record scope) with sales seats, a pipeline, a customer."""
    make_user("root@example.ir", role="admin", seats=["sales"], name="Root")
    make_user("ali@example.ir", role="agent", seats=["sales"], name="Ali")
    make_user("sara@example.ir", role="agent", seats=["sales"], name="Sara")
    ids = seed_pipeline(app)
    ids["customer"] = make_customer(app, "ali@example.ir", last_name="Rahimi")
    return ids


def make_deals(app, email, customer, stage, values, title="معامله") -> list[int]:
    """Open deals of ``email`` in ``stage``, one per value; their ids in the same order."""
    from core.auth.models import User
    from modules.sales.models.pipeline import Stage
    from modules.sales.pipeline import create_deal

    with app.test_request_context():
        owner = db.session.query(User).filter_by(email=email).one()
        pipeline = db.session.get(Stage, stage).pipeline_id
        ids = [create_deal(by=owner, customer_id=customer, stage_id=stage,
                           pipeline_id=pipeline, title=f"{title} {n}", value=value).id
               for n, value in enumerate(values)]
        db.session.commit()
        return ids


def board_order(app, ids) -> list[int]:
    """``ids`` as the board orders them: value, then id, descending."""
    from modules.sales.models.pipeline import Deal

    with app.app_context():
        deals = [db.session.get(Deal, i) for i in ids]
        return [d.id for d in sorted(deals, key=lambda d: (d.value, d.id), reverse=True)]


def cards_in(html: str, stage: int | None = None) -> list[int]:
    """The deal ids of the cards in ``stage``'s column of the board (or in a fragment)."""
    if stage is not None:
        html = html.split(f'id="stage-{stage}-cards"', 1)[1].split("</section>", 1)[0]
    return [int(x) for x in re.findall(r'<article [^>]*data-deal="(\d+)"', html)]


def footer_of(html: str, stage: int) -> str | None:
    """The column's footer ("Show more" and the link to the deal list), or None."""
    found = re.search(rf'<div [^>]*id="stage-{stage}-more".*?</div>', html, re.S)
    return found.group(0) if found else None


def show_more_url(html: str, stage: int) -> str | None:
    footer = footer_of(html, stage)
    found = footer and re.search(r'hx-get="([^"]+)"', footer)
    return htmllib.unescape(found.group(1)) if found else None


def follow(client, html, stage) -> tuple[list[int], list[str]]:
    """Click "Show more" until the column is exhausted: every card appended, and each answer."""
    cards, answers = [], []
    while url := show_more_url(html, stage):
        answer = client.get(url)
        assert answer.status_code == 200, answer.get_data(as_text=True)
        html = answer.get_data(as_text=True)
        cards += cards_in(html)
        answers.append(html)
    return cards, answers


def test_board_draws_the_first_cards_per_stage_and_says_how_many_remain(app, client, sales,
                                                                        login):
    assert CARD_LIMIT == 20
    lead, first_call, proposal, _negotiation = sales["stages"]
    many = make_deals(app, "ali@example.ir", sales["customer"], lead,
                      [1000 * (n % 9) for n in range(45)])
    few = make_deals(app, "ali@example.ir", sales["customer"], first_call, [5, 7, 6])
    login("root@example.ir")
    html = client.get(f"/sales/board?pipeline={sales['pipeline']}").get_data(as_text=True)

    assert cards_in(html, lead) == board_order(app, many)[:20]
    assert f'id="stage-{lead}-count" data-stage-count>45<' in html  # the header counts all
    footer = footer_of(html, lead)
    assert "Show 20 more (of 25)" in footer and "25 more deals in this stage" in footer
    assert f'hx-target="#stage-{lead}-cards" hx-swap="beforeend"' in footer
    assert f"/sales/deals?pipeline={sales['pipeline']}&amp;stage={lead}" in footer

    assert cards_in(html, first_call) == board_order(app, few)
    assert footer_of(html, first_call) is None and footer_of(html, proposal) is None


def test_show_more_chain_yields_every_deal_once_in_the_boards_order(app, client, sales,
                                                                   login):
    lead = sales["stages"][0]
    # equal values across the 20-card boundaries: the id decides, nothing is lost or repeated
    many = make_deals(app, "ali@example.ir", sales["customer"], lead,
                      [1_000_000 * (n // 3) for n in range(45)])
    login("root@example.ir")
    html = client.get(f"/sales/board?pipeline={sales['pipeline']}").get_data(as_text=True)
    first = cards_in(html, lead)

    rest, answers = follow(client, html, lead)
    assert first + rest == board_order(app, many)
    assert [len(cards_in(a)) for a in answers] == [20, 5]
    second_footer = footer_of(answers[0], lead)
    assert 'hx-swap-oob="true"' in second_footer
    assert "Show 5 more" in second_footer and "5 more deals in this stage" in second_footer
    assert f'<div id="stage-{lead}-more" hx-swap-oob="delete"></div>' in answers[1]


def test_show_more_keeps_the_owner_and_search_filters(app, client, sales, login):
    lead = sales["stages"][0]
    mine = make_deals(app, "ali@example.ir", sales["customer"], lead,
                      range(100, 130), title="سرور")
    make_deals(app, "sara@example.ir", sales["customer"], lead, range(50, 90), title="سرور")
    make_deals(app, "ali@example.ir", sales["customer"], lead, range(200, 240), title="چاپگر")
    login("root@example.ir")
    with app.app_context():
        from core.auth.models import User

        ali = db.session.query(User).filter_by(email="ali@example.ir").one().id
    base = f"/sales/board?pipeline={sales['pipeline']}"

    html = client.get(f"{base}&owner={ali}&q=سرور").get_data(as_text=True)
    assert cards_in(html, lead) == board_order(app, mine)[:20]
    assert f"owner={ali}" in show_more_url(html, lead) and "q=" in show_more_url(html, lead)
    assert "Show 10 more" in footer_of(html, lead)
    assert f"owner={ali}" in footer_of(html, lead)  # the deal list link has them too
    rest, _answers = follow(client, html, lead)
    assert cards_in(html, lead) + rest == board_order(app, mine)

    by_text = client.get(f"{base}&q=سرور").get_data(as_text=True)
    assert "Show 20 more (of 50)" in footer_of(by_text, lead)
    rest, _answers = follow(client, by_text, lead)
    assert len(cards_in(by_text, lead) + rest) == 70


def test_an_own_scope_agent_gets_only_their_own_cards(app, client, sales, login):
    lead = sales["stages"][0]
    alis = make_deals(app, "ali@example.ir", sales["customer"], lead, range(1000, 1030))
    saras = make_deals(app, "sara@example.ir", sales["customer"], lead, range(1, 26))
    login("sara@example.ir")
    html = client.get(f"/sales/board?pipeline={sales['pipeline']}").get_data(as_text=True)
    assert "Show 5 more" in footer_of(html, lead)
    rest, _answers = follow(client, html, lead)
    assert cards_in(html, lead) + rest == board_order(app, saras)

    # asking for the cards below the largest of Ali's deals gives only Sara's still
    top = max(alis)
    fragment = client.get(f"/sales/board/cards?pipeline={sales['pipeline']}&stage={lead}"
                          f"&after_value=5000&after_id={top + 1}&owner=").get_data(as_text=True)
    assert cards_in(fragment) == board_order(app, saras)[:20]
    assert not set(cards_in(fragment)) & set(alis)


def test_show_more_refuses_other_pipelines_unknown_stages_and_bad_cursors(app, client, sales,
                                                                         login):
    lead = sales["stages"][0]
    other = seed_pipeline(app, name="خدمات")
    make_deals(app, "ali@example.ir", sales["customer"], other["stages"][0], [5])
    login("root@example.ir")
    pipeline = sales["pipeline"]
    url = "/sales/board/cards?pipeline={}&stage={}&after_value=10&after_id=10"
    assert client.get(url.format(pipeline, other["stages"][0])).status_code == 404
    assert client.get(url.format(pipeline, 999_999)).status_code == 404
    assert client.get(url.format("", lead)).status_code == 404
    assert client.get(url.format(pipeline, "x")).status_code == 404

    cards = f"/sales/board/cards?pipeline={pipeline}&stage={lead}"
    for query in ("&after_value=abc&after_id=1", "&after_value=-5&after_id=1",
                  "&after_value=1.5&after_id=1", "&after_id=1", "&after_value=1&after_id=",
                  "&after_value=99999999999999999999&after_id=1",
                  "&after_value=1&after_id=" + "9" * 5000):
        refused = client.get(cards + query)
        assert refused.status_code == 400, query
        assert refused.mimetype == "text/plain"
        assert "after_value and after_id must be whole numbers" in refused.get_data(
            as_text=True)
    assert client.get(cards + "&after_value=۱۰&after_id=۱۰").status_code == 200
    biggest = 2**63 - 1  # a cursor above every card: the first cards again, no overflow
    top = client.get(cards + f"&after_value={biggest}&after_id={biggest}")
    assert top.status_code == 200, top.get_data(as_text=True)[:3000]


def test_show_more_in_persian_has_persian_digits(app, client, make_user, login):
    make_user("fa@example.ir", role="admin", seats=["sales"], locale="fa")
    ids = seed_pipeline(app)
    lead = ids["stages"][0]
    make_deals(app, "fa@example.ir", make_customer(app), lead, range(1, 46))
    login("fa@example.ir")
    html = client.get(f"/sales/board?pipeline={ids['pipeline']}").get_data(as_text=True)
    button = re.search(r"<button [^>]*data-show-more.*?</button>", footer_of(html, lead), re.S)
    assert "۲۰" in button.group(0) and "۲۵" in button.group(0)
