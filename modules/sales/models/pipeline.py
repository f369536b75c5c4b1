"""Sales tables: pipelines with ordered stages, deals, their product lines and activities."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.database import utcnow
from core.extensions import db

STATUSES = ("open", "won", "lost")
ACTIVITY_KINDS = ("note", "call", "meeting", "email")  # written by people
HISTORY_KINDS = ("created", "stage", "status", "update", "owner")  # written by the system


class Pipeline(db.Model):
    """A sales process ("Retail", "Projects") with its own ordered stages."""

    __tablename__ = "sales_pipeline"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    stages: Mapped[list["Stage"]] = relationship(
        back_populates="pipeline", order_by="(Stage.position, Stage.id)",
        cascade="all, delete-orphan")


class Stage(db.Model):
    """One step of a pipeline, with the chance (percent) that a deal in it is won."""

    __tablename__ = "sales_stage"
    id: Mapped[int] = mapped_column(primary_key=True)
    pipeline_id: Mapped[int] = mapped_column(
        ForeignKey("sales_pipeline.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(Integer, default=0)
    probability: Mapped[int] = mapped_column(SmallInteger, default=0)

    pipeline: Mapped[Pipeline] = relationship(back_populates="stages")


class Deal(db.Model):
    """An opportunity to sell to a customer: value in rials, a stage, an owner, an outcome."""

    __tablename__ = "sales_deal"
    __table_args__ = (
        # the board: the largest open deals of a stage, and its count and sum, from the index
        Index("ix_sales_deal_board", "stage_id", "status", "value", "id"),
        # the board's column headers: count and sum of a pipeline's open deals by stage,
        # read from the index alone (it also serves every lookup by pipeline)
        Index("ix_sales_deal_pipeline_board", "pipeline_id", "status", "stage_id", "value"),
        Index("ix_sales_deal_status_close", "status", "expected_close"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("core_customer.id", ondelete="CASCADE"), index=True)
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("sales_pipeline.id"))
    stage_id: Mapped[int] = mapped_column(ForeignKey("sales_stage.id"))
    value: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3), default="IRR")
    expected_close: Mapped[date | None] = mapped_column(Date)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("core_team.id"), index=True)
    source: Mapped[str] = mapped_column(String(80), default="")
    campaign: Mapped[str] = mapped_column(String(120), default="")
    status: Mapped[str] = mapped_column(String(8), default="open")
    lost_reason: Mapped[str] = mapped_column(String(300), default="")
    competitor: Mapped[str] = mapped_column(String(120), default="")
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    stage_changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_activity_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    search_key: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 onupdate=utcnow)

    customer = relationship("Customer", lazy="joined")
    owner = relationship("User", foreign_keys=[owner_id], lazy="joined")
    team = relationship("Team", foreign_keys=[team_id])
    pipeline: Mapped[Pipeline] = relationship()
    stage: Mapped[Stage] = relationship(lazy="joined")
    lines: Mapped[list["DealLine"]] = relationship(
        back_populates="deal", cascade="all, delete-orphan", order_by="DealLine.id")

    def to_dict(self) -> dict:
        return {"id": self.id, "title": self.title, "customer_id": self.customer_id,
                "pipeline_id": self.pipeline_id, "stage_id": self.stage_id,
                "value": self.value, "currency": self.currency,
                "expected_close": self.expected_close, "owner_id": self.owner_id,
                "team_id": self.team_id, "source": self.source, "campaign": self.campaign,
                "status": self.status, "lost_reason": self.lost_reason,
                "competitor": self.competitor, "closed_at": self.closed_at,
                "created_at": self.created_at}


class DealLine(db.Model):
    """A product the deal is about: quantity times unit price (rials)."""

    __tablename__ = "sales_deal_line"
    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("sales_deal.id", ondelete="CASCADE"),
                                         index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("sales_product.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    unit_price: Mapped[int] = mapped_column(BigInteger, default=0)

    deal: Mapped[Deal] = relationship(back_populates="lines")
    product = relationship("Product", lazy="joined")

    @property
    def amount(self) -> int:
        return self.quantity * self.unit_price


class DealActivity(db.Model):
    """Something that happened on a deal: a note or call by a person, or a change (history)."""

    __tablename__ = "sales_deal_activity"
    __table_args__ = (Index("ix_sales_deal_activity_deal_at", "deal_id", "created_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("sales_deal.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))
    body: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    author = relationship("User", lazy="joined")
