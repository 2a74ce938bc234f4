// Every registered variant (attention/variants), found through the registry so a new variant is
// covered without editing this file: forward and backward on the interpreter against the fp64
// reference through the accuracy CLI (arguments from the variant's generator), over ragged
// lengths with seqlen_q != seqlen_k, GQA, varlen with an empty and a length-1 sequence, fp16 and
// bf16, both dQ strategies; a chain of a score mod and a mask; and bad variant names.
#include <catch2/catch.hpp>

#include "attention/variants/variant_spec.h"
#include "tests/attention/accuracy_expectations.h"

using tile::testing::expect_pass;
using tile::testing::expect_usage_error;

TEST_CASE("every registered variant, batched and varlen, forward and backward", "[attention][interp][variants]") {
  const std::vector<std::string> names = tile::attention::variant_names();
  REQUIRE(names.size() >= 5);
  int seed = 600;
  for (const std::string& v : names) {
    INFO("variant " << v);
    expect_pass("--func flash_attn_func --batch_size 2 --seq_len 113 --seq_len_k 150 --nheads 4 --nheads_k 2 "
                "--head_size 64 --dtype bf16 --variant " + v + " --seed " + std::to_string(++seed));
    expect_pass("--func flash_attn_func --batch_size 1 --seq_len 150 --seq_len_k 97 --nheads 2 --nheads_k 1 "
                "--head_size 80 --dtype fp16 --deterministic --variant " + v + " --seed " + std::to_string(++seed));
    expect_pass("--func flash_attn_varlen_func --seqlens 70,0,1,131 --seqlens_k 90,5,1,131 --nheads 2 --head_size 64 "
                "--dtype bf16 --variant " + v + " --seed " + std::to_string(++seed));
  }
}

TEST_CASE("every variant with a mask, block sparse: batched, varlen, causal, per head", "[attention][interp][variants]") {
  int seed = 700;
  for (const std::string& v : tile::attention::variant_names()) {
    if (!tile::attention::find_variant(v)->mask_mod) continue;
    INFO("variant " << v);
    expect_pass("--func flash_attn_func --batch_size 2 --seq_len 300 --seq_len_k 330 --nheads 4 --nheads_k 2 "
                "--head_size 64 --dtype bf16 --block_mask --variant " + v + " --seed " + std::to_string(++seed));
    expect_pass("--func flash_attn_varlen_func --seqlens 130,0,1,260 --seqlens_k 150,5,1,260 --nheads 2 --head_size 64 "
                "--dtype fp16 --deterministic --block_mask_per_head --variant " + v + " --seed " + std::to_string(++seed));
    expect_pass("--func flash_attn_qkvpacked_func --batch_size 1 --seq_len 270 --nheads 2 --head_size 128 --causal "
                "--dtype bf16 --block_mask --variant " + v + " --seed " + std::to_string(++seed));
  }
  expect_pass("--func flash_attn_func --batch_size 1 --seq_len 200 --nheads 2 --head_size 64 --dtype bf16 --block_mask "
              "--variant rel_pos_bias+document_mask --seed 720");
}

TEST_CASE("variants with causal masks and chained variants", "[attention][interp][variants]") {
  expect_pass("--func flash_attn_func --batch_size 2 --seq_len 130 --nheads 2 --head_size 64 --causal --dtype bf16 "
              "--variant document_mask --seed 651");
  expect_pass("--func flash_attn_qkvpacked_func --batch_size 1 --seq_len 140 --nheads 2 --head_size 64 --softcap 5 "
              "--dtype fp16 --variant head_temperature+sliding_window_sinks --seed 652");
  expect_pass("--func flash_attn_func --batch_size 2 --seq_len 100 --nheads 2 --head_size 64 --alibi --dtype bf16 "
              "--variant document_mask --seed 653");
  // A trainable part before a multiplicative one: its gradient is of its own output.
  expect_pass("--func flash_attn_func --batch_size 2 --seq_len 90 --seq_len_k 120 --nheads 2 --head_size 64 --dtype fp16 "
              "--variant rel_pos_bias+head_temperature --seed 654");
}

TEST_CASE("an unknown variant is a usage error", "[attention][interp][variants]") {
  expect_usage_error("--func flash_attn_func --batch_size 1 --seq_len 8 --nheads 1 --head_size 64 --dtype bf16 --seed 1 --variant nope", "--variant");
  expect_usage_error("--func flash_attn_func --batch_size 1 --seq_len 8 --nheads 1 --head_size 64 --dtype bf16 --seed 1 --variant alibi+alibi", "--variant");
  expect_usage_error("--func flash_attn_func --batch_size 1 --seq_len 8 --nheads 1 --head_size 64 --dtype bf16 --seed 1 --variant alibi --block_mask", "--block_mask");
}
