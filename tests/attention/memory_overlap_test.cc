// Overlap of strided views (attention/host/memory_overlap.h): exact for packed/fused layouts,
// conservative for unrelated ones, and checked against brute force on small random layouts.
#include <catch2/catch.hpp>

#include <random>
#include <set>

#include "attention/host/memory_overlap.h"

using namespace tile;
using namespace tile::attention;

namespace {

// A view into a fake address space (nothing is dereferenced).
TensorView at(int64_t element_offset, DType t, std::vector<int64_t> shape, std::vector<int64_t> strides) {
  static char base_storage[16];
  void* base = reinterpret_cast<void*>(reinterpret_cast<intptr_t>(base_storage) + (1 << 20));
  return TensorView(static_cast<char*>(base) + element_offset * int64_t(dtype_size(t)), t, shape, strides);
}

std::set<intptr_t> bytes_of(const TensorView& t) {
  std::set<intptr_t> s;
  const int64_t w = int64_t(dtype_size(t.dtype));
  for (int64_t i = 0; i < t.numel(); ++i)
    for (int64_t b = 0; b < w; ++b)
      s.insert(reinterpret_cast<intptr_t>(t.data) + t.offset_of_linear(i) * w + b);
  return s;
}

bool brute_overlap(const TensorView& a, const TensorView& b) {
  std::set<intptr_t> sa = bytes_of(a);
  for (intptr_t x : bytes_of(b))
    if (sa.count(x)) return true;
  return false;
}

bool brute_self_overlap(const TensorView& t) {
  std::set<int64_t> seen;
  for (int64_t i = 0; i < t.numel(); ++i)
    if (!seen.insert(t.offset_of_linear(i)).second) return true;
  return false;
}

}  // namespace

TEST_CASE("slices of a packed qkv gradient do not overlap; shifted or aliased ones do", "[api][overlap]") {
  // (batch 2, seqlen 5, 3, heads 4, dim 8): dq, dk, dv are slot 0, 1, 2.
  const std::vector<int64_t> shape{2, 5, 4, 8}, strides{5 * 3 * 4 * 8, 3 * 4 * 8, 8, 1};
  TensorView dq = at(0, DType::bf16, shape, strides), dk = at(32, DType::bf16, shape, strides),
             dv = at(64, DType::bf16, shape, strides);
  CHECK_FALSE(views_overlap(dq, dk));
  CHECK_FALSE(views_overlap(dk, dv));
  CHECK_FALSE(views_overlap(dq, dv));
  CHECK(views_overlap(dq, dq));
  CHECK(views_overlap(dq, at(1, DType::bf16, shape, strides)));   // one element off
  CHECK(views_overlap(dq, at(96 + 24, DType::bf16, shape, strides)));  // next row's dq
}

TEST_CASE("a fused (q heads + 2 kv heads) buffer: differently sized slices with one stride", "[api][overlap]") {
  // (batch 1, seqlen 7, 6 + 2 + 2 heads, dim 16)
  const std::vector<int64_t> strides{7 * 10 * 16, 10 * 16, 16, 1};
  TensorView q = at(0, DType::f16, {1, 7, 6, 16}, strides), k = at(6 * 16, DType::f16, {1, 7, 2, 16}, strides),
             v = at(8 * 16, DType::f16, {1, 7, 2, 16}, strides);
  CHECK_FALSE(views_overlap(q, k));
  CHECK_FALSE(views_overlap(k, v));
  CHECK(views_overlap(q, at(5 * 16, DType::f16, {1, 7, 2, 16}, strides)));  // shares q's last head
}

TEST_CASE("different dtypes or layouts are compared by byte range", "[api][overlap]") {
  TensorView a = at(0, DType::bf16, {4, 8}, {8, 1});
  CHECK(views_overlap(a, at(0, DType::f32, {2}, {1})));
  CHECK_FALSE(views_overlap(a, at(16, DType::f32, {2}, {1})));  // bytes 64.. after a's 64 bytes
  CHECK(views_overlap(a, at(0, DType::bf16, {8, 4}, {1, 8})));  // a transposed: same elements
  CHECK_FALSE(views_overlap(a, at(32, DType::bf16, {8, 4}, {1, 8})));
  CHECK_FALSE(views_overlap(a, at(0, DType::bf16, {0, 8}, {8, 1})));  // empty
}

TEST_CASE("self-overlap: zero and interleaving strides", "[api][overlap]") {
  CHECK_FALSE(view_overlaps_itself(at(0, DType::bf16, {2, 16, 4, 64}, {4096, 256, 64, 1})));
  CHECK(view_overlaps_itself(at(0, DType::bf16, {2, 16, 4, 64}, {4096, 256, 0, 1})));  // zero head stride
  CHECK(view_overlaps_itself(at(0, DType::bf16, {2, 16, 4, 64}, {4096, 64, 64, 1})));  // rows alias heads
  CHECK_FALSE(view_overlaps_itself(at(0, DType::bf16, {3, 4}, {1, 3})));  // column-major
  CHECK_FALSE(view_overlaps_itself(at(0, DType::bf16, {3, 2}, {2, 3})));  // {0,3,2,5,4,7}: interleaved, disjoint
  CHECK_FALSE(view_overlaps_itself(at(0, DType::bf16, {3, 3}, {2, 3})));  // 2i + 3j distinct for i, j < 3
  CHECK(view_overlaps_itself(at(0, DType::bf16, {4, 3}, {2, 3})));        // (3, 0) and (0, 2) both at 6
  CHECK_FALSE(view_overlaps_itself(at(0, DType::bf16, {1, 16}, {0, 1})));  // size-1 dims do not matter
}

TEST_CASE("overlap answers match brute force on random small layouts", "[api][overlap]") {
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> size(1, 4), stride(0, 12), offset(0, 40), rank(1, 3);
  int checked = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    const int r = rank(rng);
    std::vector<int64_t> shape_a, shape_b, strides_a, strides_b;
    for (int d = 0; d < r; ++d) {
      shape_a.push_back(size(rng));
      shape_b.push_back(size(rng));
      strides_a.push_back(stride(rng));
      // Mostly the same layout (the exact path), sometimes another one (the conservative path).
      strides_b.push_back(trial % 4 ? strides_a.back() : stride(rng));
    }
    TensorView a = at(offset(rng), DType::bf16, shape_a, strides_a), b = at(offset(rng), DType::bf16, shape_b, strides_b);
    INFO("trial " << trial);
    CHECK(view_overlaps_itself(a) == brute_self_overlap(a));
    const bool truth = brute_overlap(a, b), got = views_overlap(a, b);
    CHECK((got || !truth));  // never misses an overlap
    bool same_layout = true;
    for (int d = 0; d < r; ++d)
      same_layout = same_layout && (shape_a[size_t(d)] == 1 || shape_b[size_t(d)] == 1 || strides_a[size_t(d)] == strides_b[size_t(d)]);
    if (same_layout) {
      CHECK(got == truth);  // exact where the layouts agree
      ++checked;
    }
  }
  CHECK(checked > 2000);
}
