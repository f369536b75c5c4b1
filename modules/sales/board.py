"""Reading deals: the kanban board, the filtered list, the weighted forecast, stale deals.

Every query here is limited to the current user's record scope (``core.auth.scope``), so
a sales agent with "own" scope sees only their own deals everywhere.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import BigInteger, Select, func, literal, or_, select, tuple_, union_all

from core.auth.models import User
from core.auth.scope import scoped
from core.customers.models import Customer
from core.database import get_setting, utcnow
from core.extensions import db
from core.i18n import jalali_month_of, jalali_month_range, normalize
from core.pagination import sort_columns
from modules.sales.models.pipeline import Deal, Pipeline, Stage

CARD_LIMIT = 20  # cards drawn per column (and per "Show more"); the header counts them all
STALE_DAYS = 14  # default for the setting sales.stale_days
FAR_FUTURE = date(9999, 12, 31)
SORTS = {"title": Deal.title, "value": Deal.value, "created": Deal.created_at,
         "updated": Deal.updated_at,
         "close": func.coalesce(Deal.expected_close, FAR_FUTURE)}
DEFAULT_SORT = "-created"


def visible_deals(stmt: Select | None = None) -> Select:
    """``select(Deal)`` (or ``stmt``) limited to the current user's record scope."""
    return scoped(stmt if stmt is not None else select(Deal), Deal, "sales")


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _text(stmt: Select, query: str) -> Select:
    """Every word in the deal's title/source/campaign or in its customer's search key."""
    for word in normalize(query or "").split():
        pattern = _like(word)
        stmt = stmt.where(or_(
            Deal.search_key.like(pattern, escape="\\"),
            Deal.customer_id.in_(select(Customer.id).where(
                Customer.search_key.like(pattern, escape="\\")))))
    return stmt


def filtered(stmt: Select, filters: Mapping) -> Select:
    """Apply list filters: q, pipeline, stage, owner, status, month ("1403-05"), customer."""
    stmt = _text(stmt, filters.get("q") or "")
    for key, column in (("pipeline", Deal.pipeline_id), ("stage", Deal.stage_id),
                        ("owner", Deal.owner_id), ("customer", Deal.customer_id)):
        if filters.get(key):
            stmt = stmt.where(column == filters[key])
    if filters.get("status"):
        stmt = stmt.where(Deal.status == filters["status"])
    if filters.get("month"):
        year, month = filters["month"]
        first, following = jalali_month_range(year, month)
        stmt = stmt.where(Deal.expected_close >= first, Deal.expected_close < following)
    if filters.get("stale"):
        stmt = stmt.where(Deal.status == "open", Deal.last_activity_at < stale_before())
    return stmt


def search(filters: Mapping, sort: str | None = None) -> tuple[Select, str, list]:
    """The user's deals matching ``filters``; the sort used and the keyset columns.

    Rows, not ORM objects (the list only shows them): id, title, value, expected_close,
    status, updated_at, customer_name, stage_name, owner_name, owner_email.
    """
    stmt = filtered(visible_deals(
        select(Deal.id, Deal.title, Deal.value, Deal.expected_close, Deal.status,
               Deal.updated_at, Customer.display_name.label("customer_name"),
               Stage.name.label("stage_name"), User.name.label("owner_name"),
               User.email.label("owner_email"))
        .join(Customer, Customer.id == Deal.customer_id)
        .join(Stage, Stage.id == Deal.stage_id)
        .outerjoin(User, User.id == Deal.owner_id)), filters)
    used, columns = sort_columns(sort, SORTS, DEFAULT_SORT, Deal.id)
    return stmt, used, columns


# --- the board -----------------------------------------------------------------------------

@dataclass
class Column:
    """One stage on the board: its first cards, and the count and total of all its deals."""

    stage: Stage
    deals: list = field(default_factory=list)
    count: int = 0
    total: int = 0

    @property
    def weighted(self) -> int:
        return self.total * self.stage.probability // 100

    @property
    def more(self) -> int:
        return self.count - len(self.deals)


def board(pipeline: Pipeline, filters: Mapping | None = None,
          limit: int = CARD_LIMIT) -> list[Column]:
    """The open deals of ``pipeline`` by stage, largest first, at most ``limit`` per stage.

    The cards are plain rows (``Card``), not ORM objects: the board only shows them.
    """
    filters = {**(filters or {}), "pipeline": pipeline.id, "status": "open"}
    columns = {s.id: Column(stage=s) for s in pipeline.stages}
    totals = db.session.execute(
        filtered(visible_deals(select(Deal.stage_id, func.count(), func.sum(Deal.value))),
                 filters).group_by(Deal.stage_id)).all()
    for stage_id, count, total in totals:
        if stage_id in columns:
            columns[stage_id].count, columns[stage_id].total = count, int(total or 0)
    if limit <= 0 or not any(c.count for c in columns.values()):
        return list(columns.values())
    for card in db.session.execute(card_query(list(columns), filters, limit)):
        if card.stage_id in columns:
            columns[card.stage_id].deals.append(card)
    return list(columns.values())


