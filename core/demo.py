"""``crm demo``: realistic Persian demo data, idempotent.

The core loads a company profile, teams and users; modules add their own data (customers,
deals, tickets...) with ``add_demo_step(app, name, func)`` from their ``register(app)``.
Every demo user signs in with the fixed, documented password ``peyvand-demo`` (demo data
only: never load it into a real deployment).
"""

import os
from collections.abc import Callable
from dataclasses import dataclass, field

import click
from flask import Flask, current_app
from sqlalchemy import func, select

from core.cli import crm
from core.extensions import db

DEMO_PASSWORD = "peyvand-demo"  # nosec B105  # documented demo-only password
DEMO_ADMIN = "admin@peyvand.local"

COMPANY = {
    "company.legal_name": "شرکت بازرگانی نمونه پیوند",
    "company.national_id": "10320584933",
    "company.economic_code": "411134567891",
    "company.address": "تهران، خیابان ولیعصر، بالاتر از میدان ونک، پلاک ۱۲۳۴، طبقه ۳",
    "company.postal_code": "1969833111",
    "display.language": "fa",
    "display.currency": "IRR",
    "display.unit": "toman",
    "fiscal.year_start_month": 1,
}
TEAMS = ("فروش تهران", "پشتیبانی")
# email, name, role, team, modules (None: every loaded module). Per module at most 3 seats:
# the trial's limit.
USERS = (
    (DEMO_ADMIN, "مدیر سامانه", "admin", None, None),
    ("maryam.ahmadi@peyvand.local", "مریم احمدی", "manager", "فروش تهران", None),
    ("ali.rezaei@peyvand.local", "علی رضایی", "agent", "فروش تهران",
     ("sales", "marketing", "loyalty")),
    ("zahra.karimi@peyvand.local", "زهرا کریمی", "agent", "پشتیبانی", ("service",)),
)


@dataclass
class DemoContext:
    """What the core step made, for module steps to build on; ``notes`` are printed."""

    users: dict = field(default_factory=dict)  # email -> User
    teams: dict = field(default_factory=dict)  # name -> Team
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DemoStep:
    name: str
    run: Callable[[DemoContext], None]
    order: int = 100


def add_demo_step(app: Flask, name: str, run: Callable[[DemoContext], None],
                  order: int = 100) -> None:
    """Let a module add demo data; ``run(context)`` must be idempotent and may commit."""
    app.extensions.setdefault("crm_demo_steps", []).append(DemoStep(name, run, order))


def _company(ctx: DemoContext) -> None:
    from core.admin import settings

    if settings.apply(settings.clean(COMPANY)):
        ctx.notes.append("company profile set")
    db.session.commit()


def _teams(ctx: DemoContext) -> None:
    from core.auth.models import Team

    for name in TEAMS:
        team = db.session.execute(select(Team).where(Team.name == name)).scalar()
        if team is None:
            team = Team(name=name)
            db.session.add(team)
            ctx.notes.append(f"team {name} created")
        ctx.teams[name] = team
    db.session.commit()


def _users(ctx: DemoContext) -> None:
    from core.admin.services import SeatError, assign_seat, role_by_name
    from core.auth.models import User
    from core.auth.passwords import hash_password, verify_password
    from core.modules import registry

    loaded = registry().loaded
    for email, name, role, team, modules in USERS:
        user = db.session.execute(select(User).where(func.lower(User.email) == email)).scalar()
        if user is None:
            user = User(email=email, name=name, role=role_by_name(role), locale="fa",
                        team=ctx.teams.get(team))
            db.session.add(user)
            ctx.notes.append(f"user {email} created")
        if not verify_password(user.password_hash, DEMO_PASSWORD):
            user.password_hash = hash_password(DEMO_PASSWORD)
        db.session.commit()
        for module in (m for m in (modules or loaded) if m in loaded):
            if module in user.seat_modules:
                continue
            try:
                assign_seat(user, module)
            except SeatError as exc:
                ctx.notes.append(f"no seat for {email} in {module}: {exc}")
            db.session.refresh(user)
        ctx.users[email] = user


CORE_STEPS = (DemoStep("company", _company, 10), DemoStep("teams", _teams, 20),
              DemoStep("users", _users, 30))


def load_demo(app: Flask | None = None) -> DemoContext:
    """Load the core demo data, then every module's step (each idempotent)."""
    from core.bootstrap import deployment_id, ensure_deployment

    app = app or current_app
    if deployment_id() is None:
        ensure_deployment()
    ctx = DemoContext()
    steps = sorted([*CORE_STEPS, *app.extensions.get("crm_demo_steps", [])],
                   key=lambda s: s.order)
    for step in steps:
        step.run(ctx)
    return ctx


@crm.command("demo")
def demo_command():
    """Load realistic Persian demo data (safe to run again)."""
    ctx = load_demo()
    for note in ctx.notes:
        click.echo(note)
    if not ctx.notes:
        click.echo("Demo data is already loaded.")
    port = os.environ.get("PORT", "5000")
    click.echo(f"Every demo user's password is {DEMO_PASSWORD!r} (demo data only).")
    click.echo(f"Sign in at http://127.0.0.1:{port} as {DEMO_ADMIN} / {DEMO_PASSWORD}")
