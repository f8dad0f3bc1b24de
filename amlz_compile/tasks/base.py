"""The Task: one dataset an algorithm is trained and validated on (docs/semantics.md#tasks)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import AmlzError

RMS_ERROR = "rms"
ACCURACY = "accuracy"
EVAL_TYPES = (RMS_ERROR, ACCURACY)


class TaskError(AmlzError, ValueError):
    """A task that cannot be built or loaded: bad spec, unreadable data, wrong shapes."""


@dataclass(frozen=True, eq=False)
class Task:
    """Examples (rows of `train_x`, `valid_x`) with labels, epoch orders and the loss kind.

    `orders[e]` is the order of the training examples in epoch e (epoch 0 is natural order,
    each later epoch reshuffles the previous one). Arrays are C-contiguous float64 / int32.
    `index` is the task's position in its evaluator's list (part of the FEC key).
    """

    name: str
    train_x: np.ndarray
    train_y: np.ndarray
    valid_x: np.ndarray
    valid_y: np.ndarray
    orders: np.ndarray
    eval_type: str = RMS_ERROR
    index: int = 0
    data_seed: int = 0
    param_seed: int = 0
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.eval_type not in EVAL_TYPES:
            raise TaskError(f"eval type must be one of {EVAL_TYPES}, got {self.eval_type!r}")
        tx = np.ascontiguousarray(self.train_x, dtype=np.float64)
        vx = np.ascontiguousarray(self.valid_x, dtype=np.float64)
        ty = np.ascontiguousarray(self.train_y, dtype=np.float64).reshape(-1)
        vy = np.ascontiguousarray(self.valid_y, dtype=np.float64).reshape(-1)
        orders = np.ascontiguousarray(self.orders, dtype=np.int32)
        if tx.ndim != 2 or vx.ndim != 2 or tx.shape[1] != vx.shape[1]:
            raise TaskError(f"{self.name}: features must be 2-D with equal widths")
        if tx.shape[0] != ty.shape[0] or vx.shape[0] != vy.shape[0]:
            raise TaskError(f"{self.name}: features and labels differ in length")
        if tx.shape[0] < 1 or vx.shape[0] < 1:
            raise TaskError(f"{self.name}: needs at least one training and one validation example")
        if orders.ndim != 2 or orders.shape[1] != tx.shape[0] or orders.shape[0] < 1:
            raise TaskError(f"{self.name}: orders must have shape (epochs, num_train)")
        for name, arr in (
            ("train_x", tx),
            ("valid_x", vx),
            ("train_y", ty),
            ("valid_y", vy),
            ("orders", orders),
        ):
            arr.flags.writeable = False
            object.__setattr__(self, name, arr)

    @property
    def features(self) -> int:
        return int(self.train_x.shape[1])

    @property
    def num_train(self) -> int:
        """Unique training examples per epoch."""
        return int(self.train_x.shape[0])

    @property
    def num_valid(self) -> int:
        return int(self.valid_x.shape[0])

    @property
    def epochs(self) -> int:
        return int(self.orders.shape[0])

    @property
    def max_train_examples(self) -> int:
        """Training steps of a full run: num_train * epochs."""
        return self.num_train * self.epochs

    @property
    def is_accuracy(self) -> bool:
        return self.eval_type == ACCURACY

    def with_index(self, index: int) -> Task:
        """The same data at another position of an evaluator's task list."""
        return Task(
            self.name,
            self.train_x,
            self.train_y,
            self.valid_x,
            self.valid_y,
            self.orders,
            self.eval_type,
            index,
            self.data_seed,
            self.param_seed,
            dict(self.meta),
        )
