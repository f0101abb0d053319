#!/usr/bin/python3
"""Training and inference throughput of starnn and PyTorch side by side, on the CPU.

usage: /usr/bin/python3 bench/compare_torch.py [--build BUILD] [--seconds S]

Needs Debian's PyTorch (`apt-get install -y python3-torch`), which installs for /usr/bin/python3
only, hence that interpreter. BUILD (default `build`) must hold bench/starnn_time_net.

For four nets -- the smallest sandwich (depth 1: stem, one ResDense block, head; starnn has no
plain MLP, so this stands in for the thesis's small 3-layer MLP), the thesis's residual net
data/nets/regression.json, the same with AResDense blocks, and a wide one (n_max 2048) -- the
script writes a network file, times it with starnn_time_net, builds the same architecture in
PyTorch (fp32, default init, the same batch size, Adam) with as many threads as starnn uses,
times it the same way, and prints one table. The parameter counts must agree, so both sides
time the same net. Run it with OMP_WAIT_POLICY=passive, which both processes inherit: their
OpenMP pools then sleep alike between parallel regions instead of each runtime spinning as its
own default says, which on a shared 2-core machine would favour one side.
"""

import argparse
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
    """DESIGN.md's widths; Python's round is half-to-even, as starnn's."""
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


class Sandwich(nn.Module):
    """The backbone and linear heads of DESIGN.md: stem, encoder blocks and down-projections,
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


def time_torch(net_file, seconds):
    spec = json.loads(net_file.read_text())
    model_spec = spec["model"]
    if model_spec["heads"].get("type", "linear") != "linear" or model_spec["heads"].get("classifier", "none") != "none":
        sys.exit(f"{net_file}: only linear heads without a classifier are built in PyTorch here")
    backbone = {"block": "resdense", "n_init": 64, "n_max": 2048, "depth": 12, "skips": "additive", "dropout": 0.0}
    backbone.update({k: v for k, v in model_spec["backbone"].items() if k != "type"})
    targets = spec["data"]["targets"]
    n_inputs, n_targets = len(spec["data"]["inputs"]), len(targets)
    weights = torch.tensor([t.get("weight", 1.0) for t in targets])
    batch = spec["training"].get("batch_size", 256)
    adam = spec["optimizer"]

    torch.manual_seed(0)
    model = Sandwich(n_inputs, n_targets, backbone)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, adam.get("beta2", 0.999)),
                                 eps=adam.get("eps", 1e-8))
    x, y = torch.randn(batch, n_inputs), torch.randn(batch, n_targets)

    def train_step():
        optimizer.zero_grad()
        # The weighted L1 with every label present and unit scale: sum_t w_t mean_i |yhat - y|.
        loss = (weights * (model(x) - y).abs().mean(dim=0)).sum()
        loss.backward()
        optimizer.step()

    model.train()
    train = rows_per_second(train_step, batch, seconds)

    x_infer = torch.randn(INFERENCE_BATCH, n_inputs)
    model.eval()
    with torch.inference_mode():
        infer = rows_per_second(lambda: model(x_infer), INFERENCE_BATCH, seconds)
    return {"parameters": sum(p.numel() for p in model.parameters()), "train_rows_per_s": train,
            "infer_rows_per_s": infer}


def time_starnn(binary, net_file, seconds):
    out = subprocess.run([str(binary), str(net_file), str(seconds)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def write_nets(folder):
    """The nets as network files in folder: (label, path)."""
    base = json.loads(REGRESSION.read_text())
    # The catalogue is never read, but a valid path keeps each file a runnable network file.
    base["data"]["catalog"] = str((REGRESSION.parent / base["data"]["catalog"]).resolve())
    variants = [
        ("sandwich d1 64 (no plain MLP)", {"n_init": 64, "n_max": 64, "depth": 1}),
        ("regression.json 64-256 d4", {}),
        ("regression.json 64-256 d4", {"block": "aresdense"}),
        ("wide 64-2048 d5", {"n_init": 64, "n_max": 2048, "depth": 5}),
    ]
    nets = []
    for i, (label, change) in enumerate(variants):
        spec = json.loads(json.dumps(base))
        spec["model"]["backbone"].update(change)
        path = folder / f"net{i}.json"
        path.write_text(json.dumps(spec, indent=2))
        nets.append((f"{label} {spec['model']['backbone'].get('block', 'resdense')}", path))
    return nets


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default="build", help="the CMake build folder (default: build)")
    parser.add_argument("--seconds", type=float, default=3.0, help="timed wall clock per measurement (default: 3)")
    args = parser.parse_args()
    binary = (ROOT / args.build if not pathlib.Path(args.build).is_absolute() else pathlib.Path(args.build))
    binary = binary / "bench" / "starnn_time_net"
    if not binary.exists():
        sys.exit(f"{binary}: not built (ninja -C {args.build} starnn_time_net)")

    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for label, path in write_nets(pathlib.Path(folder)):
            ours = time_starnn(binary, path, args.seconds)
            torch.set_num_threads(ours["threads"])
            theirs = time_torch(path, args.seconds)
            assert ours["parameters"] == theirs["parameters"], (label, ours["parameters"], theirs["parameters"])
            rows.append((label, ours, theirs))

    print(f"CPU, fp32, {rows[0][1]['threads']} threads, torch {torch.__version__}; rows/s, ratio = starnn / torch")
    header = ("net", "parameters", "starnn train", "torch train", "ratio", "starnn infer", "torch infer", "ratio")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for label, ours, theirs in rows:
        train_ratio = ours["train_rows_per_s"] / theirs["train_rows_per_s"]
        infer_ratio = ours["infer_rows_per_s"] / theirs["infer_rows_per_s"]
        cells = (label, f"{ours['parameters']:,} = {theirs['parameters']:,}",
                 f"{ours['train_rows_per_s']:,.0f}", f"{theirs['train_rows_per_s']:,.0f}", f"{train_ratio:.2f}",
                 f"{ours['infer_rows_per_s']:,.0f}", f"{theirs['infer_rows_per_s']:,.0f}", f"{infer_ratio:.2f}")
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
