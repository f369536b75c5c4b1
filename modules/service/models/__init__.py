"""Service tables (``service_*``), one file per topic; importing this package defines them all."""

from modules.service.models import assets, kb, sla, surveys, tickets  # noqa: F401
