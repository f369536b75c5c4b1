"""Sales tables: association rules mined from posted invoices (cross-sell suggestions).

A rule "customers who bought A also bought B" is one row per ordered pair (A, B); the whole
table is replaced by each mining run (``modules.sales.rules.mine``), so it is not audited.
"""

from datetime import datetime

from sqlalchemy import DateTime, Float, ForeignKey, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.database import utcnow
from core.extensions import db


class AssociationRule(db.Model):
    """A → B with its support, confidence and lift, and the counts they come from.

    ``pair_count`` baskets hold both products, ``antecedent_count`` hold A,
    ``consequent_count`` hold B, out of ``basket_count`` baskets (posted invoices).
    """

    __tablename__ = "sales_association_rule"
    __table_args__ = (UniqueConstraint("antecedent_id", "consequent_id",
                                       name="uq_sales_association_rule_pair"),)
    __audit__ = False  # recomputed wholesale by the mining job
    id: Mapped[int] = mapped_column(primary_key=True)
    antecedent_id: Mapped[int] = mapped_column(
        ForeignKey("sales_product.id", ondelete="CASCADE"), index=True)
    consequent_id: Mapped[int] = mapped_column(
        ForeignKey("sales_product.id", ondelete="CASCADE"), index=True)
    support: Mapped[float] = mapped_column(Float)
    confidence: Mapped[float] = mapped_column(Float)
    lift: Mapped[float] = mapped_column(Float)
    pair_count: Mapped[int] = mapped_column(Integer)
    antecedent_count: Mapped[int] = mapped_column(Integer)
    consequent_count: Mapped[int] = mapped_column(Integer)
    basket_count: Mapped[int] = mapped_column(Integer)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
