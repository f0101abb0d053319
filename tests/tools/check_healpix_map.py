#!/usr/bin/python3
"""starnn map --healpix against healpy: a synthetic all-sky catalogue with a known pattern on the
sky, in three files, mapped at NSIDE 16; healpy reads the map, its counts are healpy's own binning
of the same stars (Galactic coordinates from astropy, not starnn), and the medians recover the
pattern; with MPI, two ranks sharing the files write the same bytes. Exit 77 (skipped) without
healpy.

usage: check_healpix_map.py STARNN SCRATCH
"""

import pathlib
import shutil
import subprocess
import sys

import numpy as np

try:
    import healpy
except ImportError:
    print("healpy is not installed (Debian: python3-healpy)")
    sys.exit(77)
from astropy import units
from astropy.coordinates import SkyCoord
from astropy.table import Table

NSIDE = 16


def main():
    starnn, scratch = sys.argv[1], pathlib.Path(sys.argv[2])
    shutil.rmtree(scratch, ignore_errors=True)
    (scratch / "parts").mkdir(parents=True)
    rng = np.random.default_rng(5)
    n = 300_000
    ra = rng.uniform(0, 360, n)
    dec = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))  # uniform on the sphere
    galactic = SkyCoord(ra=ra * units.deg, dec=dec * units.deg, frame="icrs").galactic
    l, b = galactic.l.deg, galactic.b.deg
    # The pattern: [Fe/H] -0.5 north of the Galactic plane, -1.5 south, with scatter; its sigma
    # 0.1 + 0.1 |sin l|.
    feh = np.where(b > 0, -0.5, -1.5) + rng.normal(0, 0.1, n)
    err = 0.1 + 0.1 * np.abs(np.sin(np.radians(l)))
    for k, part in enumerate(np.array_split(np.arange(n), 3)):
        Table({"ra": ra[part], "dec": dec[part], "feh_pred": feh[part], "feh_err": err[part]}).write(
            scratch / "parts" / f"part{k}.fits")
    out = scratch / "sky"
    result = subprocess.run([starnn, "map", "--healpix", str(NSIDE), "--catalog", str(scratch / "parts" / "*.fits"),
                             "--out", str(out)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    print(result.stdout, end="")

    count, mean, median, err_mean, err_median = healpy.read_map(out / "healpix.fits", field=(0, 1, 2, 3, 4))
    header = dict(healpy.read_map(out / "healpix.fits", h=True)[1])
    assert header["NSIDE"] == NSIDE and header["ORDERING"] == "RING" and header["COORDSYS"] == "G", header
    expected = np.bincount(healpy.ang2pix(NSIDE, l, b, lonlat=True), minlength=healpy.nside2npix(NSIDE))
    differ = np.count_nonzero(count != expected)
    print(f"{differ} of {len(count)} pixels count differently from healpy's binning of the same stars")
    assert count.sum() == n and differ <= len(count) // 1000, differ  # only stars on a pixel's edge may move
    centre_l, centre_b = healpy.pix2ang(NSIDE, np.arange(len(count)), lonlat=True)
    away = np.abs(centre_b) > 4  # pixels of NSIDE 16 are 3.7 degrees across
    pattern = np.where(centre_b > 0, -0.5, -1.5)
    worst = np.max(np.abs(median[away] - pattern[away]))
    print(f"median off the pattern by at most {worst:.3f} dex away from the plane")
    assert worst < 0.15, worst
    assert np.max(np.abs(mean[away] - pattern[away])) < 0.1
    sigma = 0.1 + 0.1 * np.abs(np.sin(np.radians(centre_l)))
    assert np.max(np.abs(err_mean - sigma)) < 0.03 and np.max(np.abs(err_median - sigma)) < 0.03
    assert (out / "sky.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    version = subprocess.run([starnn, "--version"], capture_output=True, text=True).stdout
    mpirun = shutil.which("mpirun")
    if mpirun and "MPI: built in" in version:
        result = subprocess.run([mpirun, "--allow-run-as-root", "--oversubscribe", "-n", "2", starnn, "map",
                                 "--healpix", str(NSIDE), "--catalog", str(scratch / "parts" / "*.fits"),
                                 "--out", str(scratch / "sky2")], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr
        assert (scratch / "sky2" / "healpix.fits").read_bytes() == (out / "healpix.fits").read_bytes()
        print("two ranks wrote the same map")
    else:
        print("no MPI: the two-rank map is not checked")
    print("ok")


if __name__ == "__main__":
    main()
