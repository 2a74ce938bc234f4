#include "lowering/backend/ptxas.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>

namespace tile::backend {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// A private scratch directory, removed with its files when this goes out of scope.
class ScratchDir {
 public:
  ScratchDir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/tile_ptxas_XXXXXX";
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    if (mkdtemp(buf.data()) != nullptr) path_ = buf.data();
  }
  ~ScratchDir() {
    for (const std::string& f : files_) unlink(f.c_str());
    if (!path_.empty()) rmdir(path_.c_str());
  }
  bool ok() const { return !path_.empty(); }
  std::string file(const std::string& name) {
    files_.push_back(path_ + "/" + name);
    return files_.back();
  }

 private:
  std::string path_;
  std::vector<std::string> files_;
};

// Runs argv with stdout+stderr into `log_path`; returns the exit status (-1: could not run).
int run_command(const std::vector<std::string>& argv, const std::string& log_path) {
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

std::map<std::string, ResourceUsage> parse_ptxas_report(const std::string& log) {
  std::map<std::string, ResourceUsage> usage;
  static const std::regex kFunction(R"(Function properties for (\S+))");
  static const std::regex kCompiling(R"(Compiling entry function '([^']+)')");
  static const std::regex kFrame(
      R"((\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads)");
  static const std::regex kRegisters(R"(Used (\d+) registers)");
  static const std::regex kBarriers(R"(used (\d+) barriers)");
  static const std::regex kSmem(R"((\d+) bytes smem)");
  // Names its function itself, after that function's report.
  static const std::regex kSerialized(
      R"(\((C7\d+)\) Potential Performance Loss: wgmma\.mma_async instructions are serialized due to (.*) for the function '([^']+)')");
  std::istringstream in(log);
  std::string line, current;
  std::smatch m;
  while (std::getline(in, line)) {
    if (std::regex_search(line, m, kSerialized)) {
      usage[m[3]].wgmma_serialized = std::string(m[1]) + ": " + std::string(m[2]);
      continue;
    }
    if (std::regex_search(line, m, kCompiling) || std::regex_search(line, m, kFunction)) {
      current = m[1];
      usage[current];
      continue;
    }
    if (current.empty()) continue;
    ResourceUsage& u = usage[current];
    if (std::regex_search(line, m, kFrame)) {
      u.stack_frame_bytes = std::stoi(m[1]);
      u.spill_store_bytes = std::stoi(m[2]);
      u.spill_load_bytes = std::stoi(m[3]);
    }
    if (std::regex_search(line, m, kRegisters)) u.registers = std::stoi(m[1]);
    if (std::regex_search(line, m, kBarriers)) u.barriers = std::stoi(m[1]);
    if (std::regex_search(line, m, kSmem)) u.static_smem_bytes = std::stoi(m[1]);
  }
  return usage;
}

PtxasResult run_ptxas(const std::string& ptx, const PtxasOptions& options) {
  PtxasResult result;
  ScratchDir dir;
  if (!dir.ok()) {
    result.log = "cannot create a scratch directory for ptxas";
    return result;
  }
  const std::string ptx_path = dir.file("kernel.ptx");
  const std::string cubin_path = dir.file("kernel.cubin");
  const std::string log_path = dir.file("ptxas.log");
  {
    std::ofstream out(ptx_path, std::ios::binary);
    out << ptx;
  }
  std::vector<std::string> argv = {options.ptxas_path, "-arch=" + options.arch,
                                   "-O" + std::to_string(options.opt_level), "-v"};
  argv.insert(argv.end(), options.extra_flags.begin(), options.extra_flags.end());
  argv.insert(argv.end(), {"-o", cubin_path, ptx_path});
  for (const std::string& a : argv) result.command += (result.command.empty() ? "" : " ") + a;

  const int status = run_command(argv, log_path);
  result.log = read_file(log_path);
  if (status != 0) {
    if (status == 127 || status == -1) {
      result.log = "could not run " + options.ptxas_path + " (exit " + std::to_string(status) +
                   ")\n" + result.log;
    }
    return result;
  }
  const std::string cubin = read_file(cubin_path);
  result.cubin.assign(cubin.begin(), cubin.end());
  result.usage = parse_ptxas_report(result.log);
  result.ok = !result.cubin.empty();
  return result;
}

}  // namespace tile::backend
