"""Sales tables (``sales_*``), one file per topic; importing this package defines them all."""

from modules.sales.models import catalog, documents, payments, pipeline, rules, targets  # noqa: F401
