// Hopper's asynchronous copies for the SIMT simulator (simt_sim.h): mbarriers, TMA tensor copies
// that complete on them, and tensor maps made inside the kernel from the runtime's templates.
// The ops are recognised by their inline-asm text, compared with the constants of
// lowering/passes/async_ptx.h (the contract the lowering emits), never by a copy of the strings.
//
// Modelled after the PTX ISA, with the hazards a lock-step simulator can see made errors:
//  * an mbarrier is an 8-byte object in shared memory with an arrival count, a transaction
//    (tx) count and a phase; a phase completes when its arrivals are all in and its tx count is
//    back to 0. try_wait.parity P succeeds once the phase of parity P has completed.
//  * arrivals release and waits acquire (Order): a thread's shared-memory accesses before its
//    arrive on a phase are ordered before what a thread that waited for that phase does next.
//    A wait is taken to observe the earliest completion of its parity that the thread may
//    still see (none older than what it, or a thread at a point ordered before it, saw of that
//    barrier), so a wait that a real GPU may pass too early (wrong parity, too small a count)
//    orders too little and the race shows up.
//  * a TMA copy reads its box at issue (zero outside the tensor) and lands in shared memory
//    only when some thread waits on its barrier: until then its bytes are pending, and any
//    ordinary access to them is an error, as is issuing into bytes that another thread read or
//    wrote unless a gpu.barrier or an arrive -> wait chain orders that access before the issue.
//  * a tensor map must be published (tensormap.cp_fenceproxy, by a whole warp, into one of the
//    block's workspace slots) and acquired by the issuing thread after that publish.
//  * bulk reduce-adds (cp.reduce.async.bulk .add.f32, shared -> global) go into bulk groups of
//    the issuing thread: the ops a thread issues join its open group, commit_group closes it
//    (an empty group is fine). wait_group.read 0 returns once every committed group of the
//    thread has read its shared source, wait_group 0 once they have completed (a completion
//    includes the read); ops not yet committed are covered by neither, as in PTX. Only N = 0
//    of the waits exists (async_ptx.h), so a thread's committed groups are one list here.
//  * a bulk reduce-add needs 16-byte aligned shared and global addresses and a positive
//    multiple of 16 bytes, inside shared memory and inside a global buffer. Every source byte's
//    last ordinary write must be ordered before the issue (Order: the issuer wrote it, or a
//    bar.warp.sync, barrier or mbarrier hand-over lies between), and made visible to the async
//    proxy: its writer executed fence.proxy.async.shared::cta after the write, and that fence
//    is ordered before the issue. A fence ticks its thread's clock (Order::mark), so a write's
//    clock tells whether it came before the writer's last fence; ordinary writes stay O(1) and
//    need no state of their own for this.
//  * the source is read when a wait of the issuing thread covers the op (a wait_group.read 0 or
//    wait_group 0 after its commit): until then no ordinary write, cp.async or TMA copy may
//    land in it (reads may). The read counts as the issuing thread's read at that wait (Order),
//    so another lane's later write must be ordered after the wait (the bar.warp.sync after it).
//    The data is taken then and added to global memory (f32 adds, in issue order) at the
//    wait_group 0 that completes the op. A kernel that ends with a bulk op not completed by a
//    wait_group 0 (committed or not) is an error, and its adds are not applied.
// The simulator keeps its own tensor map format (async::writeTemplate); the real runtime
// encodes templates with cuTensorMapEncodeTiled.
#pragma once

#include <cstdint>
#include <functional>
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

// Race-checking state of one shared-memory byte for ordinary (generic-proxy) accesses: the
// last writer and reader, each with its clock and epoch (Order); owned by Order, updated by the
// simulator, read here when a copy is issued or lands.
struct ByteState {
  int32_t writer = -1, reader = -1, pendingThread = -1;  // pendingThread: a cp.async in flight
  int32_t readers = -1;  // Order's list of this byte's readers, once two threads read it in readEpoch
  int64_t writeEpoch = -1, readEpoch = -1, writeClock = -1, readClock = -1;
};

