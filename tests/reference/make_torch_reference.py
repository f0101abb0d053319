#!/usr/bin/env python3
"""Regenerate tests/data/torch_reference.json with PyTorch (float64).

Usage:
    python3 make_torch_reference.py OUT.json          # write the reference file
    python3 make_torch_reference.py --check REF.json  # regenerate in memory, compare
                                                      # the cases REF holds (its first ones)

Everything is drawn from one global generator, torch.manual_seed(2026), in the
order the cases appear in the file; every input (x, parameters, upstream gradient,
labels, masks) is reproduced from that seed, nothing is read from an existing file.
The recipe for a module case is: build the module (PyTorch's default init consumes
random numbers too), draw x, overwrite each parameter in named_parameters() order
(0.3 N(0,1); BatchNorm weights 1 + 0.5 N(0,1), biases 0.5 N(0,1) inside blocks), then
draw dy; the backbone draws its parameters before x.  The output is byte-identical
to the committed file with PyTorch 1.13; --check allows 1e-12 (abs or rel).  Outputs come from PyTorch forward/autograd, torch.optim and
torch.optim.lr_scheduler, in train mode; y_eval is a second forward in eval mode.
Needs Debian's python3-torch (1.13): run it with /usr/bin/python3.
"""
import json
import sys
import time

import torch
from torch import nn

torch.set_default_dtype(torch.float64)


def tolist(t):
    return t.detach().tolist()


# ---------------------------------------------------------------- modules ----
class AttentionDense(nn.Module):
    """a = softmax(h W^T + b) over the d features of a row; y = d * a * h."""

    def __init__(self, d):
        super().__init__()
        self.lin = nn.Linear(d, d)

    def forward(self, h):
        a = torch.softmax(self.lin(h), dim=1)
        return h.shape[1] * a * h


class ResDense(nn.Module):
    """out = x + L2(ReLU(BN2(L1(ReLU(BN1(x)))))); AResDense adds attention."""

    def __init__(self, d, attention=False):
        super().__init__()
        self.bn1 = nn.BatchNorm1d(d)
        self.l1 = nn.Linear(d, d)
        self.bn2 = nn.BatchNorm1d(d)
        self.l2 = nn.Linear(d, d)
        self.att = AttentionDense(d) if attention else None

    def forward(self, x):
        f = self.l2(torch.relu(self.bn2(self.l1(torch.relu(self.bn1(x))))))
        return x + (self.att(f) if self.att is not None else f)


def features_scale(n0, n1, depth):
    # widths w_i = round(n0 (n1/n0)^(i/(depth-1)) / 8) * 8 (no example hits a .5 tie)
    return [int(round(n0 * (n1 / n0) ** (i / (depth - 1)) / 8) * 8) for i in range(depth)]


class Backbone(nn.Module):
    """Sandwich of ResDense blocks with additive U-Net skips, causal heads and
    a classifier; output columns y_0..y_{n-1}, logit."""

    def __init__(self, n_in, widths, n_targets):
        super().__init__()
        w, depth = widths, len(widths)
        self.stem = nn.Linear(n_in, w[0])
        self.enc = nn.ModuleList([ResDense(w[i]) for i in range(depth)])
        self.down = nn.ModuleList([nn.Linear(w[i], w[i + 1]) for i in range(depth - 1)])
        self.up = nn.ModuleList([nn.Linear(w[i + 1], w[i]) for i in range(depth - 1)])
        self.dec = nn.ModuleList([ResDense(w[i]) for i in range(depth - 1)])
        self.heads = nn.ModuleList([nn.Linear(w[0] + k, 1) for k in range(n_targets)])
        self.cls = nn.Linear(w[0] + n_targets, 1)

    def forward(self, x):
        depth = len(self.enc)
        h = self.stem(x)
        skips = []
        for i in range(depth):
            h = self.enc[i](h)
            skips.append(h)
            if i < depth - 1:
                h = self.down[i](h)
        for i in range(depth - 2, -1, -1):
            h = self.dec[i](self.up[i](h) + skips[i])
        ys = []
        for head in self.heads:  # head k sees h and the k earlier predictions
            ys.append(head(torch.cat([h] + ys, dim=1)))
        logit = self.cls(torch.cat([h] + ys, dim=1))
        return torch.cat(ys + [logit], dim=1)


