#include "attention/host/memory_overlap.h"

#include <algorithm>
#include <cstdint>
#include <vector>

namespace tile::attention {
namespace {

// One dimension of the overlap equation  sum_k t_k * step_k = target  (|error| < tolerance),
// t_k in [tmin, tmax], step > 0 (in bytes, or elements for self-overlap).
struct Term {
  int64_t step, tmin, tmax;
};

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
int64_t ceil_div(int64_t a, int64_t b) { return -floor_div(-a, b); }

// Depth-first search over the terms, largest step first; each level keeps only the t_k for
// which the remaining terms can still reach the target, so layouts whose strides nest (every
// real tensor layout) branch at most twice per level. Gives up (reports "found") past a budget.
class OverlapSearch {
 public:
  OverlapSearch(std::vector<Term> terms, int64_t tolerance, bool need_nonzero)
      : terms_(std::move(terms)), tol_(tolerance), need_nonzero_(need_nonzero) {
    std::sort(terms_.begin(), terms_.end(), [](const Term& x, const Term& y) { return x.step > y.step; });
    // rest_lo_[k], rest_hi_[k]: the range of sum_{j >= k} t_j * step_j.
    rest_lo_.assign(terms_.size() + 1, 0);
    rest_hi_.assign(terms_.size() + 1, 0);
    for (size_t k = terms_.size(); k-- > 0;) {
      rest_lo_[k] = rest_lo_[k + 1] + terms_[k].tmin * terms_[k].step;
      rest_hi_[k] = rest_hi_[k + 1] + terms_[k].tmax * terms_[k].step;
    }
  }

  bool found(int64_t target) { return search(0, target, false); }

 private:
  static constexpr int64_t kBudget = 1 << 20;

  bool search(size_t k, int64_t r, bool nonzero) {
    if (++visited_ > kBudget) return true;  // undecided: treat as overlapping
    if (k == terms_.size()) return r > -tol_ && r < tol_ && (nonzero || !need_nonzero_);
    const Term& t = terms_[k];
    const int64_t slack = tol_ - 1;
    int64_t lo = std::max(t.tmin, ceil_div(r - rest_hi_[k + 1] - slack, t.step));
    int64_t hi = std::min(t.tmax, floor_div(r - rest_lo_[k + 1] + slack, t.step));
    for (int64_t x = lo; x <= hi; ++x)
      if (search(k + 1, r - x * t.step, nonzero || x != 0)) return true;
    return false;
  }

  std::vector<Term> terms_;
  std::vector<int64_t> rest_lo_, rest_hi_;
  int64_t tol_;
  bool need_nonzero_;
  int64_t visited_ = 0;
};

struct ByteRange {
  intptr_t lo, hi;  // [lo, hi)
};
ByteRange byte_range(const TensorView& t) {
  const int64_t w = int64_t(dtype_size(t.dtype));
  intptr_t lo = reinterpret_cast<intptr_t>(t.data), hi = lo + w;
  for (int d = 0; d < t.rank; ++d) {
    const int64_t reach = (t.size(d) - 1) * t.stride(d) * w;
    (reach < 0 ? lo : hi) += reach;
  }
  return {lo, hi};
}

}  // namespace

bool views_overlap(const TensorView& a, const TensorView& b) {
  if (a.numel() == 0 || b.numel() == 0) return false;
  const ByteRange ra = byte_range(a), rb = byte_range(b);
  if (ra.hi <= rb.lo || rb.hi <= ra.lo) return false;
  const int64_t w = int64_t(dtype_size(a.dtype));
  if (dtype_size(b.dtype) != dtype_size(a.dtype) || a.rank != b.rank) return true;
  // a's element i and b's element j coincide when  sum_d (i_d - j_d) * stride_d * w  equals the
  // distance between their bases, with i_d - j_d in [-(size_b - 1), size_a - 1].
  std::vector<Term> terms;
  for (int d = 0; d < a.rank; ++d) {
    const int64_t na = a.size(d), nb = b.size(d);
    if (na == 1 && nb == 1) continue;
    if (na > 1 && nb > 1 && a.stride(d) != b.stride(d)) return true;  // unrelated layouts
    const int64_t stride = na > 1 ? a.stride(d) : b.stride(d);
    if (stride == 0) continue;  // every index reaches the same bytes: no constraint
    Term t{std::abs(stride) * w, -(nb - 1), na - 1};
    if (stride < 0) t = Term{t.step, -t.tmax, -t.tmin};
    terms.push_back(t);
  }
  const int64_t distance = int64_t(reinterpret_cast<intptr_t>(b.data) - reinterpret_cast<intptr_t>(a.data));
  return OverlapSearch(terms, w, /*need_nonzero=*/false).found(distance);
}

bool view_overlaps_itself(const TensorView& t) {
  if (t.numel() <= 1) return false;
  std::vector<Term> terms;
  for (int d = 0; d < t.rank; ++d) {
    if (t.size(d) == 1) continue;
    if (t.stride(d) == 0) return true;
    terms.push_back(Term{std::abs(t.stride(d)), -(t.size(d) - 1), t.size(d) - 1});
  }
  // Nested strides (each larger than everything the smaller ones reach) never collide.
  std::sort(terms.begin(), terms.end(), [](const Term& x, const Term& y) { return x.step < y.step; });
  int64_t reach = 0;
  bool nested = true;
  for (const Term& x : terms) {
    nested = nested && x.step > reach;
    reach += x.tmax * x.step;
  }
  if (nested) return false;
  return OverlapSearch(terms, 1, /*need_nonzero=*/true).found(0);
}

}  // namespace tile::attention
