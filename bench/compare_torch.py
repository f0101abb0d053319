#!/usr/bin/python3
"""Training and inference throughput of starnn and PyTorch side by side, on the CPU or on CUDA.

usage: /usr/bin/python3 bench/compare_torch.py [--build BUILD] [--seconds S] [--repeats N] [--device cpu|cuda]
                                             [--only TEXT] [--json FILE] [--precision fp32|bf16]

Needs Debian's PyTorch (`apt-get install -y python3-torch`), which installs for /usr/bin/python3
only, hence that interpreter. BUILD (default `build`) must hold bench/starnn_time_net.

For five nets (write_nets: the thesis's first net, the MLP 7-1024-512-1; a small sandwich; the
thesis's residual net data/nets/regression.json, also with AResDense blocks; a wide one, n_max
2048; --only TEXT keeps those whose label contains TEXT) the script writes a network file, times it with
starnn_time_net, builds the same architecture in PyTorch (fp32, default init, the same batch
size, Adam) with as many threads as starnn uses, times it the same way, and prints one table.
The two sides take turns, N times each (best run kept), so that load from elsewhere on a shared
machine falls on both.
The parameter counts must agree, so both sides time the same net. Run it with
OMP_WAIT_POLICY=passive, which both processes inherit: their OpenMP pools then sleep alike
between parallel regions instead of each runtime spinning as its own default says, which on a
shared 2-core machine would favour one side.

With --precision bf16 starnn's inference runs its products in BF16 (`predict --precision bf16`),
and PyTorch's inference is timed twice: in fp32, the baseline of every other figure, and under
torch.autocast(dtype=torch.bfloat16), its own BF16 inference; training stays fp32 on both sides.

With --device cuda both sides run on the GPU; a net starnn cannot run there is a row marked
n/a with starnn_time_net's reason, not a failure (bench/gpu_report.sh relies on that).
"""

import argparse
import ctypes
import json
import pathlib
import subprocess
import sys
import tempfile
import time

import torch
from torch import nn

ROOT = pathlib.Path(__file__).resolve().parent.parent
REGRESSION = ROOT / "data" / "nets" / "regression.json"
INFERENCE_BATCH = 4096  # as starnn_time_net
WARMUP_STEPS = 5


def features_scale(n_init, n_max, depth):
    """The backbone's widths (nn/net.h); Python's round is half-to-even, as starnn's."""
    return [
        round(n_init * (n_max / n_init) ** (0.0 if depth == 1 else i / (depth - 1)) / 8) * 8
        for i in range(depth)
    ]


class AttentionDense(nn.Module):
    """y = d * softmax(h W^T + b) * h, the softmax over the features of each row."""

    def __init__(self, d):
        super().__init__()
        self.lin = nn.Linear(d, d)

    def forward(self, h):
        return h.shape[1] * torch.softmax(self.lin(h), dim=1) * h


class ResDense(nn.Module):
    """x + L2(ReLU(BN2(L1(ReLU(BN1(x)))))), with attention on the branch for AResDense."""

    def __init__(self, d, attention):
        super().__init__()
        self.bn1 = nn.BatchNorm1d(d)
        self.l1 = nn.Linear(d, d)
        self.bn2 = nn.BatchNorm1d(d)
        self.l2 = nn.Linear(d, d)
        self.att = AttentionDense(d) if attention else None

    def forward(self, x):
        f = self.l2(torch.relu(self.bn2(self.l1(torch.relu(self.bn1(x))))))
        return x + (self.att(f) if self.att is not None else f)


class Mlp(nn.Module):
    """The mlp backbone and linear heads: nn.Sequential(Linear, ReLU[, Dropout], ...), then the head."""

    def __init__(self, n_inputs, n_targets, backbone):
        super().__init__()
        layers, width = [], n_inputs
        for hidden in backbone["widths"]:
            layers += [nn.Linear(width, hidden), nn.ReLU()]
            if backbone["dropout"] > 0:
                layers.append(nn.Dropout(backbone["dropout"]))
            width = hidden
        self.mlp = nn.Sequential(*layers)
        self.head = nn.Linear(width, n_targets)

    def forward(self, x):
        return self.head(self.mlp(x))


