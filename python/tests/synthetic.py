"""The synthetic catalogue and the tiny network files of the Python tests: every kind of net
starnn builds, each trained in seconds."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import numpy as np

INPUTS = ["u-g", "g-r", "r-i", "r"]
ROWS = 400


def write_catalog(path: Path) -> None:
    """ugriz magnitudes and labels that follow the colours, with the holes real catalogues have:
    blank fields and 99 sentinels (one band, so one or more colours missing), a row whose r
    band is missing (one input left: too few even for min_present 2) and an outlier."""
    rng = np.random.default_rng(7)
    r = rng.normal(17.0, 1.0, ROWS)
    gr = rng.normal(0.5, 0.2, ROWS)
    g, u = r + gr, r + gr + rng.normal(1.0, 0.3, ROWS)
    i = r - rng.normal(0.2, 0.1, ROWS)
    z = i - 0.5 * gr + rng.normal(0.0, 0.05, ROWS)
    teff = 5500 - 2000 * (gr - 0.5) + rng.normal(0, 80, ROWS)
    feh = -1.0 + 0.8 * (u - g - 1.0) + rng.normal(0, 0.1, ROWS)
    logg = 3.5 + 2.0 * (gr - 0.5) + 0.5 * (r - 17.0) + rng.normal(0, 0.3, ROWS)
    columns = {"u": u, "g": g, "r": r, "i": i, "z": z, "teff": teff, "feh": feh, "logg": logg}
    text = {name: [repr(float(v)) for v in values] for name, values in columns.items()}
    for row in range(0, ROWS, 9):
        text["ugi"[row % 3]][row] = "" if row % 2 else "99"
    text["r"][5] = ""
    text["i"][6] = repr(float(r[6]) - 60.0)  # r-i = 60: far beyond the outlier bounds
    with open(path, "w") as f:
        f.write(",".join(columns) + "\n")
        for row in range(ROWS):
            f.write(",".join(text[name][row] for name in columns) + "\n")


def read_csv(path: Path) -> dict[str, np.ndarray]:
    """Every column as float64; blank fields are NaN, and so are 99 and -99, the magnitude
    sentinels the starnn catalogue reader turns into missing values."""
    with open(path) as f:
        rows = list(csv.DictReader(f))
    columns = {}
    for name in rows[0]:
        values = np.array([float(row[name]) if row[name] else math.nan for row in rows])
        columns[name] = np.where(np.abs(values) == 99.0, math.nan, values)
    return columns


def input_values(catalog: dict[str, np.ndarray], inputs: list[str]) -> np.ndarray:
    """The inputs' values, (N, n_inputs): a column, or a colour "a-b" computed as a - b."""
    def value(expression: str) -> np.ndarray:
        if expression in catalog:
            return catalog[expression]
        first, second = expression.split("-")
        return catalog[first] - catalog[second]
    return np.stack([value(e) for e in inputs], axis=1)


def network(model: dict[str, Any], loss: dict[str, Any], data: dict[str, Any] | None = None,
            training: dict[str, Any] | None = None) -> dict[str, Any]:
    targets = [{"type": "target", "column": c} for c in ("teff", "feh")]
    return {
        "format": "starnn-net/1",
        "data": {"type": "catalog", "catalog": "catalog.csv", "inputs": INPUTS, "targets": targets, **(data or {})},
        "model": {"type": "regressor", **model},
        "loss": loss,
        "optimizer": {"type": "adam"},
        "schedule": {"type": "one_cycle", "max_lr": 0.01},
        "training": {"type": "minibatch", "epochs": 3, "batch_size": 64, "seed": 3, **(training or {})},
    }


def sandwich(block: str, depth: int, skips: str) -> dict[str, Any]:
    return {"type": "sandwich", "block": block, "n_init": 8, "n_max": 16, "depth": depth, "skips": skips}


NETS = {
    # Dropout 0.1 numbers the Sequential Linear, ReLU, Dropout: mlp.0, mlp.3.
    "mlp": network({"backbone": {"type": "mlp", "widths": [16, 8], "dropout": 0.1}, "heads": {"type": "linear"}},
                   {"type": "weighted_l1"}),
    "resdense_sigma": network({"backbone": sandwich("resdense", 2, "none"), "heads": {"type": "linear"}},
                              {"type": "gaussian_nll"}, training={"sigma_calibration": "validation"}),
    "aresdense_skips_causal_ensemble": network(
        {"members": 2, "backbone": sandwich("aresdense", 3, "additive"), "heads": {"type": "causal"}},
        {"type": "laplace_nll"}),
    "classifier": network(
        {"backbone": sandwich("resdense", 2, "additive"), "heads": {"type": "causal", "classifier": "binary"}},
        {"type": "weighted_l1"}, data={"label": "logg < 3.5"}),
    "missing_inputs_sigma": network(
        {"backbone": sandwich("aresdense", 2, "additive"), "heads": {"type": "linear"}}, {"type": "gaussian_nll"},
        data={"missing_inputs": {"type": "presence_indicators", "min_present": 2, "p_drop": 0.2}},
        training={"sigma_calibration": "validation"}),
    "autoencoder": network(
        {"backbone": {"type": "mlp", "widths": [16]}, "heads": {"type": "causal"},
         "decoder": {**sandwich("resdense", 2, "additive"), "band": "z"}},
        {"type": "weighted_l1"},
        data={"targets": [{"type": "target", "column": c} for c in ("teff", "feh", "z")]}),
}
