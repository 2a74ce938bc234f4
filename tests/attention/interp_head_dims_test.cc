// Every head_dim flash-attn's own test grid uses, and head_dim_v != head_dim, forward and
// backward on the interpreter against the fp64 reference: odd dims run on the ragged 64/128/256
// buckets (columns past the dim zero-filled, never stored), at small ragged shapes with causal,
// window, GQA, varlen, softcap and ALiBi.
#include <catch2/catch.hpp>

#include "tests/attention/accuracy_expectations.h"

using tile::testing::expect_pass;
using tile::testing::expect_usage_error;


TEST_CASE("odd head dims: causal, window, GQA, varlen", "[attention][interp][head_dim]") {
  int seed = 200;
  for (int d : {1, 32, 40, 59, 80, 111, 160, 192, 224}) {
    const std::string dim = " --head_size " + std::to_string(d);
    const std::string dtype = d % 2 ? " --dtype fp16" : " --dtype bf16";
    expect_pass("--func flash_attn_func --batch_size 2 --seq_len 37 --seq_len_k 70 --nheads 4 --nheads_k 2 --causal" + dim +
                dtype + " --seed " + std::to_string(++seed));
    expect_pass("--func flash_attn_func --batch_size 1 --seq_len 70 --seq_len_k 45 --nheads 2 --window 9,3" + dim + dtype +
                " --seed " + std::to_string(++seed) + " --deterministic");
    expect_pass("--func flash_attn_varlen_qkvpacked_func --seqlens 17,0,41 --nheads 2 --causal" + dim + dtype + " --seed " +
                std::to_string(++seed));
  }
}

TEST_CASE("head_dim_v != head_dim", "[attention][interp][head_dim]") {
  int seed = 300;
  for (auto [d, dv] : {std::pair{192, 128}, {128, 64}, {64, 128}, {1, 256}, {256, 1}, {40, 200}, {111, 59}}) {
    const std::string dims = " --head_size " + std::to_string(d) + " --head_size_v " + std::to_string(dv);
    expect_pass("--func flash_attn_func --batch_size 2 --seq_len 45 --seq_len_k 33 --nheads 2 --causal --dtype bf16" + dims +
                " --seed " + std::to_string(++seed));
    expect_pass("--func flash_attn_varlen_func --seqlens 20,0,37 --seqlens_k 31,5,0 --nheads 4 --nheads_k 1 --dtype fp16" + dims +
                " --seed " + std::to_string(++seed) + " --deterministic");
  }
  expect_pass("--func flash_attn_func --batch_size 1 --seq_len 40 --nheads 2 --head_size 80 --head_size_v 48 --softcap 3 "
              "--alibi --window 7,-1 --dtype bf16 --seed 320");
}

TEST_CASE("head dim flags are checked", "[attention][cli][head_dim]") {
  expect_usage_error("--func flash_attn_func --head_size 257", "--head_size");
  expect_usage_error("--func flash_attn_func --head_size 0", "--head_size");
  expect_usage_error("--func flash_attn_func --head_size 64 --head_size_v 300", "--head_size_v");
  expect_usage_error("--func flash_attn_qkvpacked_func --head_size 64 --head_size_v 32", "--head_size_v");
}
