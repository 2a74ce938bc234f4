#include "distributed/gpu_probe.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "dsl/runtime/context.h"
#include "dsl/runtime/cuda_driver.h"

namespace tile {
namespace dist {

GpuProbe probe_gpus_in_child() {
  GpuProbe result;
  int fds[2];
  if (pipe(fds) != 0) {
    result.why = "cannot create a pipe to probe the GPUs";
    return result;
  }
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    result.why = "cannot fork to probe the GPUs";
    return result;
  }
  if (pid == 0) {
    close(fds[0]);
    std::string why;
    const int count = rt::driver_available(&why) ? rt::device_count() : 0;
    const std::string msg = std::to_string(count) + "\n" + why;
    ssize_t unused = write(fds[1], msg.data(), msg.size());
    (void)unused;
    close(fds[1]);
    _exit(0);
  }
  close(fds[1]);
  std::string msg;
  char buf[512];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) msg.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  const size_t nl = msg.find('\n');
  if (nl == std::string::npos) {
    result.why = "the GPU probe process failed";
    return result;
  }
  result.count = std::atoi(msg.substr(0, nl).c_str());
  result.why = msg.substr(nl + 1);
  return result;
}

}  // namespace dist
}  // namespace tile
