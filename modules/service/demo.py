"""Service demo data: ticket categories and about forty tickets in every state, with messages.

Idempotent: categories are found by name, and tickets are added only while the demo
categories have none. Times lie in the past so the SLA columns and reports have a history.
"""

from datetime import timedelta

from sqlalchemy import select

from core.extensions import db

SUPPORT_TEAM = "پشتیبانی"
CATEGORIES = (("ارسال و تحویل", SUPPORT_TEAM), ("صورتحساب و پرداخت", None),
              ("خرابی و تعمیر", SUPPORT_TEAM), ("نصب و راه‌اندازی", SUPPORT_TEAM))
# subject, type, priority, category index, serial, customer words
SUBJECTS = (
    ("تأخیر در ارسال سفارش", "complaint", "high", 0, "", "سفارش من ده روز است نرسیده."),
    ("لپ‌تاپ روشن نمی‌شود", "warranty", "urgent", 2, "SN-ASUS-10234",
     "از دیروز لپ‌تاپ روشن نمی‌شود و چراغ شارژ خاموش است."),
    ("مبلغ فاکتور اشتباه است", "complaint", "normal", 1, "",
     "در فاکتور آخر تخفیف اعمال نشده است."),
    ("راهنمای نصب چاپگر", "question", "low", 3, "SN-HP107-5521",
     "چطور چاپگر را به شبکه وای‌فای وصل کنم؟"),
    ("درخواست تعویض کارتریج", "request", "normal", 2, "", "کارتریج جدید خط می‌اندازد."),
    ("کابل شبکه کوتاه ارسال شده", "complaint", "normal", 0, "", "متراژ کابل کمتر از سفارش است."),
    ("درخواست نصب در محل", "request", "high", 3, "", "برای راه‌اندازی شبکه شعبه وقت بگذارید."),
    ("گارانتی چاپگر", "warranty", "normal", 2, "SN-HP107-7788", "چاپگر کاغذ را گیر می‌اندازد."),
)
# the path each ticket takes: (status reached, with a public reply first?, days ago opened)
STORIES = (("new", False), ("open", True), ("waiting_customer", True),
           ("waiting_third_party", True), ("resolved", True), ("closed", True))
COUNT = 40


def load_service(ctx) -> None:
    """The demo step (after customers): categories, then tickets while there are none."""
    from modules.service.demo_kb import load_kb, load_sla
    from modules.service.models.tickets import Category, Ticket

    load_sla(ctx)
    load_kb(ctx)
    categories = []
    for name, team_name in CATEGORIES:
        category = db.session.execute(select(Category).where(Category.name == name)).scalar()
        if category is None:
            team = ctx.teams.get(team_name) if team_name else None
            category = Category(name=name, team_id=team.id if team else None,
                                position=len(categories))
            db.session.add(category)
            ctx.notes.append(f"ticket category {name} created")
        categories.append(category)
    db.session.commit()
    ids = [c.id for c in categories]
    if db.session.execute(select(Ticket.id).where(Ticket.category_id.in_(ids)).limit(1)).first():
        return
    _tickets(ctx, categories)
    db.session.commit()


def _tickets(ctx, categories) -> None:
    from core.auth.models import User
    from core.customers.models import Customer
    from core.customers.services import create_customer
    from core.database import utcnow
    from modules.service import tickets as services

    customers = list(db.session.execute(select(Customer).where(
        Customer.anonymised_at.is_(None)).order_by(Customer.id).limit(15)).scalars())
    if not customers:
        customers = [create_customer(kind="person", first_name="رضا", last_name="محمدی")]
    agents = [u for u in db.session.execute(select(User).where(User.active.is_(True))
                                            .order_by(User.id)).scalars()
              if "service" in u.seat_modules] or [None]
    now = utcnow()
    channels = ("phone", "email", "portal", "sms", "in_person")
    for i in range(COUNT):
        subject, kind, priority, cat, serial, words = SUBJECTS[i % len(SUBJECTS)]
        status, replied = STORIES[i % len(STORIES)]
        agent = agents[i % len(agents)]
        opened = now - timedelta(days=(i * 37) % 60 + 1, hours=i % 7)
        ticket = services.create_ticket(
            customer=customers[i % len(customers)], subject=subject, body=words, type=kind,
            priority=priority, channel=channels[i % len(channels)], category=categories[cat],
            serial=serial, owner=None if categories[cat].team_id else agent, at=opened)
        at = opened + timedelta(hours=3)
        if replied:
            services.add_message(ticket, "internal", "بررسی شد؛ با مشتری تماس می‌گیرم.",
                                 by=agent, at=at)
            services.add_message(ticket, "public", "سلام، درخواست شما بررسی شد و پیگیری می‌کنیم.",
                                 by=agent, at=at + timedelta(minutes=30), notify=False)
        if status in ("waiting_customer", "waiting_third_party", "resolved", "closed"):
            services.change_status(ticket, status if status != "closed" else "resolved",
                                   by=agent, at=at + timedelta(hours=5))
        if status == "closed":
            services.change_status(ticket, "closed", by=agent, at=at + timedelta(days=1))
    ctx.notes.append(f"{COUNT} tickets created")


def register(app) -> None:
    from core.demo import add_demo_step

    add_demo_step(app, "service", load_service, order=100)
