"""Sales tables (``sales_*``), one file per topic; importing this package defines them all."""

from modules.sales.models import catalog, documents, payments, pipeline  # noqa: F401
