// The kernels' block ranges checked by brute force against the element-wise definition of
// visibility. key_range / query_range (attention/kernels/attention_common.cc) decide which key
// blocks a query block visits (and which of them run without a mask), and which query blocks a
// key block visits in the backward. An off-by-one there drops a visible key or skips a needed
// mask only at block boundaries, which random accuracy cases rarely hit; this test evaluates the
// DSL code itself on the interpreter for tens of thousands of (seqlen_q, seqlen_k, window, block
// shape) cases, including every window side at and around the block sizes, and compares each
// range with flash-attn's rule (bottom-right aligned window; causal = window (left, 0)):
//     key j is visible to query i  iff  i + diag - left <= j <= i + diag + right,
//     0 <= i < seqlen_q, 0 <= j < seqlen_k, diag = seqlen_k - seqlen_q, -1 sides unbounded.
// The element-wise `visible` mask the kernels apply in boundary blocks is checked the same way.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <random>
#include <set>
#include <sstream>
#include <vector>

#include "attention/interp_backend/interp_backend.h"
#include "attention/kernels/attention_kernel.h"
#include "attention/kernels/kernel_table.h"

using namespace tile;
using namespace tile::attention;

namespace {

// One case: a sequence's lengths and a window (-1 = unbounded side).
struct RangeCase {
  int len_q, len_k, left, right;
};
constexpr int kCaseFields = 4;
constexpr int kKeyRangeFields = 4;    // lo, full_lo, full_hi, hi per query block
constexpr int kQueryRangeFields = 4;  // lo, full_lo, full_hi, hi per key block

// Writes the values of `v` (scalars, i32) at out[offset .. offset + v.size()).
void store_scalars(const Ptr& out, const Int& offset, const std::vector<Int>& v) {
  const int n = int(v.size());
  Tile lane = arange(0, n);
  Tile packed = full({n}, v.back());
  for (int i = n - 2; i >= 0; --i) packed = where(lane == i, v[size_t(i)], packed);
  store(out, offset + lane, packed);
}

// Minimal scalars/bounds for one case: only what the range functions and `visible` read.
struct CaseScalars {
  AttnScalars s;
  SeqBounds seq;
};
CaseScalars load_case(const Ptr& cases, const Int& c) {
  CaseScalars cs;
  Int base = c * kCaseFields;
  Int len_q = load_scalar(cases, base), len_k = load_scalar(cases, base + 1);
  cs.s.window_left = load_scalar(cases, base + 2);
  cs.s.window_right = load_scalar(cases, base + 3);
  cs.seq = SeqBounds{Int(0), Int(0), len_q, len_k, len_k - len_q};
  return cs;
}

// One program per case: key_range for every query block, query_range for every key block.
void block_range_probe(KernelBuilder& k, const Params& p) {
  const int BM = int(p.get_int("BLOCK_M")), BN = int(p.get_int("BLOCK_N"));
  Ptr cases = k.arg_ptr("cases", DType::i32);
  Ptr key_ranges = k.arg_ptr("key_ranges", DType::i32);
  Ptr query_ranges = k.arg_ptr("query_ranges", DType::i32);
  Int max_q_blocks = k.arg_i32("max_q_blocks"), max_k_blocks = k.arg_i32("max_k_blocks");
  Int c = program_id(0);
  CaseScalars cs = load_case(cases, c);
  for_range(0, cdiv(cs.seq.len_q, BM), 1, [&](Int i) {
    KeyRange r = key_range(i * BM, cs.seq, cs.s, BM, BN);
    store_scalars(key_ranges, (c * max_q_blocks + i) * kKeyRangeFields, {r.lo, r.full_lo, r.full_hi, r.hi});
  });
  for_range(0, cdiv(cs.seq.len_k, BN), 1, [&](Int j) {
    QueryRange r = query_range(j * BN, cs.seq, cs.s, BM, BN);
    store_scalars(query_ranges, (c * max_k_blocks + j) * kQueryRangeFields, {r.lo, r.full_lo, r.full_hi, r.hi});
  });
}
TILE_REGISTER_KERNEL(block_range_probe, "test_block_range_probe", {{"BLOCK_M", 64}, {"BLOCK_N", 64}});

// One program per (case, query block, key block): the `visible` tile as 0/1.
void visible_probe(KernelBuilder& k, const Params& p) {
  const int BM = int(p.get_int("BLOCK_M")), BN = int(p.get_int("BLOCK_N"));
  Ptr cases = k.arg_ptr("cases", DType::i32);
  Ptr masks = k.arg_ptr("masks", DType::i32);
  Int max_q_blocks = k.arg_i32("max_q_blocks"), max_k_blocks = k.arg_i32("max_k_blocks");
  Int c = program_id(1), i = program_id(0) / max_k_blocks, j = program_id(0) % max_k_blocks;
  CaseScalars cs = load_case(cases, c);
  Tile rows = (i * BM + arange(0, BM)).col(), cols = (j * BN + arange(0, BN)).row();
  Tile vis = where(visible(rows, cols, cs.seq, cs.s), Int(1), Int(0));
  Tile offsets = ((c * max_q_blocks + i) * max_k_blocks + j) * (BM * BN) + arange(0, BM).col() * BN + arange(0, BN).row();
  store(masks, offsets, vis);
}
TILE_REGISTER_KERNEL(visible_probe, "test_visible_probe", {{"BLOCK_M", 64}, {"BLOCK_N", 64}});

// ---- the element-wise truth ------------------------------------------------------------------

// Keys visible to query i: [lo, hi] (empty when lo > hi).
struct Span {
  int lo, hi;
  bool empty() const { return lo > hi; }
};
Span keys_of(const RangeCase& c, int i) {
  const int diag = c.len_k - c.len_q;
  return Span{c.left >= 0 ? std::max(0, i + diag - c.left) : 0,
              c.right >= 0 ? std::min(c.len_k - 1, i + diag + c.right) : c.len_k - 1};
}
Span queries_of(const RangeCase& c, int j) {
  const int diag = c.len_k - c.len_q;
  return Span{c.right >= 0 ? std::max(0, j - diag - c.right) : 0,
              c.left >= 0 ? std::min(c.len_q - 1, j - diag + c.left) : c.len_q - 1};
}
bool visible_truth(const RangeCase& c, int i, int j) {
  Span s = keys_of(c, i);
  return i < c.len_q && j >= s.lo && j <= s.hi;
}

std::string describe(const RangeCase& c, int bm, int bn) {
  std::ostringstream os;
  os << "seqlen_q " << c.len_q << ", seqlen_k " << c.len_k << ", window (" << c.left << ", " << c.right
     << "), block " << bm << "x" << bn;
  return os.str();
}

// Block starts a loop `for n0 in range(lo, hi, step)` visits.
std::vector<int> loop_blocks(int lo, int hi, int step) {
  std::vector<int> v;
  for (int n0 = lo; n0 < hi; n0 += step) v.push_back(n0);
  return v;
}

// Visited blocks must not overlap: a key (or query) in two of them would be counted twice.
std::string overlapping(std::vector<int> starts, int block) {
  std::sort(starts.begin(), starts.end());
  for (size_t i = 1; i < starts.size(); ++i)
    if (starts[i] - starts[i - 1] < block)
      return "blocks at " + std::to_string(starts[i - 1]) + " and " + std::to_string(starts[i]) + " overlap";
  return "";
}

// The first element of [lo, hi] outside every block, or hi + 1 when the blocks cover it all.
int first_uncovered(std::vector<int> starts, int block, int lo, int hi) {
  std::sort(starts.begin(), starts.end());
  int x = lo;
  for (int s : starts)
    if (s <= x && x < s + block) x = s + block;
  return std::min(x, hi + 1);
}

// The first violation of one query block's key range [lo, full_lo, full_hi, hi], or "" when it
// is sound. The forward walks [lo, full_lo) masked, [full_lo, full_hi) unmasked and
// [full_hi, hi) masked in steps of BLOCK_N; the dQ program walks [lo, hi) masked.
std::string check_key_range(const RangeCase& c, int bm, int bn, int m0, const int32_t* r) {
  const int lo = r[0], full_lo = r[1], full_hi = r[2], hi = r[3];
  std::vector<int> masked = loop_blocks(lo, full_lo, bn), unmasked = loop_blocks(full_lo, full_hi, bn);
  for (int n0 : loop_blocks(full_hi, hi, bn)) masked.push_back(n0);
  std::vector<int> forward = masked;
  forward.insert(forward.end(), unmasked.begin(), unmasked.end());
  const std::vector<int> dq = loop_blocks(lo, hi, bn);
  std::ostringstream why;
  std::string o = overlapping(forward, bn);
  if (!o.empty()) return "forward: " + o;
  const int rows_end = std::min(m0 + bm, c.len_q);
  for (int i = m0; i < rows_end; ++i) {
    Span s = keys_of(c, i);
    if (s.empty()) continue;
    if (int j = first_uncovered(forward, bn, s.lo, s.hi); j <= s.hi)
      return (why << "forward: query " << i << " sees key " << j << ", in no visited block (range " << lo << ", ["
                  << full_lo << ", " << full_hi << "), " << hi << ")", why.str());
    if (int j = first_uncovered(dq, bn, s.lo, s.hi); j <= s.hi)
      return (why << "dQ: query " << i << " sees key " << j << ", outside [" << lo << ", " << hi << ")", why.str());
    for (int n0 : unmasked)
      if (n0 < s.lo || n0 + bn - 1 > s.hi)
        return (why << "block [" << n0 << ", " << n0 + bn << ") runs unmasked but query " << i << " sees only ["
                    << s.lo << ", " << s.hi << "]", why.str());
  }
  return "";
}

// The same for one key block's query range [lo, full_lo, full_hi, hi]: the dK/dV program walks
// [lo, full_lo) masked, [full_lo, full_hi) unmasked and [full_hi, hi) masked in steps of
// BLOCK_M. An unmasked block holds whole blocks of real queries and keys, every key of which
// each of its queries sees.
std::string check_query_range(const RangeCase& c, int bm, int bn, int n0, const int32_t* r) {
  const int lo = r[0], full_lo = r[1], full_hi = r[2], hi = r[3];
  std::vector<int> blocks = loop_blocks(lo, full_lo, bm);
  const std::vector<int> unmasked = loop_blocks(full_lo, full_hi, bm);
  for (int m0 : loop_blocks(full_hi, hi, bm)) blocks.push_back(m0);
  blocks.insert(blocks.end(), unmasked.begin(), unmasked.end());
  std::string o = overlapping(blocks, bm);
  if (!o.empty()) return "dK/dV: " + o;
  std::ostringstream why;
  const int keys_end = std::min(n0 + bn, c.len_k);
  for (int j = n0; j < keys_end; ++j) {
    Span s = queries_of(c, j);
    if (s.empty()) continue;
    if (int i = first_uncovered(blocks, bm, s.lo, s.hi); i <= s.hi)
      return (why << "dK/dV: key " << j << " is seen by query " << i << ", in no visited block (range " << lo
                  << ", [" << full_lo << ", " << full_hi << "), " << hi << ")", why.str());
  }
  for (int m0 : unmasked) {
    if (m0 + bm > c.len_q || n0 + bn > c.len_k)
      return (why << "block [" << m0 << ", " << m0 + bm << ") runs unmasked over padding rows", why.str());
    for (int i = m0; i < m0 + bm; ++i) {
      Span s = keys_of(c, i);
      if (s.empty() || n0 < s.lo || n0 + bn - 1 > s.hi)
        return (why << "query block [" << m0 << ", " << m0 + bm << ") runs unmasked but query " << i
                    << " sees only keys [" << s.lo << ", " << s.hi << "]", why.str());
    }
  }
  return "";
}

// ---- cases ------------------------------------------------------------------------------------

// Lengths around every multiple of the block sizes up to 300, plus random ones.
std::vector<int> lengths_for(int bm, int bn, std::mt19937& rng, int randoms) {
  std::set<int> s{1, 2, 3, 5, 17, 255, 256, 257, 299, 300};
  for (int b : {bm, bn})
    for (int m = b; m <= 300; m += b)
      for (int d : {-1, 0, 1}) s.insert(m + d);
  std::uniform_int_distribution<int> len(1, 300);
  for (int r = 0; r < randoms; ++r) s.insert(len(rng));
  std::vector<int> v;
  for (int x : s)
    if (x >= 1 && x <= 300) v.push_back(x);
  return v;
}

// Window sides: unbounded, 0, 1, around both block sizes, plus random ones.
std::vector<int> window_sides_for(int bm, int bn, std::mt19937& rng, int randoms) {
  std::set<int> s{-1, 0, 1};
  for (int b : {bn, bm})
    for (int d : {-2, -1, 0, 1}) s.insert(b + d);
  std::uniform_int_distribution<int> side(2, 300);
  for (int r = 0; r < randoms; ++r) s.insert(side(rng));
  return {s.begin(), s.end()};
}

// Every distinct (BLOCK_M, BLOCK_N) pair a range function is called with by the compiled
// kernels: the forward's and the backward's blocks of each head_dim.
std::vector<std::pair<int, int>> compiled_block_shapes() {
  std::set<std::pair<int, int>> s;
  for (const BlockShape& b : block_shapes()) {
    s.insert({b.fwd.block_m, b.fwd.block_n});
    for (bool softcap : {false, true}) s.insert({b.bwd_for(softcap).block_m, b.bwd_for(softcap).block_n});
  }
  return {s.begin(), s.end()};
}

std::vector<RangeCase> cases_for(int bm, int bn, uint64_t seed, int max_cases) {
  std::mt19937 rng{uint32_t(seed)};
  std::vector<int> lens = lengths_for(bm, bn, rng, 6), sides = window_sides_for(bm, bn, rng, 3);
  std::vector<RangeCase> all;
  for (int q : lens)
    for (int kk : lens)
      for (int l : sides)
        for (int r : sides) all.push_back({q, kk, l, r});
  // Keep every boundary-sized combination when affordable, else a seeded sample of them.
  std::shuffle(all.begin(), all.end(), rng);
  if (int(all.size()) > max_cases) all.resize(size_t(max_cases));
  return all;
}

struct Probe {
  InterpBackend backend{InterpBackend::Options{7, 0}};

