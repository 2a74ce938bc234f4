#include "distributed/nccl_library.h"

#include <dlfcn.h>

#include <mutex>

namespace tile {
namespace dist {
namespace {

constexpr const char* kLibrary = "libnccl.so.2";

struct Loaded {
  NcclApi api;
  std::string error;  // empty when loaded
};

const Loaded& load() {
  static Loaded loaded = [] {
    Loaded l;
    void* handle = dlopen(kLibrary, RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      const char* e = dlerror();
      l.error = std::string("NCCL unavailable: dlopen(\"") + kLibrary + "\") failed: " + (e ? e : "unknown error") +
                " (install NCCL or add its directory to LD_LIBRARY_PATH)";
      return l;
    }
#define TILE_NCCL_RESOLVE(fn)                                                                     \
  l.api.fn = reinterpret_cast<decltype(l.api.fn)>(dlsym(handle, #fn));                           \
  if (l.api.fn == nullptr && l.error.empty())                                                      \
    l.error = std::string("NCCL unavailable: ") + kLibrary + " has no symbol " #fn " (too old?)";
    TILE_NCCL_FUNCTIONS(TILE_NCCL_RESOLVE)
#undef TILE_NCCL_RESOLVE
#define TILE_NCCL_RESOLVE_OPTIONAL(fn) l.api.fn = reinterpret_cast<decltype(l.api.fn)>(dlsym(handle, #fn));
    TILE_NCCL_OPTIONAL_FUNCTIONS(TILE_NCCL_RESOLVE_OPTIONAL)
#undef TILE_NCCL_RESOLVE_OPTIONAL
    if (l.error.empty() && l.api.ncclGetVersion(&l.api.version) != ncclSuccess)
      l.error = "NCCL unavailable: ncclGetVersion failed";
    return l;
  }();
  return loaded;
}

}  // namespace

const NcclApi& nccl() {
  const Loaded& l = load();
  if (!l.error.empty()) throw TransportError(l.error);
  return l.api;
}

bool nccl_available(std::string* why) {
  const Loaded& l = load();
  if (!l.error.empty() && why != nullptr) *why = l.error;
  return l.error.empty();
}

void nccl_check(ncclResult_t result, const char* call) {
  if (result == ncclSuccess) return;
  const char* text = nccl().ncclGetErrorString ? nccl().ncclGetErrorString(result) : "unknown";
  throw TransportError(std::string(call) + " failed: " + text + " (ncclResult_t " + std::to_string(result) + ")");
}

}  // namespace dist
}  // namespace tile
