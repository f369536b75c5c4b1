"""Pipelines and the kanban board: stages, moving deals (service and view), counts and sums,
the weighted forecast and stale deals."""

import re
from datetime import date, timedelta

import pytest

from core.extensions import db
from tests.conftest import csrf_from
from tests.modules.sales.deal_helpers import (
    deal_row,
    make_customer,
    make_deal,
    seed_pipeline,
)


@pytest.fixture
def app_overrides():
    return {"BABEL_DEFAULT_LOCALE": "en"}


@pytest.fixture
def sales(app, make_user):
    """An admin and two agents with sales seats (the trial has three), a pipeline, a
    customer."""
    make_user("root@example.ir", role="admin", seats=["sales"], name="Root")
    make_user("ali@example.ir", role="agent", seats=["sales"], name="Ali")
    make_user("sara@example.ir", role="agent", seats=["sales"], name="Sara")
    ids = seed_pipeline(app)
    ids["customer"] = make_customer(app, "ali@example.ir", last_name="Rahimi")
    return ids


def test_pipeline_stages_are_validated_and_a_stage_with_deals_stays(app, sales):
    from modules.sales import pipeline as services
    from modules.sales.models.pipeline import Pipeline

    with app.test_request_context():
        with pytest.raises(services.PipelineError) as refused:
            services.save_pipeline(None, "", [{"name": "A", "probability": "۱۲۰"}])
        assert set(refused.value.errors) == {"name", "stages-0-probability"}
        with pytest.raises(services.PipelineError) as no_stage:
            services.save_pipeline(None, "B", [{"name": " ", "probability": 1}])
        assert set(no_stage.value.errors) == {"stages"}
    make_deal(app, "ali@example.ir", sales["customer"], sales["stages"][0])
    with app.test_request_context():
        pipeline = db.session.get(Pipeline, sales["pipeline"])
        kept = [{"id": s.id, "name": s.name, "probability": s.probability}
                for s in pipeline.stages[1:]]
        with pytest.raises(services.PipelineError) as busy:
            services.save_pipeline(pipeline, pipeline.name, kept)
        assert "move its deals first" in busy.value.errors["stages"]
        db.session.rollback()
        pipeline = db.session.get(Pipeline, sales["pipeline"])
        # reorder, rename, change a chance, drop an empty stage, add one
        first, second, third, _fourth = pipeline.stages
        services.save_pipeline(pipeline, "فروش", [
            {"id": second.id, "name": "تماس", "probability": "۳۰"},
            {"id": first.id, "name": first.name, "probability": 10},
            {"id": third.id, "name": third.name, "probability": 50},
            {"name": "قرارداد", "probability": 90}])
        db.session.commit()
        pipeline = db.session.get(Pipeline, sales["pipeline"])
        assert [(s.name, s.probability) for s in pipeline.stages] == [
            ("تماس", 30), ("سرنخ", 10), ("ارائه", 50), ("قرارداد", 90)]


def test_pipeline_form_saves_stages_in_the_order_typed(app, client, sales, login):
    from modules.sales.models.pipeline import Pipeline

    login("root@example.ir")
    page = client.get("/sales/pipelines/new")
    saved = client.post("/sales/pipelines/new", data={
        "csrf_token": csrf_from(page), "name": "پروژه",
        "stage_id": ["", "", ""], "stage_order": ["۲", "۱", ""],
        "stage_name": ["پیشنهاد", "نیازسنجی", ""], "stage_probability": ["۴۰", "۱۰", ""]})
    assert saved.status_code == 302, saved.data[:2000]
    with app.app_context():
        pipeline = db.session.query(Pipeline).filter_by(name="پروژه").one()
        assert [(s.name, s.probability) for s in pipeline.stages] == [("نیازسنجی", 10),
                                                                      ("پیشنهاد", 40)]
    refused = client.post("/sales/pipelines/new", data={
        "csrf_token": csrf_from(page), "name": "خالی", "stage_id": [""], "stage_order": [""],
        "stage_name": [""], "stage_probability": [""]})
    assert "A pipeline needs at least one stage." in refused.get_data(as_text=True)


def _audit(app, action):
    from core.audit import AuditLog

    with app.app_context():
        return [(a.target, a.detail, a.user_id) for a in
                db.session.query(AuditLog).filter_by(action=action).order_by(AuditLog.id)]


