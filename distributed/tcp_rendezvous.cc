#include "distributed/tcp_rendezvous.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "distributed/transport.h"

namespace tile {
namespace dist {
namespace {

using Clock = std::chrono::steady_clock;

// What a peer says first: who it is and what it expects.
struct Hello {
  char magic[4] = {'T', 'I', 'L', 'E'};
  uint32_t rank = 0, world_size = 0, blob_bytes = 0;
};
constexpr char kAck = 'k';

class Socket {
 public:
  explicit Socket(int fd = -1) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(Socket&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Socket& operator=(Socket&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  int fd() const { return fd_; }

 private:
  int fd_;
};

std::string errno_text() { return std::strerror(errno); }

std::string where(const RendezvousConfig& c) { return c.master_addr + ":" + std::to_string(c.master_port); }

double seconds(std::chrono::milliseconds ms) { return static_cast<double>(ms.count()) / 1000.0; }

// Waits until fd is readable (or writable); false at the deadline.
bool wait_fd(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd, events, 0};
    const int r = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000)));
    if (r > 0) return true;
    if (r < 0 && errno != EINTR) throw TransportError("rendezvous: poll failed: " + errno_text());
  }
}

// Reads exactly n bytes; `who` names the peer in errors.
void read_exact(int fd, void* data, size_t n, Clock::time_point deadline, const std::string& who,
                const std::string& what) {
  char* p = static_cast<char*>(data);
  while (n > 0) {
    if (!wait_fd(fd, POLLIN, deadline)) throw TransportError("rendezvous: timed out waiting for " + what + " from " + who);
    const ssize_t r = ::recv(fd, p, n, 0);
    if (r == 0)
      throw TransportError("rendezvous: " + who + " closed the connection before sending " + what + " (did it die?)");
    if (r < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      if (errno == ECONNRESET)  // it closed with our bytes unread: gone all the same
        throw TransportError("rendezvous: " + who + " closed the connection before sending " + what + " (did it die?)");
      throw TransportError("rendezvous: reading " + what + " from " + who + " failed: " + errno_text());
    }
    p += r;
    n -= static_cast<size_t>(r);
  }
}

void write_all(int fd, const void* data, size_t n, Clock::time_point deadline, const std::string& who) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    if (!wait_fd(fd, POLLOUT, deadline)) throw TransportError("rendezvous: timed out sending to " + who);
    const ssize_t r = ::send(fd, p, n, MSG_NOSIGNAL);
    if (r < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      throw TransportError("rendezvous: sending to " + who + " failed: " + errno_text() + " (did it die?)");
    }
    p += r;
    n -= static_cast<size_t>(r);
  }
}

