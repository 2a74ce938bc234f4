// Which rows each rank holds (ring and zigzag) and what each ring step computes.
#include <catch2/catch.hpp>

#include <set>

#include "distributed/ring_schedule.h"
#include "distributed/sequence_split.h"

using namespace tile;
using namespace tile::dist;

TEST_CASE("zigzag: rank r holds chunks r and 2W-1-r") {
  // seq 16 over 4 ranks: chunks of 2; rank 0 holds chunks 0 and 7, rank 3 chunks 3 and 4.
  CHECK(global_position(RingMode::zigzag, 16, 4, 0, 0) == 0);
  CHECK(global_position(RingMode::zigzag, 16, 4, 0, 1) == 1);
  CHECK(global_position(RingMode::zigzag, 16, 4, 0, 2) == 14);
  CHECK(global_position(RingMode::zigzag, 16, 4, 0, 3) == 15);
  CHECK(global_position(RingMode::zigzag, 16, 4, 3, 0) == 6);
  CHECK(global_position(RingMode::zigzag, 16, 4, 3, 2) == 8);
  CHECK(global_position(RingMode::ring, 16, 4, 2, 1) == 9);
  for (RingMode mode : {RingMode::ring, RingMode::zigzag, RingMode::stripe})
    for (int world : {1, 2, 3, 4}) {
      const int64_t seq = 2 * world * 3;
      std::set<int64_t> seen;
      for (int r = 0; r < world; ++r)
        for (int64_t i = 0; i < seq / world; ++i) seen.insert(global_position(mode, seq, world, r, i));
      CHECK(seen.size() == static_cast<size_t>(seq));  // a permutation of the sequence
      CHECK(*seen.rbegin() == seq - 1);
    }
}

TEST_CASE("shard_sequence and unshard_sequence round-trip") {
  HostTensor g(DType::f32, {2, 12, 1, 1});
  for (int64_t i = 0; i < g.numel(); ++i) g.set_at(i, static_cast<double>(i));
  for (RingMode mode : {RingMode::ring, RingMode::zigzag, RingMode::stripe}) {
    HostTensor back(DType::f32, {2, 12, 1, 1});
    for (int r = 0; r < 3; ++r) {
      const HostTensor local = shard_sequence(g.view(), 1, mode, 3, r);
      CHECK(local.get({1, 0, 0, 0}) == 12 + global_position(mode, 12, 3, r, 0));
      unshard_sequence(local.view(), back.view(), 1, mode, 3, r);
    }
    CHECK(back.to_doubles() == g.to_doubles());
  }
}

TEST_CASE("uneven splits are rejected naming seq_len") {
  CHECK_THROWS_WITH(check_sequence_split(RingMode::ring, 10, 3), Catch::Contains("seq_len") && Catch::Contains("3"));
  CHECK_THROWS_WITH(check_sequence_split(RingMode::zigzag, 12, 4), Catch::Contains("seq_len") && Catch::Contains("8"));
  CHECK_NOTHROW(check_sequence_split(RingMode::zigzag, 16, 4));
  CHECK_THROWS_WITH(parse_ring_mode("ulysses"), Catch::Contains("ring, zigzag or stripe"));
  CHECK(parse_ring_mode("stripe") == RingMode::stripe);
  CHECK_THROWS_WITH(check_sequence_split(RingMode::stripe, 10, 4), Catch::Contains("seq_len"));
}

TEST_CASE("ring causal: diagonal causal, earlier blocks full, later blocks skipped") {
  const int W = 4;
  for (int r = 0; r < W; ++r)
    for (int t = 0; t < W; ++t) {
      const int src = ring_source_rank(r, t, W);
      const StepPlan p = plan_ring_step(RingMode::ring, true, r, t, W);
      CHECK(p.compute == (src <= r));
      CHECK(p.causal == (t == 0));
      CHECK(p.q_part == ShardPart::all);
      CHECK(p.kv_part == ShardPart::all);
    }
  const StepPlan nc = plan_ring_step(RingMode::ring, false, 0, 3, W);
  CHECK((nc.compute && !nc.causal));
}

TEST_CASE("zigzag causal: every rank does the same work at every step, and it is the right work") {
  const int W = 4;
  const int64_t seq = 4 * W, chunk = 2;  // 2W chunks of 2
  for (int t = 0; t < W; ++t)
    for (int r = 0; r < W; ++r) {
      const StepPlan p = plan_ring_step(RingMode::zigzag, true, r, t, W);
      REQUIRE(p.compute);
      const int src = ring_source_rank(r, t, W);
      // Work in units of (half shard x half shard) blocks: the diagonal is 4 halves under a
      // causal mask (3 visible), off-diagonal steps 2 full halves.
      if (t == 0) {
        CHECK(p.causal);
      } else {
        CHECK(!p.causal);
        CHECK(((p.q_part == ShardPart::all && p.kv_part == ShardPart::first_half) ||
               (p.q_part == ShardPart::second_half && p.kv_part == ShardPart::all)));
      }
      // Exactness: a (query, key) pair of ranks (r, src) is computed iff key <= query globally.
      auto in_part = [&](ShardPart part, int64_t local) {
        return part == ShardPart::all || (part == ShardPart::first_half) == (local < chunk);
      };
      for (int64_t qi = 0; qi < 2 * chunk; ++qi)
        for (int64_t kj = 0; kj < 2 * chunk; ++kj) {
          const int64_t qg = global_position(RingMode::zigzag, seq, W, r, qi);
          const int64_t kg = global_position(RingMode::zigzag, seq, W, src, kj);
          bool computed = in_part(p.q_part, qi) && in_part(p.kv_part, kj);
          if (computed && p.causal) computed = kj <= qi;
          CHECK(computed == (kg <= qg));
        }
    }
}

TEST_CASE("stripe: rank r holds tokens r, r+W, ...; causal steps are exact and balanced") {
  CHECK(global_position(RingMode::stripe, 16, 4, 1, 2) == 9);
  const int W = 4;
  const int64_t n = 4, seq = n * W;
  for (int t = 0; t < W; ++t)
    for (int r = 0; r < W; ++r) {
      const StepPlan p = plan_ring_step(RingMode::stripe, true, r, t, W);
      REQUIRE(p.compute);
      CHECK(p.causal);
      const int src = ring_source_rank(r, t, W);
      // Local rows of a part, as the step sees them: all_but_first drops row 0, all_but_last row n-1.
      auto step_row = [&](ShardPart part, int64_t local) -> int64_t {
        if (part == ShardPart::all_but_first) return local - 1;
        if (part == ShardPart::all_but_last) return local < n - 1 ? local : -1;
        return local;
      };
      for (int64_t qi = 0; qi < n; ++qi)
        for (int64_t kj = 0; kj < n; ++kj) {
          const int64_t qs = step_row(p.q_part, qi), ks = step_row(p.kv_part, kj);
          const bool computed = qs >= 0 && ks >= 0 && ks <= qs;  // the step's causal mask
          const int64_t qg = global_position(RingMode::stripe, seq, W, r, qi);
          const int64_t kg = global_position(RingMode::stripe, seq, W, src, kj);
          CHECK(computed == (kg <= qg));
        }
    }
}
