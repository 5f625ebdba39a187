/**
 * What crosses the helper's report channel, declared once: the message kinds and the numeric
 * id of each setup step the helper reports. scripts/generate-protocol.ts writes them into
 * lib/protocol/generated/steps.ts and native/common/generated/steps.h.
 *
 * A failed step crosses as {step id, errno, detail}: the detail is the text the user reads
 * ("mount /data (source /srv/data)"), the id is what the TypeScript side classifies by
 * (lib/container/setup-hints.ts). Ids are part of the wire format: never renumber one.
 */

/**
 * The messages on the control channel: "ok <pid>" or "error <pid> <errno> <step id> <detail>"
 * (native/common/control_channel.cc; the addon hands them to TypeScript as HelperReport).
 */
export const REPORT_KINDS = ['ok', 'error'] as const;

export interface ReportStep {
  id: number;
  /** The identifier on both sides (StepId::Mount, Step.Mount). */
  name: string;
  description: string;
}

export const REPORT_STEPS: readonly ReportStep[] = [
  { id: 0, name: 'Unclassified', description: 'a step the TypeScript side does not tell apart: only its detail says what it was' },
  { id: 1, name: 'ReadPlan', description: 'reading or parsing the plan' },
  { id: 2, name: 'Clone', description: "clone3 of the container's first process (its namespaces)" },
  { id: 3, name: 'Exec', description: "exec of the user's program: its failure is the program's own spawn error" },
  { id: 4, name: 'Mount', description: 'a mount inside the rootfs (a tmpfs, a bind target, the runtime\'s own tmpfs mounts)' },
  { id: 5, name: 'MountBindSource', description: "opening the host source of a bind mount" },
  { id: 6, name: 'IdmapMount', description: 'idmapping a bind mount for the user namespace' },
  { id: 7, name: 'AllocateTerminal', description: "opening the container's /dev/ptmx for a terminal" },
  { id: 8, name: 'PivotRoot', description: 'pivot_root into the rootfs' },
  { id: 9, name: 'JoinNamespaces', description: "exec: setns into the container's namespaces through its pidfd" },
  { id: 10, name: 'OpenContainerRoot', description: "exec: opening the container's root through /proc/<pid>/root" },
  { id: 11, name: 'MountRootfsOverlay', description: 'mounting the rootfs as an overlay of its layers and its writable layer' },
  { id: 12, name: 'ShareNamespaces', description: "run: joining another container's namespaces (net, uts, ipc) through its pidfd before the clone" },
  { id: 13, name: 'ResolveUser', description: "resolving a user given by name in the container's /etc/passwd and /etc/group" },
];
