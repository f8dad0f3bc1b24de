"""Task generators and datasets (semantics section 6)."""

from .base import ACCURACY, RMS_ERROR, Task, TaskError

__all__ = ["ACCURACY", "RMS_ERROR", "Task", "TaskError"]
