#pragma once

#include <sys/types.h>

namespace tsc {

// For the life of the object, the calling thread creates files as `uid`:`gid` (its fs ids;
// setfsuid is per thread, so other threads of the pool are untouched), with its effective
// capabilities kept: a filesystem mounted inside a container's user namespace (its /tmp)
// refuses to create an inode whose owner that namespace does not map (EOVERFLOW), and the
// host's root is not mapped there. Put back (root's fs ids) when destroyed.
class CreatorIds {
 public:
  CreatorIds(uid_t uid, gid_t gid);
  ~CreatorIds();
  CreatorIds(const CreatorIds&) = delete;
  CreatorIds& operator=(const CreatorIds&) = delete;

 private:
  uid_t saved_uid_;
  gid_t saved_gid_;
};

}  // namespace tsc
