// Kernel bodies of the ALiBi variant (alibi.cc); registered in specializations.cc.
#pragma once

#include "dsl/tile.h"

namespace tile::attention {
void alibi_forward(KernelBuilder& k, const Params& p);
void alibi_bwd_dkdv(KernelBuilder& k, const Params& p);
void alibi_bwd_dq(KernelBuilder& k, const Params& p);
}  // namespace tile::attention
