// Waiting a moment for Node or the helper, spinning before sleeping.
//
// A worker waits for Node's plan and cgroup gate, and the process it clones for the worker's
// gates; each answer comes within a fraction of a millisecond, from a process on the other
// CPU. Sleeping at once, the waiter's CPU goes idle, and on a virtual machine whose idle vCPUs
// halt (no guest halt polling) the answer then has to wake a halted vCPU: 40-60 µs per wake on
// a 2-core guest, against about 2 µs for a waiter that is still running.
#pragma once

namespace tsc {

// How long a wait spins before it sleeps.
constexpr long kSpinBeforeSleepUs = 1000;

// Returns once `fd` is readable, or after kSpinBeforeSleepUs (the caller's read then sleeps
// as before); at once when this process has a single CPU to run on. Each turn yields the CPU
// to anything else runnable on it, so that the spin only takes time the CPU would idle.
void spin_until_readable(int fd);

}  // namespace tsc
