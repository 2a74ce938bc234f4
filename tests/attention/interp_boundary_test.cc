// Accuracy at block boundaries, on the interpreter against the fp64 reference: sliding windows
// whose sides sit at and around the key block size over several blocks (where key_range's
// masked/unmasked split changes), causal with seqlen_q above and below seqlen_k across blocks,
// the softcap backward at several caps and both dtypes, and varlen with empty sequences and
// unequal q/k lengths. Block sizes on the interpreter are the compiled table's: head_dim 64
// runs 128x128 forward / 64x128 backward blocks, head_dim 256 runs 64x32 / 32x32.
#include <catch2/catch.hpp>

#include "tests/attention/accuracy_expectations.h"

using tile::testing::expect_pass;
using tile::testing::expect_usage_error;


TEST_CASE("window sides at the key block size, head_dim 256 (32-key blocks)", "[attention][interp][boundary]") {
  const std::string base = "--func flash_attn_func --batch_size 1 --nheads 1 --head_size 256 --dtype bf16";
  expect_pass(base + " --seq_len 150 --window 30,0 --seed 101");
  expect_pass(base + " --seq_len 150 --window 31,1 --seed 102");
  expect_pass(base + " --seq_len 97 --seq_len_k 161 --window 32,32 --seed 103");
  expect_pass(base + " --seq_len 161 --seq_len_k 97 --window 33,31 --seed 104 --deterministic");
  expect_pass(base + " --seq_len 130 --window 0,33 --seed 105");
}

TEST_CASE("window sides at the key block size, head_dim 64 (128-key blocks)", "[attention][interp][boundary]") {
  const std::string base = "--func flash_attn_func --batch_size 1 --nheads 1 --head_size 64";
  expect_pass(base + " --seq_len 257 --window 1,0 --dtype bf16 --seed 111");  // rows 127/128 straddle a block
  expect_pass(base + " --seq_len 300 --window 126,0 --dtype fp16 --seed 112");
  expect_pass(base + " --seq_len 300 --seq_len_k 260 --window 127,1 --dtype bf16 --seed 113");
  expect_pass(base + " --seq_len 260 --seq_len_k 300 --window 128,129 --dtype fp16 --seed 114 --deterministic");
  expect_pass(base + " --seq_len 300 --window 129,127 --dtype bf16 --seed 115");
}

TEST_CASE("causal with seqlen_q above and below seqlen_k over several blocks", "[attention][interp][boundary]") {
  const std::string base = "--func flash_attn_func --batch_size 1 --nheads 2 --nheads_k 1 --head_size 64 --causal";
  expect_pass(base + " --seq_len 300 --seq_len_k 130 --dtype bf16 --seed 121");
  expect_pass(base + " --seq_len 130 --seq_len_k 300 --dtype fp16 --seed 122 --deterministic");
  expect_pass(base + " --seq_len 129 --seq_len_k 128 --dtype bf16 --seed 123");
}

TEST_CASE("softcap backward at several caps and both dtypes", "[attention][interp][boundary]") {
  const std::string base = "--func flash_attn_func --batch_size 1 --seq_len 80 --seq_len_k 140 --nheads 2 --head_size 64";
  expect_pass(base + " --softcap 0.5 --dtype bf16 --seed 131");
  expect_pass(base + " --softcap 0.5 --dtype fp16 --seed 132 --causal");
  expect_pass(base + " --softcap 5 --dtype fp16 --seed 133");
  expect_pass(base + " --softcap 30 --dtype bf16 --seed 134 --causal --deterministic");
}

TEST_CASE("varlen with empty sequences and unequal q/k lengths", "[attention][interp][boundary]") {
  expect_pass("--func flash_attn_varlen_func --seqlens 0,37,130,1 --seqlens_k 5,0,200,64 --nheads 2 --nheads_k 1 "
              "--head_size 64 --causal --dtype bf16 --seed 141");
  expect_pass("--func flash_attn_varlen_func --seqlens 150,3,0 --seqlens_k 129,0,0 --nheads 2 --head_size 64 "
              "--window 20,5 --dtype fp16 --seed 142 --deterministic");
  expect_pass("--func flash_attn_varlen_qkvpacked_func --seqlens 0,17,0,45 --nheads 2 --head_size 64 --causal --dtype bf16 "
              "--seed 143");
}

TEST_CASE("the new varlen flags are checked", "[attention][cli]") {
  expect_usage_error("--func flash_attn_varlen_func --seqlens 3,4 --seqlens_k 5", "--seqlens_k");
  expect_usage_error("--func flash_attn_varlen_qkvpacked_func --seqlens 3,4 --seqlens_k 5,4", "--seqlens_k");
  expect_usage_error("--func flash_attn_func --seqlens_k 5", "--seqlens_k");
  expect_usage_error("--func flash_attn_varlen_func --seqlens 3,-1", "--seqlens");
  expect_usage_error("--func flash_attn_func --softmax_scale nan", "--softmax_scale");
}
