#include "common/cni_exec.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/generated/network_attachment.h"

extern char** environ;

namespace tsc {

namespace {

bool read_file(const std::string& path, std::string* out) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buffer[8192];
  for (;;) {
    ssize_t n = read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out->append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  return true;
}

// Temp file then rename: a reader (the sweep, a DEL elsewhere) sees the old or the new.
bool write_file_atomically(const std::string& path, const std::string& text) {
  std::string temp = path + ".tmp." + std::to_string(getpid());
  int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      close(fd);
      unlink(temp.c_str());
      return false;
    }
    done += static_cast<size_t>(n);
  }
  close(fd);
  return rename(temp.c_str(), path.c_str()) == 0;
}

// The config with "prevResult": <result> added as its last member. The config is a
// JSON object written by TypeScript without a prevResult; its last '}' closes it.
std::string with_prev_result(const std::string& config, const std::string& prev) {
  if (prev.empty()) return config;
  size_t close_brace = config.find_last_of('}');
  if (close_brace == std::string::npos) return config;
  size_t before = config.find_last_not_of(" \t\r\n", close_brace == 0 ? 0 : close_brace - 1);
  bool empty_object = before != std::string::npos && config[before] == '{';
  std::string trimmed = prev;
  while (!trimmed.empty() && (trimmed.back() == '\n' || trimmed.back() == ' ')) trimmed.pop_back();
  return config.substr(0, close_brace) + (empty_object ? "" : ",") + "\"prevResult\":" + trimmed + config.substr(close_brace);
}

struct Execution {
  int exit_code = -1;
  std::string output;
  std::string diagnostics;
};

// One plugin: stdin is its config, stdout its result or error, env the CNI_* variables.
Execution exec_plugin(const CniAttachment& a, const std::string& binary, const std::string& command,
                      const std::string& netns, const std::string& cni_args, const std::string& stdin_text) {
  Execution run;
  std::string program = a.cni_path + "/" + binary;
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) < 0) {
    run.diagnostics = std::string("pipe: ") + strerror(errno);
    return run;
  }
  if (pipe2(out, O_CLOEXEC) < 0) {
    run.diagnostics = std::string("pipe: ") + strerror(errno);
    close(in[0]), close(in[1]);
    return run;
  }
  if (pipe2(err, O_CLOEXEC) < 0) {
    run.diagnostics = std::string("pipe: ") + strerror(errno);
    close(in[0]), close(in[1]), close(out[0]), close(out[1]);
    return run;
  }
  std::vector<std::string> env_text;
  for (char** e = environ; e && *e; e++) {
    if (strncmp(*e, "CNI_", 4) != 0) env_text.emplace_back(*e);
  }
  env_text.push_back("CNI_COMMAND=" + command);
  env_text.push_back("CNI_CONTAINERID=" + a.container);
  env_text.push_back("CNI_NETNS=" + netns);
  env_text.push_back("CNI_IFNAME=" + a.ifname);
  env_text.push_back("CNI_PATH=" + a.cni_path);
  if (!cni_args.empty()) env_text.push_back("CNI_ARGS=" + cni_args);
  bool has_path = false;
  for (const std::string& e : env_text) has_path = has_path || e.rfind("PATH=", 0) == 0;
  // The plugins run iptables and ip: a monitor started without PATH still finds them.
  if (!has_path) env_text.emplace_back("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  std::vector<char*> envp;
  for (std::string& e : env_text) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string argv0 = binary;
  char* argv[] = {argv0.data(), nullptr};

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, program.c_str(), &actions, nullptr, argv, envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close(in[0]), close(out[1]), close(err[1]);
  if (rc != 0) {
    close(in[1]), close(out[0]), close(err[0]);
    run.diagnostics = "exec " + program + ": " + strerror(rc);
    return run;
  }
  // A config fits the pipe; a plugin reads all of stdin before it writes anything.
  size_t written = 0;
  while (written < stdin_text.size()) {
    ssize_t n = write(in[1], stdin_text.data() + written, stdin_text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    written += static_cast<size_t>(n);
  }
  close(in[1]);
  struct pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  std::string* sinks[2] = {&run.output, &run.diagnostics};
  int open_count = 2;
  while (open_count > 0) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; i++) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buffer[4096];
      ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        sinks[i]->append(buffer, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        close(fds[i].fd);
        fds[i].fd = -1;
        open_count--;
      }
    }
  }
  for (auto& p : fds) if (p.fd >= 0) close(p.fd);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return run;
}

void note_failure(CniOutcome* outcome, const std::string& plugin, const Execution& run) {
  if (!outcome->ok) return;  // the first failure is the one reported
  outcome->ok = false;
  outcome->plugin = plugin;
  outcome->exit_code = run.exit_code;
  outcome->output = run.output;
  outcome->diagnostics = run.diagnostics;
}

}  // namespace

