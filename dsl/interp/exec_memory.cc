// Global memory: addptr, load_scalar, block loads/stores with padding, gathers, scatters and
// f32 atomic adds. Every element touched is checked against [0, numel) of the buffer its
// pointer came from; masked-off and out-of-shape elements are neither checked nor touched.
// Stores check all their addresses before writing any, so a failing store leaves memory as it was.
#include <algorithm>
#include <cstring>
#include <string>

#include "dsl/core/dtype.h"
#include "dsl/interp/program.h"

namespace tile::interp {
namespace {

struct Buffer {
  void* data;
  DType dtype;
  int64_t numel;
  int32_t arg;
};

Buffer bufferOf(const Instance& inst, const Value& ptr) {
  const Arg& a = inst.args[static_cast<size_t>(ptr.buf)];
  return {a.data, a.dtype, a.numel, ptr.buf};
}

[[noreturn]] void outOfBounds(const Instance& inst, const Instr& in, const Buffer& b, int64_t index) {
  const Param& p = inst.program.params[static_cast<size_t>(b.arg)];
  throw InterpError(in.where + ": element index " + std::to_string(index) +
                    " is out of bounds for kernel argument #" + std::to_string(b.arg) + " (" + p.type +
                    ", buffer of " + std::to_string(b.numel) + " " + dtype_name(b.dtype) +
                    " elements) in " + inst.pidText());
}

inline void check(const Instance& inst, const Instr& in, const Buffer& b, int64_t index) {
  if (index < 0 || index >= b.numel) outOfBounds(inst, in, b, index);
}

inline float readFloat(const Buffer& b, int64_t idx) {
  switch (b.dtype) {
    case DType::f16: return f16_bits_to_f32(static_cast<const uint16_t*>(b.data)[idx]);
    case DType::bf16: return bf16_bits_to_f32(static_cast<const uint16_t*>(b.data)[idx]);
    default: return static_cast<const float*>(b.data)[idx];
  }
}
inline int32_t readInt(const Buffer& b, int64_t idx) { return static_cast<const int32_t*>(b.data)[idx]; }

// Values in a tile of the pointee type are exactly representable, so the conversion is exact.
inline void writeFloat(const Buffer& b, int64_t idx, float v) {
  switch (b.dtype) {
    case DType::f16: static_cast<uint16_t*>(b.data)[idx] = f32_to_f16_bits(v); break;
    case DType::bf16: static_cast<uint16_t*>(b.data)[idx] = f32_to_bf16_bits(v); break;
    default: static_cast<float*>(b.data)[idx] = v; break;
  }
}
inline void writeInt(const Buffer& b, int64_t idx, int32_t v) { static_cast<int32_t*>(b.data)[idx] = v; }

void atomicAddF32(float* p, float v) {
  // A CAS loop on the bit pattern: atomic across interpreter threads, like a GPU red.add.f32.
  uint32_t* word = reinterpret_cast<uint32_t*>(p);
  uint32_t old = __atomic_load_n(word, __ATOMIC_RELAXED);
  for (;;) {
    float f;
    std::memcpy(&f, &old, 4);
    f += v;
    uint32_t next;
    std::memcpy(&next, &f, 4);
    if (__atomic_compare_exchange_n(word, &old, next, true, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) return;
  }
}

// The geometry of a block access: operands [ptr, shape..., strides..., offsets..., (value)].
struct Block {
  int rank;
  int64_t base;            // pointer offset
  int64_t shape[8], stride[8], offset[8];
  int64_t lo[8], hi[8];    // in-shape range of tile indices per dim: [lo, hi)
  bool any;                // some element lies inside the shape
  bool all;                // every element lies inside the shape
};

Block blockOf(const Instr& in, const Value* s) {
  Block g;
  g.rank = static_cast<int>(in.shape.size());
  if (g.rank > 8) throw InterpError(in.where + ": tiles of rank > 8 are not supported");
  g.base = s[in.operands[0]].i;
  g.any = g.all = true;
  for (int d = 0; d < g.rank; ++d) {
    g.shape[d] = s[in.operands[1 + d]].i;
    g.stride[d] = s[in.operands[1 + g.rank + d]].i;
    g.offset[d] = s[in.operands[1 + 2 * g.rank + d]].i;
    const int64_t T = in.shape[d];
    g.lo[d] = std::max<int64_t>(0, -g.offset[d]);
    g.hi[d] = std::min<int64_t>(T, g.shape[d] - g.offset[d]);
    if (g.hi[d] <= g.lo[d]) g.any = false;
    if (g.lo[d] != 0 || g.hi[d] != T) g.all = false;
  }
  return g;
}

// Calls row(tileIndexOfRowStart + lo, firstAddress) for every in-shape row segment of the
// block; a segment covers tile indices [lo, hi) of the last dim with address step stride[last].
template <class F>
void forEachRow(const Instr& in, const Block& g, F row) {
  if (!g.any) return;
  const int last = g.rank - 1;
  int64_t idx[8];
  for (int d = 0; d < last; ++d) idx[d] = g.lo[d];
  for (;;) {
    int64_t addr = g.base, tileIndex = 0;
    for (int d = 0; d < last; ++d) {
      addr += (g.offset[d] + idx[d]) * g.stride[d];
      tileIndex = tileIndex * in.shape[d] + idx[d];
    }
    tileIndex = tileIndex * in.shape[last] + g.lo[last];
    addr += (g.offset[last] + g.lo[last]) * g.stride[last];
    row(tileIndex, addr);
    int d = last - 1;
    for (; d >= 0; --d) {
      if (++idx[d] < g.hi[d]) break;
      idx[d] = g.lo[d];
    }
    if (d < 0) return;
  }
}

// A row segment's addresses are linear in the index, so its two ends bound all of them.
void checkRows(const Instance& inst, const Instr& in, const Block& g, const Buffer& b) {
  const int last = g.rank - 1;
  const int64_t len = g.hi[last] - g.lo[last], st = g.stride[last];
  forEachRow(in, g, [&](int64_t, int64_t addr) {
    const int64_t end = addr + (len - 1) * st;
    if (addr >= 0 && addr < b.numel && end >= 0 && end < b.numel) return;
    for (int64_t j = 0; j < len; ++j) check(inst, in, b, addr + j * st);  // names the first bad one
  });
}

void loadBlock(const Instance& inst, const Instr& in, Value* s) {
  const Block g = blockOf(in, s);
  const Buffer b = bufferOf(inst, s[in.operands[0]]);
  checkRows(inst, in, g, b);
  TilePtr t = newTile(in.numel);
  const int last = g.rank - 1;
  const int64_t len = g.hi[last] - g.lo[last], st = g.stride[last];
  if (isFloatElem(in.elem)) {
    float* o = t->f();
    if (!g.all) {
      float pad = static_cast<float>(in.fattr);
      roundFloats(in.elem, &pad, 1);
      for (int64_t k = 0; k < in.numel; ++k) o[k] = pad;
    }
    forEachRow(in, g, [&](int64_t ti, int64_t addr) {
      if (st == 1 && b.dtype == DType::f32) {
        std::memcpy(o + ti, static_cast<const float*>(b.data) + addr, static_cast<size_t>(len) * 4);
      } else if (b.dtype == DType::bf16) {
        const uint16_t* p = static_cast<const uint16_t*>(b.data) + addr;
        for (int64_t j = 0; j < len; ++j) {
          const uint32_t bits = static_cast<uint32_t>(p[j * st]) << 16;  // bf16 -> f32 is a shift
          std::memcpy(o + ti + j, &bits, 4);
        }
      } else {
        for (int64_t j = 0; j < len; ++j) o[ti + j] = readFloat(b, addr + j * st);
      }
    });
  } else {
    int32_t* o = t->i();
    if (!g.all) {
      const int32_t pad = static_cast<int32_t>(in.fattr);
      for (int64_t k = 0; k < in.numel; ++k) o[k] = pad;
    }
    forEachRow(in, g, [&](int64_t ti, int64_t addr) {
      for (int64_t j = 0; j < len; ++j) o[ti + j] = readInt(b, addr + j * st);
    });
  }
  s[in.result].tile = std::move(t);
}

void storeBlock(const Instance& inst, const Instr& in, Value* s) {
  const Block g = blockOf(in, s);
  const Buffer b = bufferOf(inst, s[in.operands[0]]);
  checkRows(inst, in, g, b);
  const TileData& v = *s[in.operands.back()].tile;
  const int last = g.rank - 1;
  const int64_t len = g.hi[last] - g.lo[last], st = g.stride[last];
  forEachRow(in, g, [&](int64_t ti, int64_t addr) {
    if (in.op == OpCode::atomic_add_block) {
      for (int64_t j = 0; j < len; ++j) atomicAddF32(static_cast<float*>(b.data) + addr + j * st, v.f()[ti + j]);
    } else if (b.dtype == DType::i32) {
      for (int64_t j = 0; j < len; ++j) writeInt(b, addr + j * st, v.i()[ti + j]);
    } else if (st == 1 && b.dtype == DType::f32) {
      std::memcpy(static_cast<float*>(b.data) + addr, v.f() + ti, static_cast<size_t>(len) * 4);
    } else {
      for (int64_t j = 0; j < len; ++j) writeFloat(b, addr + j * st, v.f()[ti + j]);
    }
  });
}

// Gathers: operands [ptr, offsets, mask?, other?] with attr2 bit 0 = mask, bit 1 = other.
void gatherLoad(const Instance& inst, const Instr& in, Value* s) {
  const Value& ptr = s[in.operands[0]];
  const Buffer b = bufferOf(inst, ptr);
  const int32_t* off = s[in.operands[1]].tile->i();
  size_t next = 2;
  const int32_t* mask = (in.attr2 & 1) ? s[in.operands[next++]].tile->i() : nullptr;
  const Value* other = (in.attr2 & 2) ? &s[in.operands[next++]] : nullptr;
  TilePtr t = newTile(in.numel);
  if (isFloatElem(in.elem)) {
    float* o = t->f();
    const float fill = other ? other->f : 0.0f;
    for (int64_t k = 0; k < in.numel; ++k) {
      if (mask && !mask[k]) {
        o[k] = fill;
        continue;
      }
      const int64_t idx = ptr.i + off[k];
      check(inst, in, b, idx);
      o[k] = readFloat(b, idx);
    }
  } else {
    int32_t* o = t->i();
    const int32_t fill = other ? static_cast<int32_t>(other->i) : 0;
    for (int64_t k = 0; k < in.numel; ++k) {
      if (mask && !mask[k]) {
        o[k] = fill;
        continue;
      }
      const int64_t idx = ptr.i + off[k];
      check(inst, in, b, idx);
      o[k] = readInt(b, idx);
    }
  }
  s[in.result].tile = std::move(t);
}

// Scatters and atomics: operands [ptr, offsets, value, mask?].
void scatter(const Instance& inst, const Instr& in, Value* s) {
  const Value& ptr = s[in.operands[0]];
  const Buffer b = bufferOf(inst, ptr);
  const int32_t* off = s[in.operands[1]].tile->i();
  const TileData& v = *s[in.operands[2]].tile;
  const int32_t* mask = in.operands.size() > 3 ? s[in.operands[3]].tile->i() : nullptr;
  for (int64_t k = 0; k < in.numel; ++k)
    if (!mask || mask[k]) check(inst, in, b, ptr.i + off[k]);
  for (int64_t k = 0; k < in.numel; ++k) {
    if (mask && !mask[k]) continue;
    const int64_t idx = ptr.i + off[k];
    if (in.op == OpCode::atomic_add) atomicAddF32(static_cast<float*>(b.data) + idx, v.f()[k]);
    else if (b.dtype == DType::i32) writeInt(b, idx, v.i()[k]);
    else writeFloat(b, idx, v.f()[k]);
  }
}

}  // namespace

void execMemory(const Instance& inst, const Instr& in, Value* s) {
  switch (in.op) {
    case OpCode::addptr: {
      const Value& p = s[in.operands[0]];
      Value& r = s[in.result];
      r.buf = p.buf;
      r.i = p.i + sval(in.src, s[in.operands[1]].i);
      return;
    }
    case OpCode::load_scalar: {
      const Value& p = s[in.operands[0]];
      const Buffer b = bufferOf(inst, p);
      const int64_t idx = p.i + sval(in.src, s[in.operands[1]].i);
      check(inst, in, b, idx);
      Value& r = s[in.result];
      if (isFloatElem(in.elem)) r.f = readFloat(b, idx);
      else r.i = readInt(b, idx);
      return;
    }
    case OpCode::load_block: return loadBlock(inst, in, s);
    case OpCode::store_block:
    case OpCode::atomic_add_block: return storeBlock(inst, in, s);
    case OpCode::load: return gatherLoad(inst, in, s);
    case OpCode::store:
    case OpCode::atomic_add: return scatter(inst, in, s);
    default: throw InterpError(in.where + ": internal error: not a memory op");
  }
}

}  // namespace tile::interp
