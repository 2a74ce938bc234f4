#include "distributed/ring_exchange.h"

#include <stdexcept>

namespace tile {
namespace dist {

std::unique_ptr<CommRequest> post_ring_exchange(Transport& transport, const std::vector<TensorView>& outgoing,
                                                const std::vector<TensorView>& incoming, int step) {
  if (outgoing.size() != incoming.size())
    throw std::invalid_argument("post_ring_exchange: " + std::to_string(outgoing.size()) + " outgoing vs " +
                                std::to_string(incoming.size()) + " incoming buffers");
  std::vector<P2POp> ops;
  for (size_t i = 0; i < outgoing.size(); ++i) {
    const size_t out_bytes = contiguous_bytes(outgoing[i], "ring send buffer");
    const size_t in_bytes = contiguous_bytes(incoming[i], "ring receive buffer");
    if (out_bytes != in_bytes)
      throw std::invalid_argument("post_ring_exchange: buffer " + std::to_string(i) + " sends " +
                                  std::to_string(out_bytes) + " bytes but receives " + std::to_string(in_bytes));
    ops.push_back(P2POp::send(outgoing[i].data, out_bytes, transport.next_rank(), step));
    ops.push_back(P2POp::recv(incoming[i].data, in_bytes, transport.prev_rank(), step));
  }
  return transport.post(ops);
}

}  // namespace dist
}  // namespace tile
