"""Knowledge base pages: write in both languages, search and filter, read-only for agents."""

from sqlalchemy import select

from core.extensions import db
from tests.conftest import csrf_from


def test_manager_writes_an_article_agents_find_and_read_it(app, client, make_user, login):
    from modules.service.models.kb import KbArticle, KbCategory

    make_user("boss@example.ir", role="manager", seats=["service"])
    make_user("agent@example.ir", role="agent", seats=["service"])
    login("boss@example.ir")
    empty = client.get("/service/kb")
    assert "هنوز".encode() in empty.data or b"data-empty-state" in empty.data
    page = client.get("/service/kb/categories")
    assert client.post("/service/kb/categories", data={
        "csrf_token": csrf_from(page), "name_fa": "گارانتی", "name_en": "Warranty",
        "position": "۱"}).status_code == 302
    with app.app_context():
        category_id = db.session.execute(select(KbCategory.id)).scalar_one()
    form = client.get("/service/kb/new")
    refused = client.post("/service/kb/new", data={"csrf_token": csrf_from(form),
                                                    "title_fa": "", "title_en": ""})
    assert refused.status_code == 200 and b"data-kb-form" in refused.data
    saved = client.post("/service/kb/new", data={
        "csrf_token": csrf_from(form), "title_fa": "شرایط گارانتی کیف‌پول",
        "body_fa": "فاکتور خرید لازم است.", "title_en": "Wallet warranty terms",
        "body_en": "Keep your invoice.", "category_id": str(category_id), "public": "y"})
    assert saved.status_code == 302
    internal = client.post("/service/kb/new", data={
        "csrf_token": csrf_from(form), "title_fa": "تخفیف همکاران", "body_fa": "داخلی"})
    assert internal.status_code == 302
    with app.app_context():
        article = db.session.execute(
            select(KbArticle).where(KbArticle.public.is_(True))).scalar_one()
        assert (article.category_id, article.title_en) == (category_id, "Wallet warranty terms")
        article_id = article.id
    client.post("/auth/logout", data={"csrf_token": csrf_from(client.get("/service/kb"))})

    login("agent@example.ir")
    found = client.get("/service/kb?q=گارانتي+كيف پول")
    assert f'data-article="{article_id}"'.encode() in found.data
    assert "تخفیف همکاران".encode() not in found.data
    only_internal = client.get("/service/kb?visibility=internal")
    assert "تخفیف همکاران".encode() in only_internal.data
    assert f'data-article="{article_id}"'.encode() not in only_internal.data
    none = client.get("/service/kb?q=nothing-here")
    assert b"data-empty-state" in none.data
    shown = client.get(f"/service/kb/{article_id}")
    assert "فاکتور خرید لازم است.".encode() in shown.data and b"Keep your invoice." in shown.data
    assert b"/edit" not in shown.data
    assert client.get(f"/service/kb/{article_id}/edit").status_code == 403
    assert client.get("/service/kb/new").status_code == 403
    assert client.get("/service/kb/999").status_code == 404


def test_every_page_of_the_area_renders_in_persian(app, client, make_user, login):
    from datetime import date

    from core.customers.services import create_customer
    from modules.service import installed, kb

    make_user(seats=["service", "sales"])
    with app.test_request_context():
        customer = create_customer(last_name="مشتری")
        item = installed.save_item(None, customer_id=customer.id, product_name="یخچال",
                                   serial="R-1", purchased_on=date(2024, 3, 20),
                                   warranty_until=date(2025, 3, 21))
        article = kb.create_article(title_fa="راهنما", body_fa="متن", public=True)
        db.session.commit()
        ids = (customer.id, item.id, article.id)
    login()
    for path in ("/service/kb", f"/service/kb/{ids[2]}", f"/service/kb/{ids[2]}/edit",
                 "/service/kb/new", "/service/kb/categories", "/service/assets",
                 f"/service/assets/{ids[1]}/edit", "/service/assets/new",
                 "/service/assets/warranty-terms", "/service/surveys",
                 "/service/surveys/rounds/new", f"/customers/{ids[0]}"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert 'dir="rtl"' in page.data.decode(), path
    assets = client.get("/service/assets").data.decode()
    assert "۱۴۰۳/۰۱/۰۱" in assets and "R-1" in assets  # Jalali dates, Persian digits
