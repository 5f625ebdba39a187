#include "helper/program_exec.h"

#include <linux/close_range.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "common/setup_error.h"
#include "common/syscalls.h"

namespace tsc {

namespace {

std::string env_value(const Plan& plan, const std::string& name) {
  for (const auto& entry : plan.env) {
    if (entry.compare(0, name.size() + 1, name + "=") == 0) return entry.substr(name.size() + 1);
  }
  return "";
}

}  // namespace

// Searching PATH here, rather than with execvp, makes exactly one execve: a
// seccomp notify handler sees the program once, not one failed attempt per
// PATH entry.
std::string resolve_program(const Plan& plan) {
  const std::string& name = plan.argv[0];
  if (name.find('/') != std::string::npos) return name;
  std::string path = env_value(plan, "PATH");
  int first_error = ENOENT;
  size_t start = 0;
  while (start <= path.size()) {
    size_t colon = path.find(':', start);
    if (colon == std::string::npos) colon = path.size();
    std::string dir = path.substr(start, colon - start);
    start = colon + 1;
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    struct stat st;
    if (stat(candidate.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
    first_error = EACCES;
  }
  throw SetupError{"exec", first_error, StepId::Exec};
}

void exec_program(const Plan& plan) {
  std::vector<char*> argv;
  for (const auto& arg : plan.argv) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const auto& entry : plan.env) envp.push_back(const_cast<char*>(entry.c_str()));
  envp.push_back(nullptr);
  // Every fd above stdio is closed at exec, whoever opened it and however.
  check(sys_close_range(3, ~0U, CLOSE_RANGE_CLOEXEC), "mark fds close-on-exec");
  umask(022);
  std::string program = resolve_program(plan);
  execve(program.c_str(), argv.data(), envp.data());
  throw SetupError{"exec", errno, StepId::Exec};
}

}  // namespace tsc
