// Hopper's asynchronous copies for the SIMT simulator (simt_sim.h): mbarriers, TMA tensor copies
// that complete on them, and tensor maps made inside the kernel from the runtime's templates.
// The ops are recognised by their inline-asm text, compared with the constants of
// lowering/passes/async_ptx.h (the contract the lowering emits), never by a copy of the strings.
//
// Modelled after the PTX ISA, with the hazards a lock-step simulator can see made errors:
//  * an mbarrier is an 8-byte object in shared memory with an arrival count, a transaction
//    (tx) count and a phase; a phase completes when its arrivals are all in and its tx count is
//    back to 0. try_wait.parity P succeeds once the phase of parity P has completed.
//  * a TMA copy reads its box at issue (zero outside the tensor) and lands in shared memory
//    only when some thread waits on its barrier: until then its bytes are pending, and any
//    ordinary access to them is an error, as is issuing into bytes that another thread read or
//    wrote since the last gpu.barrier.
//  * a tensor map must be published (tensormap.cp_fenceproxy, by a whole warp, into one of the
//    block's workspace slots) and acquired by the issuing thread after that publish.
// The simulator keeps its own tensor map format (async::writeTemplate); the real runtime
// encodes templates with cuTensorMapEncodeTiled.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "llvm/ADT/StringRef.h"

namespace tile::lowering::sim::async {

constexpr uint64_t kSmemTag = uint64_t(1) << 60;  // shared pointers carry this bit (simt_sim.cc)
constexpr int kLanes = 32;

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Race-checking state of one shared-memory byte for ordinary (generic-proxy) accesses; owned
// and updated by the simulator, read here when a copy is issued or lands.
struct ByteState {
  int32_t writer = -1, reader = -1, pendingThread = -1;  // pendingThread: a cp.async in flight
  int64_t writeEpoch = -1, readEpoch = -1;
  bool manyReaders = false;
};

// What the model needs from the simulator.
class Memory {
 public:
  virtual ~Memory() = default;
  // Bytes at a global address; throws outside the buffers.
  virtual uint8_t* global(uint64_t a, int bytes) = 0;
  // Ordinary shared-memory accesses by thread t, with the simulator's race checks.
  virtual void sharedRead(int t, uint64_t off, int bytes) = 0;
  virtual void sharedWrite(int t, uint64_t off, const uint8_t* data, int bytes) = 0;
  virtual std::vector<uint8_t>& smem() = 0;
  virtual std::vector<ByteState>& smemMeta() = 0;
  virtual int64_t epoch() const = 0;  // gpu.barriers passed
};

// The simulator's tensor map (the 128 bytes of a workspace template or slot) for a template
// of element type elemType (ptx::TmaElem) and box {boxCols, boxRows}; address, extents and
// row stride are left unset (0) for the kernel to fill in.
void writeTemplate(uint8_t* dst, int elemType, int boxCols, int boxRows);

// TMA copies issued in this process so far: lets tests check that a kernel took the TMA path
// (and not its cp.async fallback).
int64_t tmaCopiesIssued();

// True for the asm strings of async_ptx.h this model executes.
bool isAsyncAsm(llvm::StringRef text);

class Model {
 public:
  Model(Memory& mem, int threads) : mem_(mem), threads_(threads) {}

  // The block's workspace (hidden argument): global address, templates per block, and the
  // block's linear index. Without it no tensor map can be published.
  void setWorkspace(uint64_t base, int templates, int block) {
    wsBase_ = base, wsTemplates_ = templates, wsBlock_ = block;
  }

  // Executes asm `text` (isAsyncAsm) for the active threads; ops[i][t] is operand i of thread t.
  void exec(llvm::StringRef text, const std::vector<std::vector<uint64_t>>& ops, const std::vector<bool>& active);

  // Checks an ordinary shared-memory access (load, store, cp.async, ldmatrix, wgmma operand)
  // against live mbarriers and TMA destinations; cheap while the kernel used no async op.
  void checkAccess(int t, uint64_t off, int bytes, bool write) {
    if (used_) checkAccessSlow(t, off, bytes, write);
  }

  // At the kernel's end: no copy may still be in flight.
  void finish();

 private:
  // Per shared byte, beside ByteState.
  struct AsyncByte {
    int32_t barrier = -1;     // a live mbarrier covers this byte: its offset
    int32_t tmaPending = -1;  // a TMA copy not yet landed writes this byte: its barrier's offset
    int32_t landedBarrier = -1;  // the last TMA copy into this byte completed phase landedPhase
    int64_t landedPhase = -1, landedEpoch = -1;  // of that barrier, in epoch landedEpoch
  };
  struct Copy {
    uint64_t dst;
    std::vector<uint8_t> data;  // the box as it lands (already swizzled)
    int thread;
  };
  struct MBarrier {
    bool live = false;
    int64_t count = 0, pending = 0, tx = 0, phase = 0;  // phase: phases completed
    int initThread = -1;
    int64_t initEpoch = -1;
    std::vector<Copy> inflight;
  };
  struct Published {
    int64_t version;
    int warp;
    int64_t epoch;
  };

  void use();
  void checkAccessSlow(int t, uint64_t off, int bytes, bool write);
  uint64_t smemOperand(uint64_t w, int bytes, const char* what);
  MBarrier& barrier(int t, uint64_t off);
  int64_t observed(int t, uint64_t bar) const;
  void settle(uint64_t off, MBarrier& b);
  void deliver(uint64_t off, MBarrier& b);
  void init(int t, uint64_t off, uint32_t count);
  void inval(int t, uint64_t off);
  void wait(int t, uint64_t off, int parity);
  void tmaLoad(int t, uint64_t dst, uint64_t map, int32_t col, int32_t row, uint64_t bar);
  void publish(const std::vector<std::vector<uint64_t>>& ops, const std::vector<bool>& active);
  void editMap(int t, uint64_t map, int field, uint64_t value, int bytes);

  Memory& mem_;
  int threads_;
  bool used_ = false;
  std::vector<AsyncByte> bytes_;
  std::map<uint64_t, MBarrier> barriers_;
  std::vector<std::map<uint64_t, int64_t>> observed_;  // per thread: barrier -> phases seen
  std::map<uint64_t, Published> published_;            // global map address -> latest publish
  std::vector<std::map<uint64_t, int64_t>> acquired_;  // per thread: map address -> version
  int64_t version_ = 0;
  uint64_t wsBase_ = 0;
  int wsTemplates_ = 0, wsBlock_ = -1;
};

}  // namespace tile::lowering::sim::async