def test_move_deal_service_persists_writes_history_and_audits(app, sales):
    from modules.sales import pipeline as services
    from modules.sales.models.pipeline import Deal

    deal_id = make_deal(app, "ali@example.ir", sales["customer"], sales["stages"][0])
    first, _second, third = sales["stages"][:3]
    with app.test_request_context():
        deal = db.session.get(Deal, deal_id)
        services.move_deal(deal, third)
        db.session.commit()
    assert deal_row(app, deal_id)["stage_id"] == third
    target = f"sales_deal:{deal_id}"
    assert [(t, d["from"], d["to"]) for t, d, _u in _audit(app, "sales.deal.stage")] == [
        (target, first, third)]
    with app.test_request_context():
        deal = db.session.get(Deal, deal_id)
        assert [(h.kind, (h.detail or {}).get("to_name")) for h in services.history(deal)] == [
            ("stage", "ارائه"), ("created", None)]
        other = seed_pipeline(app, name="دیگر")
        with pytest.raises(services.PipelineError):
            services.move_deal(deal, other["stages"][0])
        services.close_deal(deal, "won")
        with pytest.raises(services.PipelineError) as closed:
            services.move_deal(deal, first)
        assert closed.value.errors == {"stage_id": "Reopen the deal before moving it."}


def _move(client, deal_id, stage_id, token):
    return client.post("/sales/board/move", data={"item": deal_id, "from": "", "to": stage_id,
                                                  "index": 0, "order": [deal_id]},
                       headers={"X-CSRFToken": token, "X-Requested-With": "fetch"})


def test_board_move_view_persists_audits_and_answers_new_column_numbers(app, client, sales,
                                                                        login):
    deal_id = make_deal(app, "ali@example.ir", sales["customer"], sales["stages"][0],
                        value=1_000_000)
    login("ali@example.ir")
    board = client.get("/sales/board")
    token = csrf_from(board)
    first, second = sales["stages"][:2]

    assert _move(client, deal_id, second, "").status_code == 400  # no CSRF token
    assert deal_row(app, deal_id)["stage_id"] == first

    moved = _move(client, deal_id, second, token)
    assert moved.status_code == 200, moved.data
    assert moved.json["stage"] == second
    assert moved.json["text"][f"stage-{second}-count"] == "1"
    assert moved.json["text"][f"stage-{second}-total"] == "1,000,000 Rial"
    assert moved.json["text"][f"stage-{second}-weighted"] == "250,000 Rial"
    assert moved.json["text"][f"stage-{first}-count"] == "0"
    assert deal_row(app, deal_id)["stage_id"] == second
    with app.app_context():
        from core.auth.models import User

        ali = db.session.query(User).filter_by(email="ali@example.ir").one().id
    assert [(d["to"], u) for _t, d, u in _audit(app, "sales.deal.stage")] == [(second, ali)]

    other = seed_pipeline(app, name="دیگر")
    refused = _move(client, deal_id, other["stages"][0], token)
    assert refused.status_code == 409 and refused.mimetype == "text/plain"
    assert "Choose a stage of this pipeline." in refused.get_data(as_text=True)
    assert deal_row(app, deal_id)["stage_id"] == second


def test_board_shows_stages_with_cards_counts_and_sums(app, client, sales, login):
    first, second, third, fourth = sales["stages"]
    other = make_customer(app, "sara@example.ir", last_name="Karimi")
    make_deal(app, "ali@example.ir", sales["customer"], first, title="تجهیز دفتر",
              value=2_000_000)
    make_deal(app, "ali@example.ir", sales["customer"], first, title="تونر", value=500_000)
    make_deal(app, "sara@example.ir", other, third, title="شبکه", value=4_000_000)
    lost = make_deal(app, "sara@example.ir", other, third, title="باخته", value=9_000_000)
    with app.test_request_context():
        from modules.sales import pipeline as services
        from modules.sales.models.pipeline import Deal

        services.close_deal(db.session.get(Deal, lost), "lost", lost_reason="قیمت")
        db.session.commit()
    login("root@example.ir")
    page = client.get("/sales/board")
    html = page.get_data(as_text=True)
    for stage, count, total in ((first, "2", "2,500,000 Rial"), (second, "0", "0 Rial"),
                                (third, "1", "4,000,000 Rial"), (fourth, "0", "0 Rial")):
        assert f'id="stage-{stage}-count" data-stage-count>{count}<' in html
        assert f'id="stage-{stage}-total" data-stage-total>{total}<' in html
    assert f'id="stage-{third}-weighted" data-stage-weighted>2,000,000 Rial<' in html
    assert html.count("data-deal=") == 3 and "باخته" not in html  # closed deals leave
    for name in ("سرنخ", "تماس اولیه", "ارائه", "مذاکره", "تجهیز دفتر", "تونر", "شبکه"):
        assert name in html
    assert f'data-sortable-list="{first}"' in html
    assert 'data-sortable-sort="false"' in html

    # an agent sees only their own deals, and their sums
    client.post("/auth/logout", data={"csrf_token": csrf_from(page)})
    login("sara@example.ir")
    mine = client.get("/sales/board").get_data(as_text=True)
    assert "شبکه" in mine and "تونر" not in mine
    assert f'id="stage-{first}-count" data-stage-count>0<' in mine


