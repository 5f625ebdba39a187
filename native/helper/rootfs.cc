#include "helper/rootfs.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/control_channel.h"
#include "common/setup_error.h"
#include "common/syscalls.h"
#include "common/test_pause.h"
#include "common/unique_fd.h"
#include "helper/cgroup_mounts.h"
#include "helper/devices.h"
#include "helper/kernel_mounts.h"
#include "helper/mount_api.h"
#include "helper/network_namespace_maker.h"
#include "helper/overlay_root.h"
#include "helper/path_in_root.h"
#include "helper/phase_marks.h"

namespace tsc {

namespace {

// Host top-level entries that a host-root container gets fresh instead of shared.
const std::set<std::string> kFreshInHostRoot = {"proc", "sys", "dev", "run", "tmp"};

// Where the new root is attached before pivot_root. The mount namespace is
// already private, so covering this host directory affects only the container.
const char* const kStagingCandidates[] = {"/tmp", "/mnt", "/var/tmp"};

bool is_directory_path(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

const char* staging_directory() {
  for (const char* candidate : kStagingCandidates) {
    if (is_directory_path(candidate)) return candidate;
  }
  throw SetupError{"find a staging directory for the rootfs (/tmp, /mnt or /var/tmp)", ENOENT};
}

int open_directory(const char* path, const std::string& step) {
  return static_cast<int>(check(open(path, O_PATH | O_DIRECTORY | O_CLOEXEC), step));
}

// The host's / as a rootfs: a tmpfs root holding a bind of each top-level
// host entry, so that mount targets like /work can be created in it while
// the host's own tree stays untouched and read-only.
int attach_host_root(const Plan& plan, const char* staging) {
  DIR* dir = opendir("/");
  if (!dir) throw SetupError{"read the host's /", errno};
  struct Entry {
    std::string name;
    int tree_fd;
    std::string link_target;
  };
  std::vector<Entry> entries;
  try {
    while (struct dirent* d = readdir(dir)) {
      std::string name = d->d_name;
      if (name == "." || name == ".." || kFreshInHostRoot.count(name)) continue;
      std::string path = "/" + name;
      struct stat st;
      if (lstat(path.c_str(), &st) != 0) continue;
      if (S_ISLNK(st.st_mode)) {
        char target[4096];
        ssize_t n = readlink(path.c_str(), target, sizeof target - 1);
        if (n < 0) continue;
        entries.push_back({name, -1, std::string(target, static_cast<size_t>(n))});
      } else if (S_ISDIR(st.st_mode)) {
        int tree = clone_tree(AT_FDCWD, path, true, "bind host " + path);
        set_mount_attrs(tree, MOUNT_ATTR_NODEV | (plan.rootfs_readonly ? MOUNT_ATTR_RDONLY : 0), 0, true,
                        "bind host " + path);
        entries.push_back({name, tree, ""});
      }
    }
  } catch (...) {
    closedir(dir);
    for (auto& e : entries) if (e.tree_fd >= 0) close(e.tree_fd);
    throw;
  }
  closedir(dir);
  int root_tree = -1;
  {
    StepScope mounting(StepId::Mount);
    root_tree = make_filesystem("tmpfs", {{"mode", "755"}, {"size", "1m"}}, MOUNT_ATTR_NODEV, "mount the root tmpfs");
  }
  attach_mount(root_tree, open_directory(staging, "open the staging directory"), "attach the rootfs");
  int root_fd = open_directory(staging, "open the rootfs");
  for (auto& e : entries) {
    if (e.tree_fd < 0) {
      check(symlinkat(e.link_target.c_str(), root_fd, e.name.c_str()), "symlink /" + e.name);
      continue;
    }
    check(mkdirat(root_fd, e.name.c_str(), 0755), "mkdir /" + e.name);
    attach_in_root(e.tree_fd, root_fd, "/" + e.name, ResolveOptions{CreateAs::Nothing, true}, "bind host /" + e.name);
  }
  return root_fd;
}

// A tmpfs the runtime mounts on its own gets the size the plan gives it (see DEFAULT_TMPFS_SIZES).
FsOptions runtime_tmpfs_options(const Plan& plan, const std::string& target, const char* mode) {
  FsOptions options = {{"mode", mode}};
  std::string size = plan.runtime_tmpfs_size(target);
  if (!size.empty()) options.push_back({"size", size});
  return options;
}

// The host's scratch and runtime directories are the container's own: nothing
// is shared through them (a host socket in /var/tmp, a file another user left
// in /tmp). /tmp and /run are not bound from the host at all; /var/tmp and a
// /var/run that is a directory of its own get an empty tmpfs over them.
void mount_fresh_host_directories(const Plan& plan, int root_fd) {
  const unsigned scratch = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
  if (!plan.rootfs_readonly && plan.runtime_tmpfs_wanted("/tmp")) {
    // (A read-only root gets its /tmp in mount_kernel_filesystems.)
    StepScope mounting(StepId::Mount);
    attach_in_root(make_filesystem("tmpfs", runtime_tmpfs_options(plan, "/tmp", "1777"), scratch, "mount /tmp"), root_fd,
                   "/tmp", ResolveOptions{CreateAs::Directory, true}, "mount /tmp");
  }
  struct Fresh {
    const char* path;
    const char* mode;
  };
  const Fresh fresh[] = {{"/var/tmp", "1777"}, {"/var/run", "755"}};
  // The fresh /run, to tell a /var/run that leads to it (it needs nothing more). A caller's own
  // mount at /run comes later: until then there may be no /run at all.
  struct stat run_st = {};
  UniqueFd run(openat(root_fd, "run", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (run) {
    check(fstat(run.get(), &run_st), "open /run");
    run.reset();
  } else if (errno != ENOENT) {
    throw SetupError{"open /run", errno};
  }
  for (const auto& dir : fresh) {
    if (!plan.runtime_tmpfs_wanted(dir.path)) continue;  // a mount of the caller's replaces it
    std::string step = std::string("mount ") + dir.path;
    StepScope mounting(StepId::Mount);
    UniqueFd target;
    try {
      // Symlinks are followed inside the new root: /var/run -> /run lands on the fresh /run.
      target.reset(open_in_root(root_fd, dir.path, ResolveOptions{CreateAs::Nothing, false}, step));
    } catch (const SetupError& e) {
      if (e.err == ENOENT) continue;  // the host has none: nothing of it to hide
      throw;
    }
    struct stat st;
    if (fstat(target.get(), &st) != 0 || !S_ISDIR(st.st_mode) ||
        (st.st_dev == run_st.st_dev && st.st_ino == run_st.st_ino)) {
      continue;
    }
    int tmpfs = make_filesystem("tmpfs", runtime_tmpfs_options(plan, dir.path, dir.mode), scratch, step);
    attach_mount(tmpfs, target.release(), step);
  }
}

// A rootfs directory, bound (with its submounts) onto the staging directory.
int attach_directory_root(const Plan& plan, const char* staging) {
  std::string step = "bind rootfs " + plan.rootfs;
  UniqueFd tree(clone_tree(AT_FDCWD, plan.rootfs, true, step));
  struct stat st;
  if (fstat(tree.get(), &st) != 0 || !S_ISDIR(st.st_mode)) throw SetupError{step, ENOTDIR};
  // Submounts of the rootfs become read-only now; the root mount itself only
  // at the end: a mount target it lacks is created first, as runc does (an
  // empty directory or file; nothing else is ever written to the rootfs).
  set_mount_attrs(tree.get(), MOUNT_ATTR_NODEV | (plan.rootfs_readonly ? MOUNT_ATTR_RDONLY : 0), 0, true, step);
  if (plan.rootfs_readonly) set_mount_attrs(tree.get(), 0, MOUNT_ATTR_RDONLY, false, step);
  int staging_fd = open_directory(staging, "open the staging directory");
  attach_mount(tree.release(), staging_fd, "attach the rootfs");
  return open_directory(staging, "open the rootfs");
}

// The rootfs as an overlay of its layers (overlay_root.h), attached onto the staging
// directory. A mount target it lacks is created in its upper layer.
int attach_overlay_root(const Plan& plan, const char* staging, int prepared_overlay) {
  int overlay = prepared_overlay >= 0 ? prepared_overlay : make_overlay_root(plan, planned_lower_layers(plan), plan.has_namespace("user"));
  attach_mount(overlay, open_directory(staging, "open the staging directory"), "attach the rootfs");
  return open_directory(staging, "open the rootfs");
}

// procfs, sysfs, /dev and the runtime's own tmpfs mounts, each kept in
// `mounts`: what is mounted inside them later goes through their fds.
void mount_kernel_filesystems(const Plan& plan, int root_fd, KernelMounts& mounts, int pause_dir,
                              const std::function<void()>& enter_cgroups) {
  const unsigned locked_down = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
  // The steps named "mount ..." report as StepId::Mount; "bind /sys" does not.
  std::optional<StepScope> mounting(std::in_place, StepId::Mount);
  mounts.attach(make_filesystem("proc", {}, locked_down, "mount /proc"), root_fd, "/proc", "mount /proc");
  pause_until_resumed(plan, pause_dir, "procfs-mounted");

  int sys_fd;
  try {
    // A network namespace made beside this process is joined now: sysfs shows the network
    // devices of the namespace it is made in.
    if (plan.network_namespace_apart) join_network_namespace_made_apart(kControlFd);
    const unsigned sys_readonly = plan.sys_writable ? 0 : MOUNT_ATTR_RDONLY;
    sys_fd = make_filesystem("sysfs", {}, locked_down | sys_readonly, "mount /sys");
  } catch (const SetupError& e) {
    // sysfs needs a network namespace owned by the container's user
    // namespace; with the host's network, bind the host's /sys read-only.
    if (e.err != EPERM || plan.network_namespace_apart) throw;
    StepScope binding(StepId::Unclassified);
    sys_fd = clone_tree(AT_FDCWD, "/sys", true, "bind /sys");
    set_mount_attrs(sys_fd, (plan.sys_writable ? 0 : MOUNT_ATTR_RDONLY) | locked_down, 0, true, "bind /sys");
  }
  int sys_mount = mounts.attach(sys_fd, root_fd, "/sys", "mount /sys");
  mounting.reset();
  pause_until_resumed(plan, pause_dir, "sysfs-mounted");

  mounting.emplace(StepId::Mount);
  int dev_fd = make_filesystem("tmpfs", {{"mode", "755"}, {"size", "65536k"}},
                               MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_STRICTATIME, "mount /dev");
  int dev_mount = mounts.attach(dev_fd, root_fd, "/dev", "mount /dev");
  mounting.reset();
  pause_until_resumed(plan, pause_dir, "dev-mounted");
  FsOptions shm_options = runtime_tmpfs_options(plan, "/dev/shm", "1777");
  populate_dev(dev_mount, plan.has_namespace("user"), plan.tty && plan.tty_console,
               plan.runtime_tmpfs_wanted("/dev/shm") ? &shm_options : nullptr);

  mounting.emplace(StepId::Mount);
  if (plan.rootfs_readonly && plan.runtime_tmpfs_wanted("/tmp")) {
    mounts.attach(make_filesystem("tmpfs", runtime_tmpfs_options(plan, "/tmp", "1777"), MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
                                  "mount /tmp"),
                  root_fd, "/tmp", "mount /tmp");
  }
  if (plan.rootfs_is_host && plan.runtime_tmpfs_wanted("/run")) {
    mounts.attach(make_filesystem("tmpfs", runtime_tmpfs_options(plan, "/run", "755"), locked_down, "mount /run"),
                  root_fd, "/run", "mount /run");
  }
  mounting.reset();
  mark_phase("/proc, /sys, /dev mounted");
  // Last of these: the cgroups may still be in the making by Node (cgroup_gate.h), and the
  // mounts above need none of them, so the wait for them overlaps this process's own work.
  enter_cgroups();
  mark_phase("cgroups joined");
  mount_cgroup_filesystems(plan, sys_mount);
  mark_phase("cgroup filesystems mounted");
}

// Every mount but the device binds in /dev is nodev: a device node that the
// container's root makes (it keeps CAP_MKNOD, as in Docker) cannot be opened,
// so no disk of the host can be read through one. The bind sources were
// cloned (nodev, and idmapped in a user namespace) by the helper before this
// process was cloned (bind_sources.h).
void mount_user_mounts(const Plan& plan, int root_fd) {
  StepScope mounting(StepId::Mount);
  for (size_t i = 0; i < plan.mounts.size(); i++) {
    const MountSpec& m = plan.mounts[i];
    std::string step = "mount " + m.target;
    if (m.type == "bind") {
      int tree = i < plan.bind_tree_fds.size() ? plan.bind_tree_fds[i] : -1;
      if (tree < 0) throw SetupError{step + " (source " + m.source + ")", EBADF, StepId::MountBindSource};
      struct stat st;
      if (fstat(tree, &st) != 0) {
        int saved = errno;
        close(tree);
        throw SetupError{step, saved};
      }
      CreateAs create = S_ISDIR(st.st_mode) ? CreateAs::Directory : CreateAs::File;
      attach_in_root(tree, root_fd, m.target, ResolveOptions{create, false}, step);
      continue;
    }
    FsOptions options;
    if (!m.size.empty()) options.push_back({"size", m.size});
    options.push_back({"mode", m.mode.empty() ? "1777" : m.mode});
    unsigned attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (m.readonly ? MOUNT_ATTR_RDONLY : 0);
    attach_in_root(make_filesystem("tmpfs", options, attrs, step), root_fd, m.target,
                   ResolveOptions{CreateAs::Directory, false}, step);
  }
}

// An O_PATH fd for a path to mask or make read-only, refusing symlinks on the
// way; -1 when it is absent from a filesystem setup mounted (this kernel lacks
// it). A path in one of those is resolved through that mount's fd, never
// through the rootfs, whose names a writer may have swapped since. A path
// elsewhere must exist: a missing one is an error, never a skip.
int open_mask_target(int root_fd, const KernelMounts& mounts, const std::string& path, const std::string& step) {
  std::string rest;
  int mount_fd = mounts.holding(path, &rest);
  try {
    return open_in_root(mount_fd >= 0 ? mount_fd : root_fd, mount_fd >= 0 ? rest : path,
                        ResolveOptions{CreateAs::Nothing, true}, step);
  } catch (const SetupError& e) {
    if (e.err == ENOENT && mount_fd >= 0) return -1;
    throw;
  }
}

// Paths that would reveal or change the host, hidden as runc and Docker do:
// a file gets /dev/null bound over it, a directory an empty read-only tmpfs.
void mask_paths(const Plan& plan, int root_fd, const KernelMounts& mounts) {
  for (const auto& path : plan.masked_paths) {
    std::string step = "mask " + path;
    UniqueFd target(open_mask_target(root_fd, mounts, path, step));
    if (!target) continue;
    struct stat st;
    check(fstat(target.get(), &st), step);
    UniqueFd cover;
    if (S_ISDIR(st.st_mode)) {
      cover.reset(make_filesystem("tmpfs", {{"size", "0"}, {"mode", "755"}}, MOUNT_ATTR_RDONLY, step));
    } else {
      // The host's /dev/null: the container's own /dev cannot be trusted here.
      cover.reset(clone_tree(AT_FDCWD, "/dev/null", false, step));
      struct stat null_st;
      if (fstat(cover.get(), &null_st) != 0 || !S_ISCHR(null_st.st_mode) || null_st.st_rdev != makedev(1, 3)) {
        throw SetupError{step + " (/dev/null is not the null device)", EINVAL};
      }
    }
    attach_mount(cover.release(), target.release(), step);
  }
  for (const auto& path : plan.readonly_paths) {
    std::string step = "make " + path + " read-only";
    UniqueFd target(open_mask_target(root_fd, mounts, path, step));
    if (!target) continue;
    UniqueFd self_bind(clone_tree(target.get(), "", true, step));
    set_mount_attrs(self_bind.get(), MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, 0,
                    true, step);
    attach_mount(self_bind.release(), target.release(), step);
  }
}

bool covered_by_user_mount(const Plan& plan, const std::string& path) {
  for (const auto& m : plan.mounts) {
    std::string target = m.target;
    while (target.size() > 1 && target.back() == '/') target.pop_back();
    if (path == target || path.compare(0, target.size() + 1, target + "/") == 0) return true;
  }
  return false;
}

// /etc/hostname and /etc/hosts as the container sees them, bound over the
// rootfs's files where they exist: nothing is written on the host. The files
// are written in a private directory of the container's fresh /dev tmpfs, bound
// from there (a bind needs an attached mount on every kernel), then unlinked:
// the binds keep them.
void bind_identity_files(const Plan& plan, int root_fd, const KernelMounts& mounts) {
  if (plan.hostname.empty()) return;
  const char* staging = ".ts-container-identity";
  std::string rest;
  int dev_fd = openat(mounts.holding("/dev", &rest), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dev_fd < 0) throw SetupError{"open /dev", errno};
  const std::pair<const char*, std::string> files[] = {
      {"hostname", plan.hostname + "\n"},
      {"hosts", "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t" + plan.hostname + "\n"},
  };
  int dir_fd = -1;
  auto clean_up = [&]() {
    if (dir_fd >= 0) {
      for (const auto& file : files) unlinkat(dir_fd, file.first, 0);
      close(dir_fd);
      unlinkat(dev_fd, staging, AT_REMOVEDIR);
    }
    close(dev_fd);
  };
  try {
    check(mkdirat(dev_fd, staging, 0700), "write /etc/hostname");
    dir_fd = static_cast<int>(check(openat(dev_fd, staging, O_RDONLY | O_DIRECTORY | O_CLOEXEC), "write /etc/hostname"));
    for (const auto& [name, content] : files) {
      std::string step = std::string("write /etc/") + name;
      // A user's mount over the file (or over /etc) wins.
      if (covered_by_user_mount(plan, std::string("/etc/") + name)) continue;
      UniqueFd target;
      try {
        target.reset(open_in_root(root_fd, std::string("/etc/") + name, ResolveOptions{CreateAs::Nothing, false}, step));
      } catch (const SetupError& e) {
        if (e.err == ENOENT) continue;
        throw;
      }
      struct stat st;
      if (fstat(target.get(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
      {
        UniqueFd file(check(openat(dir_fd, name, O_CREAT | O_WRONLY | O_CLOEXEC, 0644), step));
        check(write(file.get(), content.data(), content.size()), step);
      }
      UniqueFd file_bind(clone_tree(dir_fd, name, false, step));
      set_mount_attrs(file_bind.get(), MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, 0,
                      false, step);
      attach_mount(file_bind.release(), target.release(), step);
    }
  } catch (...) {
    clean_up();
    throw;
  }
  clean_up();
}

void pivot_into(int root_fd) {
  check(fchdir(root_fd), "chdir into the rootfs");
  // pivot_root(".", "."): the old root ends up stacked on the new one, and is
  // then detached with everything below it, host mounts included.
  check(sys_pivot_root(".", "."), StepId::PivotRoot, "pivot_root");
  check(umount2(".", MNT_DETACH), "detach the old root");
  check(chdir("/"), "chdir /");
}

}  // namespace

void build_rootfs(const Plan& plan, int prepared_overlay, const std::function<void()>& enter_cgroups) {
  // Nothing done in this namespace may propagate back to the host.
  check(mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr), "make mounts private");
  const char* staging = staging_directory();
  int pause_dir = open_test_pause_directory(plan, {"procfs-mounted", "sysfs-mounted", "dev-mounted"});
  int root_fd = plan.rootfs_is_host           ? attach_host_root(plan, staging)
                : !plan.rootfs_lower.empty() || prepared_overlay >= 0 ? attach_overlay_root(plan, staging, prepared_overlay)
                                             : attach_directory_root(plan, staging);
  mark_phase("rootfs mounted");
  KernelMounts mounts;
  mount_kernel_filesystems(plan, root_fd, mounts, pause_dir, enter_cgroups);
  if (pause_dir >= 0) close(pause_dir);
  if (plan.rootfs_is_host) mount_fresh_host_directories(plan, root_fd);
  mount_user_mounts(plan, root_fd);
  bind_identity_files(plan, root_fd, mounts);
  mask_paths(plan, root_fd, mounts);
  if (plan.rootfs_readonly) {
    // The mount targets are in place; now the root turns read-only.
    set_mount_attrs(root_fd, MOUNT_ATTR_RDONLY, 0, false, "make the rootfs read-only");
  }
  // Masked or not, a procfs moved away from /proc leaves the program without
  // one: refuse to start rather than run it so.
  mounts.check_in_place(root_fd, [&](const std::string& path) { return covered_by_user_mount(plan, path); });
  mark_phase("mounts, masks made");
  pivot_into(root_fd);
  close(root_fd);
  mark_phase("root pivoted");
}

}  // namespace tsc
