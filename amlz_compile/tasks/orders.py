"""Epoch orders of the training examples (docs/semantics.md#training-and-validation)."""

from __future__ import annotations

import numpy as np

from .seeds import MASK32, mt19937

ORDER_SEED_OFFSET = 3274582109


def epoch_orders(num_train: int, epochs: int, data_seed: int) -> np.ndarray:
    """int32[epochs, num_train]: epoch 0 natural, each later epoch a reshuffle of the previous.

    The shuffles draw from mt19937(data_seed + 3274582109 mod 2**32) (the reference's seed and
    bit stream) through numpy's shuffle, so orders match the reference in distribution, not
    element for element (libstdc++'s `std::shuffle` maps the stream differently).
    """
    rng = np.random.Generator(mt19937((int(data_seed) + ORDER_SEED_OFFSET) & MASK32))
    orders = np.empty((epochs, num_train), dtype=np.int32)
    order = np.arange(num_train, dtype=np.int32)
    orders[0] = order
    for e in range(1, epochs):
        rng.shuffle(order)
        orders[e] = order
    return orders
