"""Core tables that belong to no single subsystem: settings and named locks."""

from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db


class Setting(db.Model):
    """One deployment setting (company profile, currency display, SMTP, ...)."""

    __tablename__ = "core_setting"
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON, nullable=True)


class Lock(db.Model):
    """A row to lock for cross-database critical sections (see ``core.database.lock``)."""

    __tablename__ = "core_lock"
    __audit__ = False
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)
