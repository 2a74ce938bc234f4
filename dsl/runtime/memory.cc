#include "dsl/runtime/memory.h"

#include <string>
#include <utility>

#include "dsl/runtime/context.h"
#include "dsl/runtime/stream.h"

namespace tile::rt {

DeviceBuffer::DeviceBuffer(size_t bytes) : bytes_(bytes) {
  ensure_current_context();
  // cuMemAlloc rejects 0 bytes; an empty buffer is still a valid (null) buffer.
  if (bytes > 0) TILE_CU_CHECK(cuMemAlloc(&ptr_, bytes));
}

DeviceBuffer::~DeviceBuffer() { release(); }

DeviceBuffer::DeviceBuffer(DeviceBuffer&& other) noexcept
    : ptr_(std::exchange(other.ptr_, 0)), bytes_(std::exchange(other.bytes_, 0)) {}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& other) noexcept {
  if (this != &other) {
    release();
    ptr_ = std::exchange(other.ptr_, 0);
    bytes_ = std::exchange(other.bytes_, 0);
  }
  return *this;
}

void DeviceBuffer::release() noexcept {
  if (ptr_ != 0) {
    // A destructor must not throw; a failing free at this point leaves nothing to recover.
    driver().cuMemFree(ptr_);
    ptr_ = 0;
  }
}

void DeviceBuffer::check_range(size_t bytes, size_t offset, const char* what) const {
  if (offset > bytes_ || bytes > bytes_ - offset) {
    throw std::out_of_range(std::string("DeviceBuffer::") + what + ": " +
                            std::to_string(bytes) + " bytes at offset " + std::to_string(offset) +
                            " exceed the buffer's " + std::to_string(bytes_) + " bytes");
  }
}

void DeviceBuffer::copy_from_host(const void* src, size_t bytes, size_t offset) {
  check_range(bytes, offset, "copy_from_host");
  if (bytes > 0) TILE_CU_CHECK(cuMemcpyHtoD(ptr_ + offset, src, bytes));
}

void DeviceBuffer::copy_to_host(void* dst, size_t bytes, size_t offset) const {
  check_range(bytes, offset, "copy_to_host");
  if (bytes > 0) TILE_CU_CHECK(cuMemcpyDtoH(dst, ptr_ + offset, bytes));
}

void DeviceBuffer::copy_from_host_async(const void* src, size_t bytes, Stream& stream,
                                        size_t offset) {
  check_range(bytes, offset, "copy_from_host_async");
  if (bytes > 0) TILE_CU_CHECK(cuMemcpyHtoDAsync(ptr_ + offset, src, bytes, stream.handle()));
}

void DeviceBuffer::copy_to_host_async(void* dst, size_t bytes, Stream& stream,
                                      size_t offset) const {
  check_range(bytes, offset, "copy_to_host_async");
  if (bytes > 0) TILE_CU_CHECK(cuMemcpyDtoHAsync(dst, ptr_ + offset, bytes, stream.handle()));
}

void DeviceBuffer::fill_bytes(uint8_t value) {
  if (bytes_ > 0) TILE_CU_CHECK(cuMemsetD8(ptr_, value, bytes_));
}

void DeviceBuffer::fill_words(uint32_t value) {
  if (bytes_ % 4 != 0) {
    throw std::invalid_argument("DeviceBuffer::fill_words: size " + std::to_string(bytes_) +
                                " is not a multiple of 4 bytes");
  }
  if (bytes_ > 0) TILE_CU_CHECK(cuMemsetD32(ptr_, value, bytes_ / 4));
}

void copy_device_to_device(CUdeviceptr dst, CUdeviceptr src, size_t bytes) {
  if (bytes > 0) TILE_CU_CHECK(cuMemcpyDtoD(dst, src, bytes));
}

void device_memory_info(size_t* free_bytes, size_t* total_bytes) {
  ensure_current_context();
  TILE_CU_CHECK(cuMemGetInfo(free_bytes, total_bytes));
}

}  // namespace tile::rt
