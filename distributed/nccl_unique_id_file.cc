#include "distributed/nccl_unique_id_file.h"

#include <cstdio>
#include <fstream>
#include <thread>

#include "distributed/transport.h"

namespace tile {
namespace dist {

void publish_bytes(const std::string& path, const std::vector<char>& bytes) {
  const std::string tmp = path + ".partial";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw TransportError("cannot write the NCCL unique id to " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    throw TransportError("cannot rename " + tmp + " to " + path + " (NCCL unique id)");
}

std::vector<char> wait_for_bytes(const std::string& path, size_t size, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    std::ifstream in(path, std::ios::binary);
    if (in) {
      std::vector<char> bytes(size);
      in.read(bytes.data(), static_cast<std::streamsize>(size));
      if (in.gcount() == static_cast<std::streamsize>(size) && in.peek() == std::ifstream::traits_type::eof())
        return bytes;
    }
    if (std::chrono::steady_clock::now() > deadline)
      throw TransportError("timed out waiting for the NCCL unique id in " + path + " (did rank 0 start?)");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace dist
}  // namespace tile