  // Returns per-case key ranges and query ranges.
  void ranges(const std::vector<RangeCase>& cases, int bm, int bn, std::vector<int32_t>& keys,
              std::vector<int32_t>& queries, int& max_q, int& max_k) {
    max_q = (300 + bm - 1) / bm;
    max_k = (300 + bn - 1) / bn;
    std::vector<int32_t> in = flatten(cases);
    keys.assign(cases.size() * size_t(max_q) * kKeyRangeFields, INT32_MIN);
    queries.assign(cases.size() * size_t(max_k) * kQueryRangeFields, INT32_MIN);
    KernelCall call;
    call.kernel = "test_block_range_probe";
    call.params = Params{{"BLOCK_M", bm}, {"BLOCK_N", bn}};
    call.grid = {int(cases.size()), 1, 1};
    call.args = {LaunchArg::buffer(in.data(), DType::i32, int64_t(in.size())),
                 LaunchArg::buffer(keys.data(), DType::i32, int64_t(keys.size())),
                 LaunchArg::buffer(queries.data(), DType::i32, int64_t(queries.size())), LaunchArg::i32(max_q),
                 LaunchArg::i32(max_k)};
    backend.launch(call);
  }

  std::vector<int32_t> masks(const std::vector<RangeCase>& cases, int bm, int bn, int max_q, int max_k) {
    std::vector<int32_t> in = flatten(cases);
    std::vector<int32_t> out(cases.size() * size_t(max_q * max_k) * size_t(bm * bn), -1);
    KernelCall call;
    call.kernel = "test_visible_probe";
    call.params = Params{{"BLOCK_M", bm}, {"BLOCK_N", bn}};
    call.grid = {max_q * max_k, int(cases.size()), 1};
    call.args = {LaunchArg::buffer(in.data(), DType::i32, int64_t(in.size())),
                 LaunchArg::buffer(out.data(), DType::i32, int64_t(out.size())), LaunchArg::i32(max_q),
                 LaunchArg::i32(max_k)};
    backend.launch(call);
    return out;
  }

