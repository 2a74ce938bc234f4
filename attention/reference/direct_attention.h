// A deliberately plain fp64 attention forward, written independently of the reference's
// internals (its own indexing over the given strided views, full score rows, the visibility rule
// spelled out from flash-attn's definition). Used to cross-check the reference and as the
// function that finite differences differentiate.
#pragma once

#include "attention/reference/attention_types.h"

namespace tile {
namespace reference {

// Same layouts and results as attention_forward; no validation beyond what it needs, no threads.
AttnForward direct_attention_forward(const AttnInputs& inputs, const AttnOptions& options);

}  // namespace reference
}  // namespace tile
