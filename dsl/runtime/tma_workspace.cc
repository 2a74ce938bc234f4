#include "dsl/runtime/tma_workspace.h"

#include <map>
#include <memory>
#include <mutex>
#include <tuple>
#include <vector>

#include "dsl/runtime/context.h"
#include "dsl/runtime/memory.h"
#include "dsl/runtime/stream.h"

namespace tile::rt {

namespace {

constexpr size_t kTensorMapBytes = 128;

CUtensorMapDataType data_type(const TmaTemplate& t) {
  switch (t.elem) {
    case 0: return CU_TENSOR_MAP_DATA_TYPE_BFLOAT16;
    case 1: return CU_TENSOR_MAP_DATA_TYPE_FLOAT16;
  }
  throw std::invalid_argument("TMA template: unknown element type " + std::to_string(t.elem));
}

// A template: everything but the base, extents and strides, which each block replaces. Those
// are set here to a valid placeholder (the box itself at `placeholder`).
CUtensorMap encode_template(const TmaTemplate& t, CUdeviceptr placeholder) {
  CUtensorMap map;
  const cuuint64_t dims[2] = {cuuint64_t(t.box_cols), cuuint64_t(t.box_rows)};
  const cuuint64_t strides[1] = {cuuint64_t(t.box_cols) * 2};
  const cuuint32_t box[2] = {cuuint32_t(t.box_cols), cuuint32_t(t.box_rows)};
  const cuuint32_t element_strides[2] = {1, 1};
  TILE_CU_CHECK(cuTensorMapEncodeTiled(&map, data_type(t), 2, reinterpret_cast<void*>(placeholder), dims,
                                       strides, box, element_strides, CU_TENSOR_MAP_INTERLEAVE_NONE,
                                       CU_TENSOR_MAP_SWIZZLE_128B, CU_TENSOR_MAP_L2_PROMOTION_L2_128B,
                                       CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE));
  return map;
}

struct Workspace {
  std::unique_ptr<DeviceBuffer> buffer;
  std::vector<std::unique_ptr<DeviceBuffer>> retired;  // outgrown, maybe still in use
};

}  // namespace

size_t tma_workspace_bytes(int num_templates, uint64_t blocks) {
  return size_t(num_templates) * (1 + blocks) * kTensorMapBytes;
}

CUdeviceptr tma_workspace(const KernelImage& image, const std::vector<TmaTemplate>& templates_in, Stream& stream,
                          Dim3 grid) {
  static std::mutex mutex;
  static auto* workspaces = new std::map<std::tuple<CUcontext, const KernelImage*, CUstream>, Workspace>();
  CUcontext context = ensure_current_context();
  const uint64_t blocks = uint64_t(grid.x) * grid.y * grid.z;
  const size_t need = tma_workspace_bytes(image.num_tma_templates, blocks);
  std::lock_guard<std::mutex> lock(mutex);
  Workspace& ws = (*workspaces)[std::make_tuple(context, &image, stream.handle())];
  if (ws.buffer && ws.buffer->size() >= need) return ws.buffer->address();
  // Grow to a power of two of blocks so that a sweep of sizes allocates a few times only.
  uint64_t room = 1;
  while (room < blocks) room *= 2;
  // A stream being captured into a CUDA graph (torch.cuda.graph captures on a stream of its
  // own) may meet this first: the allocation and the templates' upload are no work of that
  // stream, so this thread steps out of the capture's "global" mode for them and uploads on a
  // private stream; the graph then launches with this workspace, which is never freed.
  CUstreamCaptureMode mode = CU_STREAM_CAPTURE_MODE_RELAXED;
  TILE_CU_CHECK(cuThreadExchangeStreamCaptureMode(&mode));
  struct RestoreMode {
    CUstreamCaptureMode mode;
    ~RestoreMode() { driver().cuThreadExchangeStreamCaptureMode(&mode); }
  } restore{mode};
  auto buffer = std::make_unique<DeviceBuffer>(tma_workspace_bytes(image.num_tma_templates, room));
  std::vector<CUtensorMap> templates;
  for (const TmaTemplate& t : templates_in) templates.push_back(encode_template(t, buffer->address()));
  static_assert(sizeof(CUtensorMap) == kTensorMapBytes, "a tensor map is 128 bytes");
  Stream upload;
  buffer->copy_from_host_async(templates.data(), templates.size() * kTensorMapBytes, upload);
  upload.synchronize();
  if (ws.buffer) ws.retired.push_back(std::move(ws.buffer));
  ws.buffer = std::move(buffer);
  return ws.buffer->address();
}

}  // namespace tile::rt
