"""Engines run a plan: the local engine streams batches on one machine."""

from maskme.engine.local import ProgressCallback, RunObserver, RunResult, mask
from maskme.engine.plan import Plan, PlannedField, build_plan

__all__ = ["Plan", "PlannedField", "ProgressCallback", "RunObserver", "RunResult", "build_plan", "mask"]
