#!/usr/bin/env python3
"""bench/gpu_report.sh, which runs unattended the day a GPU is lent, checked without one:
--from-files on canned runs (kernels_sample.json: a Google Benchmark file with an H100's
attributes; compare_sample.json: a comparison whose starnn row is unavailable) must write the
report with the figures worked out by hand below, and a measuring run without a GPU must stop
with a message and no report.

usage: python3 tests/bench/test_gpu_report.py SOURCE_DIR SCRATCH_DIR
"""

import json
import pathlib
import shutil
import subprocess
import sys
import unittest

SOURCE, SCRATCH = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
HERE = pathlib.Path(__file__).resolve().parent
SCRIPT = SOURCE / "bench" / "gpu_report.sh"

# The sample's H100: 2 x 2.619 GHz x 5120 bits / 8, and 2 x 128 lanes x 132 SMs x 1.98 GHz.
BANDWIDTH = 2 * 2619000e3 * 5120 / 8
FP32 = 2 * 128 * 132 * 1980000e3


def close(a, b):
    return abs(a - b) <= 1e-9 * abs(b)


class GpuReport(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        SCRATCH.mkdir(parents=True, exist_ok=True)
        cls.out = SCRATCH / "report.json"
        cls.out.unlink(missing_ok=True)
        run = subprocess.run(["bash", str(SCRIPT), "--from-files", str(HERE / "kernels_sample.json"),
                              str(HERE / "compare_sample.json"), "--out", str(cls.out)], capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        cls.report = json.loads(cls.out.read_text())
        cls.rows = {row["benchmark"]: row for row in cls.report["kernels"]}

    def test_peaks_come_from_the_device_attributes(self):
        device = self.report["device"]
        self.assertTrue(close(device["peak_bytes_per_s"], BANDWIDTH))
        self.assertTrue(close(device["peak_fp32_flop_per_s"], FP32))

    def test_an_elementwise_kernel_is_bound_by_memory(self):
        row = self.rows["BM_cuda_add/B:4096/d:256/real_time"]
        kernel_bytes = 12 * 256 * 4096  # kernel_costs.json: add moves 12d bytes a row
        self.assertEqual(row["kernel_bytes"], kernel_bytes)
        self.assertEqual(row["bound_by"], "memory")
        self.assertTrue(close(row["bound_seconds"], kernel_bytes / BANDWIDTH))
        self.assertTrue(close(row["fraction_of_bound"], kernel_bytes / BANDWIDTH / 10e-6))

    def test_a_large_gemm_is_bound_by_fp32(self):
        row = self.rows["BM_cuda_linear_forward/B:4096/in:4096/out:4096/real_time"]
        flops = 2 * 4096 * 4096 * 4096
        self.assertEqual(row["kernel_flops"], flops)
        self.assertEqual(row["bound_by"], "FP32")
        self.assertTrue(close(row["fraction_of_bound"], flops / FP32 / 4e-3))

    def test_adam_counts_per_parameter_and_reads_milliseconds(self):
        row = self.rows["BM_cuda_adam_step/n:33554432/real_time"]
        self.assertEqual(row["kernel_bytes"], 28 * 33554432)
        self.assertTrue(close(row["seconds"], 0.5e-3))

    def test_a_kernel_without_costs_has_its_time_and_no_bound(self):
        row = self.rows["BM_cuda_weighted_l1_backward/B:256/real_time"]
        self.assertTrue(close(row["seconds"], 5e-6))
        self.assertNotIn("bound_seconds", row)

    def test_aggregates_are_not_repeated(self):
        self.assertEqual(len(self.report["kernels"]), 4)

    def test_the_comparison_is_carried_with_unavailable_rows(self):
        nets = self.report["comparison"]["nets"]
        self.assertIn("unavailable", nets[0]["starnn"])

    def test_without_a_gpu_a_measuring_run_stops_and_writes_nothing(self):
        has_gpu = shutil.which("nvidia-smi") and subprocess.run(["nvidia-smi", "-L"], capture_output=True,
                                                                 text=True).stdout.startswith("GPU")
        if has_gpu:
            self.skipTest("this machine has a GPU")
        out = SCRATCH / "not_written.json"
        out.unlink(missing_ok=True)
        run = subprocess.run(["bash", str(SCRIPT), "--out", str(out)], capture_output=True, text=True)
        self.assertEqual(run.returncode, 1)
        self.assertIn("no GPU", run.stderr)
        self.assertFalse(out.exists())


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1])
