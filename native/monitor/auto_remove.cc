#include "monitor/auto_remove.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

namespace tsc {

namespace {

// The file names must match the TypeScript side's sweeps (lib/state/container-directory.ts
// REMOVING_PREFIX, lib/container/writable-layer.ts REMOVING_DIR and RECORD_SUFFIX).
constexpr const char* kStateRemovingPrefix = ".removing-";
constexpr const char* kLayersRemovingDir = ".removing";
constexpr const char* kLayerRecordSuffix = ".json";

std::string parent_of(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos || slash == 0 ? "/" : path.substr(0, slash);
}

std::string name_of(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

int open_directory(const std::string& path) {
  return open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

// Removes `name` in `parent` and all below it; links are removed, never followed.
// A tree deeper than the fds the monitor may open is left to the sweep.
void remove_tree_at(int parent, const char* name) {
  if (unlinkat(parent, name, 0) == 0 || errno == ENOENT) return;
  if (errno != EISDIR) return;
  int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return;
  DIR* dir = fdopendir(fd);
  if (dir == nullptr) {
    close(fd);
    return;
  }
  // Read whole first: removing while reading may skip entries.
  std::vector<std::string> names;
  while (struct dirent* entry = readdir(dir)) {
    std::string child = entry->d_name;
    if (child != "." && child != "..") names.push_back(child);
  }
  for (const auto& child : names) remove_tree_at(dirfd(dir), child.c_str());
  closedir(dir);
  unlinkat(parent, name, AT_REMOVEDIR);
}

// <data root>/containers/<id> -> containers/.removing/<id>.<pid>, its record unlinked, then its files.
void remove_layer(const std::string& layer_dir) {
  if (layer_dir.empty()) return;
  int containers = open_directory(parent_of(layer_dir));
  if (containers < 0) return;
  std::string id = name_of(layer_dir);
  if (mkdirat(containers, kLayersRemovingDir, 0700) != 0 && errno != EEXIST) {
    close(containers);
    return;
  }
  int removing = openat(containers, kLayersRemovingDir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (removing < 0) {
    close(containers);
    return;
  }
  std::string away = id + "." + std::to_string(getpid());
  bool moved = renameat(containers, id.c_str(), removing, away.c_str()) == 0;
  unlinkat(containers, (id + kLayerRecordSuffix).c_str(), 0);
  if (moved) remove_tree_at(removing, away.c_str());
  close(removing);
  close(containers);
}

}  // namespace

StateDirIdentity state_dir_identity(const Plan& plan) {
  StateDirIdentity identity;
  struct stat st;
  if (!plan.state_dir.empty() && lstat(plan.state_dir.c_str(), &st) == 0) {
    identity.dev = st.st_dev;
    identity.ino = st.st_ino;
    identity.known = true;
  }
  return identity;
}

void remove_stopped_container(const Plan& plan, const StateDirIdentity& identity) {
  if (!identity.known) return;
  int root = open_directory(parent_of(plan.state_dir));
  if (root < 0) return;
  std::string id = name_of(plan.state_dir);
  struct stat st;
  // Already deleted (delete -f) or another container's by now: not ours to touch.
  if (fstatat(root, id.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || st.st_dev != identity.dev || st.st_ino != identity.ino) {
    close(root);
    return;
  }
  // The layer first, while the state directory still holds the id: no other container can
  // have claimed the layer's name meanwhile.
  remove_layer(plan.remove_layer_dir);
  std::string away = std::string(kStateRemovingPrefix) + id + "." + std::to_string(getpid());
  if (renameat(root, id.c_str(), root, away.c_str()) == 0) remove_tree_at(root, away.c_str());
  close(root);
}

}  // namespace tsc
