// One hop of the ring for a set of same-shaped buffer pairs: send each `outgoing` buffer to the
// next rank and receive the previous rank's into the matching `incoming` buffer, as one group.
// `step`: the ring step whose compute needs the incoming blocks (P2POp::step, for traces).
#pragma once

#include <memory>
#include <vector>

#include "distributed/device_tensor.h"
#include "distributed/transport.h"

namespace tile {
namespace dist {

std::unique_ptr<CommRequest> post_ring_exchange(Transport& transport, const std::vector<TensorView>& outgoing,
                                                const std::vector<TensorView>& incoming, int step = -1);

}  // namespace dist
}  // namespace tile
