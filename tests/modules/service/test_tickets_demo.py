"""``crm demo`` adds ticket categories and about forty tickets in every state, once."""

from sqlalchemy import func, select

from core.extensions import db


def _count(app, model) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def test_demo_tickets_are_varied_and_loaded_once(app, runner):
    from modules.service.models.tickets import Category, Message, Ticket

    first = runner.invoke(args=["crm", "demo"])
    assert first.exit_code == 0, first.output
    assert _count(app, Ticket) == 40 and _count(app, Category) == 4
    with app.app_context():
        statuses = set(db.session.execute(select(Ticket.status)).scalars())
        kinds = set(db.session.execute(select(Message.kind)).scalars())
        routed = db.session.execute(select(func.count()).select_from(Ticket).where(
            Ticket.team_id.is_not(None), Ticket.owner_id.is_not(None))).scalar_one()
    assert statuses == {"new", "open", "waiting_customer", "waiting_third_party", "resolved",
                        "closed"}
    assert kinds == {"customer", "public", "internal"}
    assert routed > 0  # categories with a team went round robin
    counts = (_count(app, Ticket), _count(app, Message))
    assert runner.invoke(args=["crm", "demo"]).exit_code == 0
    assert (_count(app, Ticket), _count(app, Message)) == counts


def test_demo_has_an_sla_calendar_with_holidays_and_a_small_knowledge_base(app, runner):
    from modules.service.kb import search_articles
    from modules.service.models.kb import KbArticle
    from modules.service.models.sla import Calendar, Holiday, SlaPolicy

    assert runner.invoke(args=["crm", "demo"]).exit_code == 0
    assert runner.invoke(args=["crm", "demo"]).exit_code == 0
    assert _count(app, Calendar) == 1
    assert _count(app, SlaPolicy) == 4  # one per priority
    assert _count(app, Holiday) == 2 * 10  # the fixed solar holidays of this year and the next
    assert _count(app, KbArticle) == 4
    with app.app_context():
        found = search_articles("چاپگر وای فای")
        assert [a.title_en for a in found] == ["Connecting the printer to Wi-Fi"]
        assert search_articles("تعویض کالای معیوب") == []  # the internal one is not public
