// libnccl loaded at run time with dlopen("libnccl.so.2"): binaries that never use NCCL (CI, the
// virtual-rank checks) start without it, and a missing library is reported when NCCL is asked
// for, with the dlopen error.
#pragma once

#include "distributed/nccl_abi.h"

#include <string>

#include "distributed/transport.h"

namespace tile {
namespace dist {

struct NcclApi : NcclFunctions {
  int version = 0;  // e.g. 22809
};

// The process-wide library, loaded on first use. Throws TransportError naming the library and
// the dlopen/dlsym error when it cannot be loaded.
const NcclApi& nccl();

// True when nccl() would succeed; otherwise `why` (if given) receives the reason.
bool nccl_available(std::string* why = nullptr);

// Throws TransportError "<call> failed: <nccl error string>" for a non-success result.
void nccl_check(ncclResult_t result, const char* call);

}  // namespace dist
}  // namespace tile

#define TILE_NCCL_CHECK(call) ::tile::dist::nccl_check(::tile::dist::nccl().call, #call)