class Sandwich(nn.Module):
    """The backbone and linear heads of nn/net.h: stem, encoder blocks and down-projections,
    decoder up-projections (plus the encoder output with additive skips) and blocks."""

    def __init__(self, n_inputs, n_targets, backbone):
        super().__init__()
        widths = features_scale(backbone["n_init"], backbone["n_max"], backbone["depth"])
        attention = backbone["block"] == "aresdense"
        self.skips = backbone["skips"] == "additive"
        p = backbone["dropout"]

        def level(d):
            block = ResDense(d, attention)
            return nn.Sequential(block, nn.Dropout(p)) if p > 0 else block

        self.stem = nn.Linear(n_inputs, widths[0])
        self.enc = nn.ModuleList(level(d) for d in widths)
        self.down = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths, widths[1:]))
        self.up = nn.ModuleList(nn.Linear(b, a) for a, b in zip(widths, widths[1:]))
        self.dec = nn.ModuleList(level(d) for d in widths[:-1])
        self.head = nn.Linear(widths[0], n_targets)

    def forward(self, x):
        h = self.stem(x)
        encoded = []
        for i, block in enumerate(self.enc):
            h = block(h)
            encoded.append(h)
            if i < len(self.down):
                h = self.down[i](h)
        for i in reversed(range(len(self.dec))):
            h = self.up[i](h)
            if self.skips:
                h = h + encoded[i]
            h = self.dec[i](h)
        return self.head(h)


def set_torch_threads(threads):
    """PyTorch on `threads` threads, its BLAS included: Debian's torch calls OpenBLAS's pthread
    build, which sizes its own pool from the environment at load time and ignores
    torch.set_num_threads, so it is told through its C API (the library torch has loaded)."""
    torch.set_num_threads(threads)
    try:
        ctypes.CDLL("libopenblas.so.0").openblas_set_num_threads(threads)
    except (OSError, AttributeError):
        pass  # another BLAS: torch.set_num_threads is what there is


def rows_per_second(step, rows, seconds):
    """Rows/s of step() over at least `seconds` of wall clock, after a warm-up (as starnn_time_net)."""
    for _ in range(WARMUP_STEPS):
        step()
    start = time.perf_counter()
    calls = 0
    while True:
        step()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return calls * rows / elapsed


def torch_steps(net_file, device="cpu"):
    """(train_step, infer_step, infer_bf16_step, parameters) of the net in net_file built in PyTorch
    on `device`: train_step runs one Adam step at the file's batch size, infer_step one
    evaluation-mode forward of INFERENCE_BATCH rows, infer_bf16_step the same under
    torch.autocast in BF16. Each returns once the device has finished (synchronised on CUDA)."""
    spec = json.loads(net_file.read_text())
    model_spec = spec["model"]
    if model_spec["heads"].get("type", "linear") != "linear" or model_spec["heads"].get("classifier", "none") != "none":
        sys.exit(f"{net_file}: only linear heads without a classifier are built in PyTorch here")
    if model_spec["backbone"]["type"] == "mlp":
        backbone_class, backbone = Mlp, {"dropout": 0.0}
    else:
        backbone_class = Sandwich
        backbone = {"block": "resdense", "n_init": 64, "n_max": 2048, "depth": 12, "skips": "additive", "dropout": 0.0}
    backbone.update({k: v for k, v in model_spec["backbone"].items() if k != "type"})
    targets = spec["data"]["targets"]
    n_inputs, n_targets = len(spec["data"]["inputs"]), len(targets)
    weights = torch.tensor([t.get("weight", 1.0) for t in targets], device=device)
    batch = spec["training"].get("batch_size", 256)
    adam = spec["optimizer"]

    torch.manual_seed(0)
    model = backbone_class(n_inputs, n_targets, backbone).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, adam.get("beta2", 0.999)),
                                 eps=adam.get("eps", 1e-8))
    x, y = torch.randn(batch, n_inputs, device=device), torch.randn(batch, n_targets, device=device)
    x_infer = torch.randn(INFERENCE_BATCH, n_inputs, device=device)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)

    # The mode is switched only when it changes: model.train() walks every module, which at the
    # small net's batch would be a visible share of a step that the starnn side does not pay.
    def train_step():
        if not model.training:
            model.train()
        optimizer.zero_grad()
        # The weighted L1 with every label present and unit scale: sum_t w_t mean_i |yhat - y|.
        loss = (weights * (model(x) - y).abs().mean(dim=0)).sum()
        loss.backward()
        optimizer.step()
        sync()

    def infer_step():
        if model.training:
            model.eval()
        with torch.inference_mode():
            model(x_infer)
        sync()

    def infer_bf16_step():
        with torch.autocast(device_type=device, dtype=torch.bfloat16):
            infer_step()

    return train_step, infer_step, infer_bf16_step, sum(p.numel() for p in model.parameters())