  static std::vector<int32_t> flatten(const std::vector<RangeCase>& cases) {
    std::vector<int32_t> v;
    for (const RangeCase& c : cases) v.insert(v.end(), {c.len_q, c.len_k, c.left, c.right});
    return v;
  }
};

}  // namespace

TEST_CASE("key_range and query_range cover every visible key and unmask only fully visible blocks",
          "[attention][block_range]") {
  Probe probe;
  for (auto [bm, bn] : compiled_block_shapes()) {
    std::vector<RangeCase> cases = cases_for(bm, bn, 1000 + bm * 7 + bn, 250000);
    std::vector<int32_t> keys, queries;
    int max_q = 0, max_k = 0;
    probe.ranges(cases, bm, bn, keys, queries, max_q, max_k);
    int failures = 0;
    for (size_t ci = 0; ci < cases.size() && failures < 5; ++ci) {
      const RangeCase& c = cases[ci];
      for (int b = 0; b * bm < c.len_q; ++b) {
        std::string why = check_key_range(c, bm, bn, b * bm, &keys[(ci * max_q + size_t(b)) * kKeyRangeFields]);
        if (!why.empty()) {
          ++failures;
          FAIL_CHECK("key_range, " << describe(c, bm, bn) << ", query block " << b << ": " << why);
          break;
        }
      }
      for (int b = 0; b * bn < c.len_k; ++b) {
        std::string why = check_query_range(c, bm, bn, b * bn, &queries[(ci * max_k + size_t(b)) * kQueryRangeFields]);
        if (!why.empty()) {
          ++failures;
          FAIL_CHECK("query_range, " << describe(c, bm, bn) << ", key block " << b << ": " << why);
          break;
        }
      }
    }
    INFO("block " << bm << "x" << bn << ": " << cases.size() << " cases");
    CHECK(failures == 0);
  }
}

