"""compare_sdpa.py's logic without PyTorch or a GPU: cases, FLOP count, table rows, ratios."""
import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
from bench import compare_sdpa as cs  # noqa: E402


def parse(argv):
    import argparse
    ns = argparse.Namespace(batch_size=None, seq_len=None, nheads=None, nheads_k=None, head_size=None, head_size_v=None,
                            causal=False, fwd_only=False, dtype=None, sweep=None)
    for k, v in argv.items():
        setattr(ns, k, v)
    return ns


class CompareSdpaTest(unittest.TestCase):
    def test_seed_sweep_cases(self):
        cases = cs.cases_from_args(parse({"sweep": "seed"}), None)
        self.assertEqual(len(cases), 18)
        self.assertTrue(all(c["causal"] and c["nheads"] == 16 and c["head_size"] == 128 for c in cases))
        self.assertEqual([c["fwd_only"] for c in cases], [True] * 9 + [False] * 9)
        self.assertEqual((cases[8]["batch_size"], cases[8]["seq_len"]), (2, 65536))
        self.assertEqual(len(cs.cases_from_args(parse({"sweep": "seed", "fwd_only": True}), None)), 9)
        with self.assertRaises(SystemExit):
            cs.cases_from_args(parse({"sweep": "seed", "seq_len": 8}), None)

    def test_cases_come_from_our_json(self):
        ours = {"cases": [{"batch_size": 2, "seq_len": 1024, "nheads": 8, "nheads_k": 2, "head_size": 64,
                           "causal": False, "fwd_only": True, "dtype": "fp16", "median_ms": 1.0}]}
        cases = cs.cases_from_args(parse({}), ours)
        self.assertEqual(cs.case_key(cases[0]), (2, 1024, 8, 2, 64, False, True, "fp16", 64))

    def test_deterministic_rows_keep_their_own_time(self):
        base = {"batch_size": 2, "seq_len": 1024, "nheads": 8, "head_size": 64, "causal": True,
                "fwd_only": False, "dtype": "bf16"}
        ours = {"cases": [dict(base, median_ms=1.0), dict(base, deterministic=True, median_ms=2.0)]}
        cases = cs.cases_from_args(parse({}), ours)
        by_key = {cs.ours_key(c): c for c in ours["cases"]}
        k = cs.case_key(cases[0])
        table = cs.comparison_table(cases, by_key, {("FA2", k): 4.0, ("cuDNN", k): 2.0}).splitlines()
        self.assertIn("| 4.00 | 2.00 |", table[2])
        self.assertIn("(deterministic)", table[3])
        self.assertIn("| 2.00 | 1.00 |", table[3])

    def test_flops_and_row(self):
        case = cs.make_case(2, 4096, 16, 16, 128, True, True, "bf16")
        self.assertAlmostEqual(cs.tflops(case, 0.587), 234.14, places=1)
        self.assertEqual(cs.table_row(case, 0.587, 67.4), "| 2 | 4096 | 16 | 128 | True | 1703.58 | 0.587 | 67 | 234.1 |")
        self.assertEqual(cs.attention_flops(1, 2, 3, 4, False, False), 4 * 1 * 4 * 3 * 4 * 3.5)

    def test_ratios_above_one_mean_ours_is_faster(self):
        case = cs.make_case(2, 4096, 16, 16, 128, True, False, "bf16")
        key = cs.case_key(case)
        ours = {cs.ours_key(case): dict(case, median_ms=2.0)}
        table = cs.comparison_table([case], ours, {("FA2", key): 4.0}).splitlines()
        self.assertEqual(len(table), 3)
        self.assertTrue(table[2].endswith("| 2.000 / 241 | 4.000 / 120 | n/a | 2.00 | n/a |"), table[2])

    def test_head_size_v_counts_flops_and_shapes(self):
        self.assertEqual(cs.attention_flops(1, 2, 3, 192, False, True, 128), 2 * 1 * 4 * 3 * (192 + 128))
        case = cs.cases_from_args(parse({"head_size": 192, "head_size_v": 128}), None)[0]
        self.assertEqual((case["head_size"], case["head_size_v"]), (192, 128))

    def test_our_json_file_round_trip(self):
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump({"cases": [dict(cs.make_case(2, 4096, 16, 16, 128, True, True, "bf16"), median_ms=1.0)]}, f)
        with open(f.name) as g:
            ours = json.load(g)
        os.unlink(f.name)
        self.assertEqual(len(cs.cases_from_args(parse({}), ours)), 1)

    def test_sdpa_from_an_earlier_json_needs_no_torch(self):
        case = cs.make_case(2, 4096, 16, 16, 128, True, True, "bf16")
        d = tempfile.mkdtemp()
        ours, sdpa = os.path.join(d, "ours.json"), os.path.join(d, "sdpa.json")
        with open(ours, "w") as f:
            json.dump({"cases": [dict(case, median_ms=1.0)]}, f)
        with open(sdpa, "w") as f:
            json.dump({"device": "H100", "torch": "x", "results": [dict(case, backend="FA2", median_ms=2.0)]}, f)
        self.assertEqual(cs.main(["--ours", ours, "--sdpa", sdpa]), 0)
        other = dict(case, seq_len=8192)
        with open(ours, "w") as f:
            json.dump({"cases": [dict(other, median_ms=1.0)]}, f)
        self.assertEqual(cs.main(["--ours", ours, "--sdpa", sdpa]), 2)


if __name__ == "__main__":
    unittest.main()
