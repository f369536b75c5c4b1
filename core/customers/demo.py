"""Demo customers: Persian people and organisations with contacts, tags, notes and tasks.

Deterministic (a fixed random seed), idempotent (skipped once demo customers exist).
"""

import random
from datetime import date, timedelta

from sqlalchemy import select

from core.customers.models import Customer
from core.customers.services import add_note, affiliate, create_customer
from core.customers.tasks import add_task
from core.database import utcnow
from core.extensions import db

SOURCE = "نمایشگاه"  # the demo's marker among sources, next to the others below
FIRST = ("علی", "محمد", "حسین", "رضا", "مهدی", "امیر", "سعید", "حمید", "مجید", "کاوه",
         "زهرا", "فاطمه", "مریم", "سارا", "نرگس", "لیلا", "مینا", "نازنین", "الهام", "شیما")
LAST = ("احمدی", "محمدی", "حسینی", "رضایی", "کریمی", "موسوی", "جعفری", "صادقی", "رحیمی",
        "قاسمی", "نوروزی", "اکبری", "یزدانی", "شریفی", "تهرانی", "اصفهانی", "کرمانی", "شیرازی")
CITIES = (("تهران", "تهران"), ("اصفهان", "اصفهان"), ("فارس", "شیراز"), ("خراسان رضوی", "مشهد"),
          ("آذربایجان شرقی", "تبریز"), ("البرز", "کرج"), ("گیلان", "رشت"), ("کرمان", "کرمان"))
ORGANISATIONS = (("شرکت فناوران آریا", "10103456789"), ("فروشگاه زنجیره‌ای سپهر", "14005678901"),
                 ("گروه صنعتی البرز", "10861234567"), ("مجتمع تجاری پارس", "10320987654"))
SOURCES = (SOURCE, "وب‌سایت", "معرفی مشتری", "تماس ورودی", "اینستاگرام")
TAGS = ("VIP", "عمده‌فروش", "خرده‌فروش", "مشتری جدید", "نمایشگاه ۱۴۰۴")
PEOPLE = 60


def _national_code(rng: random.Random) -> str:
    from core.validators import national_code_check_digit

    first_nine = f"{rng.randrange(1, 10**9):09d}"
    return first_nine + str(national_code_check_digit(first_nine))


def _legal_id(base: str) -> str:
    """A valid 11-digit national id from its first ten digits."""
    from core.validators import check_legal_national_id

    for last in "0123456789":
        try:
            return check_legal_national_id(base[:10] + last)
        except ValueError:
            continue
    raise ValueError(base)


def load_customers(ctx) -> None:
    """About 60 people and 4 organisations owned by the demo agents, with notes and tasks."""
    if db.session.execute(select(Customer.id).where(Customer.source == SOURCE).limit(1)).scalar():
        return
    rng = random.Random(1404)  # nosec B311  # repeatable demo data
    owners = [u for u in ctx.users.values() if u.role.name in ("agent", "manager")] or \
        list(ctx.users.values())
    organisations = []
    for name, base in ORGANISATIONS:
        province, city = rng.choice(CITIES)
        organisations.append(create_customer(
            kind="organisation", legal_name=name, national_id=_legal_id(base),
            phones=[f"021{rng.randrange(10**7, 10**8)}"], source=rng.choice(SOURCES),
            address={"province": province, "city": city, "line": "خیابان اصلی، پلاک ۱۲"},
            tags=["عمده‌فروش"], owner_id=owners[0].id, consent_email=True))
    for i in range(PEOPLE):
        owner = owners[i % len(owners)]
        province, city = rng.choice(CITIES)
        first, last = rng.choice(FIRST), rng.choice(LAST)
        born = date(1965, 1, 1) + timedelta(days=rng.randrange(0, 365 * 40))
        person = create_customer(
            first_name=first, last_name=last, national_code=_national_code(rng),
            mobiles=[f"09{rng.choice('0123')}{rng.randrange(10**7, 10**8)}"],
            emails=[f"customer{i + 1}@example.ir"] if i % 3 == 0 else [],
            birthday=born, source=SOURCE if i == 0 else rng.choice(SOURCES),
            address={"province": province, "city": city},
            tags=rng.sample(TAGS, rng.randrange(0, 3)), owner_id=owner.id,
            team_id=owner.team_id, consent_sms=rng.random() < 0.8,
            consent_email=rng.random() < 0.5)
        if i < len(organisations) * 2:
            affiliate(person, organisations[i % len(organisations)], "کارشناس خرید")
        if i % 4 == 0:
            add_note(person, "مشتری درباره‌ی شرایط پرداخت اقساطی پرسید.", by=owner, kind="call")
        if i % 5 == 0:
            add_task(person, "پیگیری پیش‌فاکتور ارسال‌شده", by=owner, assignee_id=owner.id,
                     due_at=utcnow() + timedelta(days=rng.randrange(-2, 5)))
    db.session.commit()
    ctx.notes.append(f"Demo customers: {PEOPLE} people and {len(ORGANISATIONS)} organisations.")