class UncertaintyHeads(nn.Module):
    """Causal uncertainty heads and a classifier on h: head k = Linear(w + k -> 2) on
    concat(h, mu_0..mu_{k-1}) gives (mu_k, s_k = log sigma_k^2); output columns mu_0..mu_{n-1},
    s_0..s_{n-1}, logit."""

    def __init__(self, w, n_targets):
        super().__init__()
        self.heads = nn.ModuleList([nn.Linear(w + k, 2) for k in range(n_targets)])
        self.cls = nn.Linear(w + n_targets, 1)

    def forward(self, h):
        mus, ss = [], []
        for head in self.heads:
            out = head(torch.cat([h] + mus, dim=1))
            mus.append(out[:, :1])
            ss.append(out[:, 1:])
        logit = self.cls(torch.cat([h] + mus, dim=1))
        return torch.cat(mus + ss + [logit], dim=1)


# ------------------------------------------------------------- the recipe ----
def randn(*shape, scale=1.0, shift=0.0):
    return torch.randn(*shape) * scale + shift


def module_case(note, mod, x_shape, param_rule, out_dim, x_scale=1.0, x_shift=0.0,
                params_first=False):
    """Shared recipe: x, parameters from param_rule(name, shape) (the other way
    round with params_first), then dy; train forward + backward; then an eval
    forward with the running stats that the train forward updated."""
    if not params_first:
        x = randn(*x_shape, scale=x_scale, shift=x_shift)
    with torch.no_grad():
        for name, p in mod.named_parameters():
            p.copy_(param_rule(name, p.shape))
    if params_first:
        x = randn(*x_shape, scale=x_scale, shift=x_shift)
    mod.train()
    xg = x.clone().requires_grad_(True)
    y = mod(xg)
    dy = torch.randn(x.shape[0], out_dim)
    y.backward(dy)
    case = {"note": note, "x": tolist(x), "dy": tolist(dy), "y": tolist(y),
            "dx": tolist(xg.grad),
            "params": {n: tolist(p) for n, p in mod.named_parameters()},
            "grads": {n: tolist(p.grad) for n, p in mod.named_parameters()},
            "buffers_after_forward": {n: tolist(b) for n, b in mod.named_buffers()
                                      if not n.endswith("num_batches_tracked")}}
    mod.eval()
    with torch.no_grad():
        case["y_eval"] = tolist(mod(x))
    return case


def plain(name, shape):
    return randn(*shape, scale=0.3)


def block_rule(name, shape):
    # inside blocks the BatchNorm affine parameters are drawn around (1, 0) so the
    # normalisation stays well conditioned; Linear parameters as in `plain`
    if ".bn" in "." + name:
        return randn(*shape, scale=0.5, shift=1.0 if name.endswith("weight") else 0.0)
    return plain(name, shape)


def case_linear():
    mod = nn.Linear(3, 4)
    return module_case("y = x W^T + b", mod, (5, 3), plain, 4)


def case_batchnorm1d():
    mod = nn.BatchNorm1d(4)
    note = ("train mode: biased batch variance for normalising; running stats from 0/1 "
            "with momentum 0.1 and unbiased variance; eps 1e-5; y_eval uses the running "
            "stats after this one step")
    return module_case(note, mod, (6, 4), plain, 4, x_scale=2.0, x_shift=1.0)


def case_relu():
    return module_case("y = max(x, 0); dx = dy where x > 0", nn.ReLU(), (5, 4), plain, 4)


def case_attention_dense():
    return module_case("y = d * softmax(h W^T + b, over features) * h", AttentionDense(6),
                       (5, 6), plain, 6)