def test_board_in_persian_has_persian_digits(app, client, make_user, login):
    make_user("fa@example.ir", role="admin", seats=["sales"], locale="fa")
    stages = seed_pipeline(app)["stages"]
    make_deal(app, "fa@example.ir", make_customer(app), stages[0], value=1_250_000)
    login("fa@example.ir")
    html = client.get("/sales/board").get_data(as_text=True)
    assert "data-stage-count>۱<" in html and "۱٬۲۵۰٬۰۰۰ ریال" in html


def test_board_without_a_pipeline_says_so(client, make_user, login):
    make_user("root@example.ir", role="manager", seats=["sales"])
    login("root@example.ir")
    html = client.get("/sales/board").get_data(as_text=True)
    assert "No pipeline yet" in html and "/sales/pipelines/new" in html


def test_forecast_weights_open_deals_by_jalali_month(app, client, sales, login):
    from modules.sales import board as queries

    first, _second, third = sales["stages"][:3]  # 10% and 50%
    # 1403/05/01 = 2024-07-22 and 1403/05/31 = 2024-08-21: one Jalali month (Mordad)
    make_deal(app, "ali@example.ir", sales["customer"], first, value=1_000_005,
              expected_close=date(2024, 7, 22))
    make_deal(app, "ali@example.ir", sales["customer"], third, value=3_000_000,
              expected_close=date(2024, 8, 21))
    make_deal(app, "ali@example.ir", sales["customer"], third, value=7_000_000,
              expected_close=date(2024, 8, 22))  # 1403/06/01
    make_deal(app, "ali@example.ir", sales["customer"], third, value=5_000_000)  # undated
    with app.test_request_context():
        from flask_login import login_user

        from core.auth.models import User

        login_user(db.session.query(User).filter_by(email="root@example.ir").one())
        months, undated = queries.forecast()
        assert [(m.year, m.month, m.count, m.total, m.weighted) for m in months] == [
            (1403, 5, 2, 4_000_005, 1_600_001), (1403, 6, 1, 7_000_000, 3_500_000)]
        assert (undated.count, undated.total) == (1, 5_000_000)
    login("root@example.ir")
    html = client.get("/sales/forecast").get_data(as_text=True)
    assert "Mordad 1403" in html and "1,600,001 Rial" in html
    assert "1 open deal has no expected close date" in html
    listed = client.get("/sales/deals?month=۱۴۰۳-۰۵&status=open").get_data(as_text=True)
    assert listed.count("data-deal=") == 2


def test_stale_deals_are_open_deals_without_recent_activity(app, client, sales, login):
    from core.database import utcnow
    from modules.sales.models.pipeline import Deal

    old = make_deal(app, "ali@example.ir", sales["customer"], sales["stages"][0],
                    title="قدیمی")
    make_deal(app, "ali@example.ir", sales["customer"], sales["stages"][0], title="تازه")
    with app.app_context():
        db.session.get(Deal, old).last_activity_at = utcnow() - timedelta(days=30)
        db.session.commit()
    login("ali@example.ir")
    html = client.get("/sales/deals?stale=1&status=open").get_data(as_text=True)
    assert "قدیمی" in html and "تازه" not in html
    assert "no activity for 14 days" in html


def test_who_to_call_today_puts_stale_deals_first_then_customer_priority(app, client, sales,
                                                                        login):
    from core.analytics.models import CustomerScore
    from core.database import utcnow
    from modules.sales.models.pipeline import Deal

    stage = sales["stages"][0]
    high = make_customer(app, "ali@example.ir", last_name="High")
    low = make_customer(app, "ali@example.ir", last_name="Low")
    unscored = make_deal(app, "ali@example.ir", sales["customer"], stage, title="بی‌امتیاز")
    to_low = make_deal(app, "ali@example.ir", low, stage, title="کم")
    to_high = make_deal(app, "ali@example.ir", high, stage, title="زیاد")
    stale = make_deal(app, "ali@example.ir", low, stage, title="راکد")
    make_deal(app, "sara@example.ir", high, stage, title="مال سارا")
    with app.app_context():
        for customer, priority in ((high, 9.5), (low, 2.0)):
            db.session.add(CustomerScore(customer_id=customer, recency_days=1, frequency=1,
                                         monetary=1, r_score=3, f_score=3, m_score=3,
                                         segment="loyal", priority=priority))
        db.session.get(Deal, stale).last_activity_at = utcnow() - timedelta(days=20)
        db.session.commit()
    login("ali@example.ir")
    html = client.get("/sales/today?size=2").get_data(as_text=True)
    first_page = [int(x) for x in re.findall(r'<tr data-deal="(\d+)"', html)]
    assert first_page == [stale, to_high]
    assert "data-stale" in html and "مال سارا" not in html
    following = re.search(r'href="([^"]*after=[^"]+)"', html).group(1)
    rest = client.get(following.replace("&amp;", "&")).get_data(as_text=True)
    assert [int(x) for x in re.findall(r'<tr data-deal="(\d+)"', rest)] == [
        to_low, unscored]
