"""starnn.torch.to_module against `starnn predict`: tiny nets of every kind trained by the
starnn program on a synthetic catalogue, their model files turned into PyTorch modules, the
modules' predictions compared with the program's, column by column.

Needs the program: STARNN_CLI=build/apps/starnn.
"""

from __future__ import annotations

import json
import struct
import types
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
import torch

from starnn.torch import read_safetensors, to_module
from synthetic import NETS, ROWS, input_values

# Of a prediction: |torch - starnn| / max(1, |starnn's values|), since starnn runs in float32
# and Teff is thousands of kelvin.
TOLERANCE = 1e-5


def predict(module: torch.nn.Module, catalog: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    with torch.no_grad():
        out = module(torch.from_numpy(input_values(catalog, module.input_names)))
    return {name: values.numpy() for name, values in out.items()}


def max_difference(ours: np.ndarray, theirs: np.ndarray) -> float:
    """The largest |ours - theirs| / max(1, |theirs|); NaN (a row left out) must be NaN in both."""
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
    kept = ~np.isnan(theirs)
    return float(np.max(np.abs(ours[kept] - theirs[kept]) / np.maximum(1.0, np.abs(theirs[kept]))))


def rewrite(source: Path, target: Path, edit: Callable[[dict[str, Any]], None]) -> Path:
    """A copy of a safetensors file with its JSON header edited; the data stay as they are."""
    content = source.read_bytes()
    (length,) = struct.unpack_from("<Q", content, 0)
    header = json.loads(content[8:8 + length])
    edit(header)
    encoded = json.dumps(header).encode()
    target.write_bytes(struct.pack("<Q", len(encoded)) + encoded + content[8 + length:])
    return target


EXPECTED_COLUMNS = {
    "mlp": ["teff_pred", "feh_pred"],
    "resdense_sigma": ["teff_pred", "teff_err", "feh_pred", "feh_err"],
    "aresdense_skips_causal_ensemble": ["teff_pred", "teff_err", "feh_pred", "feh_err"],
    "classifier": ["teff_pred", "feh_pred", "logg < 3.5_logit"],
    "missing_inputs_sigma": ["teff_pred", "teff_err", "feh_pred", "feh_err"],
    "autoencoder": ["teff_pred", "feh_pred", "z_pred"],
}


@pytest.mark.parametrize("name", list(NETS))
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_module_predicts_as_starnn_does(name: str, dtype: torch.dtype, trained) -> None:
    model, expected = trained(name)
    module = to_module(model, dtype=dtype)
    assert not module.training
    if NETS[name]["training"].get("sigma_calibration") == "validation":
        assert "calibration" in read_safetensors(model)[0]  # so the errors compared carry sigma_scale
    assert module.output_names == EXPECTED_COLUMNS[name]
    ours = predict(module, expected)
    for column in module.output_names:
        difference = max_difference(ours[column], expected[column])
        print(f"{name} {dtype} {column}: max |delta| {difference:.2e}")
        assert difference <= TOLERANCE, column
    # The rows starnn leaves out: missing inputs (every input, or fewer than 2 of 4 with
    # presence indicators) and the outlier.
    left_out = np.isnan(expected[module.output_names[0]])
    assert left_out[5] and left_out[6]
    assert left_out.sum() == (2 if name == "missing_inputs_sigma" else 2 + len(range(0, ROWS, 9)))


@pytest.mark.parametrize("name", list(NETS))
def test_state_dict_is_the_files_tensors(name: str, trained) -> None:
    model, _ = trained(name)
    module = to_module(types.SimpleNamespace(path=str(model)))  # as the compiled starnn.Model names its file
    _, tensors = read_safetensors(model)
    state = module.state_dict()
    assert set(state) == set(tensors) - {"optimizer.m", "optimizer.v"}
    for key, value in state.items():
        assert value.numel() == tensors[key].size, key
    # The file's tensors go in strictly, reshaped only where a file squeezes a one-row weight.
    module.load_state_dict({k: torch.from_numpy(v).reshape(state[k].shape) for k, v in tensors.items()}, strict=True)
    if NETS[name]["model"].get("members", 1) > 1:
        assert all(key.startswith("members.") for key in state)


def one_row_weights(module: torch.nn.Module) -> dict[str, list[int]]:
    return {k: list(v.shape) for k, v in module.state_dict().items() if v.ndim == 2 and v.shape[0] == 1}


def test_squeezed_and_pytorch_shapes_load_alike(trained, workdir: Path) -> None:
    # Causal heads without uncertainty, the classifier and the band decoder's head are all
    # Linear(n, 1): PyTorch's [1, n], which older files squeezed to [n].
    model, catalog = trained("autoencoder")
    reference = to_module(model, dtype=torch.float64)
    one_row = one_row_weights(reference)
    assert {"heads.0.weight", "heads.1.weight", "decoder.head.weight"} <= set(one_row)

    def reshape(shapes: Callable[[list[int]], list[int]]) -> Callable[[dict[str, Any]], None]:
        def edit(header: dict[str, Any]) -> None:
            for key, shape in one_row.items():
                header[key]["shape"] = shapes(shape)
        return edit

    squeezed = rewrite(model, workdir / "squeezed.safetensors", reshape(lambda shape: shape[1:]))
    pytorch = rewrite(model, workdir / "pytorch.safetensors", reshape(lambda shape: shape))
    assert read_safetensors(squeezed)[1]["heads.0.weight"].ndim == 1
    assert read_safetensors(pytorch)[1]["heads.0.weight"].ndim == 2
    expected = predict(reference, catalog)
    for path in (squeezed, pytorch):
        got = predict(to_module(path, dtype=torch.float64), catalog)
        for column, values in expected.items():
            np.testing.assert_array_equal(got[column], values)
    # A file in PyTorch's shapes is a state_dict as it stands.
    _, tensors = read_safetensors(pytorch)
    reference.load_state_dict({k: torch.from_numpy(v) for k, v in tensors.items()}, strict=True)


def test_loading_is_strict(trained, workdir: Path) -> None:
    model, _ = trained("mlp")

    def drop(header: dict[str, Any]) -> None:
        del header["head.bias"]

    def add(header: dict[str, Any]) -> None:
        header["extra.bias"] = dict(header["head.bias"])

    with pytest.raises(RuntimeError, match="Missing key"):
        to_module(rewrite(model, workdir / "missing.safetensors", drop))
    with pytest.raises(RuntimeError, match="Unexpected key"):
        to_module(rewrite(model, workdir / "unexpected.safetensors", add))


def test_not_a_model_file(workdir: Path) -> None:
    path = workdir / "other.safetensors"
    header = json.dumps({"__metadata__": {"format": "something-else"}}).encode()
    path.write_bytes(struct.pack("<Q", len(header)) + header)
    with pytest.raises(ValueError, match="not a starnn model file"):
        to_module(path)
