"""starnn: dense residual nets that learn stellar parameters from photometry.

Train a net from a network file, predict for a catalogue held in Python, evaluate::

    import starnn

    metrics = starnn.train("data/nets/regression.json", out="runs/regression")
    model = starnn.Model.load("runs/regression/best.safetensors")
    table = astropy.table.Table.read("data/sdss_s82_photometry.fits")
    result = model.predict(table)          # a Table: feh_pred, feh_err, ..., starnn_flags
    report = starnn.evaluate(model, "labelled.fits")

Tables are astropy Tables, pandas DataFrames, numpy structured arrays or dicts of 1-D arrays;
the model finds its input columns in them by name and computes colours ("u-g") as the
``starnn`` program does, with the same missing-value rule: NaN, a masked value, 99 and -99
are missing. Errors of the library raise :class:`starnn.Error`, a ``ValueError`` carrying the
library's message. Prediction and training run with the GIL released. ``starnn.torch`` turns
a model into a PyTorch module.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any, Callable, Mapping, Optional, Sequence, Union

import numpy as np

from . import _starnn
from ._starnn import Error, __version__, bf16_unavailable

__all__ = ["Error", "Model", "bf16_unavailable", "evaluate", "read_catalog", "train", "__version__"]

PathLike = Union[str, "os.PathLike[str]"]


# ---- Tables in, columns out ----

def _kind(data: Any) -> str:
    """Which kind of table `data` is: "table" (astropy), "dataframe", "structured" or "mapping"."""
    module = type(data).__module__
    if module.startswith("astropy") and hasattr(data, "colnames"):
        return "table"
    if module.startswith("pandas") and hasattr(data, "columns") and hasattr(data, "iloc"):
        return "dataframe"
    if isinstance(data, np.ndarray) and data.dtype.names is not None:
        return "structured"
    if isinstance(data, Mapping):
        return "mapping"
    raise TypeError(
        f"expected an astropy Table, a pandas DataFrame, a numpy structured array or a dict of "
        f"1-D arrays, not {type(data).__name__}")


_SOURCES = {"table": "the Table", "dataframe": "the DataFrame", "structured": "the structured array",
            "mapping": "the dict"}


def _names(data: Any, kind: str) -> list[str]:
    if kind == "table":
        return list(data.colnames)
    if kind == "dataframe":
        return [str(c) for c in data.columns]
    if kind == "structured":
        return list(data.dtype.names)
    return [str(k) for k in data.keys()]


def _column(data: Any, kind: str, name: str) -> np.ndarray:
    """One column as a numpy array, without a copy where the table holds one already.

    Masked values (an astropy MaskedColumn, a numpy masked array, pandas' nullable dtypes)
    become NaN, which takes a float copy of that column alone."""
    if kind == "dataframe":
        series = data[name]
        if series.hasnans and series.dtype.kind not in "fc":
            return series.to_numpy(dtype=np.float64, na_value=np.nan)
        return series.to_numpy()
    column = data[name]
    if np.ma.isMaskedArray(column) or hasattr(column, "mask"):
        mask = np.ma.getmaskarray(column)
        column = np.ma.getdata(column)
        if mask.any():
            column = np.where(mask, np.nan, np.asarray(column, dtype=np.float64))
    return np.asarray(column)


def _columns(data: Any, wanted: Callable[[list[str]], list[str]]):
    """(kind, source, {name: array}, every column name) for the columns `wanted(names)` names
    that the table has; the library reports the others by name, with the names there are."""
    kind = _kind(data)
    names = _names(data, kind)
    present = set(names)
    columns = {name: _column(data, kind, name) for name in wanted(names) if name in present}
    return kind, _SOURCES[kind], columns, names


# ---- The model ----

class Model:
    """A trained starnn model (a ``.safetensors`` file that ``starnn train`` or :func:`train`
    wrote): its net or ensemble, its network file and normalisation statistics."""

    def __init__(self, native: "_starnn._Model") -> None:
        self._native = native

    @classmethod
    def load(cls, path: PathLike) -> "Model":
        """Reads a model file; raises :class:`Error` naming the file when it is not a model."""
        return cls(_starnn._Model(os.fspath(path)))

    @property
    def path(self) -> str:
        """The model file it was loaded from."""
        return self._native.path

    @property
    def network(self) -> dict:
        """The network file it was trained with, as a dict (the file's JSON, defaults filled in)."""
        return json.loads(self._native.network_json)

    @property
    def stats(self) -> dict:
        """The training split's statistics that normalise inputs and targets (means, standard
        deviations, the inputs' outlier bounds and training range)."""
        return json.loads(self._native.stats_json)

    @property
    def inputs(self) -> list[str]:
        """The input expressions in the net's order: columns and colours such as "u-g"."""
        return list(self._native.inputs)

    @property
    def targets(self) -> list[str]:
        """The target columns it predicts."""
        return list(self._native.targets)

    def output_names(self, mc_samples: int = 0) -> list[str]:
        """The keys of :meth:`predict`'s result, in order."""
        return list(self._native.output_names(mc_samples))

    def predict(self, data: Any, batch_size: int = 4096, device: str = "auto", mc_samples: int = 0,
                precision: str = "fp32") -> Any:
        """Predictions for every row of `data`.

        data: an astropy Table, a pandas DataFrame, a numpy structured array or a dict of 1-D
        arrays holding the model's input columns (any numeric dtype); colours are computed from
        their bands. Only the input columns are read, in place, one chunk of 100,000 rows at a
        time.

        Returns a dict of 1-D arrays (an astropy Table when `data` is one), the columns that
        ``starnn predict`` appends: ``<target>_pred`` and, for models with uncertainties,
        ``<target>_err`` (1 sigma), float64; a classifier's ``<label>_logit``; ``n_inputs`` for
        nets that take missing inputs and ``starnn_flags``, int32. Rows not predicted (too few
        inputs, an input outlier) are NaN with flags 0, as in the program.

        device: "auto" (the GPU where there is one), "cpu" or "cuda". mc_samples: K >= 2 MC
        dropout passes per member, 0 for none. precision: "fp32", or "bf16" for the products in
        BF16 with float sums, as ``starnn predict --precision bf16`` (on the CPU, where it has
        AVX512_BF16 or AMX; elsewhere a starnn.Error says why, as :func:`bf16_unavailable` does).
        """
        kind, source, columns, names = self._table(data, labels=False)
        result = self._native.predict(source, columns, names, batch_size, mc_samples, device, precision)
        return _as_kind(result, kind)

    def _table(self, data: Any, labels: bool):
        return _columns(data, lambda names: self._native.needed_columns(names, labels))


def _as_kind(result: dict, kind: str) -> Any:
    if kind == "table":
        from astropy.table import Table
        return Table(result, copy=False)
    return result


# ---- Catalogue files ----

def read_catalog(path: PathLike, columns: Optional[Sequence[str]] = None, hdu: str = "") -> np.ndarray:
    """A FITS or CSV catalogue as a numpy structured array of float64 fields, read by the
    library's readers (the missing-value rule gives NaN). columns: only these, in this order;
    default every numeric column. hdu: a FITS table's EXTNAME or number (default the first
    table)."""
    arrays = _starnn._read_catalog(os.fspath(path), list(columns or []), hdu)
    table = np.empty(len(next(iter(arrays.values()))) if arrays else 0,
                     dtype=[(name, np.float64) for name in arrays])
    for name, values in arrays.items():
        table[name] = values
    return table


# ---- Evaluation ----

def evaluate(model: Union[Model, PathLike], data: Any, split: Optional[str] = None, mc_samples: int = 0,
             device: str = "auto", precision: str = "fp32") -> dict:
    """The precision of `model` on labelled stars: the dict ``starnn evaluate`` prints (per
    target n, bias, sigma_gauss, sigma_mad, rmse and, for models with uncertainties, their
    calibration; the classifier's; per missing-input pattern).

    data: a catalogue file or a table as :meth:`Model.predict` takes. split: "all", "train",
    "validation" or "test" (the model's own split of the rows); default, as in the program, the
    test split for the catalogue the model trained on and every row otherwise (and for tables).
    device, mc_samples and precision as for :meth:`Model.predict`.
    """
    if not isinstance(model, Model):
        model = Model.load(model)
    if isinstance(data, (str, os.PathLike)):
        path = os.fspath(data)
        if split is None:
            split = "test" if model._native.trained_on(path) else "all"
        hdu = model.network["data"].get("hdu", "")
        data = read_catalog(path, model._native.file_columns(path, hdu), hdu)
    kind, source, columns, names = model._table(data, labels=True)
    return json.loads(model._native.evaluate(source, columns, names, split or "all", mc_samples, device,
                                              precision))


# ---- Training ----

def train(network: Union[PathLike, Mapping[str, Any]], catalog: Optional[PathLike] = None,
          out: Optional[PathLike] = None, epochs: Optional[int] = None, seed: Optional[int] = None,
          device: Optional[str] = None, resume: bool = False, overwrite: bool = False,
          progress: bool = True) -> Optional[dict]:
    """Trains a net as ``starnn train`` does: the same library run, the same files in `out`
    (best.safetensors, last.safetensors, history.csv, metrics.json) and, for the same seed, the
    same bits.

    network: a network file, or its contents as a dict (a relative data.catalog is then taken
    from the working directory). catalog, epochs, seed, device ("auto", "cpu", "cuda"): instead
    of the file's. out: the run's folder (default runs/<network file's name>). resume: continue
    the run in `out`. overwrite: replace a run `out` already holds. progress: a tqdm bar per
    epoch when tqdm is installed, a line per epoch otherwise; False for silence.

    Returns the best model's metrics on the test split (metrics.json as a dict). Ctrl-C stops
    at the next batch, with the checkpoints of the last complete epoch, and raises
    KeyboardInterrupt; train again with resume=True to continue.
    """
    if isinstance(network, Mapping):
        text, is_path = json.dumps(network), False
        if out is None:
            raise TypeError("train: a network given as a dict needs out=, the run's folder")
    else:
        text, is_path = os.fspath(network), True
        if out is None:
            out = os.path.join("runs", os.path.splitext(os.path.basename(text))[0])
    on_batch, on_epoch, close = _progress(progress)
    try:
        metrics = _starnn._train(text, is_path, None if catalog is None else os.fspath(catalog), os.fspath(out),
                                 epochs, seed, device, resume, overwrite, on_batch, on_epoch)
    finally:
        close()
    return None if metrics is None else json.loads(metrics)


def _progress(enabled: bool):
    """The (on_batch, on_epoch, close) callbacks that show a run's progress."""
    if not enabled:
        return None, None, lambda: None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        tqdm = None
    bar = None
    state = {"epoch": None}

    def on_batch(epoch: int, done: int, total: int) -> None:
        nonlocal bar
        if tqdm is None:
            return
        if state["epoch"] != epoch:
            if bar is not None:
                bar.close()
            bar = tqdm(total=total, desc=f"epoch {epoch}", unit="batch", leave=False)
            state["epoch"] = epoch
        bar.update(done - bar.n)

    def on_epoch(row: dict, best: bool) -> None:
        line = (f"epoch {row['epoch']}  train {row['train_loss']:.6g}  validation {row['validation_loss']:.6g}"
                f"  lr {row['lr']:.3g}  {row['seconds']:.1f} s{'  (best)' if best else ''}")
        if bar is not None:
            bar.write(line)
        else:
            print(line, file=sys.stdout, flush=True)

    def close() -> None:
        if bar is not None:
            bar.close()

    return on_batch, on_epoch, close
