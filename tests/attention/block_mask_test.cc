// Block masks built by the DSL programs (attention/kernels/block_mask.cc) on the interpreter
// against a brute-force classification on the host, from the variant's reference mask and the
// window rule: every (query block, key block) pair's class at both block shapes, the lists of
// partial and full key blocks of every query block and of query blocks of every key block. Shapes:
// ragged lengths around the block sizes, seqlen_q != seqlen_k, varlen with empty and length-1
// sequences, causal and a window, masks shared by the heads and per head.
#include <catch2/catch.hpp>

#include <algorithm>
#include <ostream>
#include <random>

#include "attention/host/api.h"
#include "attention/interp_backend/interp_backend.h"
#include "attention/variants/variant_spec.h"

using namespace tile;
using namespace tile::attention;

namespace {

struct Shape {
  std::vector<int64_t> len_q, len_k;  // per sequence
  bool varlen = false;
  int nheads = 2, head_dim = 64;
  int window_left = -1, window_right = -1;
  bool per_head = false;
  std::string variant = "document_mask";
};

// flash-attn's window rule (bottom-right aligned).
bool in_window(const Shape& s, int64_t i, int64_t j, int64_t sq, int64_t sk) {
  const int64_t rel = j - i - (sk - sq);
  return (s.window_right < 0 || rel <= s.window_right) && (s.window_left < 0 || rel >= -s.window_left);
}

// The lists of a row or column of classes: the partial blocks and the full ones, in order.
struct Lists {
  std::vector<int32_t> partial, full;
  bool operator==(const Lists& o) const { return partial == o.partial && full == o.full; }
};
std::ostream& operator<<(std::ostream& os, const Lists& l) {
  os << "partial {";
  for (int32_t x : l.partial) os << " " << x;
  os << " } full {";
  for (int32_t x : l.full) os << " " << x;
  return os << " }";
}
Lists lists_of(const std::vector<int>& line) {
  Lists l;
  for (int32_t i = 0; i < int32_t(line.size()); ++i) {
    if (line[size_t(i)] == 1) l.partial.push_back(i);
    if (line[size_t(i)] == 2) l.full.push_back(i);
  }
  return l;
}
// Line `index` of lists stored as block_mask_args.h's BlockLists, lines of `length` blocks.
Lists stored_lists(const std::vector<int32_t>& lists, int64_t index, int64_t length) {
  const auto line = lists.begin() + index * block_list_stride(length);
  const int32_t n_partial = line[0], n_full = line[1];
  if (n_partial < 0 || n_full < 0 || n_partial > length || n_full > length) return Lists{{-1}, {-1}};
  return Lists{std::vector<int32_t>(line + 2, line + 2 + n_partial),
               std::vector<int32_t>(line + 2 + length, line + 2 + length + n_full)};
}

void check(const Shape& s, uint64_t seed) {
  InterpBackend be(InterpBackend::Options{seed, 2});
  const int64_t B = int64_t(s.len_q.size());
  int64_t total_q = 0, total_k = 0, max_q = 1, max_k = 1;
  for (size_t b = 0; b < s.len_q.size(); ++b) {
    total_q += s.len_q[b], total_k += s.len_k[b];
    max_q = std::max(max_q, s.len_q[b]), max_k = std::max(max_k, s.len_k[b]);
  }
  if (!s.varlen) max_q = s.len_q[0], max_k = s.len_k[0];
  const auto shape = [&](int64_t rows_b, int64_t rows) {
    return s.varlen ? std::vector<int64_t>{rows, s.nheads, s.head_dim} : std::vector<int64_t>{B, rows_b, s.nheads, s.head_dim};
  };
  HostTensor q(DType::bf16, shape(max_q, total_q)), k(DType::bf16, shape(max_k, total_k)), v(DType::bf16, shape(max_k, total_k));
  HostTensor cu_q(DType::i32, {B + 1}), cu_k(DType::i32, {B + 1});
  std::vector<int64_t> start_q{0}, start_k{0};
  for (int64_t b = 0; b < B; ++b) {
    start_q.push_back(start_q.back() + s.len_q[size_t(b)]);
    start_k.push_back(start_k.back() + s.len_k[size_t(b)]);
  }
  for (int64_t b = 0; b <= B; ++b) cu_q.set_at(b, double(start_q[size_t(b)])), cu_k.set_at(b, double(start_k[size_t(b)]));

  ProblemDims dims;
  dims.batch = B, dims.nheads = s.nheads, dims.nheads_k = s.nheads, dims.varlen = s.varlen;
  dims.seqlen_q = max_q, dims.seqlen_k = max_k, dims.total_q = s.varlen ? total_q : B * max_q;
  dims.total_k = s.varlen ? total_k : B * max_k;
  ArgGenerator gen(dims, s.len_q, s.len_k, seed);
  const VariantChain chain = parse_variant(s.variant);
  for (const VariantSpec* part : chain.parts) part->generate(gen);
  FlashAttnOptions o;
  o.variant = s.variant;
  o.variant_args = gen.args();
  o.window_left = s.window_left;
  o.window_right = s.window_right;
  VarlenSeqs seqs{cu_q.view(), cu_k.view(), int(max_q), int(max_k)};
  const BlockMask m = create_block_mask(be, q.view(), k.view(), v.view(), s.varlen ? &seqs : nullptr, o, s.per_head);

  // The reference classification.
  const std::vector<ArgSpec> specs = chain.args();
  const std::vector<int64_t> q0(start_q.begin(), start_q.end() - 1), k0(start_k.begin(), start_k.end() - 1);
  const RefArgs args(&specs, &o.variant_args, &dims, &q0, &k0);
  for (bool backward : {false, true}) {
    const BlockMaskLevel& l = backward ? m.bwd : m.fwd;
    const int BM = l.blocks.block_m, BN = l.blocks.block_n;
    const std::vector<int32_t> cls = m.classes(be, backward), kv = m.kv_lists(be, backward), ql = m.q_lists(be, backward);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t hh = 0; hh < m.heads; ++hh) {
        const int64_t sq = s.len_q[size_t(b)], sk = s.len_k[size_t(b)];
        const int64_t mb_n = (sq + BM - 1) / BM, nb_n = (sk + BN - 1) / BN;
        std::vector<int> expect(size_t(mb_n * nb_n), 0);
        for (int64_t mb = 0; mb < mb_n; ++mb)
          for (int64_t nb = 0; nb < nb_n; ++nb) {
            bool any = false, all = true;
            for (int64_t i = mb * BM; i < (mb + 1) * BM; ++i)
              for (int64_t j = nb * BN; j < (nb + 1) * BN; ++j) {
                bool seen = i < sq && j < sk && in_window(s, i, j, sq, sk);
                for (const VariantSpec* part : chain.parts)
                  seen = seen && (!part->mask_mod || part->mask_mod(args, RefIndex{b, hh, i, j, sq, sk}));
                any = any || seen;
                all = all && seen;
              }
            expect[size_t(mb * nb_n + nb)] = all ? 2 : any ? 1 : 0;
          }
        for (int64_t mb = 0; mb < mb_n; ++mb) {
          const int64_t row = (b * m.heads + hh) * l.m_blocks + mb;
          std::vector<int> line;
          for (int64_t nb = 0; nb < nb_n; ++nb) {
            INFO((backward ? "backward" : "forward") << " b " << b << " head " << hh << " block (" << mb << ", " << nb << ")");
            CHECK(cls[size_t(row * l.n_blocks + nb)] == expect[size_t(mb * nb_n + nb)]);
            line.push_back(expect[size_t(mb * nb_n + nb)]);
          }
          INFO((backward ? "backward" : "forward") << " b " << b << " query block " << mb);
          CHECK(stored_lists(kv, row, l.n_blocks) == lists_of(line));
        }
        for (int64_t nb = 0; nb < nb_n; ++nb) {
          const int64_t col = (b * m.heads + hh) * l.n_blocks + nb;
          std::vector<int> line;
          for (int64_t mb = 0; mb < mb_n; ++mb) line.push_back(expect[size_t(mb * nb_n + nb)]);
          INFO((backward ? "backward" : "forward") << " b " << b << " key block " << nb);
          CHECK(stored_lists(ql, col, l.m_blocks) == lists_of(line));
        }
      }
  }
}

}  // namespace

