"""Fixtures of the Python tests: the synthetic catalogue, and the nets of synthetic.NETS trained
and predicted by the starnn program (STARNN_CLI), once per test session."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from synthetic import NETS, read_csv, write_catalog

CLI = os.environ.get("STARNN_CLI")


@pytest.fixture(scope="session")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("nets")
    write_catalog(folder / "catalog.csv")
    return folder


@pytest.fixture(scope="session")
def trained(workdir: Path) -> Callable[[str], tuple[Path, dict[str, np.ndarray]]]:
    """name -> (the model file of NETS[name], `starnn predict`'s output on the catalogue),
    each net trained once."""
    if not CLI:
        pytest.skip("STARNN_CLI is not set (the path of the starnn program, build/apps/starnn): "
                    "these tests compare with its predictions")
    done: dict[str, tuple[Path, dict[str, np.ndarray]]] = {}

    def run(*args: str) -> None:
        result = subprocess.run([CLI, *args], cwd=workdir, capture_output=True, text=True)
        assert result.returncode == 0, f"starnn {' '.join(args)}:\n{result.stdout}{result.stderr}"

    def get(name: str) -> tuple[Path, dict[str, np.ndarray]]:
        if name not in done:
            (workdir / f"{name}.json").write_text(json.dumps(NETS[name]))
            run("train", f"{name}.json", "--out", name, "--overwrite")
            model = workdir / name / "best.safetensors"
            run("predict", "--model", str(model), "--catalog", "catalog.csv", "--out", f"{name}_predicted.csv")
            done[name] = model, read_csv(workdir / f"{name}_predicted.csv")
        return done[name]

    return get
