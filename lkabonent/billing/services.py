"""What the cabinet reads of the accounting system's data."""

from datetime import datetime

from sqlalchemy import func, select

from ..extensions import db
from ..models import BillingImport


def last_received() -> datetime | None:
    """When data last came from the accounting system: the end of the latest import that
    wrote something, or None."""
    return db.session.scalar(
        select(func.max(BillingImport.finished_at)).where(
            BillingImport.result.in_([BillingImport.DONE, BillingImport.PARTIAL])
        )
    )