TEST_CASE("block masks of every variant with a mask match the brute-force classification", "[attention][block_mask]") {
  uint64_t seed = 900;
  for (const std::string& name : variant_names()) {
    if (!find_variant(name)->mask_mod) continue;
    INFO("variant " << name);
    Shape s;
    s.variant = name;
    s.len_q = {300, 300};
    s.len_k = {330, 330};
    check(s, ++seed);
    s.window_right = 0;  // causal
    check(s, ++seed);
  }
}

TEST_CASE("block masks: varlen, windows, per head, chains", "[attention][block_mask]") {
  Shape s;
  s.varlen = true;
  s.len_q = {129, 0, 1, 257};
  s.len_k = {200, 7, 1, 257};
  check(s, 11);
  s.window_left = 70, s.window_right = 5;
  check(s, 12);
  Shape h;
  h.len_q = {256};
  h.len_k = {256};
  h.per_head = true;
  h.variant = "alibi+sliding_window_sinks";
  check(h, 13);
  Shape wide;  // d=256: the 128x32 and 32x32 block shapes
  wide.head_dim = 256;
  wide.len_q = {100};
  wide.len_k = {77};
  check(wide, 14);
}

TEST_CASE("block masks: lists of partial and full blocks", "[attention][block_mask]") {
  CHECK(lists_of({0, 1, 2, 2, 1, 2, 2, 2, 0}) == Lists{{1, 4}, {2, 3, 5, 6, 7}});
  CHECK(lists_of({2, 2, 0, 2, 2}) == Lists{{}, {0, 1, 3, 4}});  // a gap between full blocks
  CHECK(lists_of({0, 0}) == Lists{{}, {}});
  Shape s;  // prefix_lm over 1000 tokens: long runs of full blocks under the prefix
  s.variant = "prefix_lm";
  s.len_q = {1000};
  s.len_k = {1000};
  check(s, 15);
}

