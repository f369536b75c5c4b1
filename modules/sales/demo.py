"""Sales demo data: a Persian catalogue, a price list, discount limits, a pipeline and deals.

Idempotent: products are found by code, the pipeline by name, and deals are added only
while the demo pipeline has none.
"""

from datetime import timedelta

from sqlalchemy import func, select

from core.extensions import db

CATEGORIES = ("لپ‌تاپ", "چاپگر و لوازم", "خدمات شبکه")
# code, name, kind, unit, category, price (rials), tax, stock, upgrade to
PRODUCTS = (
    ("LAP-01", "لپ‌تاپ ایسوس ویووبوک ۱۵", "product", "عدد", 0, 450_000_000, "standard", 12,
     "LAP-02"),
    ("LAP-02", "لپ‌تاپ ایسوس زن‌بوک ۱۴", "product", "عدد", 0, 780_000_000, "standard", 5, None),
    ("PRN-01", "چاپگر لیزری اچ‌پی ۱۰۷", "product", "عدد", 1, 180_000_000, "standard", 8,
     None),
    ("TON-01", "کارتریج تونر مشکی", "product", "بسته", 1, 25_000_000, "standard", 40, None),
    ("CBL-01", "کابل شبکه Cat6", "product", "متر", 2, 350_000, "standard", 1500, None),
    ("SRV-01", "نصب و راه‌اندازی شبکه", "service", "ساعت", 2, 8_000_000, "standard", None,
     None),
    ("SRV-02", "آموزش نرم‌افزارهای اداری", "service", "نفر-ساعت", 2, 3_500_000, "exempt",
     None, None),
)
PIPELINE = "فروش سازمانی"
STAGES = (("سرنخ", 10), ("تماس اولیه", 25), ("ارائه", 50), ("مذاکره", 75))
# title, stage index, products [(code, qty)], days to close, owner email, outcome
DEALS = (
    ("تجهیز دفتر مرکزی", 3, [("LAP-02", 6), ("PRN-01", 2)], 20, "ali.rezaei@peyvand.local",
     None),
    ("ارتقای لپ‌تاپ‌های واحد مالی", 2, [("LAP-01", 4)], 35, "ali.rezaei@peyvand.local", None),
    ("شبکه شعبه اصفهان", 1, [("CBL-01", 300), ("SRV-01", 24)], 50,
     "maryam.ahmadi@peyvand.local", None),
    ("خرید تونر سالانه", 0, [("TON-01", 30)], 70, "ali.rezaei@peyvand.local", None),
    ("دوره آموزش کارکنان", 0, [("SRV-02", 40)], 90, "maryam.ahmadi@peyvand.local", None),
    ("چاپگرهای طبقه دوم", 2, [("PRN-01", 3)], 15, "ali.rezaei@peyvand.local", None),
    ("لپ‌تاپ مدیران", 3, [("LAP-02", 2)], -10, "maryam.ahmadi@peyvand.local", "won"),
    ("کابل‌کشی انبار", 1, [("CBL-01", 800)], -5, "ali.rezaei@peyvand.local", "lost"),
)


def load_sales(ctx) -> None:
    """The demo step (after customers): catalogue, price list, pipeline, deals."""
    from core.database import utcnow
    from modules.sales import catalog
    from modules.sales import pipeline as deals
    from modules.sales.models.catalog import PriceList, Product
    from modules.sales.models.pipeline import Deal, Pipeline

    categories = [catalog.category_named(name) for name in CATEGORIES]
    products = {}
    for code, name, kind, unit, category, price, tax, stock, _up in PRODUCTS:
        product = db.session.execute(select(Product).where(Product.code == code)).scalar()
        if product is None:
            product = catalog.create_product(code=code, name=name, kind=kind, unit=unit,
                                             category_id=categories[category].id, price=price,
                                             tax_category=tax, stock_quantity=stock)
            ctx.notes.append(f"product {code} created")
        products[code] = product
    for code, *_rest, upgrade in PRODUCTS:
        if upgrade and products[code].upgrade_to_id is None:
            products[code].upgrade_to_id = products[upgrade].id
    if db.session.execute(select(func.count()).select_from(PriceList)).scalar() == 0:
        loyal = catalog.save_price_list(None, name="مشتریان وفادار", match_kind="segment",
                                        match_value="champions", priority=10)
        for product in products.values():
            catalog.set_list_price(loyal, product, product.price * 95 // 100)
        ctx.notes.append("price list for champions created")
    if not catalog.discount_limits():
        from core.admin.services import role_by_name

        catalog.set_discount_limits({role_by_name("manager").id: 20,
                                     role_by_name("agent").id: 5})
    db.session.commit()

    pipeline = db.session.execute(select(Pipeline).where(Pipeline.name == PIPELINE)).scalar()
    if pipeline is None:
        pipeline = deals.save_pipeline(None, PIPELINE, [{"name": n, "probability": p}
                                                        for n, p in STAGES])
        ctx.notes.append(f"pipeline {PIPELINE} created")
        db.session.commit()
    if db.session.execute(select(Deal.id).where(Deal.pipeline_id == pipeline.id)
                          .limit(1)).first():
        return
    _deals(ctx, pipeline, products, utcnow())
    db.session.commit()


def _deals(ctx, pipeline, products, now) -> None:
    from core.auth.models import User
    from core.customers.models import Customer
    from core.customers.services import create_customer
    from modules.sales import pipeline as deals

    customers = list(db.session.execute(
        select(Customer).where(Customer.kind == "organisation").order_by(Customer.id)
        .limit(len(DEALS))).scalars())
    if not customers:
        customers = [create_customer(kind="organisation", legal_name="شرکت نمونه آرمان")]
    users = {u.email: u for u in db.session.execute(select(User)).scalars()}
    for i, (title, stage, lines, days, email, outcome) in enumerate(DEALS):
        owner = users.get(email)
        customer = customers[i % len(customers)]
        deal = deals.create_deal(by=owner, title=title, customer_id=customer.id,
                                 pipeline_id=pipeline.id,
                                 stage_id=pipeline.stages[stage].id, source="نمایشگاه الکامپ",
                                 expected_close=(now + timedelta(days=days)).date())
        deals.set_lines(deal, [{"product_id": products[code].id, "quantity": qty}
                               for code, qty in lines], customer, by=owner)
        if outcome == "won":
            deals.close_deal(deal, "won", by=owner)
        elif outcome == "lost":
            deals.close_deal(deal, "lost", lost_reason="قیمت بالاتر از رقیب",
                             competitor="شبکه‌گستر پارس", by=owner)
    ctx.notes.append(f"{len(DEALS)} deals created")


def register(app) -> None:
    from core.demo import add_demo_step

    add_demo_step(app, "sales", load_sales, order=95)