TEST_CASE("the visible mask matches the element-wise rule on every element", "[attention][block_range]") {
  Probe probe;
  for (auto [bm, bn] : compiled_block_shapes()) {
    // Fewer cases: every element of every block pair is compared.
    std::vector<RangeCase> cases = cases_for(bm, bn, 2000 + bm * 7 + bn, 60);
    cases.push_back({257, 257, 1, 0});
    cases.push_back({300, 113, bn, 0});
    cases.push_back({113, 300, -1, bn - 1});
    const int max_q = (300 + bm - 1) / bm, max_k = (300 + bn - 1) / bn;
    std::vector<int32_t> masks = probe.masks(cases, bm, bn, max_q, max_k);
    int failures = 0;
    for (size_t ci = 0; ci < cases.size() && failures < 5; ++ci) {
      const RangeCase& c = cases[ci];
      for (int i = 0; i < max_q * bm && failures < 5; ++i)
        for (int j = 0; j < max_k * bn; ++j) {
          size_t block = (ci * size_t(max_q) + size_t(i / bm)) * size_t(max_k) + size_t(j / bn);
          int got = masks[block * size_t(bm * bn) + size_t(i % bm) * size_t(bn) + size_t(j % bn)];
          int want = visible_truth(c, i, j) && j < c.len_k ? 1 : 0;
          if (got != want) {
            ++failures;
            FAIL_CHECK("visible, " << describe(c, bm, bn) << ": (query " << i << ", key " << j << ") gives " << got
                                   << ", expected " << want);
            break;
          }
        }
    }
    CHECK(failures == 0);
  }
}

