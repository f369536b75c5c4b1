"""Competitors, their products and prices, and notes on the market."""

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.database import utcnow
from core.extensions import db


class Competitor(db.Model):
    """A competitor; lost sales deals name it in ``sales_deal.competitor`` (matched by name)."""

    __tablename__ = "marketing_competitor"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160), unique=True)
    website: Mapped[str] = mapped_column(String(300), default="")
    strengths: Mapped[str] = mapped_column(Text, default="")
    weaknesses: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    products: Mapped[list["CompetitorProduct"]] = relationship(
        back_populates="competitor", order_by="CompetitorProduct.name",
        cascade="all, delete-orphan")


class CompetitorProduct(db.Model):
    """A competitor's product and its price (rials) as seen on a day."""

    __tablename__ = "marketing_competitor_product"
    id: Mapped[int] = mapped_column(primary_key=True)
    competitor_id: Mapped[int] = mapped_column(
        ForeignKey("marketing_competitor.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    price: Mapped[int | None] = mapped_column(BigInteger)
    our_product_id: Mapped[int | None] = mapped_column(Integer)  # a sales product, no FK
    seen_on: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(String(500), default="")

    competitor: Mapped[Competitor] = relationship(back_populates="products")


class MarketNote(db.Model):
    """A note on the market (prices, regulations, trends), optionally about a competitor."""

    __tablename__ = "marketing_market_note"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    competitor_id: Mapped[int | None] = mapped_column(
        ForeignKey("marketing_competitor.id", ondelete="SET NULL"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
