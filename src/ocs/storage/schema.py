"""The whole schema: importing this registers every table module on the shared metadata."""

from ocs.storage import charging_tables as charging_tables
from ocs.storage.tables import metadata as metadata

__all__ = ["charging_tables", "metadata"]
