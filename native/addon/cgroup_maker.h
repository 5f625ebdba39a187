// A container's cgroups made in one native call, on Node's thread.
//
// lib/cgroups/container-cgroup.ts makes a container's cgroup in every hierarchy (ten on a
// hybrid host), marks each, flocks the primary one, gives a v1 cpuset its parent's CPUs and
// memory nodes, fills the v1 devices list and sets the default pids limit: about forty system
// calls, on Node's thread while the helper waits for the cgroups at its gate
// (native/helper/cgroup_gate.h). Made from JavaScript, each came with its own call into the
// runtime (a mkdirSync, a setXattr, a writeFileSync that opens, writes and closes). Here they
// are made in the same order, with the same marks, in one call.
#pragma once

#include <napi.h>

namespace tsc {

// makeContainerCgroups({ dirs, mark, cpusets, devices?: { dir, rules }, pidsLimit?: { dir, limit }, lockFirst? })
//   → the primary directory's fd (the first of dirs), flocked before it was marked; with
//   lockFirst false, -1: the rest of a make whose primary directory an earlier call made
//   (on a hybrid host the cgroup2 one is made before the plan: native/helper/cgroup_join.h).
//   Each of dirs is made (mode 0755) and marked: the extended attribute `mark` set to
//   "container". Each of cpusets (among dirs) takes its parent's empty cpuset.cpus and
//   cpuset.mems; devices.dir denies every device and then allows each rule, one write each;
//   pidsLimit.dir gets pids.max. On a failure what was made is removed, deepest first, and it
//   throws an errno error with step "make the cgroup <dir>" and path <dir>: EEXIST for a
//   directory that exists, EAGAIN for a primary directory another process holds the lock of,
//   ENOENT for a parent that is gone.
void InitCgroupMaker(Napi::Env env, Napi::Object exports);

}  // namespace tsc
