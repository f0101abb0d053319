"""The starnn Python module against the starnn program: predictions, evaluation and training
from Python give what the program gives for the same model, stars and seed, from every kind of
table; bad tables fail as the program fails.

Needs the program: STARNN_CLI=build/apps/starnn.
"""

from __future__ import annotations

import json
import signal
import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest

import starnn
from conftest import CLI, read_csv
from synthetic import NETS

# Python and the program run the same float32 net on the same batches: the same numbers.
TOLERANCE = 1e-6


def catalog_table(workdir: Path) -> np.ndarray:
    return starnn.read_catalog(workdir / "catalog.csv")


def cli(workdir: Path, *args: str) -> str:
    result = subprocess.run([CLI, *args], cwd=workdir, capture_output=True, text=True)
    assert result.returncode == 0, f"starnn {' '.join(args)}:\n{result.stdout}{result.stderr}"
    return result.stdout


def assert_same(ours: np.ndarray, theirs: np.ndarray, column: str) -> None:
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs), err_msg=column)
    kept = ~np.isnan(theirs)
    difference = float(np.max(np.abs(ours[kept] - theirs[kept]), initial=0.0))
    assert difference <= TOLERANCE, f"{column}: max |delta| {difference}"


@pytest.mark.parametrize("name", ["missing_inputs_sigma", "classifier", "aresdense_skips_causal_ensemble"])
def test_predictions_equal_the_programs(name: str, trained, workdir: Path) -> None:
    model_path, expected = trained(name)
    model = starnn.Model.load(model_path)
    result = model.predict(catalog_table(workdir))
    assert list(result) == model.output_names()
    for column, values in result.items():
        if values.dtype == np.int32:  # n_inputs and starnn_flags: what the program writes NaN is 0
            np.testing.assert_array_equal(values, np.nan_to_num(expected[column], nan=0.0), err_msg=column)
        else:
            assert_same(values, expected[column], column)
    assert result["starnn_flags"].dtype == np.int32
    # The stars the program leaves out (too few inputs, the outlier) are NaN with flags 0 here too.
    left_out = np.isnan(result[model.output_names()[0]])
    assert left_out[5] and left_out[6]
    assert np.all(result["starnn_flags"][left_out] == 0)


def test_bf16_predictions_equal_the_programs(trained, workdir: Path) -> None:
    model_path, fp32 = trained("missing_inputs_sigma")
    model = starnn.Model.load(model_path)
    why = starnn.bf16_unavailable()
    if why:
        with pytest.raises(starnn.Error, match="BF16"):
            model.predict(catalog_table(workdir), device="cpu", precision="bf16")
        pytest.skip(why)
    result = model.predict(catalog_table(workdir), device="cpu", precision="bf16")
    cli(workdir, "predict", "--model", str(model_path), "--catalog", "catalog.csv", "--out", "bf16.csv",
        "--device", "cpu", "--precision", "bf16")
    expected = read_csv(workdir / "bf16.csv")
    for column in model.output_names():
        if result[column].dtype != np.int32:
            assert_same(result[column], expected[column], column)
    # BF16 keeps 8 significant bits of the inputs of each product: close to fp32, not equal.
    pred = model.output_names()[0]
    kept = ~np.isnan(fp32[pred])
    difference = np.abs(result[pred][kept] - fp32[pred][kept])
    assert 0 < difference.max() < 0.05 * np.std(fp32[pred][kept]), difference.max()
    with pytest.raises(starnn.Error, match="'fp16': expected fp32 or bf16"):
        model.predict(catalog_table(workdir), precision="fp16")


