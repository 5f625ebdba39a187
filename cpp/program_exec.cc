#include "program_exec.h"

#include <linux/close_range.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "setup_error.h"
#include "syscalls.h"

extern char** environ;

namespace tsc {

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
  // execvp searches the PATH of the container's environment, not the helper's.
  environ = envp.data();
  execvp(argv[0], argv.data());
  throw SetupError{"exec", errno};
}

}  // namespace tsc