TEST_CASE("the brute-force checks catch a range that drops a visible key or unmasks a partial block",
          "[attention][block_range]") {
  // Window (1, 0) over 257 keys with 128-key blocks: rows 127..128 straddle a block boundary.
  RangeCase c{257, 257, 1, 0};
  const int32_t sound[4] = {0, 128, 128, 256};  // query block 128..255 of a 128x128 shape
  CHECK(check_key_range(c, 128, 128, 128, sound) == "");
  const int32_t drops_key[4] = {128, 128, 128, 256};  // query 128 sees key 127
  CHECK(check_key_range(c, 128, 128, 128, drops_key) != "");
  const int32_t unmasks[4] = {128, 128, 256, 256};  // block 128..255 is not seen whole by query 128
  CHECK(check_key_range(c, 128, 128, 128, unmasks) != "");
  const int32_t q_sound[4] = {0, 257, 257, 257};
  CHECK(check_query_range(c, 128, 128, 128, q_sound) == "");
  const int32_t q_short[4] = {0, 127, 127, 127};  // key 127 is seen by queries 127 and 128
  CHECK(check_query_range(c, 128, 128, 0, q_short) != "");
  // Causal, 256 x 256, 64 x 128 blocks: key block 0..127 is seen whole by queries 127 on.
  RangeCase causal{256, 256, -1, 0};
  const int32_t q_causal[4] = {0, 128, 256, 256};
  CHECK(check_query_range(causal, 64, 128, 0, q_causal) == "");
  const int32_t q_unmasks_diagonal[4] = {0, 64, 256, 256};  // query 64 does not see key 65
  CHECK(check_query_range(causal, 64, 128, 0, q_unmasks_diagonal) != "");
  RangeCase ragged{250, 250, -1, -1};
  const int32_t q_unmasks_padding[4] = {0, 0, 256, 256};  // rows 250..255 are padding
  CHECK(check_query_range(ragged, 64, 128, 0, q_unmasks_padding) != "");
}
