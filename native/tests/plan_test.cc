// parse_plan: the native side of the plan contract (protocol/plan-fields.ts).
#include <cerrno>
#include <string>
#include <vector>

#include "common/plan.h"
#include "common/setup_error.h"
#include "tests/harness.h"

namespace {

// Entries as lib/container/plan.ts serializes them: each "key=value" ended by a NUL.
std::string plan_text(const std::vector<std::string>& entries) {
  std::string text;
  for (const auto& entry : entries) text += entry + '\0';
  return text;
}

tsc::Plan parse(const std::vector<std::string>& entries) { return tsc::parse_plan(plan_text(entries)); }

}  // namespace

TEST(plan_parses_a_run_plan) {
  tsc::Plan plan = parse({"mode=run", "arg=/bin/sh", "arg=-c", "arg=echo a=b", "env=PATH=/bin:/usr/bin", "cwd=/work",
                          "uid=1000", "gid=1001", "group=27", "group=100", "hostname=box", "namespace=pid",
                          "namespace=user", "rootfs=/srv/rootfs", "rootfs.readonly=1", "nonewprivs=1", "init=0",
                          "tty=1", "tty.columns=132", "tty.rows=43", "time.monotonic=-5", "time.boottime=86400",
                          "seccomp=00ff10", "seccomp.notify=1", "log.max_size=18446744073709551615"});
  EXPECT_TRUE(plan.mode == tsc::PlanMode::Run);
  EXPECT_EQ(plan.argv.size(), 3u);
  EXPECT_EQ(plan.argv[2], std::string("echo a=b"));
  EXPECT_EQ(plan.env[0], std::string("PATH=/bin:/usr/bin"));
  EXPECT_EQ(plan.cwd, std::string("/work"));
  EXPECT_EQ(plan.uid, 1000u);
  EXPECT_EQ(plan.gid, 1001u);
  EXPECT_EQ(plan.groups.size(), 2u);
  EXPECT_EQ(plan.groups[1], 100u);
  EXPECT_EQ(plan.hostname, std::string("box"));
  EXPECT_TRUE(plan.has_namespace("user"));
  EXPECT_TRUE(!plan.has_namespace("net"));
  EXPECT_EQ(plan.rootfs, std::string("/srv/rootfs"));
  EXPECT_TRUE(plan.rootfs_readonly);
  EXPECT_TRUE(!plan.init);
  EXPECT_TRUE(plan.tty);
  EXPECT_EQ(plan.tty_columns, 132);
  EXPECT_EQ(plan.tty_rows, 43);
  EXPECT_EQ(plan.monotonic_offset, -5);
  EXPECT_EQ(plan.boottime_offset, 86400);
  EXPECT_EQ(plan.seccomp_program, std::string("\x00\xff\x10", 3));
  EXPECT_TRUE(plan.seccomp_notify);
  EXPECT_EQ(plan.log_max_size, 18446744073709551615ULL);
}

TEST(plan_parses_an_exec_plan_and_monitor_keys) {
  tsc::Plan plan = parse({"mode=exec", "join.pid=4242", "arg=true", "detach=1", "state.dir=/run/tsc/c1",
                          "log.path=/run/tsc/c1/container.log", "log.max_files=5", "restart.policy=on-failure",
                          "restart.max=3", "cgroup.dir=/sys/fs/cgroup/pids/tsc/c1"});
  EXPECT_TRUE(plan.mode == tsc::PlanMode::Exec);
  EXPECT_EQ(plan.join_pid, 4242);
  EXPECT_TRUE(plan.detach);
  EXPECT_EQ(plan.state_dir, std::string("/run/tsc/c1"));
  EXPECT_EQ(plan.log_path, std::string("/run/tsc/c1/container.log"));
  EXPECT_EQ(plan.log_max_files, 5u);
  EXPECT_EQ(plan.restart_policy, std::string("on-failure"));
  EXPECT_EQ(plan.restart_max, 3u);
  EXPECT_EQ(plan.cgroup_dirs.size(), 1u);
}

TEST(plan_decodes_structured_values) {
  tsc::Plan plan = parse({"arg=true", "rlimit=nofile 1024 18446744073709551615", "uidmap=0 100000 65536",
                          "gidmap=0 200000 1", "tmpfs.size=/dev/shm 67108864"});
  EXPECT_EQ(plan.rlimits.size(), 1u);
  EXPECT_EQ(plan.rlimits[0].name, std::string("nofile"));
  EXPECT_EQ(plan.rlimits[0].soft, 1024ULL);
  EXPECT_EQ(plan.rlimits[0].hard, 18446744073709551615ULL);
  EXPECT_EQ(plan.uid_map[0].container_id, 0u);
  EXPECT_EQ(plan.uid_map[0].host_id, 100000u);
  EXPECT_EQ(plan.uid_map[0].size, 65536u);
  EXPECT_EQ(plan.gid_map[0].host_id, 200000u);
  EXPECT_EQ(plan.runtime_tmpfs_size("/dev/shm"), std::string("67108864"));
  EXPECT_EQ(plan.runtime_tmpfs_size("/tmp"), std::string(""));
}