// Happens-before among the threads of a block, for the race checks. A gpu.barrier orders
// everything before it before everything after it (the threads pass it together: a new
// epoch). Beyond that, each thread t has a clock, ticked by its releases (mbarrier arrivals,
// bar.warp.sync), and seen(t, u): the latest clock of thread u that t is ordered after,
// acquired through mbarrier waits and bar.warp.sync, transitively (a release carries what the
// releasing thread had seen). An access by u at (clock c, epoch e) is ordered before the next
// access of t iff u == t, e is an earlier epoch, or c <= seen(t, u).
class Order {
 public:
  void reset(size_t smemBytes, int threads);
  int64_t epoch() const { return epoch_; }
  int64_t clock(int t) const { return clock_[size_t(t)]; }
  bool ordered(int u, int64_t clock, int64_t epoch, int t) const {
    return u == t || epoch < epoch_ || clock <= seen_[size_t(t) * size_t(n_) + size_t(u)];
  }
  void barrier();
  // t releases: joins what t has seen, and its own clock, into `into` (one entry per thread);
  // t's later accesses get a later clock.
  void release(int t, std::vector<int64_t>& into);
  // t acquires a release vector: it is ordered after every access it covers.
  void acquire(int t, const std::vector<int64_t>& from);
  // A point in t's program order (fence.proxy.async): returns the clock of t's accesses so far;
  // its later accesses get a later clock, without releasing anything.
  int64_t mark(int t) { return clock_[size_t(t)]++; }
  // bar.warp.sync by the warp of lanes [w0, w0 + 32): every lane is ordered after every lane's
  // earlier accesses.
  void warpSync(int w0, int lanes);
  // A barrier among `threads` only (a named bar.sync whose generation they complete
  // together): each is ordered after every one's earlier accesses; other threads are not.
  void barrierAmong(const std::vector<int>& threads);

  ByteState& byte(uint64_t i) { return bytes_[i]; }
  size_t size() const { return bytes_.size(); }
  // Byte i: a read by t; a write by t; a reader of the byte whose read is not ordered before t
  // (-1: none); whether its last write is ordered before t.
  void recordRead(int t, uint64_t i);
  void recordWrite(int t, uint64_t i);
  int unorderedReader(int t, uint64_t i) const;
  bool writeOrdered(int t, uint64_t i) const {
    const ByteState& m = bytes_[i];
    return m.writer < 0 || ordered(m.writer, m.writeClock, m.writeEpoch, t);
  }

 private:
  struct Reader {
    int32_t thread, next;
    int64_t clock;
  };
  int n_ = 0;
  int64_t epoch_ = 0;
  std::vector<int64_t> clock_, seen_;  // seen_[t * n_ + u]
  std::vector<ByteState> bytes_;
  std::vector<Reader> readers_;  // linked lists of readers in the current epoch
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
  virtual Order& order() = 0;
  // Whether a wgmma not yet waited for reads shared byte `off` (its reads count at the wait).
  virtual bool wgmmaReading(uint64_t off) const = 0;
};

// The simulator's tensor map (the 128 bytes of a workspace template or slot) for a template
// of element type elemType (ptx::TmaElem) and box {boxCols, boxRows}; address, extents and
// row stride are left unset (0) for the kernel to fill in.
void writeTemplate(uint8_t* dst, int elemType, int boxCols, int boxRows);

