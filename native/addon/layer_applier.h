// Writes the entries of one image layer (parsed from its tar stream in
// TypeScript) into the layer's own directory. Every path is resolved under a
// directory fd with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS |
// RESOLVE_NO_SYMLINKS): nothing is ever written outside the layer directory,
// and an entry whose path runs through a symbolic link is refused rather than
// followed. Whiteouts become overlayfs whiteouts (0:0 character devices) and
// opaque markers the overlay's opaque xattr, so the layer directories can be
// stacked as overlay lower layers as they are.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "addon/path_in_container.h"

namespace tsc {

// Numbered as lib/images/layer-ops.ts numbers them.
enum class LayerEntryKind : uint32_t {
  Directory = 0,
  File = 1,
  Data = 2,  // more bytes of the file opened by the last File entry
  Symlink = 3,
  Hardlink = 4,
  CharDevice = 5,
  BlockDevice = 6,
  Fifo = 7,
  Whiteout = 8,  // path: the name to hide in the layers below
  Opaque = 9,    // path: the directory whose lower contents are hidden
};

struct LayerEntry {
  LayerEntryKind kind = LayerEntryKind::File;
  std::string path;  // relative, normalized, no "." or ".." component; "" is the layer's root
  std::string link;  // symlink target, or the hard link's target path (normalized like path)
  uint32_t mode = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
  int64_t mtime_sec = 0;
  uint32_t mtime_nsec = 0;
  uint32_t dev_major = 0;
  uint32_t dev_minor = 0;
  uint64_t size = 0;  // File: the whole file's size, of which `data` may carry the first part
  std::vector<std::pair<std::string, std::string>> xattrs;
  // Borrowed bytes (the caller keeps them alive while the entry is applied).
  std::vector<std::pair<const char*, size_t>> data;
};

// Why an entry was refused or could not be written: the entry, the errno and what was done.
struct LayerEntryError {
  std::string entry;
  int err;
  std::string what;
};

struct LayerApplierOptions {
  // The xattr that marks an opaque directory: trusted.overlay.opaque, or
  // user.overlay.opaque for an overlay mounted with userxattr (no root).
  std::string opaque_xattr = "trusted.overlay.opaque";
  // Owners, device nodes: failures to set them are errors when privileged,
  // and skipped (as a rootless unpack must) when not.
  bool privileged = true;
  // The layers below, top first (O_PATH directory fds, owned by the applier). A
  // parent directory that the archive leaves out takes the attributes it has
  // there: in the overlay, the upper-most copy of a directory gives its mode.
  std::vector<int> lower_fds;
  // A copy into a container with a user namespace: the entries' owners are the container's
  // ids, written as the host ids its map gives them (an id it does not map is refused).
  IdMap uid_map, gid_map;
  // Whether an entry may replace a directory that is already there by something else (a
  // later entry of a layer does; a copy into a container refuses, as docker cp does).
  bool replace_directories = true;
  // The layers below are not known yet (a pull unpacks a layer while the one below it is
  // still on its way): what a directory takes from them waits for `finish`, which gets them.
  bool lowers_at_finish = false;
};

class LayerApplier {
 public:
  // root_fd: the layer directory, opened O_RDONLY | O_DIRECTORY; owned from now on.
  LayerApplier(int root_fd, LayerApplierOptions options);
  ~LayerApplier();
  LayerApplier(const LayerApplier&) = delete;
  LayerApplier& operator=(const LayerApplier&) = delete;

  // Before the first entry: the layer's root takes the attributes of the root
  // below (the overlay's root shows the upper-most layer's), until the archive
  // names its own ("./"). Throws LayerEntryError.
  void inherit_root();
  // Throws LayerEntryError.
  void apply(const LayerEntry& entry);
  // The host ids of the container's root, when the copy is into a container with a user
  // namespace: what new files are created as (CreatorIds). False without a map.
  bool creator_ids(uid_t* uid, gid_t* gid) const;
  // After the last entry: directory modes and mtimes (set last, since writing
  // into a directory changes its mtime). With lowers_at_finish, `lower_fds` are the
  // layers below (owned from now on), and the directories the archive left out take
  // their attributes from them first. Throws LayerEntryError.
  void finish(std::vector<int> lower_fds = {});

 private:
  struct DirectoryFix {
    uint32_t mode;
    int64_t mtime_sec;
    uint32_t mtime_nsec;
  };
  // A directory made because an entry needed it, whose inheritance waits for finish (lowers_at_finish).
  struct LeftOutDirectory {
    // A later entry of the archive named it: its own owner, mode and mtime stand, and its own
    // xattrs win over the inherited ones of the same key (as when inherited at once).
    bool named = false;
    std::vector<std::string> own_xattrs;
  };

  int parent_of(const std::string& path, std::string* name);
  int open_directory_path(const std::string& path, bool create, int flags);
  void forget_cached_parent();
  void inherit_directory(int dir_fd, const std::string& path);
  void inherit_now(int dir_fd, const std::string& path, const LeftOutDirectory* named);
  void forget_left_out(const std::string& path);
  void remove_existing(int parent, const std::string& name, const std::string& entry);
  void remove_tree(int parent, const std::string& name, const std::string& entry);

  void make_directory(const LayerEntry& e);
  void begin_file(const LayerEntry& e);
  void write_data(const LayerEntry& e);
  void end_file();
  void make_symlink(const LayerEntry& e);
  void make_hardlink(const LayerEntry& e);
  void make_node(const LayerEntry& e);
  void make_whiteout(const LayerEntry& e);
  void mark_opaque(const LayerEntry& e);
  void set_owner_at(int parent, const std::string& name, const LayerEntry& e);
  void set_xattrs_at(int parent, const std::string& name, const LayerEntry& e);
  void set_times_at(int parent, const std::string& name, const LayerEntry& e);
  void chmod_at(int parent, const std::string& name, uint32_t mode, const std::string& entry);
  int chown_fd(int fd, const LayerEntry& e);
  uid_t host_uid(const LayerEntry& e);
  gid_t host_gid(const LayerEntry& e);

  int root_fd_;
  LayerApplierOptions options_;
  // The parent directory of the last entry (entries of a tar come grouped by directory).
  std::string cached_parent_path_;
  int cached_parent_fd_ = -1;
  // The regular file being written, waiting for `file_remaining_` more bytes.
  int file_fd_ = -1;
  uint64_t file_remaining_ = 0;
  LayerEntry file_entry_;
  std::map<std::string, DirectoryFix> directory_fixes_;
  std::map<std::string, LeftOutDirectory> left_out_;
};

}  // namespace tsc
