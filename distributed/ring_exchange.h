// One hop of the ring for a set of same-shaped buffer pairs: send each `outgoing` buffer to the
// next rank and receive the previous rank's into the matching `incoming` buffer, as one group.
#pragma once

#include <memory>
#include <vector>

#include "distributed/device_tensor.h"
#include "distributed/transport.h"

namespace tile {
namespace dist {

std::unique_ptr<CommRequest> post_ring_exchange(Transport& transport, const std::vector<TensorView>& outgoing,
                                                const std::vector<TensorView>& incoming);

}  // namespace dist
}  // namespace tile