def stage_cards(stage: Stage, filters: Mapping | None, after: tuple[int, int],
                limit: int = CARD_LIMIT) -> Column:
    """The cards of ``stage`` that follow the card ``after`` (its value and id) on the board.

    At most ``limit`` of them, in the board's order; ``count`` is how many follow ``after``
    in all, so the column's ``more`` is what is left after these.
    """
    # no pipeline condition (the stage has one): then the count reads only the index on
    # (stage, status, value, id), about five times faster on PostgreSQL
    filters = {**(filters or {}), "status": "open"}
    column = Column(stage=stage)
    column.count = db.session.execute(
        filtered(visible_deals(select(func.count()).select_from(Deal)), filters)
        .where(Deal.stage_id == stage.id, _following(after))).scalar_one()
    if column.count and limit > 0:
        column.deals = list(db.session.execute(card_query([stage.id], filters, limit, after)))
    return column


def _following(after: tuple[int, int]):
    """Deals after the card (value, id) in the board's order (value, then id, descending)."""
    value, ident = after
    return tuple_(Deal.value, Deal.id) < tuple_(literal(value, BigInteger()),
                                                literal(ident, BigInteger()))


def card_query(stage_ids: list[int], filters: Mapping, limit: int = CARD_LIMIT,
               after: tuple[int, int] | None = None) -> Select:
    """The cards of the user's deals matching ``filters``: the ``limit`` largest per stage
    (or, with ``after`` = (value, id) of a card, the ``limit`` largest below that card).

    One ``LIMIT`` per stage, glued with UNION ALL, so the database reads at most ``limit``
    rows of each stage from the index on (stage, status, value, id) however many deals there
    are. Each row has id, stage_id, title, value, expected_close, customer_name, owner_name.
    """
    parts = []
    for stage_id in stage_ids:
        top = filtered(visible_deals(select(
            Deal.id, Deal.stage_id, Deal.title, Deal.value, Deal.expected_close,
            Deal.customer_id, Deal.owner_id)), filters).where(Deal.stage_id == stage_id)
        if after is not None:
            top = top.where(_following(after))
        parts.append(select(top.order_by(Deal.value.desc(), Deal.id.desc())
                            .limit(limit).subquery()))
    cards = union_all(*parts).subquery("cards")
    owner = func.coalesce(func.nullif(User.name, ""), User.email)
    return (select(cards.c.id, cards.c.stage_id, cards.c.title, cards.c.value,
                   cards.c.expected_close, Customer.display_name.label("customer_name"),
                   owner.label("owner_name"))
            .join(Customer, Customer.id == cards.c.customer_id)
            .outerjoin(User, User.id == cards.c.owner_id)
            .order_by(cards.c.stage_id, cards.c.value.desc(), cards.c.id.desc()))


# --- forecast and stale deals ---------------------------------------------------------------

@dataclass
class ForecastMonth:
    year: int
    month: int
    count: int = 0
    total: int = 0
    weighted_sum: int = 0  # sum of value × probability (percent points)

    @property
    def weighted(self) -> int:
        """Sum of value × probability, rounded to the rial once per month (half up)."""
        return (self.weighted_sum + 50) // 100

    @property
    def first_day(self) -> date:
        return jalali_month_range(self.year, self.month)[0]


def forecast(filters: Mapping | None = None) -> tuple[list[ForecastMonth], ForecastMonth]:
    """Open deals by Jalali month of expected close: count, total and weighted value.

    Returns the months in order and, separately, the open deals without a close date.
    """
    stmt = filtered(visible_deals(
        select(Deal.expected_close, Deal.value, Stage.probability)
        .join(Stage, Stage.id == Deal.stage_id)),
        {**(filters or {}), "status": "open"})
    months: dict[tuple[int, int], ForecastMonth] = {}
    undated = ForecastMonth(0, 0)
    for when, value, probability in db.session.execute(stmt):
        if when is None:
            bucket = undated
        else:
            key = jalali_month_of(when)
            bucket = months.setdefault(key, ForecastMonth(*key))
        bucket.count += 1
        bucket.total += value
        bucket.weighted_sum += value * probability
    return [months[k] for k in sorted(months)], undated


def stale_days() -> int:
    """How many days without activity make an open deal stale (setting sales.stale_days)."""
    try:
        return max(1, int(get_setting("sales.stale_days", STALE_DAYS)))
    except (TypeError, ValueError):
        return STALE_DAYS


def stale_before():
    return utcnow() - timedelta(days=stale_days())


def parse_month(text: str | None) -> tuple[int, int] | None:
    """"1403-05" (any digits) as (1403, 5); None when empty or not a month."""
    from core.i18n import to_latin_digits

    if not text:
        return None
    parts = to_latin_digits(text).replace("/", "-").split("-")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        return None
    year, month = int(parts[0]), int(parts[1])
    return (year, month) if 1 <= month <= 12 and 1200 < year < 1600 else None


def call_list(filters: Mapping | None = None) -> tuple[Select, list]:
    """Who to call today: the user's open deals, stale ones first, then by the customer's
    priority score from analytics (highest first), then the longest untouched.

    Returns the statement (rows of Deal, priority, stale) and its keyset sort columns.
    """
    from sqlalchemy import case

    from core.analytics.models import CustomerScore

    stale = case((Deal.last_activity_at < stale_before(), 1), else_=0)
    priority = func.coalesce(CustomerScore.priority, -1.0)
    stmt = filtered(visible_deals(select(Deal, CustomerScore.priority, stale.label("stale"))),
                    {**(filters or {}), "status": "open"}).outerjoin(
        CustomerScore, CustomerScore.customer_id == Deal.customer_id)
    return stmt, [stale.desc(), priority.desc(), Deal.last_activity_at.asc(), Deal.id.asc()]
