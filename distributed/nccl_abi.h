// The part of NCCL's C ABI this project calls, declared here instead of including <nccl.h>:
// <nccl.h> pulls in <cuda_fp16.h> and CCCL's <nv/target>, which the workspace's CUDA header
// target does not carry. Values are NCCL 2.x's stable ABI (nccl.h: ncclSuccess = 0,
// ncclUint8 = 1, ncclFloat32 = 7, ncclSum = 0, NCCL_UNIQUE_ID_BYTES = 128); the signatures match
// nccl.h's. cudaStream_t is the driver's CUstream.
#pragma once

#include <cuda.h>

#include <cstddef>

extern "C" {

typedef struct ncclComm* ncclComm_t;

enum { kNcclUniqueIdBytes = 128 };
typedef struct {
  char internal[kNcclUniqueIdBytes];
} ncclUniqueId;

typedef int ncclResult_t;  // an enum in nccl.h; ints in the ABI
constexpr ncclResult_t ncclSuccess = 0;

typedef int ncclDataType_t;
constexpr ncclDataType_t ncclUint8 = 1;
constexpr ncclDataType_t ncclFloat32 = 7;

typedef int ncclRedOp_t;
constexpr ncclRedOp_t ncclSum = 0;

// ncclCommSplit's config argument; nullptr inherits the parent's configuration.
typedef struct ncclConfig_opaque ncclConfig_t;
constexpr int NCCL_SPLIT_NOCOLOR = -1;

}  // extern "C"

namespace tile {
namespace dist {

// Function pointer types of the entry points used (dlsym'ed by name).
struct NcclFunctions {
  ncclResult_t (*ncclGetVersion)(int* version) = nullptr;
  ncclResult_t (*ncclGetUniqueId)(ncclUniqueId* id) = nullptr;
  ncclResult_t (*ncclCommInitRank)(ncclComm_t* comm, int nranks, ncclUniqueId id, int rank) = nullptr;
  ncclResult_t (*ncclCommDestroy)(ncclComm_t comm) = nullptr;
  ncclResult_t (*ncclCommAbort)(ncclComm_t comm) = nullptr;
  ncclResult_t (*ncclCommGetAsyncError)(ncclComm_t comm, ncclResult_t* async_error) = nullptr;
  const char* (*ncclGetErrorString)(ncclResult_t result) = nullptr;
  ncclResult_t (*ncclGroupStart)() = nullptr;
  ncclResult_t (*ncclGroupEnd)() = nullptr;
  ncclResult_t (*ncclSend)(const void* buf, size_t count, ncclDataType_t type, int peer, ncclComm_t comm,
                           CUstream stream) = nullptr;
  ncclResult_t (*ncclRecv)(void* buf, size_t count, ncclDataType_t type, int peer, ncclComm_t comm,
                           CUstream stream) = nullptr;
  ncclResult_t (*ncclAllReduce)(const void* send, void* recv, size_t count, ncclDataType_t type, ncclRedOp_t op,
                                ncclComm_t comm, CUstream stream) = nullptr;
  ncclResult_t (*ncclBroadcast)(const void* send, void* recv, size_t count, ncclDataType_t type, int root,
                                ncclComm_t comm, CUstream stream) = nullptr;
  ncclResult_t (*ncclAllGather)(const void* send, void* recv, size_t count, ncclDataType_t type, ncclComm_t comm,
                                CUstream stream) = nullptr;
  ncclResult_t (*ncclCommCount)(ncclComm_t comm, int* count) = nullptr;
  ncclResult_t (*ncclCommUserRank)(ncclComm_t comm, int* rank) = nullptr;
  // Optional (NCCL >= 2.18): null when the library lacks it; sub-groups then report that.
  ncclResult_t (*ncclCommSplit)(ncclComm_t comm, int color, int key, ncclComm_t* newcomm,
                                ncclConfig_t* config) = nullptr;
};

}  // namespace dist
}  // namespace tile

#define TILE_NCCL_FUNCTIONS(X)                                                               \
  X(ncclGetVersion) X(ncclGetUniqueId) X(ncclCommInitRank) X(ncclCommDestroy)                \
  X(ncclCommAbort) X(ncclCommGetAsyncError) X(ncclGetErrorString) X(ncclGroupStart)          \
  X(ncclGroupEnd) X(ncclSend) X(ncclRecv) X(ncclAllReduce) X(ncclBroadcast) X(ncclAllGather)  \
  X(ncclCommCount) X(ncclCommUserRank)
#define TILE_NCCL_OPTIONAL_FUNCTIONS(X) X(ncclCommSplit)
