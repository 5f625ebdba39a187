#include "helper/overlay_root.h"

#include <fcntl.h>
#include <linux/mount.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "common/setup_error.h"
#include "common/syscalls.h"
#include "common/unique_fd.h"

namespace tsc {

namespace {

const char* const kStep = "mount the rootfs overlay";
// fsconfig copies a string value of at most this many bytes (its terminating NUL excluded).
constexpr size_t kMaxOptionBytes = 255;

void check_length(const char* key, const std::string& value, const std::string& step) {
  if (value.size() <= kMaxOptionBytes) return;
  throw SetupError{step + " (" + key + " " + value + ": longer than the " + std::to_string(kMaxOptionBytes) +
                       " bytes a mount option may have)",
                   ENAMETOOLONG};
}

void set_string(int fs, const char* key, const std::string& value, const std::string& step) {
  check_length(key, value, step);
  check(sys_fsconfig(fs, FSCONFIG_SET_STRING, key, value.c_str(), 0), step);
}

// What overlayfs is given for layer i: its path, or the /proc/self/fd path of its tree.
std::string layer_name(const OverlayLower& lower, size_t i) {
  return lower.fds.empty() ? lower.paths[i] : "/proc/self/fd/" + std::to_string(lower.fds[i]);
}

// Linux 6.13 and later take a layer as an fd (FSCONFIG_SET_FD): a detached tree needs no
// path. False when this kernel's overlayfs does not (the filesystem context is then spent).
bool add_layer_fds(int fs, const OverlayLower& lower) {
  for (size_t i = 0; i < lower.fds.size(); i++) {
    if (sys_fsconfig(fs, FSCONFIG_SET_FD, "lowerdir+", nullptr, lower.fds[i]) == 0) continue;
    if (i == 0 && errno == EINVAL) return false;
    throw SetupError{std::string(kStep) + " (lower layer " + lower.paths[i] + ")", errno};
  }
  return true;
}

// Linux 6.8 and later: each layer on its own, as many as overlayfs stacks. False when
// this kernel's overlayfs does not know "lowerdir+" (the filesystem context is then spent).
bool add_layers_one_by_one(int fs, const OverlayLower& lower) {
  for (size_t i = 0; i < lower.paths.size(); i++) {
    const std::string& layer = lower.paths[i];
    std::string step = std::string(kStep) + " (lower layer " + layer + ")";
    std::string name = layer_name(lower, i);
    check_length("lowerdir+", name, step);
    if (sys_fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir+", name.c_str(), 0) == 0) continue;
    if (i == 0 && errno == EINVAL) return false;
    throw SetupError{step, errno};
  }
  return true;
}

// Before Linux 6.8: one "lowerdir" value, top layer first, each layer named by a short
// /proc/self/fd path of a directory opened here (held in `held` until the mount is made).
void add_layers_as_one_string(int fs, const OverlayLower& lower, std::vector<UniqueFd>& held) {
  std::string joined;
  for (size_t i = 0; i < lower.paths.size(); i++) {
    if (!joined.empty()) joined += ':';
    if (!lower.fds.empty()) {
      joined += layer_name(lower, i);
      continue;
    }
    const std::string& layer = lower.paths[i];
    held.emplace_back(check(open(layer.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC),
                            std::string(kStep) + " (lower layer " + layer + ")"));
    joined += "/proc/self/fd/" + std::to_string(held.back().get());
  }
  if (joined.size() > kMaxOptionBytes) {
    throw SetupError{std::string(kStep) + " (" + std::to_string(lower.paths.size()) +
                         " lower layers do not fit in one lowerdir option; more need Linux 6.8 or later)",
                     E2BIG};
  }
  set_string(fs, "lowerdir", joined, kStep);
}

// overlayfs marks a volatile mount's work directory (work/incompat/volatile/dirty) and refuses to
// mount it again while the mark is there, since after a crash the layer may be half written. A
// layer is mounted again only by the monitor of a container that lived through its exit (a
// restart); after a crash of the machine the layer is swept, never mounted. So the mark goes.
void clear_volatile_mark(const std::string& work_dir) {
  const std::string step = std::string(kStep) + " (work directory " + work_dir + ")";
  UniqueFd work(open(work_dir.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!work) throw SetupError{step, errno};
  const struct {
    const char* name;
    int flags;
  } marks[] = {{"work/incompat/volatile/dirty", 0}, {"work/incompat/volatile", AT_REMOVEDIR}, {"work/incompat", AT_REMOVEDIR}};
  for (const auto& mark : marks) {
    if (unlinkat(work.get(), mark.name, mark.flags) != 0 && errno != ENOENT) throw SetupError{step, errno};
  }
}

// Everything but the lower layers: the container's writable layer, and the xattrs overlayfs
// may use in a user namespace.
void set_layer_options(int fs, const Plan& plan, bool inside_user_namespace) {
  if (!plan.rootfs_upper.empty()) {
    set_string(fs, "upperdir", plan.rootfs_upper, std::string(kStep) + " (upper layer " + plan.rootfs_upper + ")");
    set_string(fs, "workdir", plan.rootfs_work, std::string(kStep) + " (work directory " + plan.rootfs_work + ")");
    // The layer never outlives a crash of the machine (the sweep removes it): syncing it buys
    // nothing, and without "volatile" the unmount as the container's last process exits waits
    // for the upper filesystem to sync, and a sync() in the container syncs the host's disk.
    clear_volatile_mark(plan.rootfs_work);
    check(sys_fsconfig(fs, FSCONFIG_SET_FLAG, "volatile", nullptr, 0), std::string(kStep) + " (option volatile)");
  }
  // In a user namespace, overlayfs may not use trusted.* xattrs: it keeps its own in user.overlay.*.
  if (inside_user_namespace) check(sys_fsconfig(fs, FSCONFIG_SET_FLAG, "userxattr", nullptr, 0), kStep);
}

UniqueFd open_overlay_context() {
  return UniqueFd(check(sys_fsopen("overlay", FSOPEN_CLOEXEC), std::string(kStep) + " (open overlayfs)"));
}

}  // namespace

int make_overlay_root(const Plan& plan, const OverlayLower& lower, bool inside_user_namespace) {
  StepScope mounting(StepId::MountRootfsOverlay);
  const size_t layers = lower.paths.size();
  if (layers == 0 || layers > kOverlayMaxLowerLayers) {
    throw SetupError{std::string(kStep) + " (" + std::to_string(layers) + " lower layers; overlayfs stacks 1 to " +
                         std::to_string(kOverlayMaxLowerLayers) + ")",
                     E2BIG};
  }
  if (!lower.fds.empty() && lower.fds.size() != layers) throw SetupError{std::string(kStep) + " (a tree per lower layer)", EINVAL};
  UniqueFd fs = open_overlay_context();
  std::vector<UniqueFd> held;
  bool added = false;
  bool one_by_one = false;
  if (!plan.overlay_single_string && !lower.fds.empty()) {
    added = add_layer_fds(fs.get(), lower);
    if (!added) fs = open_overlay_context();
  }
  if (!added && !plan.overlay_single_string) {
    one_by_one = add_layers_one_by_one(fs.get(), lower);
    if (!one_by_one) fs = open_overlay_context();
  }
  if (!added && !one_by_one) add_layers_as_one_string(fs.get(), lower, held);
  set_layer_options(fs.get(), plan, inside_user_namespace);
  if (sys_fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0) {
    int err = errno;
    // overlayfs before Linux 6.5 takes its options the legacy way, as one string it parses only
    // now: a "lowerdir+" it does not know is refused here, not when it was set. Once more with
    // one "lowerdir"; an overlay that cannot be made so either keeps the first error.
    if (err != EINVAL || !one_by_one) throw SetupError{kStep, err};
    fs = open_overlay_context();
    try {
      add_layers_as_one_string(fs.get(), lower, held);
    } catch (const SetupError&) {
      throw SetupError{kStep, err};
    }
    set_layer_options(fs.get(), plan, inside_user_namespace);
    check(sys_fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0), kStep);
  }
  return static_cast<int>(check(sys_fsmount(fs.get(), FSMOUNT_CLOEXEC, MOUNT_ATTR_NODEV), kStep));
}

}  // namespace tsc
