"""One set of categories for both profiles, so starnn's and PyTorch's breakdowns compare line by line.

Each table is (category, substrings) in order; a name takes the first category one of whose
substrings it contains. PyTorch names are profiler op names (aten::addmm); starnn names are
perf's "DSO symbol" lines, since OpenBLAS and libgomp are told apart by their library.
"""

GEMM, BATCHNORM, ELEMENTWISE, LOSS, OPTIMIZER = "GEMM", "batchnorm", "elementwise", "loss", "optimizer"
THREADS, OVERHEAD, OTHER = "thread runtime (wait, wake)", "framework overhead", "other"
KERNEL = "OS kernel (context switches, page faults)"

TORCH_CATEGORIES = [
    (OPTIMIZER, ("optimizer: ", "Optimizer.step")),  # profile_torch marks what runs under Adam.step
    (GEMM, ("aten::addmm", "aten::mm", "aten::bmm")),
    (BATCHNORM, ("batch_norm",)),
    (LOSS, ("aten::abs", "aten::sgn", "aten::sub", "aten::mean", "aten::sum", "AbsBackward", "MeanBackward",
            "SubBackward", "SumBackward")),
    (ELEMENTWISE, ("aten::relu", "aten::threshold", "aten::add", "aten::mul", "aten::softmax", "aten::_softmax",
                   "aten::copy_", "aten::fill_", "aten::zero_", "aten::div", "aten::clamp")),
    (OVERHEAD, ("autograd::", "Backward", "aten::", "torch::autograd")),
]

STARNN_CATEGORIES = [
    (GEMM, ("libopenblas", "linear_forward", "linear_backward")),
    (THREADS, ("libgomp",)),
    (KERNEL, ("[kernel",)),
    (BATCHNORM, ("batchnorm",)),
    (OPTIMIZER, ("adam_step",)),
    (LOSS, ("weighted_l1", "bce_with_logits")),
    (ELEMENTWISE, ("relu_", "dropout_", "multiply", "softmax", "attention_", "::add<", "::copy<", "::fill<",
                   "memset", "memcpy", "memmove")),
    (OVERHEAD, ("libc.so", "libstdc++", "libstarnn")),
]


def categorise(name, table):
    for category, needles in table:
        if any(needle in name for needle in needles):
            return category
    return OTHER
