#!/usr/bin/python3
"""The main job from Python: train the residual net of data/nets/regression.json on the SEGUE
stars, predict [Fe/H] and its uncertainty for the Stripe 82 standard stars (an astropy Table,
photometry only), and plot what came out.

usage: PYTHONPATH=build/python /usr/bin/python3 examples/python/stripe82.py [--epochs N] [--out DIR]
"""

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from astropy.table import Table

import starnn

ROOT = Path(__file__).resolve().parents[2]

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--epochs", type=int, help="instead of the network file's (a quick look: 5)")
parser.add_argument("--out", type=Path, default=ROOT / "runs" / "python_stripe82")
args = parser.parse_args()

# Training: the same run, files and bits as `starnn train data/nets/regression.json`.
metrics = starnn.train(ROOT / "data/nets/regression.json", out=args.out, epochs=args.epochs, overwrite=True)
feh = metrics["targets"]["feh"]
print(f"test split: {feh['n']} stars, sigma_gauss {feh['sigma_gauss']:.4f} dex, "
      f"coverage_68 {feh['coverage_68']:.3f}")

# Prediction: the model finds its inputs (ug, gr, ri, iz) in the Table by name.
model = starnn.Model.load(args.out / "best.safetensors")
stars = Table.read(ROOT / "data/sdss_s82_photometry.fits")
predicted = model.predict(stars)
stars["feh"], stars["feh_err"] = predicted["feh_pred"], predicted["feh_err"]
stars["starnn_flags"] = predicted["starnn_flags"]
good = np.isfinite(stars["feh"]) & (stars["starnn_flags"] & 1 == 0)  # bit 0: outside the training range
print(f"Stripe 82: {len(stars)} stars, {np.isfinite(stars['feh']).sum()} predicted, "
      f"{good.sum()} inside the training range; median [Fe/H] {np.median(stars['feh'][good]):.2f}, "
      f"median sigma {np.median(stars['feh_err'][good]):.3f} dex")

figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4.2), constrained_layout=True)
left.hist(stars["feh"][good], bins=np.arange(-3.0, 0.81, 0.1), color="tab:blue")
left.set_xlabel("predicted [Fe/H] (dex)")
left.set_ylabel("stars per 0.1 dex")
left.set_title(f"Stripe 82 standard stars ({good.sum()} inside the training range)")
points = right.scatter(stars["gr"][good], stars["feh"][good], c=stars["feh_err"][good], s=4, cmap="viridis",
                       vmin=0.1, vmax=0.4)
right.set_xlabel("g − r (mag)")
right.set_ylabel("predicted [Fe/H] (dex)")
right.set_title("[Fe/H] against colour")
figure.colorbar(points, ax=right, label="predicted σ[Fe/H] (dex)")
png = args.out / "stripe82_feh.png"
figure.savefig(png, dpi=120)
print(f"wrote {png}")
