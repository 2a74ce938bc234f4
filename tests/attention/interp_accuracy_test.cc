// The attention kernels (forward + backward) on the interpreter against the fp64 reference,
// through the accuracy CLI. The cases cover the feature grid pairwise (not the full product):
// seqlens {1, 17, 64, 113, 257} incl. seqlen_q != seqlen_k, head_dim {64, 96, 128, 256}, fp16 and
// bf16, causal on/off, GQA 4:1 and MQA, window, softcap, ALiBi, varlen, both dQ variants. Odd
// head dims and head_dim_v: interp_head_dims_test; block boundaries: interp_boundary_test.
#include <catch2/catch.hpp>

#include "tests/attention/accuracy_expectations.h"

using tile::testing::expect_pass;
using tile::testing::expect_usage_error;


TEST_CASE("forward+backward, plain and causal, every head_dim", "[attention][interp]") {
  expect_pass("--func flash_attn_func --batch_size 2 --seq_len 17 --nheads 2 --head_size 64 --dtype bf16 --seed 11");
  expect_pass("--func flash_attn_func --batch_size 1 --seq_len 64 --seq_len_k 113 --nheads 2 --head_size 96 --causal --dtype fp16 --seed 12");
  expect_pass("--func flash_attn_func --batch_size 1 --seq_len 113 --seq_len_k 17 --nheads 1 --head_size 128 --causal --dtype bf16 --seed 13");
  expect_pass("--func flash_attn_func --batch_size 1 --seq_len 257 --seq_len_k 64 --nheads 1 --head_size 256 --dtype fp16 --seed 14");
  // d=128 with atomic dQ over several query blocks that each add to dK and dV (the dK/dV
  // program issues dQ's dot before dK's there): 4 query blocks, 2 key blocks, a ragged tail.
  expect_pass("--func flash_attn_func --batch_size 1 --seq_len 200 --seq_len_k 130 --nheads 2 --head_size 128 --dtype fp16 --seed 15");
}

TEST_CASE("seqlen 1 on either side", "[attention][interp]") {
  expect_pass("--func flash_attn_func --batch_size 2 --seq_len 1 --seq_len_k 113 --nheads 2 --head_size 64 --causal --dtype bf16 --seed 21");
  expect_pass("--func flash_attn_func --batch_size 2 --seq_len 17 --seq_len_k 1 --nheads 2 --head_size 64 --causal --dtype fp16 --seed 22");
  expect_pass("--func flash_attn_qkvpacked_func --batch_size 1 --seq_len 1 --nheads 2 --head_size 128 --dtype bf16 --seed 23");
}

TEST_CASE("GQA 4:1 and MQA", "[attention][interp]") {
  expect_pass("--func flash_attn_func --batch_size 1 --seq_len 113 --nheads 4 --nheads_k 1 --head_size 64 --causal --dtype bf16 --seed 31");
  expect_pass("--func flash_attn_func --batch_size 2 --seq_len 64 --seq_len_k 257 --nheads 8 --nheads_k 2 --head_size 64 --dtype fp16 --seed 32 --deterministic");
}

TEST_CASE("sliding window, softcap, ALiBi", "[attention][interp]") {
  expect_pass("--func flash_attn_func --batch_size 1 --seq_len 257 --nheads 2 --head_size 64 --window 40,8 --dtype bf16 --seed 41");
  expect_pass("--func flash_attn_func --batch_size 1 --seq_len 113 --seq_len_k 257 --nheads 2 --head_size 64 --window 16,-1 --causal --dtype fp16 --seed 42");
  expect_pass("--func flash_attn_func --batch_size 1 --seq_len 64 --nheads 2 --head_size 96 --softcap 2.5 --causal --dtype bf16 --seed 43");
  expect_pass("--func flash_attn_func --batch_size 2 --seq_len 113 --nheads 2 --head_size 64 --alibi --dtype fp16 --seed 44");
  expect_pass("--func flash_attn_qkvpacked_func --batch_size 1 --seq_len 64 --nheads 4 --head_size 64 --alibi --causal --softcap 8 --dtype bf16 --seed 45 --deterministic");
}

TEST_CASE("varlen with ragged sequences incl. length 1", "[attention][interp]") {
  expect_pass("--func flash_attn_varlen_qkvpacked_func --seqlens 5,1,113 --nheads 2 --head_size 64 --causal --dtype bf16 --seed 51");
  expect_pass("--func flash_attn_varlen_qkvpacked_func --seqlens 17,64,1 --nheads 2 --head_size 128 --dtype fp16 --seed 52 --deterministic");
  expect_pass("--func flash_attn_varlen_qkvpacked_func --seqlens 33,7,1 --nheads 2 --head_size 64 --window 5,3 --alibi --dtype bf16 --seed 53");
}

// Rows off 16-byte alignment: the exact head-dim kernels assume aligned rows, so the host runs
// these on the ragged kernels; nothing may be written into the spare elements.
TEST_CASE("rows padded off 16-byte alignment", "[attention][interp]") {
  expect_pass("--func flash_attn_func --batch_size 1 --seq_len 65 --seq_len_k 113 --nheads 2 --nheads_k 1 --head_size 64 --row_pad 1 --causal --dtype bf16 --seed 61");
  expect_pass("--func flash_attn_varlen_func --seqlens 17,1,70 --nheads 2 --head_size 128 --row_pad 3 --dtype fp16 --seed 62 --deterministic");
}

TEST_CASE("the issue's example command passes", "[attention][interp]") {
  expect_pass("--func flash_attn_qkvpacked_func --batch_size 1 --seq_len 113 --nheads 2 --head_size 64 --causal --dtype bf16 --seed 1");
}

TEST_CASE("bad flags are usage errors naming the flag, exit 2", "[attention][cli]") {
  expect_usage_error("--func flash_attn_nope", "--func");
  expect_usage_error("--func flash_attn_func --seq_len 0", "--seq_len");
  expect_usage_error("--func flash_attn_func --dtype fp8", "--dtype");
  expect_usage_error("--func flash_attn_func --window 3", "--window");
  expect_usage_error("--func flash_attn_func --nheads 3 --nheads_k 2", "--nheads_k");
  expect_usage_error("--func flash_attn_qkvpacked_func --seq_len 4 --seq_len_k 5", "--seq_len_k");
  expect_usage_error("--func flash_attn_varlen_qkvpacked_func", "--seqlens");
  expect_usage_error("--func flash_attn_func --softcap -1", "--softcap");
  expect_usage_error("--func flash_attn_func --frobnicate", "--frobnicate");
  expect_usage_error("--func flash_attn_func --backend gpu", "gpu");
  expect_usage_error("--func flash_attn_qkvpacked_func --row_pad 1", "--row_pad");
  expect_usage_error("--func flash_attn_func --row_pad 65", "--row_pad");
}