TEST(plan_groups_mount_members_under_the_last_mount) {
  tsc::Plan plan = parse({"arg=true", "mount=bind", "mount.target=/data", "mount.source=/srv/data",
                          "mount.recursive=0", "mount.readonly=1", "mount=tmpfs", "mount.target=/scratch",
                          "mount.size=1048576", "mount.mode=1777"});
  EXPECT_EQ(plan.mounts.size(), 2u);
  EXPECT_EQ(plan.mounts[0].type, std::string("bind"));
  EXPECT_EQ(plan.mounts[0].source, std::string("/srv/data"));
  EXPECT_TRUE(!plan.mounts[0].recursive);
  EXPECT_TRUE(plan.mounts[0].readonly);
  EXPECT_EQ(plan.mounts[1].target, std::string("/scratch"));
  EXPECT_EQ(plan.mounts[1].size, std::string("1048576"));
  EXPECT_EQ(plan.mounts[1].mode, std::string("1777"));
  EXPECT_TRUE(!plan.runtime_tmpfs_wanted("/scratch"));
  EXPECT_TRUE(plan.runtime_tmpfs_wanted("/tmp"));
}

TEST(plan_refuses_an_unknown_key) {
  EXPECT_THROWS_SETUP_ERROR(parse({"arg=true", "bogus=1"}), "read plan (bogus=1)", EINVAL);
  // The names before this contract: one name per field now.
  EXPECT_THROWS_SETUP_ERROR(parse({"arg=true", "monitor.dir=/x"}), "read plan (monitor.dir=/x)", EINVAL);
  EXPECT_THROWS_SETUP_ERROR(parse({"arg=true", "join.pidfd=4"}), "read plan (join.pidfd=4)", EINVAL);
}

TEST(plan_refuses_a_value_its_type_cannot_carry) {
  EXPECT_THROWS_SETUP_ERROR(parse({"arg=true", "uid=abc"}), "read plan (uid=abc)", EINVAL);
  EXPECT_THROWS_SETUP_ERROR(parse({"arg=true", "uid=-1"}), "read plan (uid=-1)", EINVAL);
  EXPECT_THROWS_SETUP_ERROR(parse({"arg=true", "uid=4294967296"}), "read plan (uid=", EINVAL);
  EXPECT_THROWS_SETUP_ERROR(parse({"arg=true", "uid="}), "read plan (uid=)", EINVAL);
  EXPECT_THROWS_SETUP_ERROR(parse({"arg=true", "log.max_size=18446744073709551616"}), "read plan (log.max_size", EINVAL);
  EXPECT_THROWS_SETUP_ERROR(parse({"arg=true", "time.monotonic=5s"}), "read plan (time.monotonic", EINVAL);
  EXPECT_THROWS_SETUP_ERROR(parse({"arg=true", "tty=yes"}), "read plan (tty=yes)", EINVAL);
  EXPECT_THROWS_SETUP_ERROR(parse({"arg=true", "seccomp=0g"}), "read plan (seccomp=0g)", EINVAL);
  EXPECT_THROWS_SETUP_ERROR(parse({"arg=true", "seccomp=abc"}), "read plan (seccomp=abc)", EINVAL);
  EXPECT_THROWS_SETUP_ERROR(parse({"mode=fork", "arg=true"}), "read plan (mode=fork)", EINVAL);
  EXPECT_THROWS_SETUP_ERROR(parse({"arg=true", "mount=overlay"}), "read plan (mount=overlay)", EINVAL);
  EXPECT_THROWS_SETUP_ERROR(parse({"arg=true", "restart.policy=sometimes"}), "read plan (restart.policy", EINVAL);
}

TEST(plan_refuses_a_malformed_encoding) {
  EXPECT_THROWS_SETUP_ERROR(parse({"arg=true", "rlimit=nofile 1024"}), "read plan (rlimit=nofile 1024)", EINVAL);
  EXPECT_THROWS_SETUP_ERROR(parse({"arg=true", "rlimit=nofile  1024 2048"}), "read plan (rlimit=", EINVAL);
  EXPECT_THROWS_SETUP_ERROR(parse({"arg=true", "rlimit=nofile x 2048"}), "read plan (rlimit=", EINVAL);
  EXPECT_THROWS_SETUP_ERROR(parse({"arg=true", "uidmap=0 100000"}), "read plan (uidmap=", EINVAL);
  EXPECT_THROWS_SETUP_ERROR(parse({"arg=true", "uidmap=0 100000 1 2"}), "read plan (uidmap=", EINVAL);
  EXPECT_THROWS_SETUP_ERROR(parse({"arg=true", "tmpfs.size=tmp 1024"}), "read plan (tmpfs.size=", EINVAL);
  EXPECT_THROWS_SETUP_ERROR(parse({"arg=true", "tmpfs.size=/tmp"}), "read plan (tmpfs.size=", EINVAL);
}

TEST(plan_refuses_a_group_member_without_its_group) {
  EXPECT_THROWS_SETUP_ERROR(parse({"arg=true", "mount.target=/data"}), "read plan (mount.target=/data)", EINVAL);
  EXPECT_THROWS_SETUP_ERROR(parse({"mount.source=/srv", "mount=bind", "arg=true"}), "read plan (mount.source", EINVAL);
}

TEST(plan_refuses_an_entry_without_a_value_or_a_program) {
  EXPECT_THROWS_SETUP_ERROR(parse({"arg=true", "tty"}), "read plan (tty)", EINVAL);
  EXPECT_THROWS_SETUP_ERROR(parse({"mode=run"}), "read plan (arg)", EINVAL);
}

TEST(plan_keys_are_found_by_their_text) {
  for (const auto& info : tsc::kPlanKeys) {
    const tsc::PlanKeyInfo* found = tsc::find_plan_key(info.text);
    EXPECT_TRUE(found != nullptr && found->key == info.key);
  }
  EXPECT_TRUE(tsc::find_plan_key("mount.") == nullptr);
  EXPECT_TRUE(tsc::find_plan_key("") == nullptr);
}
