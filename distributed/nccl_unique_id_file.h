// The one-node bootstrap of an NCCL communicator: rank 0 creates the unique id and publishes it
// in a file the launcher named; the other ranks wait for the file and read it. (Launches by
// torchrun / srun, multi-node included, send the same 128 bytes over TCP: tcp_rendezvous.h.)
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace tile {
namespace dist {

// Writes `bytes` to `path` atomically (temporary file in the same directory, then rename), so
// a reader never sees a partial id. Throws TransportError on failure.
void publish_bytes(const std::string& path, const std::vector<char>& bytes);

// Waits until `path` exists with exactly `size` bytes and returns them. Throws TransportError
// naming the path after `timeout`.
std::vector<char> wait_for_bytes(const std::string& path, size_t size, std::chrono::milliseconds timeout);

}  // namespace dist
}  // namespace tile
