// What each ring step computes. At step t rank r holds the K/V block that started on rank
// (r - t) mod W. Which part of the local queries attends to which part of that block, and with
// which mask, depends on the split of the sequence:
//
//  ring   (rank r holds tokens [r*S/W, (r+1)*S/W)), causal:
//     source == r: the diagonal block, causal mask;  source < r: everything, no mask;
//     source > r: nothing (all its keys are in every local query's future) — the step is skipped.
//  zigzag (the sequence in 2W chunks, rank r holds chunks r and 2W-1-r), causal — every rank
//     does the same amount of work at every step:
//     source == r: both local chunks against both, causal mask (chunk order keeps i >= j exact);
//     source <  r: all local queries against the source's first chunk (chunk s < r < 2W-1-r),
//                  its second chunk (2W-1-s > 2W-1-r) is in every local query's future;
//     source >  r: only the local second chunk (2W-1-r) attends, to both source chunks (both
//                  earlier); the local first chunk r < s sees nothing.
//  stripe (striped attention: rank r holds tokens r, r+W, r+2W, ...), causal — local row i is
//     global i*W + r, so every step is (almost) a triangle and the work is balanced too:
//     source <= r: key row j is visible to query row i iff j <= i: causal mask on the whole block;
//     source >  r: iff j < i: query rows 1.. against key rows ..n-2 with the causal mask (query
//                  row 0 sees nothing of this block).
//  non-causal: every step is everything against everything, no mask.
#pragma once

#include <string>

namespace tile {
namespace dist {

enum class RingMode { ring, zigzag, stripe };

const char* ring_mode_name(RingMode m);
// "ring", "zigzag" or "stripe"; throws std::invalid_argument naming the text otherwise.
RingMode parse_ring_mode(const std::string& text);

// Which rows of a local (query or key) shard a step uses.
// all_but_first / all_but_last: every row except the first / the last (stripe's shifted mask).
enum class ShardPart { all, first_half, second_half, all_but_first, all_but_last };

struct StepPlan {
  bool compute = false;  // false: the step only forwards K/V (and dK/dV)
  bool causal = false;   // mask on the diagonal block
  ShardPart q_part = ShardPart::all;
  ShardPart kv_part = ShardPart::all;
};

// The rank whose K/V block rank `rank` holds at `step`.
int ring_source_rank(int rank, int step, int world);

StepPlan plan_ring_step(RingMode mode, bool causal, int rank, int step, int world);

}  // namespace dist
}  // namespace tile
