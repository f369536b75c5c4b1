"""Sales tables: monthly sales targets per salesperson (Jalali months, rials)."""

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, SmallInteger, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.database import utcnow
from core.extensions import db


class SalesTarget(db.Model):
    """How much (rials of posted invoices, net of credit notes) one person should sell in one
    Jalali month; one row per person and month (setting it again updates it)."""

    __tablename__ = "sales_target"
    __table_args__ = (UniqueConstraint("user_id", "year", "month",
                                       name="uq_sales_target_user_month"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("core_user.id", ondelete="CASCADE"),
                                         index=True)
    year: Mapped[int] = mapped_column(Integer)  # Jalali year, e.g. 1404
    month: Mapped[int] = mapped_column(SmallInteger)  # Jalali month, 1-12
    amount: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 onupdate=utcnow)

    user = relationship("User")
