"""Data: one module per area, re-exported here."""

from dashboard.models.ops import WorkerHeartbeat

__all__ = ["WorkerHeartbeat"]
