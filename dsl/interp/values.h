// Runtime values of the interpreter: scalars, pointers and tiles. Internal header, no MLIR.
//
// Tiles are immutable and shared: an op never writes into an operand's storage, so a value can
// be aliased freely (expand_dims and a select with a scalar condition just share the storage).
// Float tiles (f16, bf16, f32) are stored as float, integer and mask tiles (i32, i1) as int32.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>

namespace tile::interp {

// Element kind of a value, resolved from its MLIR type once, when the kernel is compiled.
enum class Elem : uint8_t { none, f32, f16, bf16, i1, i32, i64, index, ptr };

inline bool isFloatElem(Elem e) { return e == Elem::f32 || e == Elem::f16 || e == Elem::bf16; }
inline bool isIntElem(Elem e) { return e == Elem::i1 || e == Elem::i32 || e == Elem::i64 || e == Elem::index; }
inline int bitWidth(Elem e) {
  switch (e) {
    case Elem::i1: return 1;
    case Elem::f16: case Elem::bf16: return 16;
    case Elem::f32: case Elem::i32: return 32;
    default: return 64;
  }
}

// Integers are held in their width's canonical form: i1 as 0/1, i32 sign-extended, i64/index as is.
inline int64_t normInt(Elem e, int64_t v) {
  switch (e) {
    case Elem::i1: return v & 1;
    case Elem::i32: return static_cast<int32_t>(static_cast<uint32_t>(v));
    default: return v;
  }
}
// Signed and unsigned readings of a canonical integer (an i1 "true" is -1 when signed).
inline int64_t sval(Elem e, int64_t v) { return e == Elem::i1 ? -(v & 1) : v; }
inline uint64_t uval(Elem e, int64_t v) {
  switch (e) {
    case Elem::i1: return static_cast<uint64_t>(v & 1);
    case Elem::i32: return static_cast<uint32_t>(v);
    default: return static_cast<uint64_t>(v);
  }
}

// Contiguous storage of one tile: `n` 32-bit words, read as float or int32 by element kind.
class TileData {
 public:
  explicit TileData(int64_t n) : n_(n) {
    size_t bytes = (static_cast<size_t>(n > 0 ? n : 1) * 4 + 63) / 64 * 64;
    mem_ = std::aligned_alloc(64, bytes);
    if (!mem_) throw std::bad_alloc();
  }
  ~TileData() { std::free(mem_); }
  TileData(const TileData&) = delete;
  TileData& operator=(const TileData&) = delete;

  int64_t size() const { return n_; }
  float* f() { return static_cast<float*>(mem_); }
  const float* f() const { return static_cast<const float*>(mem_); }
  int32_t* i() { return static_cast<int32_t*>(mem_); }
  const int32_t* i() const { return static_cast<const int32_t*>(mem_); }

 private:
  int64_t n_;
  void* mem_;
};

using TilePtr = std::shared_ptr<TileData>;
inline TilePtr newTile(int64_t n) { return std::make_shared<TileData>(n); }

// One SSA value. Which fields are meaningful follows from the value's static type:
// float scalar -> f; integer scalar -> i; pointer -> buf (kernel argument) + i (element offset);
// tile -> tile.
struct Value {
  float f = 0.0f;
  int64_t i = 0;
  int32_t buf = -1;
  TilePtr tile;
};

}  // namespace tile::interp
