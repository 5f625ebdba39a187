#include "addon/cgroup_maker.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <vector>

#include "addon/errno_error.h"
#include "common/unique_fd.h"

namespace tsc {

namespace {

// The value of the mark on a container's own cgroup (lib/cgroups/cgroup-mark.ts).
constexpr char kContainerMark[] = "container";
// As far up as lib/cgroups/container-cgroup.ts goes for a cpuset to copy.
constexpr int kMaxCpusetDepth = 32;

struct CgroupsToMake {
  std::vector<std::string> dirs;
  std::string mark;
  std::vector<std::string> cpusets;
  std::string devices_dir;
  std::vector<std::string> device_rules;
  std::string pids_dir;
  std::string pids_limit;
  // The first of dirs is the primary one, flocked before it is marked; false: the rest of a
  // make whose primary directory an earlier call made (each of dirs only marked).
  bool lock_first = true;
};

// A failure on one directory: its errno, for the error JavaScript builds.
struct MakeFailure {
  std::string dir;
  int err;
};

[[noreturn]] void fail(const std::string& dir, int err) { throw MakeFailure{dir, err}; }

std::string parent_of(const std::string& dir) { return dir.substr(0, dir.find_last_of('/')); }

// A cgroup file's text without its trailing newline and spaces; "" when it cannot be read.
std::string read_trimmed(const std::string& path) {
  UniqueFd file(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!file) return "";
  char text[4096];
  ssize_t n = read(file.get(), text, sizeof text);
  if (n <= 0) return "";
  std::string value(text, static_cast<size_t>(n));
  while (!value.empty() && (value.back() == '\n' || value.back() == ' ')) value.pop_back();
  return value;
}

// Opened as fs.writeFileSync opens (on cgroupfs the file exists; on a plain directory, as the
// unit tests' fake hierarchies are, it is made).
int open_for_writing(const std::string& path) { return open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644); }

void write_value(const std::string& dir, const char* file, const std::string& value) {
  UniqueFd target(open_for_writing(dir + "/" + file));
  if (!target || write(target.get(), value.data(), value.size()) < 0) fail(dir, errno);
}

// A v1 cpuset cgroup starts with no CPUs and no memory nodes unless its parent has
// clone_children: each empty one takes its parent's, filled first when empty too.
void inherit_cpuset(const std::string& dir, int depth) {
  for (const char* file : {"cpuset.cpus", "cpuset.mems"}) {
    if (!read_trimmed(dir + "/" + file).empty()) continue;
    std::string parent = parent_of(dir);
    std::string value = read_trimmed(parent + "/" + file);
    if (value.empty() && depth < kMaxCpusetDepth && access((parent_of(parent) + "/" + file).c_str(), F_OK) == 0) {
      inherit_cpuset(parent, depth + 1);
      value = read_trimmed(parent + "/" + file);
    }
    write_value(dir, file, value);
  }
}

void mark(int fd, const std::string& dir, const std::string& attribute) {
  int rc = fd >= 0 ? fsetxattr(fd, attribute.c_str(), kContainerMark, sizeof kContainerMark - 1, 0)
                   : lsetxattr(dir.c_str(), attribute.c_str(), kContainerMark, sizeof kContainerMark - 1, 0);
  if (rc < 0) fail(dir, errno);
}

// Makes them all, or removes what it made (the primary last, as a removal goes) and throws.
int make_all(const CgroupsToMake& spec) {
  std::vector<std::string> made;
  UniqueFd primary;
  try {
    for (const std::string& dir : spec.dirs) {
      if (mkdir(dir.c_str(), 0755) < 0) fail(dir, errno);
      made.push_back(dir);
      if (spec.lock_first && !primary) {
        primary.reset(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!primary) fail(dir, errno);
        // Held before marked: nobody takes it for a dead container's meanwhile.
        if (flock(primary.get(), LOCK_EX | LOCK_NB) < 0) fail(dir, errno == EWOULDBLOCK ? EAGAIN : errno);
        mark(primary.get(), dir, spec.mark);
      } else {
        mark(-1, dir, spec.mark);
      }
      if (std::find(spec.cpusets.begin(), spec.cpusets.end(), dir) != spec.cpusets.end()) inherit_cpuset(dir, 0);
    }
    if (!spec.devices_dir.empty()) {
      // New and empty: "a" can be denied only before the cgroup has children.
      write_value(spec.devices_dir, "devices.deny", "a");
      UniqueFd allow(open_for_writing(spec.devices_dir + "/devices.allow"));
      if (!allow) fail(spec.devices_dir, errno);
      // The kernel takes one rule per write.
      for (const std::string& rule : spec.device_rules) {
        if (write(allow.get(), rule.data(), rule.size()) < 0) fail(spec.devices_dir, errno);
      }
    }
    if (!spec.pids_dir.empty()) write_value(spec.pids_dir, "pids.max", spec.pids_limit);
  } catch (const MakeFailure&) {
    for (auto dir = made.rbegin(); dir != made.rend(); ++dir) rmdir(dir->c_str());
    throw;
  }
  return spec.lock_first ? primary.release() : -1;
}

std::vector<std::string> strings_of(Napi::Env env, Napi::Value value, const char* what) {
  if (!value.IsArray()) throw Napi::TypeError::New(env, std::string("makeContainerCgroups: ") + what + " must be an array of strings");
  Napi::Array list = value.As<Napi::Array>();
  std::vector<std::string> out;
  for (uint32_t i = 0; i < list.Length(); i++) {
    Napi::Value item = list.Get(i);
    if (!item.IsString()) throw Napi::TypeError::New(env, std::string("makeContainerCgroups: ") + what + " must be an array of strings");
    out.push_back(item.As<Napi::String>().Utf8Value());
  }
  return out;
}

std::string absolute_path(Napi::Env env, Napi::Value value, const char* what) {
  std::string path = value.IsString() ? value.As<Napi::String>().Utf8Value() : "";
  if (path.empty() || path[0] != '/' || path.find('\0') != std::string::npos) {
    throw Napi::TypeError::New(env, std::string("makeContainerCgroups: ") + what + " must be an absolute path");
  }
  return path;
}

Napi::Value MakeContainerCgroups(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "makeContainerCgroups(spec)");
  Napi::Object given = info[0].As<Napi::Object>();
  CgroupsToMake spec;
  for (const std::string& dir : strings_of(env, given.Get("dirs"), "dirs")) spec.dirs.push_back(absolute_path(env, Napi::String::New(env, dir), "dirs"));
  if (spec.dirs.empty()) throw Napi::TypeError::New(env, "makeContainerCgroups: dirs must not be empty");
  if (!given.Get("mark").IsString()) throw Napi::TypeError::New(env, "makeContainerCgroups: mark must be a string");
  spec.mark = given.Get("mark").As<Napi::String>().Utf8Value();
  spec.cpusets = strings_of(env, given.Get("cpusets"), "cpusets");
  Napi::Value devices = given.Get("devices");
  if (devices.IsObject()) {
    spec.devices_dir = absolute_path(env, devices.As<Napi::Object>().Get("dir"), "devices.dir");
    spec.device_rules = strings_of(env, devices.As<Napi::Object>().Get("rules"), "devices.rules");
  }
  Napi::Value lock_first = given.Get("lockFirst");
  if (!lock_first.IsUndefined()) {
    if (!lock_first.IsBoolean()) throw Napi::TypeError::New(env, "makeContainerCgroups: lockFirst must be a boolean");
    spec.lock_first = lock_first.As<Napi::Boolean>().Value();
  }
  Napi::Value pids = given.Get("pidsLimit");
  if (pids.IsObject()) {
    spec.pids_dir = absolute_path(env, pids.As<Napi::Object>().Get("dir"), "pidsLimit.dir");
    Napi::Value limit = pids.As<Napi::Object>().Get("limit");
    if (!limit.IsNumber() || limit.As<Napi::Number>().Int64Value() < 0) throw Napi::TypeError::New(env, "makeContainerCgroups: pidsLimit.limit must be a count");
    spec.pids_limit = std::to_string(limit.As<Napi::Number>().Int64Value());
  }
  try {
    return Napi::Number::New(env, make_all(spec));
  } catch (const MakeFailure& failure) {
    Napi::Error error = errno_error(env, failure.err, "make the cgroup " + failure.dir);
    error.Set("path", Napi::String::New(env, failure.dir));
    throw error;
  }
}

}  // namespace

void InitCgroupMaker(Napi::Env env, Napi::Object exports) {
  exports.Set("makeContainerCgroups", Napi::Function::New(env, MakeContainerCgroups, "makeContainerCgroups"));
}

}  // namespace tsc