def test_every_kind_of_table_gives_the_same_arrays(trained, workdir: Path, tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    table_module = pytest.importorskip("astropy.table")
    model = starnn.Model.load(trained("missing_inputs_sigma")[0])
    structured = catalog_table(workdir)
    columns = {name: structured[name] for name in structured.dtype.names}
    reference = model.predict(columns)
    # float32 bands in a DataFrame, a structured array's strided fields, an astropy Table read
    # from FITS (big-endian columns) and one with masked values where the bands are missing.
    frame = pd.DataFrame({name: values.astype(np.float64) for name, values in columns.items()})
    table = table_module.Table(columns)
    fits = tmp_path / "catalog.fits"
    table.write(fits)
    from_fits = table_module.Table.read(fits)
    assert from_fits["u"].dtype.byteorder == ">"
    masked = table_module.Table({name: np.ma.masked_invalid(values) for name, values in columns.items()})
    assert masked["u"].mask.any()
    integers = dict(columns, flag_column=np.arange(len(structured), dtype=np.int16))
    for data in (frame, structured, table, from_fits, masked, integers):
        result = model.predict(data)
        if isinstance(data, table_module.Table):
            assert isinstance(result, table_module.Table)
        for column, values in reference.items():
            np.testing.assert_array_equal(np.asarray(result[column]), values, err_msg=f"{type(data)} {column}")


def test_bad_tables_fail_as_the_program_does(trained, workdir: Path) -> None:
    model = starnn.Model.load(trained("missing_inputs_sigma")[0])
    structured = catalog_table(workdir)
    columns = {name: structured[name] for name in structured.dtype.names}
    # A band the table lacks: named, with the near names and the columns there are.
    without_g = {("G" if name == "g" else name): values for name, values in columns.items()}
    with pytest.raises(starnn.Error, match=r"has no column 'u-g'.*lacks column 'g' \(did you mean 'G'\?\)"):
        model.predict(without_g)
    with pytest.raises(ValueError):  # starnn.Error is a ValueError
        model.predict(without_g)
    text = dict(columns, u=np.array(["17.1"] * len(structured)))
    with pytest.raises(starnn.Error, match="column 'u' holds str"):
        model.predict(text)
    with pytest.raises(starnn.Error, match="column 'u' has 2 dimensions"):
        model.predict(dict(columns, u=np.zeros((len(structured), 2))))
    with pytest.raises(starnn.Error, match="column 'r' has 3 rows"):
        model.predict(dict(columns, r=np.zeros(3)))
    with pytest.raises(TypeError, match="expected an astropy Table"):
        model.predict([1.0, 2.0])
    with pytest.raises(starnn.Error, match="device gpu: expected auto, cpu or cuda"):
        model.predict(columns, device="gpu")
    with pytest.raises(starnn.Error, match="cannot open"):
        starnn.Model.load(workdir / "no such model.safetensors")


def test_properties_describe_the_model(trained) -> None:
    model = starnn.Model.load(trained("classifier")[0])
    assert model.inputs == NETS["classifier"]["data"]["inputs"]
    assert model.targets == ["teff", "feh"]
    assert model.network["data"]["label"] == "logg < 3.5"
    assert set(model.stats) >= {"inputs", "targets", "input_low", "input_high"}
    assert model.output_names() == ["teff_pred", "feh_pred", "logg < 3.5_logit", "starnn_flags"]


def test_evaluate_gives_the_programs_report(trained, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model_path, _ = trained("missing_inputs_sigma")
    monkeypatch.chdir(workdir)  # where the program ran, and the model's relative catalogue path with it
    # On its training catalogue, a model is judged by its test split, as the program does.
    expected = json.loads(cli(workdir, "evaluate", "--model", str(model_path), "--catalog", "catalog.csv"))
    got = starnn.evaluate(model_path, str(workdir / "catalog.csv"))
    assert got == expected
    assert got["split"] == "test"
    # A table has no file to recognise: every row, as --split all.
    everything = json.loads(cli(workdir, "evaluate", "--model", str(model_path), "--catalog", "catalog.csv",
                                "--split", "all"))
    assert starnn.evaluate(starnn.Model.load(model_path), catalog_table(workdir)) == everything


def test_training_from_a_dict_is_the_programs_run(workdir: Path, tmp_path: Path) -> None:
    network = NETS["resdense_sigma"]
    (tmp_path / "net.json").write_text(json.dumps(network))
    catalog = str(workdir / "catalog.csv")
    cli(tmp_path, "train", "net.json", "--catalog", catalog, "--out", "by_program")
    metrics = starnn.train(network, catalog=catalog, out=tmp_path / "by_python", progress=False)
    assert metrics == json.loads((tmp_path / "by_program" / "metrics.json").read_text())
    for name in ("best.safetensors", "last.safetensors"):
        assert (tmp_path / "by_python" / name).read_bytes() == (tmp_path / "by_program" / name).read_bytes(), name
    # The same run refuses to start over a finished one unless told to.
    with pytest.raises(starnn.Error, match="overwrite|resume"):
        starnn.train(network, catalog=catalog, out=tmp_path / "by_python", progress=False)
    with pytest.raises(starnn.Error, match="epochs 0: must be at least 1"):
        starnn.train(network, catalog=catalog, out=tmp_path / "zero", epochs=0, progress=False)


def test_an_interrupt_stops_at_the_next_batch_and_the_run_resumes(workdir: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    network = dict(NETS["mlp"], training=dict(NETS["mlp"]["training"], epochs=6))
    catalog = str(workdir / "catalog.csv")
    uninterrupted = starnn.train(network, catalog=catalog, out=tmp_path / "whole", progress=False)

    epochs_seen = []

    def interrupting_progress(enabled: bool):
        def on_epoch(row: dict, best: bool) -> None:
            epochs_seen.append(row["epoch"])
            if row["epoch"] == 2:
                signal.raise_signal(signal.SIGINT)  # Ctrl-C, as a notebook's stop button sends it

        return None, on_epoch, lambda: None

    monkeypatch.setattr(starnn, "_progress", interrupting_progress)
    with pytest.raises(KeyboardInterrupt):
        starnn.train(network, catalog=catalog, out=tmp_path / "stopped")
    assert epochs_seen == [1, 2]
    history = (tmp_path / "stopped" / "history.csv").read_text().splitlines()
    assert len(history) == 1 + 2  # the header and the two complete epochs
    monkeypatch.undo()
    resumed = starnn.train(network, out=tmp_path / "stopped", resume=True, progress=False)
    assert resumed == uninterrupted


def test_prediction_releases_the_gil(trained) -> None:
    model = starnn.Model.load(trained("aresdense_skips_causal_ensemble")[0])
    rng = np.random.default_rng(1)
    rows = 300_000
    r = rng.normal(17, 1, rows)
    columns = {"u": r + 1.5, "g": r + 0.5, "r": r, "i": r - 0.2}
    counts = {"during": 0}
    running = threading.Event()
    stop = threading.Event()

    def count() -> None:
        running.set()
        while not stop.is_set():
            counts["during"] += 1

    thread = threading.Thread(target=count)
    thread.start()
    running.wait()
    start = counts["during"]
    model.predict(columns)
    counted = counts["during"] - start
    stop.set()
    thread.join()
    # While the net runs in C++, the other thread keeps counting; holding the GIL, it would stop.
    assert counted > 10_000, counted
