// The PTX of Hopper's asynchronous copy machinery as the lowering emits it (inline asm), in one
// place: the emitters build these strings and the SIMT simulator recognises them, so the two
// cannot drift apart.
//
// Shared-memory operands are 32-bit shared-window addresses ("r"); global ones 64-bit ("l").
//
// Tensor maps. A pipelined load_block copied by TMA gets a tensor map per thread block, made
// in the kernel from a template: the runtime encodes one template per TMA load of a kernel
// (cuTensorMapEncodeTiled: element type, rank 2, box {kTmaBoxBytes / element bytes, rows},
// 128-byte swizzle, zero fill) into a workspace the kernel receives as a hidden last
// argument. Warp 0 of each block copies its template into shared memory, lane 0 writes the
// block's base address, extents and row stride into it (tensormap.replace), the warp copies
// it to the block's slot of the workspace with a release fence (cp_fenceproxy), and the
// issuing thread acquires it before the first copy. Workspace layout, N templates:
//   [k * 128, (k+1) * 128)                      template k
//   [((1 + block) * N + k) * 128, ... + 128)    block `block`'s tensor map k
// with block = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z).
#pragma once

namespace tile::lowering::ptx {

constexpr int kTensorMapBytes = 128;
// A TMA box row is one 128-byte swizzle span; wider tiles take one copy per column chunk.
constexpr int kTmaBoxBytes = 128;

// Attribute of a gpu.func with TMA loads: one `array<i32: element type, box cols, box rows>`
// per template, element type 0 = bf16, 1 = f16. The hidden workspace argument is then the
// function's last argument, named kTmaWorkspaceArg.
constexpr const char* kTmaTemplatesAttr = "tile.tma_templates";
constexpr const char* kTmaWorkspaceArg = "tile_tma_workspace";
enum TmaElem { kTmaBf16 = 0, kTmaF16 = 1 };

// mbarrier.init: $0 barrier (shared), $1 expected arrivals per phase.
constexpr const char* kMbarrierInit = "mbarrier.init.shared::cta.b64 [$0], $1;";
// After this thread's mbarrier.inits, before the barrier that publishes them: the inits are
// released to the other threads (and to the TMA unit that completes transactions on them).
constexpr const char* kMbarrierInitFence = "fence.mbarrier_init.release.cluster;";
// mbarrier.inval: $0 barrier. Before its bytes are used for anything else.
constexpr const char* kMbarrierInval = "mbarrier.inval.shared::cta.b64 [$0];";
// One arrival that also expects $1 more transaction bytes in the current phase.
constexpr const char* kMbarrierArriveExpectTx = "mbarrier.arrive.expect_tx.shared::cta.b64 _, [$0], $1;";
// One arrival on barrier $0 (release: this thread's earlier shared-memory accesses are ordered
// before whatever a thread that waits for the phase does next).
constexpr const char* kMbarrierArrive = "mbarrier.arrive.shared::cta.b64 _, [$0];";
// Blocks until the phase of parity $1 (0 or 1) of barrier $0 has completed.
constexpr const char* kMbarrierWaitParity =
    "{\n\t.reg .pred p;\n\tWAIT_${:uid}:\n\t"
    "mbarrier.try_wait.parity.shared::cta.b64 p, [$0], $1;\n\t"
    "@!p bra WAIT_${:uid};\n\t}";
// TMA: box at coordinates ($2 innermost, $3) of tensor map $1 (global) into shared $0,
// completing $0's bytes on barrier $4.
constexpr const char* kTmaLoad2d =
    "cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes [$0], [$1, {$2, $3}], [$4];";
// Tensor map fields of the map at shared $0.
constexpr const char* kTensorMapSetAddress = "tensormap.replace.tile.global_address.shared::cta.b1024.b64 [$0], $1;";
constexpr const char* kTensorMapSetDim0 = "tensormap.replace.tile.global_dim.shared::cta.b1024.b32 [$0], 0, $1;";
constexpr const char* kTensorMapSetDim1 = "tensormap.replace.tile.global_dim.shared::cta.b1024.b32 [$0], 1, $1;";
// Byte stride of dimension 1 (the rows).
constexpr const char* kTensorMapSetStride0 = "tensormap.replace.tile.global_stride.shared::cta.b1024.b64 [$0], 0, $1;";
// Warp-collective: copies the 128-byte map at shared $1 to global $0, releasing it to the
// tensormap proxy.
constexpr const char* kTensorMapPublish =
    "tensormap.cp_fenceproxy.global.shared::cta.tensormap::generic.release.gpu.sync.aligned [$0], [$1], 128;";
// Acquire of the map at global $0 by the thread that will use it.
constexpr const char* kTensorMapAcquire = "fence.proxy.tensormap::generic.acquire.gpu [$0], 128;";
constexpr const char* kWarpSync = "bar.warp.sync -1;";
// Copies of a value LLVM cannot see through (asm with side effects): a loop over tiles re-reads
// the thread id and the kernel's arguments through them in every iteration, so it computes its
// thread coordinates, shared-memory addresses and strides there, where they are used, instead
// of LLVM hoisting them out of the loop and keeping them in registers over the whole loop nest.
// 32-bit, f32 and 64-bit values.
constexpr const char* kOpaqueB32 = "mov.b32 $0, $1;";
constexpr const char* kOpaqueF32 = "mov.f32 $0, $1;";
constexpr const char* kOpaqueB64 = "mov.b64 $0, $1;";
// Named barriers $0 (1..15; 0 is the block-wide one) over $1 threads (a multiple of 32):
// bar.sync counts the warp's threads and waits for the barrier's generation to complete,
// bar.arrive only counts them. Warpgroups of a pipelined loop take turns at issuing their
// dots with them (emit_pipeline.cc).
constexpr const char* kNamedBarrierSync = "bar.sync $0, $1;";
constexpr const char* kNamedBarrierArrive = "bar.arrive $0, $1;";
// The same as bar.sync without .aligned: the threads may reach it at different instructions.
// Where a warp-specialised kernel's producer and consumers meet they run different code, and
// .aligned would require every thread of the block at the same instruction (compute-sanitizer's
// synccheck reports "divergent threads in block" on the H100 otherwise).
constexpr const char* kBarrierSyncUnaligned = "barrier.sync $0, $1;";
// Barrier ids. 0 is the whole block's (`bar.sync 0, <all threads>` when a warp-specialised
// kernel's producer and consumers meet); in a warp-specialised kernel the consumers' own
// block-wide barriers become `bar.sync 1, <consumer threads>`; the warpgroup turns use one id
// per warpgroup from kTurnBarrierFirst on.
constexpr int kBlockBarrier = 0;
constexpr int kConsumerBarrier = 1;
constexpr int kTurnBarrierFirst = 2;

// Warp specialisation: the producer warpgroup gives registers back, the consumer warpgroups
// take them ($0 is an immediate, a multiple of 8 in 24..256; every warp of a warpgroup runs
// the same one).
constexpr const char* kSetMaxRegDec = "setmaxnreg.dec.sync.aligned.u32 ";
constexpr const char* kSetMaxRegInc = "setmaxnreg.inc.sync.aligned.u32 ";
// Unit attribute on the scf.if that splits a warp-specialised kernel by role (then: the
// producer warpgroup, else: the consumers), and the gpu.func's i32 count of consumer warps
// (tile.num_warps counts the producer's too).
constexpr const char* kWarpRolesAttr = "tile.warp_roles";
constexpr const char* kConsumerWarpsAttr = "tile.consumer_warps";
// array<i32: producer, consumer> on a warp-specialised gpu.func: the counts its two setmaxnreg
// carry, by which the back end finds them to try another split.
constexpr const char* kRegisterSplitAttr = "tile.register_split";
// String attribute on a gpu.func that asked for warp specialisation and did not get it: why.
constexpr const char* kWarpRolesRefusedAttr = "tile.warp_roles_refused";

// Vector f32 reduction into global memory (sm_90): the prefix of
// "red.global.add.v<N>.f32 [$0], {$1, .., $N};" (N = 2 or 4; $0 a 64-bit global address
// aligned to the vector), for f32 atomic adds of runs of contiguous elements.
constexpr const char* kRedGlobalAddVectorF32 = "red.global.add.v";

// Bulk reduce-add of f32 from shared into global memory (sm_90), the lowering of an
// atomic_add_block whose rows are 16-byte aligned (emit_memory.cc): each warp stages its
// fragments in a shared region of the op's own, and its lanes add whole row segments.
//  * kFenceProxyAsyncShared: this thread's earlier generic-proxy writes to shared memory become
//    visible to the async proxy (the bulk copy engine), which reads the staged rows.
//  * kBulkReduceAddF32: $0 global address, $1 shared address (both 16-byte aligned), $2 bytes
//    (a multiple of 16): global[i] += shared[i] for each f32, asynchronously, in the issuing
//    thread's current bulk group.
//  * kBulkCommitGroup: closes this thread's current bulk group (an empty one is fine).
//  * kBulkWaitGroupRead0: returns once every committed group of this thread has finished
//    reading its shared source (the region may be written again);
//    kBulkWaitGroup0: once they have completed (the global adds done): before the kernel exits.
constexpr const char* kFenceProxyAsyncShared = "fence.proxy.async.shared::cta;";
constexpr const char* kBulkReduceAddF32 = "cp.reduce.async.bulk.global.shared::cta.bulk_group.add.f32 [$0], [$1], $2;";
constexpr const char* kBulkCommitGroup = "cp.async.bulk.commit_group;";
constexpr const char* kBulkWaitGroupRead0 = "cp.async.bulk.wait_group.read 0;";
constexpr const char* kBulkWaitGroup0 = "cp.async.bulk.wait_group 0;";

}  // namespace tile::lowering::ptx
