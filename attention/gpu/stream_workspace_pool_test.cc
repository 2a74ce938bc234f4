// StreamWorkspacePool's bookkeeping that needs no GPU: the size rounding, the reuse rule, and
// that freeing what the pool does not hold is harmless. Allocation and reuse on a stream are
// checked on the GPU (tests/gpu/async_api_test.cc).
#include "attention/gpu/stream_workspace_pool.h"

#include "catch2/catch.hpp"

namespace tile::attention {
namespace {

TEST_CASE("requests are rounded up to whole 32-bit words, at least one") {
  CHECK(StreamWorkspacePool::rounded(0) == 4);
  CHECK(StreamWorkspacePool::rounded(1) == 4);
  CHECK(StreamWorkspacePool::rounded(4) == 4);
  CHECK(StreamWorkspacePool::rounded(5) == 8);
}

TEST_CASE("an idle buffer serves a request it holds, if at most twice as large") {
  CHECK(StreamWorkspacePool::fits(1024, 1024));
  CHECK(StreamWorkspacePool::fits(2048, 1024));
  CHECK_FALSE(StreamWorkspacePool::fits(2052, 1024));  // would pin a much larger buffer
  CHECK_FALSE(StreamWorkspacePool::fits(1020, 1024));  // too small
}

TEST_CASE("a new pool holds nothing; freeing an unknown pointer changes nothing") {
  StreamWorkspacePool pool;
  int x = 0;
  pool.free(&x);
  pool.free(nullptr);
  const StreamWorkspacePool::Stats s = pool.stats();
  CHECK(s.allocations == 0);
  CHECK(s.reuses == 0);
  CHECK(s.in_use == 0);
  CHECK(s.idle == 0);
  CHECK(s.graph_owned == 0);
}

}  // namespace
}  // namespace tile::attention
