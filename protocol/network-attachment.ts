/**
 * A container's attachment to a network, declared once: TypeScript writes it
 * (lib/networks/attachment-record.ts) and whatever runs the CNI plugins reads it
 * (native/common/cni_exec.cc: the addon for containers Node owns, the monitor for detached
 * ones and their restarts). scripts/generate-protocol.ts writes
 * lib/protocol/generated/network-attachment.ts and native/common/generated/network_attachment.h.
 *
 * The file is NUL-separated "key=value" entries, as the plan is. Repeated keys make lists; a
 * "plugin" entry starts a plugin whose "plugin.config" follows.
 */

export interface AttachmentField {
  key: string;
  repeated?: boolean;
  description: string;
}

export const ATTACHMENT_FIELDS: readonly AttachmentField[] = [
  { key: 'version', description: 'the record format: 1' },
  { key: 'network', description: "the network's name (CNI's network name)" },
  { key: 'container', description: 'the container id (CNI_CONTAINERID)' },
  { key: 'ifname', description: 'the interface in the container (CNI_IFNAME), e.g. eth0' },
  { key: 'cni_path', description: 'where the plugin binaries are (CNI_PATH)' },
  { key: 'netns', description: 'the network namespace of the last ADD (CNI_NETNS); each run passes its own' },
  { key: 'binary', repeated: true, description: 'every binary the chain runs (plugins and IPAM): each must exist before ADD runs any' },
  { key: 'plugin', repeated: true, description: "a plugin of the chain, in ADD order: its binary's name" },
  { key: 'plugin.config', repeated: true, description: "that plugin's exact stdin JSON, without prevResult" },
];

/** Files beside each other in <dataRoot>/networks/<name>/attachments/. */
export const ATTACHMENT_FILES = {
  /** <container>.attachment: the record above; its flock is held while the container may run. */
  record: '.attachment',
  /** <container>.result: the last ADD's CNI result (JSON), prevResult of DEL and CHECK. */
  result: '.result',
} as const;