// TMA copies issued in this process so far: lets tests check that a kernel took the TMA path
// (and not its cp.async fallback).
int64_t tmaCopiesIssued();
// Bulk reduce-adds issued in this process so far: likewise for atomic_add_block's bulk path
// (and not its per-element atomics).
int64_t bulkReducesIssued();

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
  // against live mbarriers, TMA destinations and bulk reduce-add sources; cheap while the
  // kernel used no async op.
  void checkAccess(int t, uint64_t off, int bytes, bool write) {
    if (used_) checkAccessSlow(t, off, bytes, write);
  }

  // At the kernel's end: no copy or bulk reduce-add may still be in flight.
  void finish();

  // Warp-specialised kernels run their roles as two fibers (simt_sim.cc). A wait that cannot
  // complete yet (an mbarrier phase, the block barrier 0) calls `yield`, which runs the other
  // role until it blocks or ends, and returns false when there is no other role to run. The
  // wait fails as a deadlock when it still cannot complete and nothing changed meanwhile.
  void setYield(std::function<bool()> yield) { yield_ = std::move(yield); }

 private:
  // Per shared byte, beside ByteState.
  struct AsyncByte {
    int32_t barrier = -1;     // a live mbarrier covers this byte: its offset
    int32_t tmaPending = -1;  // a TMA copy not yet landed writes this byte: its barrier's offset
    int32_t landedBarrier = -1;  // the last TMA copy into this byte completed phase landedPhase
    int32_t bulkReads = 0;    // bulk reduce-adds issued from this byte whose read is pending
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
    int64_t fenceEpoch = -1, fenceClock = -1;  // the init thread's fence.mbarrier_init after it (-1: none yet)
    std::vector<Copy> inflight;
    // The arrivals' releases so far (Order::release), and as they were when completion c + 1
    // happened: what a wait that observes that completion acquires.
    std::vector<int64_t> released;
    std::vector<std::vector<int64_t>> completed;
    // Per thread: each time it saw more completions (a wait, or its arrival), with its clock and
    // epoch then. A thread ordered after such a sighting cannot see fewer completions.
    struct Sighting {
      int64_t completions, clock, epoch;
    };
    std::vector<std::vector<Sighting>> sightings;
  };
  // A bulk reduce-add of `bytes` bytes from shared `src` into global `dst`.
  struct BulkReduce {
    uint64_t dst, src, bytes;
    std::vector<uint8_t> data;  // the source, once read
  };
  struct BulkThread {
    std::vector<BulkReduce> open;       // the open group
    std::vector<BulkReduce> committed;  // the committed groups' ops not yet completed
    size_t read = 0;                    // committed[0, read) have read their source
    int64_t fenceClock = -1, fenceEpoch = -1;  // the last fence.proxy.async (Order clock, epoch)
  };
  struct Published {
    int64_t version;
    int warp, thread;  // the publishing warp and its first lane
    int64_t epoch, clock;
  };

  void use();
  void checkAccessSlow(int t, uint64_t off, int bytes, bool write);
  uint64_t smemOperand(uint64_t w, int bytes, const char* what);
  MBarrier& barrier(int t, uint64_t off);
  int64_t observed(int t, uint64_t bar) const;
  void settle(uint64_t off, MBarrier& b);
  void deliver(uint64_t off, MBarrier& b);
  void init(int t, uint64_t off, uint32_t count);
  void fenceInits(int t);
  void inval(int t, uint64_t off);
  void sighted(int t, MBarrier& b, int64_t completions, int64_t clock);
  int64_t floor(int t, const MBarrier& b) const;
  void arrive(int t, uint64_t off, int64_t tx);
  void wait(int t, uint64_t off, int parity);
  void tmaLoad(int t, uint64_t dst, uint64_t map, int32_t col, int32_t row, uint64_t bar);
  void publish(const std::vector<std::vector<uint64_t>>& ops, const std::vector<bool>& active);
  void editMap(int t, uint64_t map, int field, uint64_t value, int bytes);
  void fenceProxyAsync(int t);
  void bulkReduce(int t, uint64_t dst, uint64_t src, uint64_t bytes);
  void checkBulkSource(int t, uint64_t i);
  void bulkWait(int t, bool complete);
  int bulkReader(uint64_t i) const;

  Memory& mem_;
  int threads_;
  bool used_ = false;
  std::vector<AsyncByte> bytes_;
  std::map<uint64_t, MBarrier> barriers_;
  struct Named {
    uint64_t count = 0, arrived = 0;  // arrivals in the current generation
    int64_t generation = 0;           // generations completed
  };
  std::map<uint64_t, Named> named_;
  void namedBarrier(llvm::StringRef text, const std::vector<std::vector<uint64_t>>& ops, const std::vector<bool>& active);
  std::vector<std::map<uint64_t, int64_t>> observed_;  // per thread: barrier -> completions seen
  std::map<uint64_t, Published> published_;            // global map address -> latest publish
  std::vector<std::map<uint64_t, int64_t>> acquired_;  // per thread: map address -> version
  std::vector<BulkThread> bulk_;                       // per thread
  int64_t version_ = 0;
  std::function<bool()> yield_;
  int64_t progress_ = 0;  // arrivals, copies, inits: what may let a blocked wait pass
  uint64_t wsBase_ = 0;
  int wsTemplates_ = 0, wsBlock_ = -1;
};

}  // namespace tile::lowering::sim::async
