"""Deals on the customer 360 page, and deals following their customer through a merge."""

from flask import Flask, url_for
from flask_babel import gettext as _

from core.customers.timeline import TimelineEntry
from core.extensions import db
from core.money import format_money
from modules.sales.board import visible_deals
from modules.sales.models.pipeline import Deal


def deal_entries(customer) -> list[TimelineEntry]:
    """The customer's deals the user may see: opened, and won or lost."""
    deals = db.session.execute(visible_deals().where(Deal.customer_id == customer.id)
                               .order_by(Deal.created_at.desc()).limit(100)).unique().scalars()
    entries = []
    for deal in deals:
        url = url_for("sales.deal_show", deal_id=deal.id)
        detail = f"{format_money(deal.value)} · {deal.stage.name}"
        entries.append(TimelineEntry(at=deal.created_at, kind="deal", module="sales", url=url,
                                     title=_("Deal opened: %(title)s", title=deal.title),
                                     detail=detail))
        if deal.closed_at is not None and deal.status == "won":
            entries.append(TimelineEntry(at=deal.closed_at, kind="deal_won", module="sales",
                                         url=url, detail=format_money(deal.value),
                                         title=_("Deal won: %(title)s", title=deal.title)))
        elif deal.closed_at is not None and deal.status == "lost":
            entries.append(TimelineEntry(at=deal.closed_at, kind="deal_lost", module="sales",
                                         url=url, detail=deal.lost_reason,
                                         title=_("Deal lost: %(title)s", title=deal.title)))
    return entries


def move_deals_on_merge(survivor_id: int, loser_id: int) -> None:
    """Customer merge handler: the loser's deals now belong to the survivor."""
    from modules.sales.pipeline import move_customer_deals

    move_customer_deals(loser_id, survivor_id)


def customer_actions(customer) -> list:
    """"New deal" and "New quote" on the customer 360 page, for those who work on sales."""
    from core.auth.permissions import has_permission
    from core.customers.actions import CustomerAction

    if not (has_permission("sales.work") or has_permission("sales.manage")):
        return []
    actions = [CustomerAction(_("New deal"), url_for("sales.deal_new", customer=customer.id),
                              icon="kanban", module="sales")]
    if has_permission("sales.work"):
        actions.append(CustomerAction(
            _("New quote"), url_for("sales.quote_new", customer_id=customer.id),
            icon="file-earmark-text", module="sales"))
    return actions


def register(app: Flask) -> None:
    from core.customers.actions import add_action_provider
    from core.customers.merge import add_merge_handler
    from core.customers.timeline import add_provider

    add_provider(app, deal_entries)
    add_action_provider(app, customer_actions)
    add_merge_handler(app, move_deals_on_merge)
