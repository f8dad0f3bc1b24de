"""The table of task kinds and data sources: names, aliases, needs (one place for these facts)."""

from __future__ import annotations

from dataclasses import dataclass

from .base import ACCURACY, RMS_ERROR


@dataclass(frozen=True)
class KindInfo:
    """One task kind: how it is named, what it needs, and its loss."""

    name: str
    summary: str
    needs: str
    min_features: int = 1
    eval_types: tuple[str, ...] = (RMS_ERROR,)  # first = default
    aliases: tuple[str, ...] = ()


def _unit_test_kind(
    name: str, summary: str, needs: str = "features, num_train, num_valid"
) -> KindInfo:
    """A unit-test kind of the reference: both losses, aliases unit_test_<name>[_task]."""
    return KindInfo(
        name,
        summary,
        needs,
        eval_types=(RMS_ERROR, ACCURACY),
        aliases=(f"unit_test_{name}", f"unit_test_{name}_task"),
    )


KIND_TABLE: tuple[KindInfo, ...] = (
    KindInfo(
        "linear",
        "y = w.x with x ~ N(0,1)^F and w ~ N(0,1)^F per task (reference "
        "scalar_linear_regression_task)",
        "features, num_train, num_valid",
        aliases=("scalar_linear_regression", "scalar_linear_regression_task"),
    ),
    KindInfo(
        "affine",
        "y = w.x + a with a ~ N(0,1) (the paper's affine tasks; not in the reference code); "
        "same x and w as a linear task with the same seeds",
        "features, num_train, num_valid",
    ),
    KindInfo(
        "nonlinear",
        "2-layer teacher y = u.relu(Mx), M ~ N(0,1)^{FxF}, with rows 0 and 2 of M and u0, u2 "
        "zeroed as in the reference (scalar_2layer_nn_regression_task)",
        "features >= 3, num_train, num_valid, optional normalize_output (divide the labels by "
        "the teacher's exact output std)",
        min_features=3,
        aliases=("scalar_2layer_nn_regression", "scalar_2layer_nn_regression_task"),
    ),
    KindInfo(
        "nonlinear_plain",
        "the paper's 2-layer teacher y = u.relu(Mx) without zeroed rows",
        "features, num_train, num_valid, optional normalize_output (divide the labels by the "
        "teacher's exact output std)",
        aliases=("teacher",),
    ),
    KindInfo(
        "projected_binary",
        "binary classification of a class pair of a labelled dataset, randomly projected to F "
        "dimensions and standardised (reference projected_binary_classification_task + "
        "generate_datasets.py)",
        "features, num_train >= 2, num_valid >= 2, dataset (+ path for files), optional "
        "positive_class/negative_class or held_out_pairs, min/max_data_seed, label_noise "
        "(0 <= p < 0.5: training labels flip with probability p)",
        eval_types=(ACCURACY,),
        aliases=(
            "projected-binary",
            "projected_binary_classification",
            "projected_binary_classification_task",
        ),
    ),
    _unit_test_kind("zeros", "unit-test task: every feature and label is 0"),
    _unit_test_kind("ones", "unit-test task: every feature and label is 1"),
    _unit_test_kind(
        "increment",
        "unit-test task: training example k has features and label k*increment; validation "
        "restarts at 0",
        "features, num_train, num_valid, increment (default 1.0)",
    ),
    _unit_test_kind(
        "fixed",
        "unit-test task with explicit examples",
        "fixed = {train_features, train_labels, valid_features, valid_labels}",
    ),
)

KINDS: tuple[str, ...] = tuple(k.name for k in KIND_TABLE)
KIND_INFO: dict[str, KindInfo] = {k.name: k for k in KIND_TABLE}
KIND_ALIASES: dict[str, str] = {alias: k.name for k in KIND_TABLE for alias in (k.name, *k.aliases)}


@dataclass(frozen=True)
class SourceInfo:
    """One data source for projected binary tasks."""

    name: str
    summary: str
    needs: str


SOURCE_TABLE: tuple[SourceInfo, ...] = (
    SourceInfo(
        "digits",
        "scikit-learn's bundled 8x8 digits (1797 examples, 64 features, classes 0-9, about 180 "
        "per class; no download)",
        "scikit-learn installed; num_train + num_valid + num_test <= the two classes' examples "
        "(about 350)",
    ),
    SourceInfo(
        "cifar10",
        "CIFAR-10 python batches (3072 features, raw 0-255 pixels in HWC order, classes 0-9)",
        "path = directory with data_batch_1..5 (split 'train') or test_batch (split 'test')",
    ),
    SourceInfo(
        "mnist",
        "MNIST idx files (784 features, raw 0-255 pixels, classes 0-9)",
        "path = directory with train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz] "
        "(split 'train') or the t10k-* files (split 'test')",
    ),
    SourceInfo(
        "npz",
        "a NumPy .npz file: features under 'x' or 'X' (N x ..., flattened), labels under 'y' "
        "or 'Y' (N)",
        "path = the .npz file",
    ),
    SourceInfo(
        "csv",
        "a .csv file: numeric feature columns, the label in the last column, optional header",
        "path = the .csv file",
    ),
)

SOURCES: tuple[str, ...] = tuple(s.name for s in SOURCE_TABLE)


def describe_task_kinds() -> dict[str, list[dict[str, str]]]:
    """Task kinds and data sources with what each needs (printed by `amlz tasks`)."""
    kinds = [
        {
            "name": k.name,
            "summary": k.summary,
            "needs": k.needs,
            "eval_type": "/".join(k.eval_types),
            "aliases": ", ".join(k.aliases),
        }
        for k in KIND_TABLE
    ]
    sources = [{"name": s.name, "summary": s.summary, "needs": s.needs} for s in SOURCE_TABLE]
    return {"kinds": kinds, "sources": sources}
