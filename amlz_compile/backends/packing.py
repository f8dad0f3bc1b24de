"""Flat array layouts for evaluating many programs on many tasks in one compiled call.

Programs are concatenated row-wise (code int32[R,4], data float64[R,4]) with absolute component
bounds per program (int64[P,4]). Tasks of one feature size F are concatenated row-wise with
offsets; epoch orders are stacked as rows of an int32[sum E_t, max N_t] array. Backends must not
import `tasks`, so tasks are read by duck typing (train_x, train_y, valid_x, valid_y, orders,
is_accuracy).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..ir.program import Program


@dataclass(frozen=True)
class PackedPrograms:
    """P programs: rows bounds[p,0]..bounds[p,3] of codes/datas, split at bounds[p,1:3]."""

    codes: np.ndarray  # int32[R, 4]
    datas: np.ndarray  # float64[R, 4]
    bounds: np.ndarray  # int64[P, 4]

    def __len__(self) -> int:
        return int(self.bounds.shape[0])


def pack_programs(programs: Sequence[Program]) -> PackedPrograms:
    """Concatenate programs into one code/data array with absolute per-program bounds."""
    programs = list(programs)
    bounds = np.zeros((len(programs), 4), dtype=np.int64)
    offset = 0
    for p, prog in enumerate(programs):
        bounds[p] = prog.bounds + offset
        offset += len(prog)
    if programs:
        codes = np.ascontiguousarray(np.concatenate([p.code for p in programs]), dtype=np.int32)
        datas = np.ascontiguousarray(np.concatenate([p.data for p in programs]), dtype=np.float64)
    else:
        codes = np.zeros((0, 4), dtype=np.int32)
        datas = np.zeros((0, 4), dtype=np.float64)
    return PackedPrograms(codes.reshape(-1, 4), datas.reshape(-1, 4), bounds)


@dataclass(frozen=True)
class PackedTasks:
    """T tasks of feature size F, concatenated (see the module docstring)."""

    features: int
    train_x: np.ndarray  # float64[sum N_t, F]
    train_y: np.ndarray  # float64[sum N_t]
    train_off: np.ndarray  # int64[T+1]
    valid_x: np.ndarray  # float64[sum V_t, F]
    valid_y: np.ndarray  # float64[sum V_t]
    valid_off: np.ndarray  # int64[T+1]
    orders: np.ndarray  # int32[sum E_t, max N_t]
    order_off: np.ndarray  # int64[T+1]
    max_train: np.ndarray  # int64[T]: N_t * E_t, a full run's training steps
    num_valid: np.ndarray  # int64[T]: V_t
    valid_divisor: np.ndarray  # float64[T]: V_t (the reference divides by all of them)
    is_accuracy: np.ndarray  # bool[T]

    def __len__(self) -> int:
        return int(self.max_train.shape[0])


def _offsets(sizes: Sequence[int]) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)]).astype(np.int64)


def pack_tasks(tasks: Sequence) -> PackedTasks:
    """Pack tasks that share one feature size; ValueError when they do not."""
    tasks = list(tasks)
    if not tasks:
        raise ValueError("cannot pack an empty task list")
    widths = {int(t.train_x.shape[1]) for t in tasks}
    if len(widths) != 1:
        raise ValueError(f"tasks packed together must share one feature size, got {sorted(widths)}")
    F = widths.pop()
    n_train = [int(t.train_x.shape[0]) for t in tasks]
    n_valid = [int(t.valid_x.shape[0]) for t in tasks]
    epochs = [int(t.orders.shape[0]) for t in tasks]
    orders = np.zeros((sum(epochs), max(n_train)), dtype=np.int32)
    row = 0
    for t, e in zip(tasks, epochs, strict=True):
        orders[row : row + e, : t.orders.shape[1]] = t.orders
        row += e
    return PackedTasks(
        features=F,
        train_x=np.ascontiguousarray(np.concatenate([t.train_x for t in tasks]), dtype=np.float64),
        train_y=np.ascontiguousarray(np.concatenate([t.train_y for t in tasks]), dtype=np.float64),
        train_off=_offsets(n_train),
        valid_x=np.ascontiguousarray(np.concatenate([t.valid_x for t in tasks]), dtype=np.float64),
        valid_y=np.ascontiguousarray(np.concatenate([t.valid_y for t in tasks]), dtype=np.float64),
        valid_off=_offsets(n_valid),
        orders=orders,
        order_off=_offsets(epochs),
        max_train=np.array([n * e for n, e in zip(n_train, epochs, strict=True)], dtype=np.int64),
        num_valid=np.array(n_valid, dtype=np.int64),
        valid_divisor=np.array(n_valid, dtype=np.float64),
        is_accuracy=np.array([bool(t.is_accuracy) for t in tasks], dtype=np.bool_),
    )
