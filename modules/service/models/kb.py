"""Knowledge base: categories and articles in Persian and English, public or internal."""

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.database import utcnow
from core.extensions import db


class KbCategory(db.Model):
    __tablename__ = "service_kb_category"
    id: Mapped[int] = mapped_column(primary_key=True)
    name_fa: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)


class KbArticle(db.Model):
    """An article; ``search_key`` holds the normalised text of both languages."""

    __tablename__ = "service_kb_article"
    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_kb_category.id", ondelete="SET NULL"), index=True)
    title_fa: Mapped[str] = mapped_column(String(250), default="")
    title_en: Mapped[str] = mapped_column(String(250), default="")
    body_fa: Mapped[str] = mapped_column(Text, default="")
    body_en: Mapped[str] = mapped_column(Text, default="")
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    search_key: Mapped[str] = mapped_column(Text, default="")
    views: Mapped[int] = mapped_column(Integer, default=0)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 onupdate=utcnow)

    category: Mapped[KbCategory | None] = relationship(lazy="joined")
