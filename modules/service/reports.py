"""Service reports: open tickets by age, first-contact resolution, business-time averages, SLA
compliance, CSAT and NPS per Jalali month, results per agent/team/category, top complainers.

Aggregates run in SQL (the same statements on SQLite and PostgreSQL) over the tickets the
current user may see (``core.auth.scope.scoped``); merged duplicates never count.

    f = Filters(Period.current(), team_id=3)
    monthly(f)            # {(1404, 8): Figures, ...}
    breakdown(f, "agent") # {user_id or None: Figures}
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import SimpleNamespace

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, case, func, literal_column, not_, select

from core.auth.scope import scoped
from core.database import utcnow
from core.extensions import db
from core.i18n import jalali_month_of, jalali_month_utc_range
from modules.service.models.surveys import SurveyResponse
from modules.service.models.tickets import DONE, Ticket

AGE_BUCKETS = (  # (from days, to days, label): age >= from and age < to
    (0, 1, _l("Under a day")), (1, 3, _l("%(low)d to %(high)d days", low=1, high=3)),
    (3, 7, _l("%(low)d to %(high)d days", low=3, high=7)),
    (7, 30, _l("%(low)d to %(high)d days", low=7, high=30)),
    (30, None, _l("Over %(days)d days", days=30)))
MAX_MONTHS = 24
TOP_COMPLAINERS = 20
DIMENSIONS = {"agent": (Ticket.owner_id, SurveyResponse.agent_id),
              "team": (Ticket.team_id, SurveyResponse.team_id),
              "category": (Ticket.category_id, SurveyResponse.category_id)}


def _index(year: int, month: int) -> int:
    return year * 12 + month - 1


def _month(index: int) -> tuple[int, int]:
    year, month = divmod(index, 12)
    return year, month + 1


@dataclass(frozen=True)
class Period:
    """Whole Jalali months from ``first`` to ``last`` (inclusive), at most ``MAX_MONTHS``."""

    first: tuple[int, int]
    last: tuple[int, int]

    def __post_init__(self):
        first, last = sorted((self.first, self.last))
        if _index(*last) - _index(*first) >= MAX_MONTHS:
            first = _month(_index(*last) - MAX_MONTHS + 1)
        object.__setattr__(self, "first", first)
        object.__setattr__(self, "last", last)

    @classmethod
    def current(cls, now: datetime | None = None) -> "Period":
        month = jalali_month_of(now or utcnow())
        return cls(month, month)

    @property
    def months(self) -> list[tuple[int, int]]:
        return [_month(i) for i in range(_index(*self.first), _index(*self.last) + 1)]

    @property
    def single(self) -> bool:
        return self.first == self.last

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        """UTC instants: ``start <= ts < end``."""
        return jalali_month_utc_range(*self.first)[0], jalali_month_utc_range(*self.last)[1]

    def shifted(self, months: int) -> "Period":
        return Period(_month(_index(*self.first) + months), _month(_index(*self.last) + months))


@dataclass(frozen=True)
class Filters:
    """What a report covers: a period, optionally one team and one category."""

    period: Period
    team_id: int | None = None
    category_id: int | None = None


def _ratio(part: str, whole: str) -> property:
    """A read-only share ``part / whole`` of a ``Figures``, None when ``whole`` is 0."""
    return property(lambda self: getattr(self, part) / getattr(self, whole)
                    if getattr(self, whole) else None)


@dataclass
class Figures:
    """Counts and sums for one group; rates and averages are derived (None without data)."""

    created: int = 0
    resolved: int = 0
    fcr: int = 0
    fr_sum: int = 0
    fr_n: int = 0
    res_sum: int = 0
    res_n: int = 0
    closed: int = 0
    fr_met: int = 0
    res_met: int = 0
    sla_met: int = 0
    csat_n: int = 0
    csat_sum: int = 0
    csat: list[int] = field(default_factory=lambda: [0] * 5)  # answers scoring 1..5
    nps_n: int = 0
    promoters: int = 0
    detractors: int = 0

    fcr_rate = _ratio("fcr", "resolved")  # first-contact resolution
    first_response = _ratio("fr_sum", "fr_n")  # average business seconds
    resolution = _ratio("res_sum", "res_n")
    sla_rate = _ratio("sla_met", "closed")  # both targets met
    fr_rate = _ratio("fr_met", "closed")
    res_rate = _ratio("res_met", "closed")
    csat_avg = _ratio("csat_sum", "csat_n")

    @property
    def nps(self) -> int | None:
        """Promoters (9-10) minus detractors (0-6), in whole percent."""
        return round(100 * (self.promoters - self.detractors) / self.nps_n) if self.nps_n else None


def combine(parts) -> Figures:
    """The figures of several groups (months) together; averages stay weighted."""
    total = Figures()
    for part in parts:
        for name, value in vars(part).items():
            setattr(total, name, [a + b for a, b in zip(getattr(total, name), value,
                                                      strict=True)]
                    if name == "csat" else getattr(total, name) + value)
    return total


def _count_if(condition) -> object:
    return func.sum(case((condition, 1), else_=0))


def _tickets(stmt: Select, f: Filters) -> Select:
    """Limit to real (not merged) tickets of the filters that the current user may see."""
    stmt = stmt.where(Ticket.merged_into_id.is_(None))
    if f.team_id:
        stmt = stmt.where(Ticket.team_id == f.team_id)
    if f.category_id:
        stmt = stmt.where(Ticket.category_id == f.category_id)
    return scoped(stmt, Ticket, "service")


def _responses(stmt: Select, f: Filters, kind: str) -> Select:
    """CSAT answers follow the ticket's agent/team and the filters; NPS is the company's."""
    stmt = stmt.where(SurveyResponse.kind == kind, SurveyResponse.score.is_not(None))
    if kind != "csat":
        return stmt
    if f.team_id:
        stmt = stmt.where(SurveyResponse.team_id == f.team_id)
    if f.category_id:
        stmt = stmt.where(SurveyResponse.category_id == f.category_id)
    owned = SimpleNamespace(owner_id=SurveyResponse.agent_id, team_id=SurveyResponse.team_id)
    return scoped(stmt, owned, "service")


def _ticket_parts():
    """(date column, extra condition, {name: aggregate}) for each figure family."""
    first_contact = and_(Ticket.public_replies == 1, Ticket.reopened == 0)
    return (
        (Ticket.created_at, None, {"created": func.count()}),
        (Ticket.first_responded_at, Ticket.first_response_seconds.is_not(None),
         {"fr_sum": func.sum(Ticket.first_response_seconds), "fr_n": func.count()}),
        (Ticket.resolved_at, Ticket.status.in_(DONE),
         {"resolved": func.count(), "fcr": _count_if(first_contact),
          "res_sum": func.sum(Ticket.resolution_seconds),
          "res_n": func.count(Ticket.resolution_seconds)}),
        (Ticket.closed_at, Ticket.status == "closed",
         {"closed": func.count(), "fr_met": _count_if(not_(Ticket.first_response_breached)),
          "res_met": _count_if(not_(Ticket.resolution_breached)),
          "sla_met": _count_if(and_(not_(Ticket.first_response_breached),
                                    not_(Ticket.resolution_breached)))}),
    )


def _survey_parts():
    score = SurveyResponse.score
    csat = {"csat_n": func.count(), "csat_sum": func.sum(score)}
    csat.update({f"csat{n}": _count_if(score == n) for n in range(1, 6)})
    nps = {"nps_n": func.count(), "promoters": _count_if(score >= 9),
           "detractors": _count_if(score <= 6)}
    return (("csat", csat), ("nps", nps))


def _collect(f: Filters, key, kinds: tuple[str, ...] = ("tickets", "csat", "nps")) -> dict:
    """Run every figure family grouped by ``key(date_column, survey)`` (None: no grouping)."""
    start, end = f.period.bounds
    found: dict = {}

    def run(stmt: Select, column, group):
        stmt = stmt.where(column >= start, column < end)
        if group is not None:
            stmt = stmt.add_columns(group.label("grp")).group_by(literal_column("grp"))
        for row in db.session.execute(stmt).mappings():
            figures = found.setdefault(row["grp"] if group is not None else None, Figures())
            for name, value in row.items():
                if name.startswith("csat") and name[4:].isdigit():
                    figures.csat[int(name[4:]) - 1] = int(value or 0)
                elif name != "grp":
                    setattr(figures, name, int(value or 0))

    for column, condition, aggregates in _ticket_parts() if "tickets" in kinds else ():
        stmt = select(*[agg.label(name) for name, agg in aggregates.items()])
        if condition is not None:
            stmt = stmt.where(condition)
        run(_tickets(stmt.select_from(Ticket), f), column, key(column, False))
    for kind, aggregates in _survey_parts():
        if kind not in kinds:
            continue
        stmt = select(*[agg.label(name) for name, agg in aggregates.items()])
        stmt = _responses(stmt.select_from(SurveyResponse), f, kind)
        run(stmt, SurveyResponse.answered_at, key(SurveyResponse.answered_at, True))
    return found


def totals(f: Filters) -> Figures:
    """Every figure for the whole period."""
    return _collect(f, lambda _column, _survey: None).get(None, Figures())


def satisfaction(f: Filters) -> Figures:
    """CSAT and NPS figures only, for the whole period."""
    return _collect(f, lambda _column, _survey: None, kinds=("csat", "nps")).get(None, Figures())


def monthly(f: Filters) -> dict[tuple[int, int], Figures]:
    """Every figure per Jalali month of the period (Tehran time), oldest first."""
    months = f.period.months
    edges = [jalali_month_utc_range(*m)[1] for m in months]

    def month_of(column, _survey):
        return case(*[(column < edge, i) for i, edge in enumerate(edges)], else_=None)

    found = _collect(f, month_of)
    return {month: found.get(i, Figures()) for i, month in enumerate(months)}


def breakdown(f: Filters, dimension: str) -> dict[int | None, Figures]:
    """Every figure per agent, team or category (key None: unassigned / none)."""
    ticket_column, survey_column = DIMENSIONS[dimension]
    found = _collect(f, lambda _column, survey: survey_column if survey else ticket_column,
                     kinds=("tickets", "csat"))  # NPS rounds go to customers, not through an agent
    return dict(sorted(found.items(), key=lambda item: (item[0] is None, -item[1].created)))


def open_ages(f: Filters, now: datetime | None = None) -> list[tuple[object, int]]:
    """Open tickets now (period ignored) per age bucket: [(label, count)] for every bucket."""
    now = now or utcnow()
    bucket = case(*[(Ticket.created_at > now - timedelta(days=upto), i)
                    for i, (_start, upto, _label) in enumerate(AGE_BUCKETS) if upto],
                  else_=len(AGE_BUCKETS) - 1)
    stmt = (select(bucket.label("grp"), func.count()).select_from(Ticket)
            .where(Ticket.status.not_in(DONE)).group_by(literal_column("grp")))
    counts = dict(db.session.execute(_tickets(stmt, f)).all())
    return [(label, int(counts.get(i, 0))) for i, (_s, _u, label) in enumerate(AGE_BUCKETS)]


@dataclass(frozen=True)
class Complainer:
    customer_id: int
    name: str
    complaints: int
    open: int
    last: datetime


def top_complainers(f: Filters, limit: int = TOP_COMPLAINERS) -> list[Complainer]:
    """Customers with the most complaints opened in the period (most first, then latest)."""
    from core.customers.models import Customer

    start, end = f.period.bounds
    count = func.count(Ticket.id)
    last = func.max(Ticket.created_at)
    stmt = (select(Customer.id, Customer.display_name, count,
                   _count_if(Ticket.status.not_in(DONE)), last)
            .join(Customer, Customer.id == Ticket.customer_id)
            .where(Ticket.type == "complaint", Ticket.created_at >= start,
                   Ticket.created_at < end)
            .group_by(Customer.id, Customer.display_name)
            .order_by(count.desc(), last.desc(), Customer.id).limit(limit))
    return [Complainer(ident, name, int(n), int(still_open or 0), latest)
            for ident, name, n, still_open, latest in db.session.execute(_tickets(stmt, f))]

