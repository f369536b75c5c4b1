"""Attribution: exact figures on a hand-built dataset, with and without sales."""

from datetime import UTC, datetime, timedelta

from core.extensions import db

T = datetime(2026, 3, 25, 8, tzinfo=UTC)  # 5 Farvardin 1405


def _customer(name):
    from core.customers.services import create_customer

    return create_customer(first_name=name, last_name="تست")


def build():
    """Two campaigns, recipients, leads and deals; returns (a, b, deal ids by name)."""
    from modules.marketing.models.campaigns import Campaign, Recipient
    from modules.marketing.models.leads import Lead
    from modules.sales.models.pipeline import Deal, Pipeline, Stage

    c = {n: _customer(n) for n in ("c1", "c2", "c3", "c4", "c5", "c6")}
    a = Campaign(name="Nowruz Sale", status="sent", cost=1_000_000, attribution_days=30,
                 started_at=T)
    b = Campaign(name="Yalda", status="sent", cost=0, started_at=T - timedelta(days=100))
    db.session.add_all([a, b])
    db.session.flush()
    for i, (name, sent, opened, clicked) in enumerate((
            ("c1", True, True, True), ("c2", True, True, False), ("c3", False, False, False),
            ("c4", True, False, False))):
        db.session.add(Recipient(campaign_id=a.id, customer_id=c[name].id, token=f"t{i}",
                                 status="sent" if sent else "pending",
                                 sent_at=T if sent else None, opened_at=T if opened else None,
                                 clicked_at=T if clicked else None, opens=int(opened),
                                 clicks=int(clicked)))
    pipeline = Pipeline(name="فروش")
    db.session.add(pipeline)
    db.session.flush()
    stage = Stage(pipeline_id=pipeline.id, name="اول")
    db.session.add(stage)
    db.session.flush()

    def deal(name, customer, status, closed, value):
        d = Deal(title=name, customer_id=c[customer].id, pipeline_id=pipeline.id,
                 stage_id=stage.id, status=status, closed_at=closed, value=value)
        db.session.add(d)
        db.session.flush()
        return d

    deals = {
        "d1": deal("d1", "c1", "won", T + timedelta(days=10), 3_000_000),
        "d2": deal("d2", "c2", "won", T + timedelta(days=40), 9_000_000),  # too late
        "d3": deal("d3", "c3", "won", T + timedelta(days=1), 9_000_000),  # never sent
        "d4": deal("d4", "c5", "won", T + timedelta(days=20), 2_000_000),  # converted lead
        "d5": deal("d5", "c4", "won", T - timedelta(days=1), 9_000_000),  # before the send
        "d6": deal("d6", "c1", "lost", T + timedelta(days=2), 9_000_000),
        "d7": deal("d7", "c6", "won", T + timedelta(days=100), 500_000),  # opened from lead
    }
    db.session.add_all([
        Lead(name="L1", campaign_id=a.id, deal_id=deals["d7"].id),
        Lead(name="L2", utm_campaign="nowruz  SALE"),
        Lead(name="L3", campaign_id=b.id, utm_campaign="Nowruz Sale"),
        Lead(name="L4", campaign_id=a.id, customer_id=c["c5"].id, status="converted",
             converted_at=T + timedelta(days=5)),
        Lead(name="L5", utm_campaign="something else"),
    ])
    db.session.commit()
    return a, b, {k: v.id for k, v in deals.items()}


def test_exact_figures_with_sales(app):
    from modules.marketing.attribution import attribution

    with app.app_context():
        a, b, deals = build()
        ra, rb = attribution([a, b], with_sales=True)
        assert (ra.cost, ra.reach, ra.opens, ra.clicks, ra.leads) == (1_000_000, 3, 2, 1, 3)
        assert sorted(ra.deal_ids) == sorted([deals["d1"], deals["d4"], deals["d7"]])
        assert (ra.deals, ra.revenue) == (3, 5_500_000)
        assert ra.roi == 4.5
        assert (rb.reach, rb.leads, rb.deals, rb.revenue, rb.roi) == (0, 1, 0, 0, None)


def test_figures_without_sales(app):
    from modules.marketing.attribution import attribution

    with app.app_context():
        a, _b, _deals = build()
        [ra] = attribution([a], with_sales=False)
        assert (ra.reach, ra.leads, ra.deals, ra.revenue, ra.roi) == (3, 3, 0, 0, -1.0)


def test_page_sorts_filters_by_jalali_month_and_exports_csv(app, client, make_user, login):
    with app.app_context():
        build()
    make_user(seats=["marketing", "sales"], locale="en")
    login()
    page = client.get("/marketing/attribution?sort=-revenue").get_data(as_text=True)
    assert page.index("Nowruz Sale") < page.index("Yalda")
    assert "450" in page  # ROI 450 %
    page = client.get("/marketing/attribution?start=1405-01&end=1405-01").get_data(as_text=True)
    assert "Nowruz Sale" in page and "Yalda" not in page
    csv = client.get("/marketing/attribution.csv?sort=name").get_data(as_text=True).lstrip("\ufeff")
    lines = csv.strip().splitlines()
    assert lines[0].startswith("Campaign,")
    assert lines[1].startswith("Nowruz Sale,") and "5500000" in lines[1] and "4.50" in lines[1]
    assert lines[2].startswith("Yalda,")


def test_page_in_persian_and_without_sales(app, client, make_user, login, monkeypatch):
    import core.modules

    with app.app_context():
        build()
    make_user(seats=["marketing"], locale="fa")
    login()
    page = client.get("/marketing/attribution").get_data(as_text=True)
    assert "۴۵۰%" in page and "Nowruz Sale" in page
    real = core.modules.is_active
    monkeypatch.setattr(core.modules, "is_active", lambda name: name != "sales" and real(name))
    import modules.marketing.views.attribution as view

    monkeypatch.setattr(view, "is_active", core.modules.is_active)
    page = client.get("/marketing/attribution").get_data(as_text=True)
    assert 'data-sort="revenue"' not in page and "-۱۰۰%" in page
