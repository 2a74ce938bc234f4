// Small kernels written in the DSL: they show the API and give the interpreter and the lowering
// something real to run. Each is registered (examples.cc files) under the name in its comment.
#pragma once

#include "dsl/tile.h"

namespace tile::examples {

// "vector_add": out[i] = x[i] + y[i] for i < n; one program per BLOCK elements.
// Args: x, y, out (ptr<DTYPE>), n. Grid: cdiv(n, BLOCK).
void vector_add(KernelBuilder& k, const Params& p);

// "softmax": row softmax of a [rows, cols] matrix, one program per BLOCK_M rows; BLOCK_N >= cols.
// Args: x, out (ptr<DTYPE>), rows, cols, row_stride. Grid: cdiv(rows, BLOCK_M).
void softmax(KernelBuilder& k, const Params& p);

// "gemm": c[M,N] = a[M,K] @ b[K,N], DTYPE in, f32 accumulate, OUT_DTYPE out; ragged M/N/K.
// Args: a, b, c, M, N, K, stride_am, stride_bk, stride_cm (unit inner strides).
// Grid: cdiv(M, BLOCK_M) * cdiv(N, BLOCK_N).
void gemm(KernelBuilder& k, const Params& p);

}  // namespace tile::examples
