// Tile construction and reshaping (splat, arange, expand_dims, broadcast, trans) and reductions.
// Tiles are row-major; expand_dims keeps the row-major order, so it shares the operand's storage.
#include <cmath>
#include <algorithm>
#include <cstring>
#include <limits>

#include "dsl/interp/program.h"

namespace tile::interp {
namespace {

// Copies 32-bit words; float and int tiles move the same way.
inline void copyWords(void* dst, const void* src, int64_t n) { std::memcpy(dst, src, static_cast<size_t>(n) * 4); }

void fillWord(int32_t* dst, int32_t word, int64_t n) {
  for (int64_t k = 0; k < n; ++k) dst[k] = word;
}

void broadcastTile(const Instr& in, const TileData& src, TileData& dst) {
  const auto& S = in.srcShape;
  const auto& D = in.shape;
  const int rank = static_cast<int>(D.size());
  // Element strides of the source seen through the result's index (0 along broadcast dims).
  std::vector<int64_t> sstride(rank, 0);
  int64_t st = 1;
  for (int d = rank - 1; d >= 0; --d) {
    sstride[d] = S[d] == 1 ? 0 : st;
    st *= S[d];
  }
  const int64_t inner = rank ? D[rank - 1] : 1;
  const int64_t rows = inner ? in.numel / inner : 0;
  const int32_t* s = src.i();
  int32_t* o = dst.i();
  std::vector<int64_t> idx(rank > 0 ? rank - 1 : 0, 0);
  for (int64_t row = 0; row < rows; ++row) {
    int64_t base = 0;
    for (int d = 0; d + 1 < rank; ++d) base += idx[d] * sstride[d];
    if (rank == 0 || sstride[rank - 1] == 0) fillWord(o + row * inner, s[base], inner);
    else copyWords(o + row * inner, s + base, inner);
    for (int d = rank - 2; d >= 0; --d) {  // next row index
      if (++idx[d] < D[d]) break;
      idx[d] = 0;
    }
  }
}

void transTile(const Instr& in, const TileData& src, TileData& dst) {
  const int64_t R = in.srcShape[0], C = in.srcShape[1];
  const int32_t* s = src.i();
  int32_t* o = dst.i();
  constexpr int64_t B = 32;  // blocked so that both sides stay in cache
  for (int64_t i0 = 0; i0 < R; i0 += B)
    for (int64_t j0 = 0; j0 < C; j0 += B) {
      const int64_t i1 = std::min(R, i0 + B), j1 = std::min(C, j0 + B);
      for (int64_t i = i0; i < i1; ++i)
        for (int64_t j = j0; j < j1; ++j) o[j * R + i] = s[i * C + j];
    }
}

}  // namespace

void execShape(const Instr& in, Value* s) {
  Value& r = s[in.result];
  switch (in.op) {
    case OpCode::splat: {
      const Value& v = s[in.operands[0]];
      r.tile = newTile(in.numel);
      if (isFloatElem(in.elem)) {
        float* o = r.tile->f();
        for (int64_t k = 0; k < in.numel; ++k) o[k] = v.f;
      } else {
        fillWord(r.tile->i(), static_cast<int32_t>(v.i), in.numel);
      }
      return;
    }
    case OpCode::arange: {
      r.tile = newTile(in.numel);
      int32_t* o = r.tile->i();
      for (int64_t k = 0; k < in.numel; ++k) o[k] = static_cast<int32_t>(in.attr + k);
      return;
    }
    case OpCode::expand_dims:
      r.tile = s[in.operands[0]].tile;
      return;
    case OpCode::broadcast: {
      const TilePtr& src = s[in.operands[0]].tile;
      if (src->size() == in.numel) {  // nothing to repeat
        r.tile = src;
        return;
      }
      r.tile = newTile(in.numel);
      broadcastTile(in, *src, *r.tile);
      return;
    }
    case OpCode::trans:
      r.tile = newTile(in.numel);
      transTile(in, *s[in.operands[0]].tile, *r.tile);
      return;
    default:
      throw InterpError(in.where + ": internal error: not a shape op");
  }
}

namespace {

inline float fmaxNaN(float a, float b) {
  if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<float>::quiet_NaN();
  if (a == b) return std::signbit(a) ? b : a;
  return a > b ? a : b;
}
inline float fminNaN(float a, float b) {
  if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<float>::quiet_NaN();
  if (a == b) return std::signbit(a) ? a : b;
  return a < b ? a : b;
}

// Reduces x viewed as [outer, len, inner] along the middle axis, in order 0..len-1.
template <class T, class F>
void reduceAxis(const T* x, T* out, int64_t outer, int64_t len, int64_t inner, F combine) {
  for (int64_t o = 0; o < outer; ++o) {
    const T* base = x + o * len * inner;
    T* dst = out + o * inner;
    for (int64_t j = 0; j < inner; ++j) dst[j] = base[j];
    for (int64_t a = 1; a < len; ++a) {
      const T* row = base + a * inner;
      for (int64_t j = 0; j < inner; ++j) dst[j] = combine(dst[j], row[j]);
    }
  }
}

}  // namespace

void execReduce(const Instr& in, Value* s) {
  const auto& S = in.srcShape;
  const int axis = static_cast<int>(in.attr);
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < axis; ++d) outer *= S[d];
  for (size_t d = axis + 1; d < S.size(); ++d) inner *= S[d];
  const int64_t len = S[axis];
  const int64_t nOut = outer * inner;
  const TileData& src = *s[in.operands[0]].tile;
  Value& r = s[in.result];
  const ReduceKind kind = static_cast<ReduceKind>(in.attr2);
  TilePtr out = newTile(nOut);
  if (isFloatElem(in.src)) {
    const Elem e = in.src;
    switch (kind) {
      case ReduceKind::max: reduceAxis(src.f(), out->f(), outer, len, inner, fmaxNaN); break;
      case ReduceKind::min: reduceAxis(src.f(), out->f(), outer, len, inner, fminNaN); break;
      case ReduceKind::sum:
        if (e == Elem::f32) {
          reduceAxis(src.f(), out->f(), outer, len, inner, [](float a, float b) { return a + b; });
        } else {  // summed in the element type: round after every addition
          reduceAxis(src.f(), out->f(), outer, len, inner, [e](float a, float b) {
            float t = a + b;
            roundFloats(e, &t, 1);
            return t;
          });
        }
        break;
    }
    if (in.tile) r.tile = out;
    else r.f = out->f()[0];
  } else {
    const Elem e = in.src;
    switch (kind) {
      case ReduceKind::max:
        reduceAxis(src.i(), out->i(), outer, len, inner,
                   [e](int32_t a, int32_t b) { return sval(e, a) >= sval(e, b) ? a : b; });
        break;
      case ReduceKind::min:
        reduceAxis(src.i(), out->i(), outer, len, inner,
                   [e](int32_t a, int32_t b) { return sval(e, a) <= sval(e, b) ? a : b; });
        break;
      case ReduceKind::sum:
        reduceAxis(src.i(), out->i(), outer, len, inner, [e](int32_t a, int32_t b) {
          return static_cast<int32_t>(normInt(e, static_cast<int64_t>(uint32_t(a) + uint32_t(b))));
        });
        break;
    }
    if (in.tile) r.tile = out;
    else r.i = out->i()[0];
  }
}

}  // namespace tile::interp