bool parse_attachment(const std::string& text, CniAttachment* out, std::string* error) {
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\0', start);
    if (end == std::string::npos) end = text.size();
    std::string entry = text.substr(start, end - start);
    start = end + 1;
    size_t eq = entry.find('=');
    if (eq == std::string::npos) {
      *error = "attachment entry without '=': " + entry;
      return false;
    }
    std::string key = entry.substr(0, eq), value = entry.substr(eq + 1);
    if (key == kAttachmentVersion) {
      if (value != "1") {
        *error = "attachment record version " + value + " is not known";
        return false;
      }
    } else if (key == kAttachmentNetwork) {
      out->network = value;
    } else if (key == kAttachmentContainer) {
      out->container = value;
    } else if (key == kAttachmentIfname) {
      out->ifname = value;
    } else if (key == kAttachmentCniPath) {
      out->cni_path = value;
    } else if (key == kAttachmentBinary) {
      out->binaries.push_back(value);
    } else if (key == kAttachmentPlugin) {
      out->plugins.emplace_back(value, "");
    } else if (key == kAttachmentPluginConfig) {
      if (out->plugins.empty()) {
        *error = "plugin.config before any plugin";
        return false;
      }
      out->plugins.back().second = value;
    } else if (key == kAttachmentNetns) {
      // informational: each run passes the namespace it means
    } else {
      *error = "unknown attachment key " + key;
      return false;
    }
  }
  if (out->container.empty() || out->ifname.empty() || out->cni_path.empty() || out->plugins.empty()) {
    *error = "attachment record is incomplete";
    return false;
  }
  return true;
}

static std::string result_path_of(const std::string& record_path) {
  return record_path.substr(0, record_path.size() - strlen(kAttachmentFileRecord)) + kAttachmentFileResult;
}

std::string stored_address(const std::string& record_path) {
  std::string result;
  if (!read_file(result_path_of(record_path), &result)) return "";
  // The plugins print indented JSON: the first "address" under "ips" is the container's.
  size_t at = result.find("\"ips\"");
  if (at != std::string::npos) at = result.find("\"address\"", at);
  if (at == std::string::npos) return "";
  at = result.find('"', at + strlen("\"address\""));
  if (at == std::string::npos) return "";
  size_t end = result.find_first_of("/\"", at + 1);
  return end == std::string::npos ? "" : result.substr(at + 1, end - at - 1);
}

CniOutcome cni_run(const std::string& record_path, const std::string& command, const std::string& netns,
                   const std::string& cni_args) {
  CniOutcome outcome;
  std::string text;
  CniAttachment a;
  std::string error;
  if (!read_file(record_path, &text) || !parse_attachment(text, &a, &error)) {
    outcome.ok = false;
    outcome.exit_code = -1;
    outcome.diagnostics = error.empty() ? "read " + record_path + ": " + strerror(errno) : record_path + ": " + error;
    return outcome;
  }
  std::string result_path = result_path_of(record_path);
  if (command == "ADD") {
    // Every binary first: a missing one fails the ADD before any plugin changed anything.
    for (const std::string& binary : a.binaries) {
      std::string program = a.cni_path + "/" + binary;
      if (access(program.c_str(), X_OK) != 0) {
        Execution missing;
        missing.diagnostics = "no executable " + program + " (" + strerror(errno) + "); install containernetworking-plugins or set CNI_PATH";
        note_failure(&outcome, binary, missing);
        return outcome;
      }
    }
    std::string prev;
    for (const auto& [binary, config] : a.plugins) {
      Execution run = exec_plugin(a, binary, command, netns, cni_args, with_prev_result(config, prev));
      if (run.exit_code != 0) {
        note_failure(&outcome, binary, run);
        return outcome;
      }
      prev = run.output;
    }
    outcome.result = prev;
    if (!write_file_atomically(result_path, prev)) {
      Execution failed;
      failed.diagnostics = "write " + result_path + ": " + strerror(errno);
      note_failure(&outcome, a.plugins.back().first, failed);
    }
    return outcome;
  }
  std::string stored;
  read_file(result_path, &stored);
  if (command == "DEL") {
    // Every plugin runs, even after one failed: each releases what it alone holds.
    for (auto it = a.plugins.rbegin(); it != a.plugins.rend(); ++it) {
      Execution run = exec_plugin(a, it->first, command, netns, cni_args, with_prev_result(it->second, stored));
      if (run.exit_code != 0) note_failure(&outcome, it->first, run);
    }
    if (outcome.ok) unlink(result_path.c_str());
    return outcome;
  }
  for (const auto& [binary, config] : a.plugins) {
    Execution run = exec_plugin(a, binary, command, netns, cni_args, with_prev_result(config, stored));
    if (run.exit_code != 0) {
      note_failure(&outcome, binary, run);
      break;
    }
  }
  outcome.result = stored;
  return outcome;
}

}  // namespace tsc
