// The torchrun/srun bootstrap: the launch environment, and the NCCL id blob over TCP on loopback
// between threads and between processes; a rank that never comes, a peer or rank 0 that dies
// mid-exchange and a wrong world size are clear errors within the deadline, never a hang.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "distributed/launch_env.h"
#include "distributed/tcp_rendezvous.h"
#include "distributed/transport.h"

using namespace tile::dist;
using Clock = std::chrono::steady_clock;

namespace {

// A port nobody listens on right now (the kernel's pick for port 0).
int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

std::vector<char> id_blob() {
  std::vector<char> b(128);
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<char>(i * 13 + 1);
  return b;
}

RendezvousConfig config(int port, int rank, int world, int timeout_ms = 10000) {
  RendezvousConfig c;
  c.master_addr = "127.0.0.1";
  c.master_port = port;
  c.rank = rank;
  c.world_size = world;
  c.timeout = std::chrono::milliseconds(timeout_ms);
  return c;
}

GetEnv env_of(const std::map<std::string, std::string>& vars) {
  return [vars](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}

// Connects to port as a raw client (a peer that misbehaves).
int raw_connect(int port) {
  for (int attempt = 0; attempt < 200; ++attempt) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port));
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) return fd;
    close(fd);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return -1;
}

}  // namespace

TEST_CASE("launch environment: torchrun's and srun's variables") {
  CHECK_FALSE(launch_env_from(env_of({})).has_value());
  const auto t = launch_env_from(env_of({{"RANK", "3"}, {"WORLD_SIZE", "8"}, {"LOCAL_RANK", "1"}, {"LOCAL_WORLD_SIZE", "2"},
                                         {"MASTER_ADDR", "node0"}, {"MASTER_PORT", "29500"}}));
  REQUIRE(t.has_value());
  CHECK(t->rank == 3);
  CHECK(t->world_size == 8);
  CHECK(t->local_rank == 1);
  CHECK(t->local_world_size == 2);
  CHECK(t->master_addr == "node0");
  CHECK(t->master_port == 29500);
  CHECK(t->launcher == "torchrun");
  const auto s = launch_env_from(env_of({{"SLURM_PROCID", "5"}, {"SLURM_NTASKS", "16"}, {"SLURM_LOCALID", "5"},
                                         {"MASTER_ADDR", "n1"}, {"MASTER_PORT", "1234"}}));
  REQUIRE(s.has_value());
  CHECK(s->rank == 5);
  CHECK(s->world_size == 16);
  CHECK(s->local_rank == 5);
  CHECK(s->launcher == "srun");
  // A recent torchrun's agent serves its own store on MASTER_PORT: the id goes to the next port;
  // TILE_RENDEZVOUS_ADDR / _PORT override both.
  const std::map<std::string, std::string> agent = {{"RANK", "1"}, {"WORLD_SIZE", "8"}, {"MASTER_ADDR", "node0"},
                                                    {"MASTER_PORT", "29500"}, {"TORCHELASTIC_USE_AGENT_STORE", "True"}};
  CHECK(launch_env_from(env_of(agent))->master_port == 29501);
  std::map<std::string, std::string> own = agent;
  own["TILE_RENDEZVOUS_ADDR"] = "node3";
  own["TILE_RENDEZVOUS_PORT"] = "40000";
  CHECK(launch_env_from(env_of(own))->master_port == 40000);
  CHECK(launch_env_from(env_of(own))->master_addr == "node3");
  own["TILE_RENDEZVOUS_PORT"] = "0";
  CHECK_THROWS_WITH(launch_env_from(env_of(own)), Catch::Contains("TILE_RENDEZVOUS_PORT"));
  std::map<std::string, std::string> last_port = agent;
  last_port["MASTER_PORT"] = "65535";
  CHECK_THROWS_WITH(launch_env_from(env_of(last_port)), Catch::Contains("TILE_RENDEZVOUS_PORT"));
  // The GPU: LOCAL_RANK modulo the GPUs the process sees (srun --gpus-per-task shows one).
  LaunchEnv g = *launch_env_from(env_of(agent));
  g.local_rank = 5;
  CHECK(g.gpu() == 5);
  g.use_visible_gpus(8);
  CHECK(g.gpu() == 5);
  g.use_visible_gpus(1);
  CHECK(g.gpu() == 0);
  // One process alone needs no rendezvous.
  CHECK(launch_env_from(env_of({{"RANK", "0"}, {"WORLD_SIZE", "1"}}))->master_port == 0);
  CHECK_THROWS_WITH(launch_env_from(env_of({{"RANK", "8"}, {"WORLD_SIZE", "8"}, {"MASTER_ADDR", "a"}, {"MASTER_PORT", "1"}})),
                    Catch::Contains("RANK") && Catch::Contains("0..7"));
  CHECK_THROWS_WITH(launch_env_from(env_of({{"RANK", "0"}, {"WORLD_SIZE", "two"}})), Catch::Contains("WORLD_SIZE"));
  CHECK_THROWS_WITH(launch_env_from(env_of({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "1"}})),
                    Catch::Contains("MASTER_ADDR"));
  CHECK_THROWS_WITH(launch_env_from(env_of({{"RANK", "1"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "a"}})),
                    Catch::Contains("MASTER_PORT"));
  CHECK_THROWS_WITH(launch_env_from(env_of({{"RANK", "1"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "a"}, {"MASTER_PORT", "70000"}})),
                    Catch::Contains("MASTER_PORT"));
}

