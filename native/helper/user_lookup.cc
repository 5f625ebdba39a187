#include "helper/user_lookup.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "common/setup_error.h"
#include "common/unique_fd.h"

namespace tsc {

namespace {

// The container owns these files: one that is not a regular file (a FIFO would block, a
// device could be endless) or is larger than this is refused rather than read.
constexpr off_t kMaxDatabaseSize = 16 << 20;

using Fields = std::vector<std::string>;

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    size_t end = text.find(separator, start);
    if (end == std::string::npos) {
      parts.push_back(text.substr(start));
      return parts;
    }
    parts.push_back(text.substr(start, end - start));
    start = end + 1;
  }
}

// The entries of /etc/passwd or /etc/group, each split at ':'; none when the file is missing.
std::vector<Fields> read_database(const char* path, const std::string& spec) {
  std::vector<Fields> entries;
  UniqueFd fd(open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (fd.get() < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return entries;
    throw SetupError{std::string("user '") + spec + "': open " + path, errno, StepId::ResolveUser};
  }
  struct stat st;
  if (fstat(fd.get(), &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > kMaxDatabaseSize) {
    throw SetupError{std::string("user '") + spec + "': " + path + " is not a regular file of at most 16 MiB", EINVAL, StepId::ResolveUser};
  }
  std::string text;
  char buffer[8192];
  for (;;) {
    ssize_t n = read(fd.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw SetupError{std::string("user '") + spec + "': read " + path, errno, StepId::ResolveUser};
    if (n == 0) break;
    text.append(buffer, static_cast<size_t>(n));
    if (text.size() > static_cast<size_t>(kMaxDatabaseSize)) break;
  }
  for (const std::string& line : split(text, '\n')) {
    if (line.empty() || line[0] == '#') continue;
    entries.push_back(split(line, ':'));
  }
  return entries;
}

// A decimal id below 2^32-1 (which is -1, "no id", to the kernel).
bool parse_id(const std::string& text, unsigned* out) {
  if (text.empty() || text.size() > 10) return false;
  unsigned long long value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value >= 0xFFFFFFFFULL) return false;
  *out = static_cast<unsigned>(value);
  return true;
}

// The entry whose name field is `name`, else (for a number) whose id field is that number.
const Fields* find_entry(const std::vector<Fields>& entries, const std::string& name, size_t id_field) {
  for (const Fields& e : entries) {
    if (e.size() > id_field && e[0] == name) return &e;
  }
  unsigned wanted;
  if (!parse_id(name, &wanted)) return nullptr;
  for (const Fields& e : entries) {
    unsigned id;
    if (e.size() > id_field && parse_id(e[id_field], &id) && id == wanted) return &e;
  }
  return nullptr;
}

void set_home(Plan* plan, const std::string& home) {
  for (std::string& entry : plan->env) {
    if (entry.compare(0, 5, "HOME=") == 0) {
      entry = "HOME=" + home;
      return;
    }
  }
  plan->env.push_back("HOME=" + home);
}

}  // namespace

void resolve_user_spec(Plan* plan) {
  const std::string& spec = plan->user_spec;
  if (spec.empty()) return;
  size_t colon = spec.find(':');
  std::string user_part = spec.substr(0, colon);
  bool has_group = colon != std::string::npos;
  std::string group_part = has_group ? spec.substr(colon + 1) : "";

  std::vector<Fields> passwd = read_database("/etc/passwd", spec);
  std::vector<Fields> group_db = read_database("/etc/group", spec);

  // passwd: name:password:uid:gid:gecos:home:shell
  const Fields* user = find_entry(passwd, user_part, 2);
  unsigned uid = 0, gid = 0;
  std::string home = "/";
  if (user != nullptr) {
    if (!parse_id((*user)[2], &uid) || user->size() < 4 || !parse_id((*user)[3], &gid)) {
      throw SetupError{"user '" + spec + "': the container's /etc/passwd has a bad entry for '" + user_part + "'", EINVAL, StepId::ResolveUser};
    }
    if (user->size() > 5 && !(*user)[5].empty()) home = (*user)[5];
  } else if (!parse_id(user_part, &uid)) {
    throw SetupError{"user '" + spec + "': no such user in the container's /etc/passwd", ENOENT, StepId::ResolveUser};
  }
  // A uid without a passwd entry runs with group 0, as docker runs it.

  // The primary group first, as docker lists it among the additional groups too.
  std::vector<unsigned> groups;
  if (has_group) {
    // group: name:password:gid:members
    const Fields* group = find_entry(group_db, group_part, 2);
    if (group != nullptr) {
      if (!parse_id((*group)[2], &gid)) {
        throw SetupError{"user '" + spec + "': the container's /etc/group has a bad entry for '" + group_part + "'", EINVAL, StepId::ResolveUser};
      }
    } else if (!parse_id(group_part, &gid)) {
      throw SetupError{"user '" + spec + "': no such group in the container's /etc/group", ENOENT, StepId::ResolveUser};
    }
  } else if (user != nullptr) {
    // Supplementary groups: every group whose member list names the user.
    const std::string& name = (*user)[0];
    for (const Fields& g : group_db) {
      unsigned id;
      if (g.size() < 4 || !parse_id(g[2], &id)) continue;
      bool member = false;
      for (const std::string& m : split(g[3], ',')) member = member || m == name;
      bool known = false;
      for (unsigned seen : groups) known = known || seen == id;
      if (member && !known) groups.push_back(id);
    }
  }

  std::vector<unsigned> all{gid};
  for (unsigned g : groups) {
    if (g != gid) all.push_back(g);
  }
  plan->uid = uid;
  plan->gid = gid;
  plan->groups = all;
  if (plan->user_home) set_home(plan, home);
}

}  // namespace tsc
