"""Service demo data beside the tickets: the SLA calendar with this year's fixed holidays,
default policies, and a small knowledge base in Persian and English."""

from sqlalchemy import select

from core.database import utcnow
from core.extensions import db
from core.i18n import jalali_month_of

KB_CATEGORIES = (("راهنمای محصولات", "Product guides"), ("سفارش و ارسال", "Orders and delivery"))
# category index, public, fa title, en title, fa body, en body
ARTICLES = (
    (0, True, "اتصال چاپگر به شبکه وای‌فای", "Connecting the printer to Wi-Fi",
     "۱. دکمه وای‌فای چاپگر را سه ثانیه نگه دارید.\n۲. در رایانه، چاپگر را از فهرست دستگاه‌ها "
     "برگزینید.\n۳. اگر چراغ چشمک می‌زند، چاپگر را خاموش و روشن کنید.",
     "1. Hold the printer's Wi-Fi button for three seconds.\n2. On the computer, pick the "
     "printer from the device list.\n3. If the light blinks, switch the printer off and on."),
    (0, True, "لپ‌تاپ روشن نمی‌شود", "The laptop does not turn on",
     "شارژر را به پریز دیگری بزنید و پانزده ثانیه دکمه روشن را نگه دارید. اگر چراغ شارژ "
     "خاموش ماند، درخواست گارانتی ثبت کنید و شماره سریال را بنویسید.",
     "Plug the charger into another socket and hold the power button for fifteen seconds. "
     "If the charge light stays off, open a warranty claim with the serial number."),
    (1, True, "پیگیری سفارش و زمان ارسال", "Tracking an order",
     "سفارش‌های تهران ظرف دو روز کاری و شهرستان‌ها ظرف پنج روز کاری ارسال می‌شوند. کد رهگیری "
     "پس از ارسال پیامک می‌شود.",
     "Orders in Tehran ship within two working days, elsewhere within five. The tracking code "
     "is sent by SMS once the parcel leaves."),
    (1, False, "روال داخلی: تعویض کالای معیوب", "Internal: replacing a faulty item",
     "پیش از تعویض، شماره سریال و تاریخ فاکتور را با اقلام نصب‌شده مشتری تطبیق دهید.",
     "Before a replacement, check the serial and invoice date against the customer's "
     "installed base."),
)


def load_sla(ctx) -> None:
    """The default calendar and policies, with the fixed holidays of this Jalali year and
    the next."""
    from modules.service import holidays, sla_state

    calendar = sla_state.ensure_defaults()
    year = jalali_month_of(utcnow())[0]
    added = sum(holidays.load_fixed(calendar, y) for y in (year, year + 1))
    if added:
        ctx.notes.append(f"{added} holidays loaded")


def load_kb(ctx) -> None:
    """A few help articles (three public, one internal), once."""
    from modules.service.kb import create_article
    from modules.service.models.kb import KbArticle, KbCategory

    if db.session.execute(select(KbArticle.id).limit(1)).first():
        return
    categories = []
    for position, (name_fa, name_en) in enumerate(KB_CATEGORIES):
        category = KbCategory(name_fa=name_fa, name_en=name_en, position=position)
        db.session.add(category)
        categories.append(category)
    db.session.flush()
    for index, public, title_fa, title_en, body_fa, body_en in ARTICLES:
        create_article(category_id=categories[index].id, public=public, title_fa=title_fa,
                       title_en=title_en, body_fa=body_fa, body_en=body_en)
    ctx.notes.append(f"{len(ARTICLES)} help articles created")