TEST_CASE("rendezvous: 4 threads on loopback get rank 0's blob, whoever starts first") {
  const int port = free_port();
  const int world = 4;
  std::vector<std::vector<char>> got(world);
  std::vector<std::thread> ranks;
  for (int r = world - 1; r >= 0; --r)  // peers first: they retry until rank 0 listens
    ranks.emplace_back([&, r] {
      if (r == 0) std::this_thread::sleep_for(std::chrono::milliseconds(200));
      got[static_cast<size_t>(r)] = exchange_blob(config(port, r, world), r == 0 ? id_blob() : std::vector<char>(), 128);
    });
  for (auto& t : ranks) t.join();
  for (int r = 0; r < world; ++r) CHECK(got[static_cast<size_t>(r)] == id_blob());
}

TEST_CASE("rendezvous: 3 processes on loopback") {
  const int port = free_port();
  std::vector<pid_t> children;
  for (int r = 0; r < 3; ++r) {
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      int code = 3;
      try {
        const std::vector<char> b = exchange_blob(config(port, r, 3), r == 0 ? id_blob() : std::vector<char>(), 128);
        code = b == id_blob() ? 0 : 4;
      } catch (...) {
      }
      _exit(code);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
}

TEST_CASE("rendezvous: a rank that never connects times out naming it") {
  const int port = free_port();
  std::string error;
  std::string peer_error;
  std::thread peer([&] {
    try {
      exchange_blob(config(port, 1, 3, 3000), {}, 128);
    } catch (const TransportError& e) {
      peer_error = e.what();
    }
  });
  const auto start = Clock::now();
  try {
    exchange_blob(config(port, 0, 3, 600), id_blob(), 128);
  } catch (const TransportError& e) {
    error = e.what();
  }
  CHECK(Clock::now() - start < std::chrono::seconds(5));
  CHECK(error.find("timed out") != std::string::npos);
  CHECK(error.find("rank(s) 2") != std::string::npos);
  // Rank 1 had connected; rank 0 gave up, so rank 1 sees its connection closed, not a hang.
  peer.join();
  CHECK(peer_error.find("rank 0") != std::string::npos);
}

TEST_CASE("rendezvous: no rank 0 — the peer gives up at its deadline") {
  const int port = free_port();
  const auto start = Clock::now();
  CHECK_THROWS_WITH(exchange_blob(config(port, 2, 3, 300), {}, 128),
                    Catch::Contains("could not connect to rank 0 at 127.0.0.1:" + std::to_string(port)));
  CHECK(Clock::now() - start < std::chrono::seconds(5));
}

TEST_CASE("rendezvous: a peer that dies mid-exchange, and a rank 0 that dies") {
  {
    const int port = free_port();
    std::thread dying_peer([&] {
      const int fd = raw_connect(port);
      struct {
        char magic[4] = {'T', 'I', 'L', 'E'};
        uint32_t rank = 1, world = 2, bytes = 128;
      } hello;
      send(fd, &hello, sizeof hello, 0);
      close(fd);  // gone before acknowledging the blob
    });
    CHECK_THROWS_WITH(exchange_blob(config(port, 0, 2, 5000), id_blob(), 128),
                      Catch::Contains("rank 1") && (Catch::Contains("die") || Catch::Contains("failed")));
    dying_peer.join();
  }
  {
    const int port = free_port();
    const int listener = socket(AF_INET, SOCK_STREAM, 0);
    const int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port));
    REQUIRE(bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    listen(listener, 1);
    std::thread dying_root([&] {
      const int fd = accept(listener, nullptr, nullptr);
      close(fd);  // rank 0 fails before sending the id
    });
    CHECK_THROWS_WITH(exchange_blob(config(port, 1, 2, 5000), {}, 128),
                      Catch::Contains("rank 0") && Catch::Contains("closed the connection"));
    dying_root.join();
    close(listener);
  }
}

TEST_CASE("rendezvous: disagreeing world sizes and bad configs are errors") {
  const int port = free_port();
  std::thread peer([&] {
    try {
      exchange_blob(config(port, 1, 3, 2000), {}, 128);
    } catch (const TransportError&) {
    }
  });
  CHECK_THROWS_WITH(exchange_blob(config(port, 0, 2, 2000), id_blob(), 128), Catch::Contains("world size 3"));
  peer.join();
  CHECK_THROWS_WITH(exchange_blob(config(0, 1, 2), {}, 128), Catch::Contains("master_port"));
  CHECK_THROWS_WITH(exchange_blob(config(port, 2, 2), {}, 128), Catch::Contains("rank"));
  CHECK(exchange_blob(config(port, 0, 1), id_blob(), 128) == id_blob());  // alone: nothing to exchange
}