std::vector<char> serve(const RendezvousConfig& c, const std::vector<char>& blob, Clock::time_point deadline) {
  Socket listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (listener.fd() < 0) throw TransportError("rendezvous: socket failed: " + errno_text());
  const int one = 1;
  ::setsockopt(listener.fd(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  addr.sin_port = htons(static_cast<uint16_t>(c.master_port));
  if (::bind(listener.fd(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    throw TransportError("rendezvous: rank 0 cannot listen on port " + std::to_string(c.master_port) + ": " +
                         errno_text() + " (port in use? under torchrun the port is MASTER_PORT + 1, or "
                         "TILE_RENDEZVOUS_PORT)");
  if (::listen(listener.fd(), c.world_size) != 0) throw TransportError("rendezvous: listen failed: " + errno_text());

  std::vector<Socket> peers(static_cast<size_t>(c.world_size));
  int connected = 1;
  while (connected < c.world_size) {
    if (!wait_fd(listener.fd(), POLLIN, deadline)) {
      std::string missing;
      for (int r = 1; r < c.world_size; ++r)
        if (peers[static_cast<size_t>(r)].fd() < 0) missing += (missing.empty() ? "" : ", ") + std::to_string(r);
      throw TransportError("rendezvous: rank 0 timed out after " + std::to_string(seconds(c.timeout)) +
                           " s waiting for rank(s) " + missing + " to connect to port " +
                           std::to_string(c.master_port) + " (did they start, with the same MASTER_ADDR/MASTER_PORT?)");
    }
    Socket s(::accept4(listener.fd(), nullptr, nullptr, SOCK_CLOEXEC));
    if (s.fd() < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == ECONNABORTED) continue;
      throw TransportError("rendezvous: accept failed: " + errno_text());
    }
    Hello h;
    read_exact(s.fd(), &h, sizeof h, deadline, "a connecting peer", "its rank");
    if (std::memcmp(h.magic, "TILE", 4) != 0)
      throw TransportError("rendezvous: something that is not a rank connected to port " + std::to_string(c.master_port));
    const int r = static_cast<int>(h.rank);
    if (static_cast<int>(h.world_size) != c.world_size || h.blob_bytes != blob.size())
      throw TransportError("rendezvous: rank " + std::to_string(r) + " expects world size " +
                           std::to_string(h.world_size) + " and " + std::to_string(h.blob_bytes) +
                           " bytes, rank 0 has " + std::to_string(c.world_size) + " and " + std::to_string(blob.size()));
    if (r < 1 || r >= c.world_size || peers[static_cast<size_t>(r)].fd() >= 0)
      throw TransportError("rendezvous: a peer claims rank " + std::to_string(r) + ", which is " +
                           (r < 1 || r >= c.world_size ? "outside the world" : "already connected"));
    peers[static_cast<size_t>(r)] = std::move(s);
    ++connected;
  }
  for (int r = 1; r < c.world_size; ++r)
    write_all(peers[static_cast<size_t>(r)].fd(), blob.data(), blob.size(), deadline, "rank " + std::to_string(r));
  for (int r = 1; r < c.world_size; ++r) {
    char ack = 0;
    read_exact(peers[static_cast<size_t>(r)].fd(), &ack, 1, deadline, "rank " + std::to_string(r), "its acknowledgement");
  }
  return blob;
}

Socket connect_to_master(const RendezvousConfig& c, Clock::time_point deadline) {
  std::string last_error = "no attempt";
  while (Clock::now() < deadline) {
    addrinfo hints{};
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const int g = ::getaddrinfo(c.master_addr.c_str(), std::to_string(c.master_port).c_str(), &hints, &found);
    if (g != 0) {
      last_error = std::string("cannot resolve MASTER_ADDR: ") + gai_strerror(g);
    } else {
      for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
        Socket s(::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol));
        if (s.fd() < 0) continue;
        if (::connect(s.fd(), a->ai_addr, a->ai_addrlen) == 0) {
          ::freeaddrinfo(found);
          return s;
        }
        last_error = errno_text();
      }
      ::freeaddrinfo(found);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // rank 0 may not be listening yet
  }
  throw TransportError("rendezvous: rank " + std::to_string(c.rank) + " could not connect to rank 0 at " + where(c) +
                       " within " + std::to_string(seconds(c.timeout)) + " s (last error: " + last_error + ")");
}

std::vector<char> join(const RendezvousConfig& c, size_t blob_bytes, Clock::time_point deadline) {
  Socket s = connect_to_master(c, deadline);
  Hello h;
  h.rank = static_cast<uint32_t>(c.rank);
  h.world_size = static_cast<uint32_t>(c.world_size);
  h.blob_bytes = static_cast<uint32_t>(blob_bytes);
  const std::string root = "rank 0 at " + where(c);
  write_all(s.fd(), &h, sizeof h, deadline, root);
  std::vector<char> blob(blob_bytes);
  read_exact(s.fd(), blob.data(), blob.size(), deadline, root, "the NCCL id");
  write_all(s.fd(), &kAck, 1, deadline, root);
  return blob;
}

}  // namespace

std::vector<char> exchange_blob(const RendezvousConfig& c, const std::vector<char>& blob, size_t blob_bytes) {
  if (c.world_size < 1) throw std::invalid_argument("world_size: expected >= 1, got " + std::to_string(c.world_size));
  if (c.rank < 0 || c.rank >= c.world_size)
    throw std::invalid_argument("rank: expected 0.." + std::to_string(c.world_size - 1) + ", got " + std::to_string(c.rank));
  if (c.master_port < 1 || c.master_port > 65535)
    throw std::invalid_argument("master_port: expected 1..65535, got " + std::to_string(c.master_port));
  if (c.rank > 0 && c.master_addr.empty()) throw std::invalid_argument("master_addr: expected a host name, got none");
  if (c.rank == 0 && blob.size() != blob_bytes)
    throw std::invalid_argument("blob: rank 0 passes " + std::to_string(blob_bytes) + " bytes, got " +
                                std::to_string(blob.size()));
  const auto deadline = Clock::now() + c.timeout;
  if (c.world_size == 1) return blob;
  return c.rank == 0 ? serve(c, blob, deadline) : join(c, blob_bytes, deadline);
}

}  // namespace dist
}  // namespace tile