def time_torch(steps, batch, seconds, precision):
    train_step, infer_step, infer_bf16_step, parameters = steps
    timed = {"parameters": parameters, "train_rows_per_s": rows_per_second(train_step, batch, seconds),
             "infer_rows_per_s": rows_per_second(infer_step, INFERENCE_BATCH, seconds)}
    if precision == "bf16":
        timed["infer_bf16_rows_per_s"] = rows_per_second(infer_bf16_step, INFERENCE_BATCH, seconds)
    return timed


def best_of(runs):
    """The run with the highest rates, rate by rate: on a shared machine other work only ever
    slows a run down, so the fastest of several is the closest to the code's own speed."""
    best = dict(runs[0])
    for run in runs[1:]:
        for key in ("train_rows_per_s", "infer_rows_per_s", "infer_bf16_rows_per_s"):
            if run.get(key) and (not best.get(key) or run[key] > best[key]):
                best[key] = run[key]
    return best


def train_batch(net_file):
    return json.loads(net_file.read_text())["training"].get("batch_size", 256)


def time_starnn(binary, net_file, seconds, device, precision):
    """starnn_time_net's JSON line, or on CUDA {"unavailable": why} when starnn cannot run the net
    there (no GPU, or a build without the CUDA backend): that row is reported, not fatal."""
    out = subprocess.run([str(binary), str(net_file), str(seconds), "--device", device, "--precision", precision],
                         capture_output=True, text=True)
    if out.returncode != 0:
        why = (out.stderr.strip().splitlines() or ["exit status %d" % out.returncode])[0]
        if device == "cpu":
            sys.exit(why)
        return {"unavailable": why}
    return json.loads(out.stdout)


def write_nets(folder, only=None):
    """The nets as network files in folder: (label, path), those whose label contains `only` if given."""
    base = json.loads(REGRESSION.read_text())
    # The catalogue is never read, but a valid path keeps each file a runnable network file.
    base["data"]["catalog"] = str((REGRESSION.parent / base["data"]["catalog"]).resolve())
    # One net with the thesis's weighted L1, as the PyTorch side builds it: the shipped file's
    # ensemble and uncertainty heads are not what a step of one net is timed on.
    base["model"].pop("members", None)
    base["loss"] = {"type": "weighted_l1"}
    # Nor are its presence indicators (more inputs) and its calibration, which needs an uncertainty.
    base["data"].pop("missing_inputs", None)
    base["training"].pop("sigma_calibration", None)
    # The thesis's first net (§3, Figure 9): Linear 7 x 1024, 1024 x 512 and 512 x 1 with ReLUs.
    # Its 7 inputs are not columns of this catalogue; colour differences of the 4 colours make 7
    # inputs that are, so the file still trains.
    mlp = {"backbone": {"type": "mlp", "widths": [1024, 512], "dropout": 0.0},
           "inputs": ["ug", "gr", "ri", "iz", "ug-gr", "gr-ri", "ri-iz"]}
    variants = [
        ("MLP 7-1024-512-1", mlp),
        ("small d1 64 resdense", {"backbone": {"n_init": 64, "n_max": 64, "depth": 1}}),
        ("regression.json 64-256 d4 resdense", {}),
        ("regression.json 64-256 d4 aresdense", {"backbone": {"block": "aresdense"}}),
        ("wide 64-2048 d5 resdense", {"backbone": {"n_init": 64, "n_max": 2048, "depth": 5}}),
    ]
    nets = []
    for i, (label, change) in enumerate(variants):
        if only is not None and only not in label:
            continue
        spec = json.loads(json.dumps(base))
        backbone = change.get("backbone", {})
        if backbone.get("type", "sandwich") == "sandwich":
            spec["model"]["backbone"].update(backbone)
        else:
            spec["model"]["backbone"] = backbone
        spec["data"]["inputs"] = change.get("inputs", spec["data"]["inputs"])
        path = folder / f"net{i}.json"
        path.write_text(json.dumps(spec, indent=2))
        nets.append((label, path))
    if not nets:
        sys.exit(f"compare_torch.py: no net's label contains {only!r}")
    return nets


