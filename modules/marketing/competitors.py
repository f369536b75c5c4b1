"""Competitors: saving them, their products and prices, market notes, and the sales deals lost
to them (matched by normalised name when sales is active)."""

from sqlalchemy import func, select

from core.extensions import db
from core.i18n import normalize
from modules.marketing.models.competitors import Competitor, CompetitorProduct, MarketNote

FIELDS = ("name", "website", "strengths", "weaknesses", "notes")


class CompetitorError(ValueError):
    """A competitor cannot be saved; ``errors`` maps field names to messages."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def name_key(name: str) -> str:
    """A name as compared: Persian letters folded, case and spaces ignored."""
    return " ".join(normalize(name or "").lower().split())


def find_by_name(name: str, exclude_id: int | None = None) -> Competitor | None:
    """The competitor whose name matches ``name`` once normalised."""
    key = name_key(name)
    for competitor in db.session.execute(select(Competitor)).scalars():
        if competitor.id != exclude_id and name_key(competitor.name) == key:
            return competitor
    return None


def save_competitor(competitor: Competitor | None, **values) -> Competitor:
    """Create or change a competitor; a name already used (in any spelling) is refused."""
    from flask_babel import gettext as _

    values = {k: (values.get(k) or "").strip() for k in FIELDS}
    values["name"] = " ".join(values["name"].split())
    if not values["name"]:
        raise CompetitorError({"name": _("Give the competitor a name.")})
    if find_by_name(values["name"], competitor.id if competitor else None):
        raise CompetitorError({"name": _("A competitor with this name already exists.")})
    if values["website"] and "://" not in values["website"]:
        values["website"] = "https://" + values["website"]
    competitor = competitor or Competitor()
    for name, value in values.items():
        setattr(competitor, name, value)
    db.session.add(competitor)
    db.session.flush()
    return competitor


def add_product(competitor: Competitor, *, name: str, price: int | None, seen_on=None,
                notes: str = "") -> CompetitorProduct:
    """A product of the competitor with its price in rials as seen on a day."""
    product = CompetitorProduct(competitor_id=competitor.id, name=" ".join(name.split()),
                                price=price, seen_on=seen_on, notes=(notes or "").strip())
    db.session.add(product)
    db.session.flush()
    return product


def add_note(title: str, body: str = "", competitor: Competitor | None = None,
             author_id: int | None = None) -> MarketNote:
    """A note on the market, optionally about one competitor."""
    note = MarketNote(title=" ".join(title.split()), body=(body or "").strip(),
                      competitor_id=competitor.id if competitor else None, author_id=author_id)
    db.session.add(note)
    db.session.flush()
    return note


def notes_of(competitor: Competitor) -> list[MarketNote]:
    """The competitor's market notes, newest first."""
    return list(db.session.execute(select(MarketNote).where(
        MarketNote.competitor_id == competitor.id).order_by(
        MarketNote.created_at.desc(), MarketNote.id.desc())).scalars())


def lost_deals(competitor: Competitor) -> list[dict]:
    """Sales deals lost to this competitor (empty while sales is not active)."""
    from core.modules import is_active

    if not is_active("sales"):
        return []
    from modules.sales import services as sales

    return sales.lost_deals_to([competitor.name])


def lost_counts(competitors: list[Competitor]) -> dict[int, tuple[int, int]]:
    """{competitor id: (deals lost to it, their value)} while sales is active."""
    from core.modules import is_active

    if not competitors or not is_active("sales"):
        return {}
    from modules.sales import services as sales

    deals = sales.lost_deals_to([c.name for c in competitors])
    out = {}
    for c in competitors:
        mine = [d for d in deals if sales.same_competitor(d["competitor"], c.name)]
        out[c.id] = (len(mine), sum(d["value"] or 0 for d in mine))
    return out


def product_counts(ids: list[int]) -> dict[int, int]:
    """How many products each competitor has, by id."""
    if not ids:
        return {}
    return dict(db.session.execute(select(CompetitorProduct.competitor_id, func.count())
                                   .where(CompetitorProduct.competitor_id.in_(ids))
                                   .group_by(CompetitorProduct.competitor_id)).all())