def case_resdense():
    return module_case("out = x + L2(ReLU(BN2(L1(ReLU(BN1(x))))))", ResDense(6),
                       (7, 6), block_rule, 6)


def case_aresdense():
    return module_case("out = x + Att(F(x)), F the ResDense branch; params att.lin.*",
                       ResDense(6, attention=True), (7, 6), block_rule, 6)


def case_backbone_causal_heads():
    widths = features_scale(8, 24, 3)
    note = ("features_scale(8, 24, 3) = [8, 16, 24]; stem Linear(n_in->w0); encoder level i: "
            "ResDense(w_i) then Linear(w_i->w_{i+1}) except the last; decoder level i (from "
            "depth-2 down to 0): Linear(w_{i+1}->w_i), + encoder level i output (U-Net skip, "
            "additive), ResDense(w_i); causal heads: head k = Linear(w0 + k -> 1) on concat(h, "
            "y_0..y_{k-1}); classifier = Linear(w0 + n_targets -> 1) on concat(h, all y); "
            "output columns: y_0, y_1, y_2, logit")
    case = module_case(note, Backbone(4, widths, 3), (9, 4), block_rule, 4,
                       params_first=True)
    # the file keeps widths after the note and no eval/buffer entries for this case
    return {"note": note, "widths": widths,
            **{k: case[k] for k in ("x", "dy", "y", "dx", "params", "grads")}}


def case_features_scale():
    return {"note": "round(n0*(n1/n0)^(i/(depth-1))/8)*8",
            "examples": {"%d,%d,%d" % a: features_scale(*a)
                         for a in ((64, 2048, 12), (32, 4096, 6), (8, 24, 3))}}


def case_weighted_l1():
    # three labels hidden by hand so that each target's mean has its own count
    yhat, y = torch.randn(8, 3), torch.randn(8, 3)
    sigma = 0.05 + 0.5 * torch.rand(8, 3)
    mask = torch.ones(8, 3)
    mask[1, 0] = mask[4, 2] = mask[6, 1] = 0.0
    weights, s_min = torch.tensor([10.0, 3.0, 1.0]), 0.1
    mean_train_sigma = torch.tensor([0.3, 0.25, 0.2])
    yh = yhat.clone().requires_grad_(True)
    s = torch.clamp(sigma / mean_train_sigma, min=s_min)
    # w_t * (masked sum) / count: the grouping that reproduces the file bit for bit
    loss = (weights * (mask * (yh - y).abs() / s).sum(0) / mask.sum(0)).sum()
    loss.backward()
    return {"note": "L = sum_t w_t * sum_i m_it |yhat-y|/s_it / sum_i m_it; "
                    "s = max(sigma/mean_train_sigma_t, s_min)",
            "yhat": tolist(yhat), "y": tolist(y), "sigma": tolist(sigma), "mask": tolist(mask),
            "weights": tolist(weights), "s_min": s_min,
            "mean_train_sigma": tolist(mean_train_sigma),
            "loss": loss.item(), "dyhat": tolist(yh.grad)}


def case_bce_with_logits():
    # +-100 checks the numerically stable form (log(1+e^-100) must not be log(0))
    logits = torch.tensor([[-100.0], [-3.0], [0.0], [2.5], [100.0]])
    targets = torch.tensor([[1.0], [0.0], [1.0], [1.0], [0.0]])
    z = logits.clone().requires_grad_(True)
    loss = nn.functional.binary_cross_entropy_with_logits(z, targets)
    loss.backward()
    return {"note": "mean over rows", "logits": tolist(logits), "targets": tolist(targets),
            "loss": loss.item(), "dlogits": tolist(z.grad)}


def case_uncertainty_heads():
    note = ("causal uncertainty heads: head k = Linear(w + k -> 2) on concat(h, mu_0..mu_{k-1}) "
            "gives (mu_k, s_k); classifier Linear(w + n_targets -> 1) on concat(h, all mu); "
            "output columns mu_0, mu_1, mu_2, s_0, s_1, s_2, logit")
    return module_case(note, UncertaintyHeads(6, 3), (7, 6), plain, 7)


