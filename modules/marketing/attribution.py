"""Campaign attribution: cost, reach, opens, clicks, leads, won deals, revenue and ROI.

Rules (shown on the page too):
- reach: recipients the campaign was sent to (``sent_at`` set); opens and clicks: recipients
  who opened / clicked at least once.
- leads: leads whose ``campaign_id`` is the campaign, or, with no campaign set, whose
  ``utm_campaign`` equals the campaign's name (normalised: Persian letters, case, spaces).
- deals won and revenue (only while sales is active): a won deal counts for the campaign when
  it was closed within ``attribution_days`` after the campaign was sent to its customer, or
  after one of the campaign's leads was converted to that customer, or when it was opened from
  such a lead. A deal counts once per campaign; a deal may count for several campaigns.
- ROI = (revenue − cost) / cost; none when the campaign cost nothing.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from core.extensions import db
from core.i18n import normalize
from modules.marketing.models.campaigns import Campaign, Recipient
from modules.marketing.models.leads import Lead


@dataclass
class Row:
    """One campaign's figures."""

    campaign: Campaign
    cost: int = 0
    reach: int = 0
    opens: int = 0
    clicks: int = 0
    leads: int = 0
    deals: int = 0
    revenue: int = 0
    deal_ids: list[int] = field(default_factory=list)

    @property
    def roi(self) -> float | None:
        """(revenue − cost) / cost, or None without a cost."""
        return (self.revenue - self.cost) / self.cost if self.cost else None


def _key(name: str) -> str:
    return " ".join(normalize(name or "").lower().split())


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def utm_index() -> dict[str, list[Lead]]:
    """Leads without a campaign, by their normalised ``utm_campaign``."""
    index: dict[str, list[Lead]] = {}
    for lead in db.session.execute(select(Lead).where(
            Lead.campaign_id.is_(None), Lead.utm_campaign != "")).scalars():
        index.setdefault(_key(lead.utm_campaign), []).append(lead)
    return index


def campaign_leads(campaign: Campaign, index: dict[str, list[Lead]] | None = None
                   ) -> list[Lead]:
    """The campaign's leads: by ``campaign_id``, else by ``utm_campaign`` = its name."""
    index = utm_index() if index is None else index
    direct = list(db.session.execute(select(Lead).where(Lead.campaign_id == campaign.id))
                  .scalars())
    return direct + index.get(_key(campaign.name), []) if _key(campaign.name) else direct


def _tracking(ids: list[int]) -> dict[int, tuple[int, int, int]]:
    """{campaign id: (reach, opens, clicks)}."""
    if not ids:
        return {}
    rows = db.session.execute(select(
        Recipient.campaign_id, func.count(Recipient.sent_at), func.count(Recipient.opened_at),
        func.count(Recipient.clicked_at)).where(Recipient.campaign_id.in_(ids))
        .group_by(Recipient.campaign_id)).all()
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def _won_deals(campaign: Campaign, leads: list[Lead]) -> list[dict]:
    """The won deals attributed to the campaign (see the module docstring)."""
    from modules.sales import services as sales

    days = timedelta(days=campaign.attribution_days or 0)
    touches: dict[int, list[datetime]] = {}
    for customer_id, sent_at in db.session.execute(select(
            Recipient.customer_id, Recipient.sent_at).where(
            Recipient.campaign_id == campaign.id, Recipient.sent_at.is_not(None))):
        touches.setdefault(customer_id, []).append(_aware(sent_at))
    lead_deals = {lead.deal_id for lead in leads if lead.deal_id}
    for lead in leads:
        if lead.customer_id and lead.converted_at:
            touches.setdefault(lead.customer_id, []).append(_aware(lead.converted_at))
    customers = set(touches) | {lead.customer_id for lead in leads if lead.customer_id}
    if not customers and not lead_deals:
        return []
    found = []
    for deal in sales.won_deals_of_customers(customers, deal_ids=lead_deals):
        closed = _aware(deal["closed_at"])
        if deal["id"] in lead_deals or any(
                start <= closed <= start + days for start in touches.get(deal["customer_id"], ())):
            found.append(deal)
    return found


def attribution(campaigns: list[Campaign], *, with_sales: bool | None = None) -> list[Row]:
    """The figures of each campaign, in the given order."""
    if with_sales is None:
        from core.modules import is_active

        with_sales = is_active("sales")
    tracking = _tracking([c.id for c in campaigns])
    index = utm_index() if campaigns else {}
    rows = []
    for campaign in campaigns:
        reach, opens, clicks = tracking.get(campaign.id, (0, 0, 0))
        leads = campaign_leads(campaign, index)
        row = Row(campaign, cost=campaign.cost or 0, reach=reach, opens=opens, clicks=clicks,
                  leads=len(leads))
        if with_sales:
            deals = _won_deals(campaign, leads)
            row.deals, row.revenue = len(deals), sum(d["value"] or 0 for d in deals)
            row.deal_ids = [d["id"] for d in deals]
        rows.append(row)
    return rows


def campaigns_in(start: datetime | None = None, end: datetime | None = None) -> list[Campaign]:
    """Campaigns that started (or, not started, were created) in [start, end)."""
    when = func.coalesce(Campaign.started_at, Campaign.created_at)
    stmt = select(Campaign).where(Campaign.status != "draft").order_by(when.desc(), Campaign.id)
    if start is not None:
        stmt = stmt.where(when >= start)
    if end is not None:
        stmt = stmt.where(when < end)
    return list(db.session.execute(stmt).scalars())


SORTS = {"name": lambda r: _key(r.campaign.name), "cost": lambda r: r.cost,
         "reach": lambda r: r.reach, "opens": lambda r: r.opens, "clicks": lambda r: r.clicks,
         "leads": lambda r: r.leads, "deals": lambda r: r.deals,
         "revenue": lambda r: r.revenue,
         "roi": lambda r: (r.roi is not None, r.roi or 0)}


def sort_rows(rows: list[Row], sort: str) -> tuple[str, list[Row]]:
    """Rows sorted by ``sort`` (``-name`` for descending); unknown keys: newest first."""
    name = (sort or "").lstrip("-")
    if name not in SORTS:
        return "", rows
    return sort, sorted(rows, key=SORTS[name], reverse=sort.startswith("-"))

