"""Accounting-link tables (``accounting_link_*``), one file per topic; importing this package
defines them all."""

from modules.accounting_link.models import (
    delivery,  # noqa: F401
    imports,  # noqa: F401
    journal,  # noqa: F401
    moadian,  # noqa: F401
)