def ratio(ours, theirs, key):
    return ours[key] / theirs[key] if ours.get(key) and theirs.get(key) else None


def print_table(rows, device, precision):
    threads = next((ours["threads"] for _, ours, _ in rows if "threads" in ours), "?")
    where = f"CPU, {threads} threads" if device == "cpu" else f"CUDA ({torch.cuda.get_device_name()})"
    what = "fp32" if precision == "fp32" else "fp32 training, starnn's inference in bf16"
    print(f"{where}, {what}, torch {torch.__version__}; rows/s, ratio = starnn / torch")
    header = ("net", "parameters", "starnn train", "torch train", "ratio", f"starnn {precision} infer",
              "torch infer", "ratio")
    if precision == "bf16":
        header += ("torch bf16 infer", "ratio")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))

    def rate(value):
        return f"{value:,.0f}" if value else "n/a"

    for label, ours, theirs in rows:
        train_ratio, infer_ratio = ratio(ours, theirs, "train_rows_per_s"), ratio(ours, theirs, "infer_rows_per_s")
        cells = (label, f"{theirs['parameters']:,}",
                 rate(ours.get("train_rows_per_s")), rate(theirs["train_rows_per_s"]),
                 f"{train_ratio:.2f}" if train_ratio else "n/a",
                 rate(ours.get("infer_rows_per_s")), rate(theirs["infer_rows_per_s"]),
                 f"{infer_ratio:.2f}" if infer_ratio else "n/a")
        if precision == "bf16":
            bf16_ratio = (ours["infer_rows_per_s"] / theirs["infer_bf16_rows_per_s"]
                          if ours.get("infer_rows_per_s") else None)
            cells += (rate(theirs["infer_bf16_rows_per_s"]), f"{bf16_ratio:.2f}" if bf16_ratio else "n/a")
        print("| " + " | ".join(cells) + " |")
    for label, ours, _ in rows:
        if "unavailable" in ours:
            print(f"starnn on {device} unavailable for {label}: {ours['unavailable']}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default="build", help="the CMake build folder (default: build)")
    parser.add_argument("--seconds", type=float, default=1.0, help="timed wall clock per measurement (default: 1)")
    parser.add_argument("--repeats", type=int, default=3, help="alternating runs per side, the best kept (default: 3)")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu", help="where both sides run (default: cpu)")
    parser.add_argument("--only", metavar="TEXT", help="time only the nets whose label contains TEXT")
    parser.add_argument("--json", type=pathlib.Path, help="also write the measurements to this JSON file")
    parser.add_argument("--precision", choices=("fp32", "bf16"), default="fp32",
                        help="the products of starnn's inference (default: fp32)")
    args = parser.parse_args()
    binary = ROOT / args.build / "bench" / "starnn_time_net"  # an absolute --build replaces ROOT
    if not binary.exists():
        sys.exit(f"{binary}: not built (ninja -C {args.build} starnn_time_net)")
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("compare_torch.py: --device cuda, but this PyTorch sees no CUDA device")

    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for label, path in write_nets(pathlib.Path(folder), args.only):
            # starnn and PyTorch take turns, so a burst of load elsewhere hits both sides alike.
            steps, ours_runs, theirs_runs = None, [], []
            for _ in range(args.repeats):
                ours_runs.append(time_starnn(binary, path, args.seconds, args.device, args.precision))
                if steps is None:
                    if args.device == "cpu":
                        set_torch_threads(ours_runs[0]["threads"])
                    steps = torch_steps(path, args.device)
                theirs_runs.append(time_torch(steps, train_batch(path), args.seconds, args.precision))
            ours, theirs = best_of(ours_runs), best_of(theirs_runs)
            if "parameters" in ours:
                assert ours["parameters"] == theirs["parameters"], (label, ours["parameters"], theirs["parameters"])
            rows.append((label, ours, theirs))

    print_table(rows, args.device, args.precision)
    if args.json:
        args.json.write_text(json.dumps({"device": args.device, "precision": args.precision,
                                         "torch": torch.__version__,
                                         "nets": [{"net": label, "starnn": ours, "torch": theirs}
                                                  for label, ours, theirs in rows]}, indent=2) + "\n")


if __name__ == "__main__":
    main()
