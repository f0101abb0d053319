"""The installed package works on its own: `cmake --install` into a fresh prefix, then a Python
that sees only that prefix imports starnn from it, predicts and builds a PyTorch module, as
tests/embed_installed_package.cmake does for C++.

Needs STARNN_BUILD_DIR (the build to install) and STARNN_CLI.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = """
import sys, numpy as np, starnn, starnn.torch, torch
assert starnn.__file__.startswith(sys.argv[1]), starnn.__file__
model = starnn.Model.load(sys.argv[2])
r = np.linspace(15.0, 19.0, 5)
columns = {"u": r + 1.5, "g": r + 0.5, "r": r, "i": r - 0.2}
ours = model.predict(columns)["teff_pred"]
module = starnn.torch.to_module(model, dtype=torch.float64)
x = torch.tensor(np.stack([columns["u"] - columns["g"], columns["g"] - columns["r"],
                           columns["r"] - columns["i"], columns["r"]], axis=1))
theirs = module(x)["teff_pred"].detach().numpy()
assert np.max(np.abs(ours - theirs)) < 1e-2, (ours, theirs)
print("installed", starnn.__version__)
"""


def test_the_installed_package_imports_from_a_fresh_prefix(trained, tmp_path: Path) -> None:
    build = os.environ.get("STARNN_BUILD_DIR")
    if not build:
        pytest.skip("STARNN_BUILD_DIR is not set (the build to install)")
    prefix = tmp_path / "prefix"
    subprocess.run(["cmake", "--install", build, "--prefix", str(prefix)], check=True, capture_output=True)
    site = list(prefix.glob("lib/python3*/site-packages"))
    assert len(site) == 1, list(prefix.rglob("starnn"))
    environment = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "LD_LIBRARY_PATH")}
    environment["PYTHONPATH"] = str(site[0])
    model, _ = trained("mlp")
    result = subprocess.run([sys.executable, "-c", SCRIPT, str(site[0]), str(model)], env=environment,
                            capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("installed ")