def nll_inputs():
    """Means, log variances, labels, label errors (some 0: no error) and a mask with three
    labels hidden, for 8 rows of 3 targets."""
    mu, y = torch.randn(8, 3), torch.randn(8, 3)
    s = 0.8 * torch.randn(8, 3) - 0.5
    e = 0.4 * torch.rand(8, 3)
    e[0, 1] = e[3, 0] = e[5, 2] = 0.0
    s[3, 0] = -20.0  # exp(s) + e^2 below the floor of 1e-6, which the losses clamp to
    mask = torch.ones(8, 3)
    mask[2, 0] = mask[5, 1] = mask[7, 2] = 0.0
    return mu, s, y, e, mask, torch.tensor([2.0, 1.0, 0.5])


def nll_case(note, per_label):
    mu, s, y, e, mask, weights = nll_inputs()
    mug, sg = mu.clone().requires_grad_(True), s.clone().requires_grad_(True)
    terms = per_label(mug, sg, y, e)
    # the masked mean per target, weighted; masked terms are zeroed, not left out of the sum
    loss = (weights * torch.where(mask > 0, terms, torch.zeros_like(terms)).sum(0) / mask.sum(0)).sum()
    loss.backward()
    return {"note": note, "mu": tolist(mu), "s": tolist(s), "y": tolist(y), "e": tolist(e),
            "mask": tolist(mask), "weights": tolist(weights), "loss": loss.item(),
            "dmu": tolist(mug.grad), "ds": tolist(sg.grad)}


def case_gaussian_nll():
    def per_label(mu, s, y, e):
        return nn.GaussianNLLLoss(reduction="none", eps=1e-6)(mu, y, torch.exp(s) + e ** 2)
    return nll_case("L = sum_t w_t mean_{i labelled} torch.nn.GaussianNLLLoss(reduction='none', "
                    "eps=1e-6)(mu, y, var = exp(s) + e^2)", per_label)


def case_laplace_nll():
    def per_label(mu, s, y, e):
        # the variance floored at 1e-6 as GaussianNLLLoss floors it: under no_grad, so the
        # gradient passes the clamp unchanged
        v = torch.exp(s) + e ** 2
        v = v.clone()
        with torch.no_grad():
            v.clamp_(min=1e-6)
        b = torch.sqrt(v / 2)
        return (mu - y).abs() / b + torch.log(2 * b)
    return nll_case("L = sum_t w_t mean_{i labelled} |mu - y| / b + log(2 b), "
                    "b^2 = max(exp(s) + e^2, 1e-6) / 2", per_label)


def optimiser_case(cls, note, **extra):
    """Three steps of a torch.optim optimiser on 5 parameters with given gradients."""
    hyper = {"lr": 0.01, "betas": [0.9, 0.999], "eps": 1e-08, **extra}
    p0, grads = torch.randn(5), torch.randn(3, 5)
    p = p0.clone().requires_grad_(True)
    opt = cls([p], lr=hyper["lr"], betas=tuple(hyper["betas"]), eps=hyper["eps"], **extra)
    after = []
    for g in grads:
        p.grad = g.clone()
        opt.step()
        after.append(tolist(p))
    return {"note": note, "hyper": hyper, "p0": tolist(p0), "grads": tolist(grads),
            "params_after_each_step": after}


def case_adam():
    return optimiser_case(torch.optim.Adam, "torch.optim.Adam")


def case_adamw():
    return optimiser_case(torch.optim.AdamW, "torch.optim.AdamW", weight_decay=0.1)


