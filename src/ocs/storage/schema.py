"""The whole schema: importing this registers every table module on the shared metadata."""

from ocs.storage import batch_tables as batch_tables
from ocs.storage import bpl_tables as bpl_tables
from ocs.storage import charging_tables as charging_tables
from ocs.storage import credit_card_tables as credit_card_tables
from ocs.storage import domain_tables as domain_tables
from ocs.storage import migration_tables as migration_tables
from ocs.storage import notification_tables as notification_tables
from ocs.storage import offer_tables as offer_tables
from ocs.storage import voucher_tables as voucher_tables
from ocs.storage.tables import metadata as metadata

__all__ = ["charging_tables", "metadata"]
