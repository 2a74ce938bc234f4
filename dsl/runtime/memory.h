// Device memory: an owning buffer plus copies and fills. Synchronous calls wait for the copy;
// the *_async variants queue on a stream.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "dsl/runtime/cuda_driver.h"

namespace tile::rt {

class Stream;

// Owns `bytes` of device memory in the current context (device 0's primary one if none).
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(size_t bytes);
  ~DeviceBuffer();
  DeviceBuffer(DeviceBuffer&& other) noexcept;
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  CUdeviceptr address() const { return ptr_; }
  void* data() const { return reinterpret_cast<void*>(static_cast<uintptr_t>(ptr_)); }
  template <typename T>
  T* as() const { return static_cast<T*>(data()); }
  size_t size() const { return bytes_; }

  // Copies between this buffer (at byte `offset`) and host memory; bounds are checked.
  void copy_from_host(const void* src, size_t bytes, size_t offset = 0);
  void copy_to_host(void* dst, size_t bytes, size_t offset = 0) const;
  void copy_from_host_async(const void* src, size_t bytes, Stream& stream, size_t offset = 0);
  void copy_to_host_async(void* dst, size_t bytes, Stream& stream, size_t offset = 0) const;
  // Fills every byte / every 32-bit word (size must be a multiple of 4) with `value`.
  void fill_bytes(uint8_t value);
  void fill_words(uint32_t value);

  template <typename T>
  void upload(const std::vector<T>& host) { copy_from_host(host.data(), host.size() * sizeof(T)); }
  template <typename T>
  std::vector<T> download() const {
    std::vector<T> host(bytes_ / sizeof(T));
    copy_to_host(host.data(), host.size() * sizeof(T));
    return host;
  }

 private:
  void check_range(size_t bytes, size_t offset, const char* what) const;
  void release() noexcept;
  CUdeviceptr ptr_ = 0;
  size_t bytes_ = 0;
};

// Copies `bytes` between device addresses.
void copy_device_to_device(CUdeviceptr dst, CUdeviceptr src, size_t bytes);

// Free and total device memory of the current context's device, in bytes.
void device_memory_info(size_t* free_bytes, size_t* total_bytes);

}  // namespace tile::rt
