"""Installed licenses and revocation lists, kept as the signed text the reseller sent."""

from datetime import datetime

from sqlalchemy import DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.database import utcnow
from core.extensions import db


class InstalledLicense(db.Model):
    """A license file installed on this deployment; the newest valid one is in force."""

    __tablename__ = "core_license"
    id: Mapped[int] = mapped_column(primary_key=True)
    license_id: Mapped[str] = mapped_column(String(64), index=True)
    text: Mapped[str] = mapped_column(Text)
    installed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    installed_by: Mapped[str] = mapped_column(String(254), default="")


class InstalledRevocations(db.Model):
    """A vendor revocation list; the one with the highest sequence number applies."""

    __tablename__ = "core_license_revocations"
    id: Mapped[int] = mapped_column(primary_key=True)
    sequence: Mapped[int] = mapped_column(Integer, index=True)
    text: Mapped[str] = mapped_column(Text)
    installed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    installed_by: Mapped[str] = mapped_column(String(254), default="")
