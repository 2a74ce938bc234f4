#include "distributed/launcher.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

namespace tile {
namespace dist {
namespace {

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

}  // namespace

int launch_processes(int nproc, const std::function<int(const RankEnv&)>& body, const LaunchOptions& options) {
  if (nproc < 1) throw std::invalid_argument("nproc_per_node: expected >= 1, got " + std::to_string(nproc));
  std::string dir_template = options.temp_root + "/tile_ring.XXXXXX";
  std::vector<char> dir(dir_template.begin(), dir_template.end());
  dir.push_back('\0');
  if (mkdtemp(dir.data()) == nullptr) throw std::runtime_error("launcher: cannot create a directory under " + options.temp_root);
  const std::string id_dir(dir.data());
  const std::string id_file = id_dir + "/nccl_unique_id";

  std::cout.flush();
  std::cerr.flush();
  std::vector<pid_t> children;
  for (int r = 0; r < nproc; ++r) {
    const pid_t pid = fork();
    if (pid < 0) {
      for (pid_t c : children) kill(c, SIGTERM);
      throw std::runtime_error("launcher: fork failed for rank " + std::to_string(r));
    }
    if (pid == 0) {
      RankEnv env{r, nproc, r, id_file};
      setenv("TILE_RANK", std::to_string(r).c_str(), 1);
      setenv("TILE_WORLD_SIZE", std::to_string(nproc).c_str(), 1);
      setenv("TILE_LOCAL_RANK", std::to_string(r).c_str(), 1);
      setenv("TILE_NCCL_ID_FILE", id_file.c_str(), 1);
      int code = 1;
      try {
        code = body(env);
      } catch (const std::exception& e) {
        std::cerr << "rank " << r << ": error: " << e.what() << std::endl;
      }
      std::cout.flush();
      std::cerr.flush();
      _exit(code);  // no atexit handlers / static destructors of the parent's state in the child
    }
    children.push_back(pid);
  }

  int result = 0;
  size_t running = children.size();
  const auto deadline = std::chrono::steady_clock::now() + options.timeout;
  std::vector<bool> done(children.size(), false);
  bool stopped = false;
  while (running > 0) {
    int status = 0;
    const pid_t pid = waitpid(-1, &status, options.timeout.count() > 0 ? WNOHANG : 0);
    if (pid == 0) {  // nothing exited yet (timeout mode)
      if (!stopped && std::chrono::steady_clock::now() > deadline) {
        stopped = true;
        std::cerr << "launcher: ranks still running after " << options.timeout.count() << " s; stopping them"
                  << std::endl;
        for (size_t i = 0; i < children.size(); ++i)
          if (!done[i]) kill(children[i], SIGKILL);
        if (result == 0) result = 124;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    if (pid < 0) break;  // no children left
    for (size_t i = 0; i < children.size(); ++i) {
      if (children[i] != pid) continue;
      done[i] = true;
      --running;
      const int code = exit_code_of(status);
      if (code != 0 && result == 0) {
        result = code;
        std::cerr << "launcher: rank " << i << " exited with code " << code << "; stopping the other ranks" << std::endl;
        for (size_t j = 0; j < children.size(); ++j)
          if (!done[j]) kill(children[j], SIGTERM);
      }
    }
  }
  std::remove(id_file.c_str());
  rmdir(id_dir.c_str());
  return result;
}

void run_virtual_ranks(InProcessWorld& world, const std::function<void(int rank, Transport& transport)>& body) {
  std::mutex mu;
  std::exception_ptr first;
  std::vector<std::thread> threads;
  for (int r = 0; r < world.world_size(); ++r)
    threads.emplace_back([&, r] {
      try {
        body(r, world.rank(r));
      } catch (const std::exception& e) {
        {
          std::lock_guard<std::mutex> lock(mu);
          if (!first) first = std::current_exception();
        }
        world.abort("rank " + std::to_string(r) + " failed: " + e.what());
      } catch (...) {
        {
          std::lock_guard<std::mutex> lock(mu);
          if (!first) first = std::current_exception();
        }
        world.abort("rank " + std::to_string(r) + " failed");
      }
    });
  for (auto& t : threads) t.join();
  if (first) std::rethrow_exception(first);
}

}  // namespace dist
}  // namespace tile
