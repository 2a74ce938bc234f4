// Elementwise ops on tiles and scalars: float math, integer math, compares, select and casts.
// A scalar operand is handled as a one-element array, so tiles and scalars share one code path.
#include <cmath>
#include <cstring>
#include <limits>

#include "dsl/core/dtype.h"
#include "dsl/core/tensor_view.h"
#include "dsl/interp/program.h"

namespace tile::interp {
namespace {

const float* floatsOf(bool tile, const Value& v) { return tile ? v.tile->f() : &v.f; }
float* floatResult(const Instr& in, Value& r) {
  if (!in.tile) return &r.f;
  r.tile = newTile(in.numel);
  return r.tile->f();
}

// arith.maximumf / minimumf: NaN wins; -0 orders below +0 (IEEE 754-2019 maximum/minimum).
inline float maximumf(float a, float b) {
  if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<float>::quiet_NaN();
  if (a == b) return std::signbit(a) ? b : a;
  return a > b ? a : b;
}
inline float minimumf(float a, float b) {
  if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<float>::quiet_NaN();
  if (a == b) return std::signbit(a) ? a : b;
  return a < b ? a : b;
}
// arith.maxnumf / minnumf: a NaN operand is ignored (IEEE 754-2008 maxNum/minNum).
inline float maxnumf(float a, float b) {
  if (std::isnan(a)) return b;
  if (std::isnan(b)) return a;
  return maximumf(a, b);
}
inline float minnumf(float a, float b) {
  if (std::isnan(a)) return b;
  if (std::isnan(b)) return a;
  return minimumf(a, b);
}

template <class F>
void map1(const float* a, float* o, int64_t n, F f) {
  for (int64_t k = 0; k < n; ++k) o[k] = f(a[k]);
}
template <class F>
void map2(const float* a, const float* b, float* o, int64_t n, F f) {
  for (int64_t k = 0; k < n; ++k) o[k] = f(a[k], b[k]);
}

[[noreturn]] void internal(const Instr& in) {
  throw InterpError(in.where + ": internal error: op code not handled by its executor");
}

}  // namespace

void roundFloats(Elem e, float* x, int64_t n) {
  if (e == Elem::f16) {
    for (int64_t k = 0; k < n; ++k) x[k] = f16_bits_to_f32(f32_to_f16_bits(x[k]));
  } else if (e == Elem::bf16) {
    for (int64_t k = 0; k < n; ++k) x[k] = bf16_bits_to_f32(f32_to_bf16_bits(x[k]));
  }
}

void execFloat(const Instr& in, Value* s) {
  const int64_t n = in.tile ? in.numel : 1;
  const float* a = floatsOf(in.tile, s[in.operands[0]]);
  const float* b = in.operands.size() > 1 ? floatsOf(in.tile, s[in.operands[1]]) : nullptr;
  float* o = floatResult(in, s[in.result]);
  switch (in.op) {
    case OpCode::addf: map2(a, b, o, n, [](float x, float y) { return x + y; }); break;
    case OpCode::subf: map2(a, b, o, n, [](float x, float y) { return x - y; }); break;
    case OpCode::mulf: map2(a, b, o, n, [](float x, float y) { return x * y; }); break;
    case OpCode::divf: map2(a, b, o, n, [](float x, float y) { return x / y; }); break;
    case OpCode::remf: map2(a, b, o, n, [](float x, float y) { return std::fmod(x, y); }); break;
    case OpCode::maximumf: map2(a, b, o, n, maximumf); break;
    case OpCode::minimumf: map2(a, b, o, n, minimumf); break;
    case OpCode::maxnumf: map2(a, b, o, n, maxnumf); break;
    case OpCode::minnumf: map2(a, b, o, n, minnumf); break;
    case OpCode::powf: map2(a, b, o, n, [](float x, float y) { return std::pow(x, y); }); break;
    case OpCode::copysign: map2(a, b, o, n, [](float x, float y) { return std::copysign(x, y); }); break;
    case OpCode::negf: map1(a, o, n, [](float x) { return -x; }); break;
    case OpCode::absf: map1(a, o, n, [](float x) { return std::fabs(x); }); break;
    case OpCode::exp2: map1(a, o, n, [](float x) { return std::exp2(x); }); break;
    case OpCode::log2: map1(a, o, n, [](float x) { return std::log2(x); }); break;
    case OpCode::exp: map1(a, o, n, [](float x) { return std::exp(x); }); break;
    case OpCode::log: map1(a, o, n, [](float x) { return std::log(x); }); break;
    case OpCode::tanh: map1(a, o, n, [](float x) { return std::tanh(x); }); break;
    case OpCode::sqrt: map1(a, o, n, [](float x) { return std::sqrt(x); }); break;
    case OpCode::rsqrt: map1(a, o, n, [](float x) { return 1.0f / std::sqrt(x); }); break;
    case OpCode::floor: map1(a, o, n, [](float x) { return std::floor(x); }); break;
    case OpCode::ceil: map1(a, o, n, [](float x) { return std::ceil(x); }); break;
    case OpCode::sin: map1(a, o, n, [](float x) { return std::sin(x); }); break;
    case OpCode::cos: map1(a, o, n, [](float x) { return std::cos(x); }); break;
    case OpCode::erf: map1(a, o, n, [](float x) { return std::erf(x); }); break;
    case OpCode::log1p: map1(a, o, n, [](float x) { return std::log1p(x); }); break;
    case OpCode::expm1: map1(a, o, n, [](float x) { return std::expm1(x); }); break;
    case OpCode::fma: {
      const float* c = floatsOf(in.tile, s[in.operands[2]]);
      for (int64_t k = 0; k < n; ++k) o[k] = std::fma(a[k], b[k], c[k]);
      break;
    }
    default: internal(in);
  }
  // 16-bit results: the exact float result rounded once. For + - * / sqrt this equals the
  // correctly rounded 16-bit result because f32 has more than 2p+2 bits for p = 11 and 8.
  roundFloats(in.elem, o, n);
}

namespace {

// One integer op on canonical values of kind `e`; the result is canonical too.
inline int64_t intOp(OpCode op, Elem e, int64_t a, int64_t b, const Instance& inst, const Instr& in) {
  const int w = bitWidth(e);
  const int64_t sa = sval(e, a), sb = sval(e, b);
  const uint64_t ua = uval(e, a), ub = uval(e, b);
  const int64_t smin = w == 64 ? std::numeric_limits<int64_t>::min() : -(int64_t(1) << (w - 1));
  auto divZero = [&]() {
    throw InterpError(in.where + ": integer division by zero in " + inst.pidText());
  };
  switch (op) {
    case OpCode::addi: return normInt(e, static_cast<int64_t>(ua + ub));
    case OpCode::subi: return normInt(e, static_cast<int64_t>(ua - ub));
    case OpCode::muli: return normInt(e, static_cast<int64_t>(ua * ub));
    case OpCode::andi: return normInt(e, a & b);
    case OpCode::ori: return normInt(e, a | b);
    case OpCode::xori: return normInt(e, a ^ b);
    case OpCode::minsi: return sa < sb ? a : b;
    case OpCode::maxsi: return sa > sb ? a : b;
    case OpCode::minui: return ua < ub ? a : b;
    case OpCode::maxui: return ua > ub ? a : b;
    case OpCode::divsi:
    case OpCode::remsi:
    case OpCode::ceildivsi:
    case OpCode::floordivsi: {
      if (sb == 0) divZero();
      if (sa == smin && sb == -1)  // overflows: wraps like the hardware
        return op == OpCode::remsi ? 0 : normInt(e, sa);
      int64_t q = sa / sb, r = sa % sb;
      if (op == OpCode::remsi) return normInt(e, r);
      if (op == OpCode::ceildivsi && r != 0 && ((sa < 0) == (sb < 0))) ++q;
      if (op == OpCode::floordivsi && r != 0 && ((sa < 0) != (sb < 0))) --q;
      return normInt(e, q);
    }
    case OpCode::divui:
      if (ub == 0) divZero();
      return normInt(e, static_cast<int64_t>(ua / ub));
    case OpCode::remui:
      if (ub == 0) divZero();
      return normInt(e, static_cast<int64_t>(ua % ub));
    // Shifts by the bit width or more are poison in arith; we pick the hardware-like result.
    case OpCode::shli: return ub >= uint64_t(w) ? 0 : normInt(e, static_cast<int64_t>(ua << ub));
    case OpCode::shrui: return ub >= uint64_t(w) ? 0 : normInt(e, static_cast<int64_t>(ua >> ub));
    case OpCode::shrsi: return normInt(e, ub >= uint64_t(w) ? (sa < 0 ? -1 : 0) : (sa >> ub));
    case OpCode::absi: return normInt(e, static_cast<int64_t>(sa < 0 ? uint64_t(0) - uint64_t(sa) : uint64_t(sa)));
    default: internal(in);
  }
}

template <class T>
void intLoop(const Instance& inst, const Instr& in, const T* a, const T* b, T* o, int64_t n) {
  const Elem e = in.elem;
  // The common i32 tile ops get tight loops; the rest go through the generic per-element op.
  if (e == Elem::i32) {
    switch (in.op) {
      case OpCode::addi:
        for (int64_t k = 0; k < n; ++k) o[k] = T(int32_t(uint32_t(a[k]) + uint32_t(b[k])));
        return;
      case OpCode::subi:
        for (int64_t k = 0; k < n; ++k) o[k] = T(int32_t(uint32_t(a[k]) - uint32_t(b[k])));
        return;
      case OpCode::muli:
        for (int64_t k = 0; k < n; ++k) o[k] = T(int32_t(uint32_t(a[k]) * uint32_t(b[k])));
        return;
      default: break;
    }
  }
  for (int64_t k = 0; k < n; ++k) o[k] = static_cast<T>(intOp(in.op, e, a[k], b[k], inst, in));
}

}  // namespace

void execInt(const Instance& inst, const Instr& in, Value* s) {
  Value& r = s[in.result];
  if (in.tile) {
    const int32_t* a = s[in.operands[0]].tile->i();
    const int32_t* b = in.operands.size() > 1 ? s[in.operands[1]].tile->i() : a;  // absi is unary
    r.tile = newTile(in.numel);
    intLoop<int32_t>(inst, in, a, b, r.tile->i(), in.numel);
  } else {
    const int64_t* a = &s[in.operands[0]].i;
    const int64_t* b = in.operands.size() > 1 ? &s[in.operands[1]].i : a;
    intLoop<int64_t>(inst, in, a, b, &r.i, 1);
  }
}

namespace {

inline bool cmpf(CmpF p, float a, float b) {
  const bool unord = std::isnan(a) || std::isnan(b);
  switch (p) {
    case CmpF::alwaysfalse: return false;
    case CmpF::oeq: return !unord && a == b;
    case CmpF::ogt: return !unord && a > b;
    case CmpF::oge: return !unord && a >= b;
    case CmpF::olt: return !unord && a < b;
    case CmpF::ole: return !unord && a <= b;
    case CmpF::one: return !unord && a != b;
    case CmpF::ord: return !unord;
    case CmpF::ueq: return unord || a == b;
    case CmpF::ugt: return unord || a > b;
    case CmpF::uge: return unord || a >= b;
    case CmpF::ult: return unord || a < b;
    case CmpF::ule: return unord || a <= b;
    case CmpF::une: return unord || a != b;
    case CmpF::uno: return unord;
    case CmpF::alwaystrue: return true;
  }
  return false;
}

inline bool cmpi(CmpI p, Elem e, int64_t a, int64_t b) {
  switch (p) {
    case CmpI::eq: return a == b;
    case CmpI::ne: return a != b;
    case CmpI::slt: return sval(e, a) < sval(e, b);
    case CmpI::sle: return sval(e, a) <= sval(e, b);
    case CmpI::sgt: return sval(e, a) > sval(e, b);
    case CmpI::sge: return sval(e, a) >= sval(e, b);
    case CmpI::ult: return uval(e, a) < uval(e, b);
    case CmpI::ule: return uval(e, a) <= uval(e, b);
    case CmpI::ugt: return uval(e, a) > uval(e, b);
    case CmpI::uge: return uval(e, a) >= uval(e, b);
  }
  return false;
}

void execSelect(const Instr& in, Value* s) {
  const Value& c = s[in.operands[0]];
  const Value& x = s[in.operands[1]];
  const Value& y = s[in.operands[2]];
  Value& r = s[in.result];
  if (!in.srcTile) {  // scalar condition: pick a whole value; tiles are shared, not copied
    r = (c.i & 1) ? x : y;
    return;
  }
  const int32_t* cond = c.tile->i();
  r.tile = newTile(in.numel);
  if (isFloatElem(in.elem)) {
    const float *a = x.tile->f(), *b = y.tile->f();
    float* o = r.tile->f();
    for (int64_t k = 0; k < in.numel; ++k) o[k] = cond[k] ? a[k] : b[k];
  } else {
    const int32_t *a = x.tile->i(), *b = y.tile->i();
    int32_t* o = r.tile->i();
    for (int64_t k = 0; k < in.numel; ++k) o[k] = cond[k] ? a[k] : b[k];
  }
}

}  // namespace

void execCompareSelect(const Instr& in, Value* s) {
  if (in.op == OpCode::select) return execSelect(in, s);
  const bool tile = in.srcTile;
  const int64_t n = tile ? in.numel : 1;
  Value& r = s[in.result];
  int32_t* ot = nullptr;
  if (tile) {
    r.tile = newTile(n);
    ot = r.tile->i();
  }
  if (in.op == OpCode::cmpf) {
    const CmpF p = static_cast<CmpF>(in.attr);
    const float* a = floatsOf(tile, s[in.operands[0]]);
    const float* b = floatsOf(tile, s[in.operands[1]]);
    if (tile) {
      for (int64_t k = 0; k < n; ++k) ot[k] = cmpf(p, a[k], b[k]);
    } else {
      r.i = cmpf(p, a[0], b[0]);
    }
  } else if (in.op == OpCode::cmpi) {
    const CmpI p = static_cast<CmpI>(in.attr);
    if (tile) {
      const int32_t* a = s[in.operands[0]].tile->i();
      const int32_t* b = s[in.operands[1]].tile->i();
      for (int64_t k = 0; k < n; ++k) ot[k] = cmpi(p, in.src, a[k], b[k]);
    } else {
      r.i = cmpi(p, in.src, s[in.operands[0]].i, s[in.operands[1]].i);
    }
  } else {
    internal(in);
  }
}

namespace {

DType dtypeOf(Elem e) {
  switch (e) {
    case Elem::f16: return DType::f16;
    case Elem::bf16: return DType::bf16;
    default: return DType::f32;
  }
}

// float -> integer, truncating toward zero and saturating to the target range (NaN -> 0),
// like the GPU's cvt.rzi.sat.
int64_t floatToInt(float x, Elem e, bool isSigned) {
  if (std::isnan(x)) return 0;
  const int w = bitWidth(e);
  double lo, hi;
  if (isSigned) {
    lo = w == 1 ? -1.0 : -std::ldexp(1.0, w - 1);
    hi = w == 1 ? 0.0 : std::ldexp(1.0, w - 1) - 1;
  } else {
    lo = 0.0;
    hi = std::ldexp(1.0, w) - 1;
  }
  double t = std::trunc(static_cast<double>(x));
  if (t <= lo) t = lo;
  if (t >= hi) t = hi;
  if (!isSigned && w == 64 && t >= 9223372036854775808.0)
    return static_cast<int64_t>(static_cast<uint64_t>(t));
  return normInt(e, static_cast<int64_t>(t));
}

float intToFloat(Elem dst, int64_t v, bool isUnsigned, Elem srcElem) {
  if (isUnsigned) {
    const uint64_t u = uval(srcElem, v);
    if (dst == Elem::f32) return static_cast<float>(u);
    return static_cast<float>(round_to_dtype(dtypeOf(dst), static_cast<double>(u)));
  }
  const int64_t sv = sval(srcElem, v);
  if (dst == Elem::f32) return static_cast<float>(sv);  // correctly rounded
  return static_cast<float>(round_to_dtype(dtypeOf(dst), static_cast<double>(sv)));
}

}  // namespace

void execCast(const Instr& in, Value* s) {
  const Value& x = s[in.operands[0]];
  Value& r = s[in.result];
  const bool tile = in.tile;
  const int64_t n = tile ? in.numel : 1;
  const bool srcFloat = isFloatElem(in.src), dstFloat = isFloatElem(in.elem);
  if (tile) r.tile = newTile(n);
  // Source and destination as arrays of float, int32 (int tiles) or int64 (int scalars).
  const float* sf = srcFloat ? floatsOf(tile, x) : nullptr;
  const int32_t* si32 = (!srcFloat && tile) ? x.tile->i() : nullptr;
  float* df = dstFloat ? (tile ? r.tile->f() : &r.f) : nullptr;
  auto srcInt = [&](int64_t k) -> int64_t { return tile ? si32[k] : x.i; };
  auto dstInt = [&](int64_t k, int64_t v) {
    if (tile) r.tile->i()[k] = static_cast<int32_t>(v);
    else r.i = v;
  };
  switch (in.op) {
    case OpCode::truncf:
    case OpCode::extf:
      for (int64_t k = 0; k < n; ++k) df[k] = sf[k];
      roundFloats(in.elem, df, n);
      break;
    case OpCode::sitofp:
    case OpCode::uitofp:
      for (int64_t k = 0; k < n; ++k) df[k] = intToFloat(in.elem, srcInt(k), in.op == OpCode::uitofp, in.src);
      break;
    case OpCode::fptosi:
    case OpCode::fptoui:
      for (int64_t k = 0; k < n; ++k) dstInt(k, floatToInt(sf[k], in.elem, in.op == OpCode::fptosi));
      break;
    case OpCode::extsi:
    case OpCode::trunci:
    case OpCode::index_cast:
      for (int64_t k = 0; k < n; ++k) dstInt(k, normInt(in.elem, sval(in.src, srcInt(k))));
      break;
    case OpCode::extui:
    case OpCode::index_castui:
      for (int64_t k = 0; k < n; ++k) dstInt(k, normInt(in.elem, static_cast<int64_t>(uval(in.src, srcInt(k)))));
      break;
    case OpCode::bitcast:  // f32 <-> i32 (checked when compiling)
      for (int64_t k = 0; k < n; ++k) {
        if (srcFloat) {
          int32_t bits;
          std::memcpy(&bits, &sf[k], 4);
          dstInt(k, bits);
        } else {
          const int32_t bits = static_cast<int32_t>(srcInt(k));
          std::memcpy(&df[k], &bits, 4);
        }
      }
      break;
    default: internal(in);
  }
}

}  // namespace tile::interp