TEST_CASE("block masks: bad input", "[attention][block_mask]") {
  InterpBackend be;
  HostTensor q(DType::bf16, {1, 8, 1, 64}), k(DType::bf16, {1, 8, 1, 64}), v(DType::bf16, {1, 8, 1, 64});
  FlashAttnOptions o;
  CHECK_THROWS_WITH(create_block_mask(be, q.view(), k.view(), v.view(), nullptr, o),
                    Catch::Contains("variant: expected a variant with a mask"));
  o.variant = "head_temperature";
  HostTensor t(DType::f32, {1});
  o.variant_args["temperature"] = VariantArg::of(t.view());
  CHECK_THROWS_WITH(create_block_mask(be, q.view(), k.view(), v.view(), nullptr, o),
                    Catch::Contains("variant: expected a variant with a mask"));
  // A mask used for a call of another shape.
  FlashAttnOptions w;
  w.variant = "sliding_window_sinks";
  w.variant_args = {{"window", VariantArg::scalar(4)}, {"num_sinks", VariantArg::scalar(1)}};
  const BlockMask m = create_block_mask(be, q.view(), k.view(), v.view(), nullptr, w);
  HostTensor q2(DType::bf16, {1, 9, 1, 64}), out(DType::bf16, {1, 9, 1, 64}), lse(DType::f32, {1, 1, 9});
  w.block_mask = &m;
  CHECK_THROWS_WITH(flash_attn_func(be, q2.view(), k.view(), v.view(), out.view(), lse.view(), w),
                    Catch::Contains("block_mask: expected a mask built for this call's batch and lengths"));
  w.causal = true;
  HostTensor out8(DType::bf16, {1, 8, 1, 64}), lse8(DType::f32, {1, 1, 8});
  CHECK_THROWS_WITH(flash_attn_func(be, q.view(), k.view(), v.view(), out8.view(), lse8.view(), w),
                    Catch::Contains("block_mask: expected a mask built for this call's window"));
  // Same dims, other block shapes: at head_dim 64 the backward counts in 128-query blocks, with
  // softcap in 64-query ones (kernel_table.h), so a mask built without softcap cannot serve it.
  w.causal = false;
  w.softcap = 5.0;
  CHECK_THROWS_WITH(flash_attn_func(be, q.view(), k.view(), v.view(), out8.view(), lse8.view(), w),
                    Catch::Contains("block_mask: expected a mask built for this call's head dims' block shapes "
                                    "(64/64, 128x128 forward, 64x128 backward), got one built for 64/64, 128x128 "
                                    "forward, 128x128 backward"));
}