def case_one_cycle():
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.Adam([p], lr=1e-2)
    total = 20
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=1e-2, total_steps=total, pct_start=0.25, anneal_strategy="cos",
        div_factor=25.0, final_div_factor=1e4, cycle_momentum=True,
        base_momentum=0.85, max_momentum=0.95)
    lr, beta1 = [], []
    for k in range(total):  # the values in force while step k runs
        lr.append(opt.param_groups[0]["lr"])
        beta1.append(opt.param_groups[0]["betas"][0])
        opt.step()  # p has no gradient: the step only keeps the scheduler's order check
        if k < total - 1:  # OneCycleLR refuses to step past total_steps
            sched.step()
    return {"note": "torch.optim.lr_scheduler.OneCycleLR(max_lr=1e-2, total_steps=20, "
                    "pct_start=0.25, cos, div 25, final_div 1e4, beta1 0.95->0.85->0.95); "
                    "value used at step k",
            "lr": lr, "beta1": beta1}


CASES = [("linear", case_linear), ("batchnorm1d", case_batchnorm1d), ("relu", case_relu),
         ("attention_dense", case_attention_dense),
         ("resdense", case_resdense), ("aresdense", case_aresdense),
         ("backbone_causal_heads", case_backbone_causal_heads),
         ("features_scale", case_features_scale), ("weighted_l1", case_weighted_l1),
         ("bce_with_logits", case_bce_with_logits), ("adam", case_adam),
         ("adamw", case_adamw), ("one_cycle", case_one_cycle),
         # after the cases of shared/fixtures/torch_reference.json, so that theirs draw the
         # same numbers
         ("uncertainty_heads", case_uncertainty_heads), ("gaussian_nll", case_gaussian_nll),
         ("laplace_nll", case_laplace_nll)]


def generate():
    torch.manual_seed(2026)
    return {"about": "PyTorch %s float64 reference values for shared/DESIGN.md definitions"
            % torch.__version__,
            "cases": {name: fn() for name, fn in CASES}}


# ------------------------------------------------------------------ check ----
def compare(a, b, path, worst, case):
    """Recursively compare; record the worst min(abs, rel) difference per case."""
    if isinstance(a, dict) and isinstance(b, dict):
        if list(a) != list(b):
            raise ValueError("%s: keys differ %s vs %s" % (path, list(a), list(b)))
        for k in a:
            compare(a[k], b[k], path + "." + k, worst, case or k)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            raise ValueError("%s: lengths differ" % path)
        for i, (u, v) in enumerate(zip(a, b)):
            compare(u, v, "%s[%d]" % (path, i), worst, case)
    elif isinstance(a, str) or isinstance(b, str):
        if a != b and not path.endswith("note") and path != ".about":
            raise ValueError("%s: %r vs %r" % (path, a, b))
    else:
        d = abs(a - b)
        d = min(d, d / max(abs(a), abs(b))) if d else 0.0
        if d > worst.get(case, (-1,))[0]:
            worst[case] = (d, path)


def check(ref_path, out):
    with open(ref_path) as f:
        ref = json.load(f)
    bad = False
    # the reference's cases open the generated list: shared/fixtures/torch_reference.json
    # holds the first of them, the project's copy all
    if list(out["cases"])[:len(ref["cases"])] != list(ref["cases"]):
        print("case list differs: %s" % list(out["cases"]))
        bad = True
    for case in ref["cases"]:
        worst = {}
        try:
            compare(out["cases"][case], ref["cases"][case], case, worst, case)
        except (KeyError, ValueError, TypeError) as e:
            print("%-22s MISMATCH %s" % (case, e))
            bad = True
            continue
        d, path = worst.get(case, (0.0, ""))
        bad |= d > 1e-12
        print("%-22s %-8s max diff %.3g %s" % (case, "ok" if d <= 1e-12 else "DIFFERS", d,
                                               path if d else ""))
    return 1 if bad else 0


def main(argv):
    t0 = time.time()
    out = generate()
    if len(argv) == 3 and argv[1] == "--check":
        rc = check(argv[2], out)
    elif len(argv) == 2 and not argv[1].startswith("-"):
        with open(argv[1], "w") as f:
            json.dump(out, f, indent=1)  # the committed file's layout, no final newline
        rc = 0
    else:
        sys.exit(__doc__)
    print("%.2f s" % (time.time() - t0), file=sys.stderr)
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv))
