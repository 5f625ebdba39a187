#!/usr/bin/env bash
# Runs a command against this checkout inside a qemu guest whose kernel has cgroup v2 only
# (cgroup_no_v1=all): the `npm run test:cgroup2` entry.
#
#   bash test/vm/run-in-vm.sh                     # jest --runInBand test/cgroups test/security/device-cgroup.test.ts
#   bash test/vm/run-in-vm.sh -- CMD [ARG...]     # any command, run in the checkout
#
# Prints the guest's output and exits with the command's exit status (125: the harness
# itself failed, 124: timed out). Needs root. See test/vm/README.md.
#
# No disk image: the guest mounts the host's / read-only over virtio-9p, with a tmpfs
# overlay on top, so it runs the host's node, node_modules and build/ as they are, and
# nothing it writes reaches the host. What it needs comes from Debian's archive on first
# use (qemu and kmod are installed; the kernel package is only downloaded and unpacked in
# the cache, never installed, so the host's own boot setup is untouched).
#
# Environment:
#   TSC_VM_TIMEOUT=900     seconds before the guest is killed (2400 for the default suite)
#   TSC_VM_MEM=2048        guest memory, MiB
#   TSC_VM_CPUS=2          guest CPUs
#   TSC_VM_CACHE=/var/cache/ts-container-vm   kernel and initramfs cache
#   TSC_VM_KERNEL_PKG=linux-image-amd64 (arm64: linux-image-arm64)   Debian kernel package
#   TSC_VM_REFRESH=1       ask apt again for the newest kernel package
#   TSC_VM_SUITE=trixie    take the kernel from another Debian suite (private apt lists in
#                          the cache, same mirror as the host's apt; default: the host's apt)
#   TSC_VM_VERBOSE=1       show the firmware and kernel boot log and kernel messages
#   TSC_VM_CGROUP=NAME     run the command in /sys/fs/cgroup/NAME instead of the root cgroup
#                          (as on a systemd host, where the caller sits in a leaf scope)
#   TSC_VM_ENV="A B"       names of more host variables to pass into the guest
#                          (CI, FORCE_COLOR, NO_COLOR and DEBUG always are)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
CACHE=${TSC_VM_CACHE:-/var/cache/ts-container-vm}
TIMEOUT=${TSC_VM_TIMEOUT:-900}
MEM=${TSC_VM_MEM:-2048}
CPUS=${TSC_VM_CPUS:-2}
VERBOSE=${TSC_VM_VERBOSE:-0}

say() { echo "run-in-vm: $*" >&2; }
die() { say "error: $*"; exit 125; }

[ "${1:-}" = "--" ] && shift
if [ $# -eq 0 ]; then
  # jest's own bin, not npx: npm's start-up alone costs ~20 s in an emulated guest.
  set -- node node_modules/.bin/jest --runInBand test/cgroups test/security/device-cgroup.test.ts
  # The whole suite takes 10 to 20 minutes in an emulated guest on a busy machine.
  TIMEOUT=${TSC_VM_TIMEOUT:-2400}
fi

[ "$(id -u)" = 0 ] || die "must run as root (it installs packages and passes / to qemu with its owners)"

case "$(uname -m)" in
  x86_64)
    DEBARCH=amd64 QEMU_PKG=qemu-system-x86 QEMU=qemu-system-x86_64 CONSOLE=ttyS0
    MACHINE=(-machine pc) ;;
  aarch64)
    DEBARCH=arm64 QEMU_PKG=qemu-system-arm QEMU=qemu-system-aarch64 CONSOLE=ttyAMA0
    MACHINE=(-machine virt,gic-version=max) ;;
  *) die "unsupported host architecture $(uname -m)" ;;
esac
KERNEL_PKG=${TSC_VM_KERNEL_PKG:-linux-image-$DEBARCH}

ARCH_CACHE=$CACHE/$DEBARCH
mkdir -p "$ARCH_CACHE"
# One preparation at a time; runs may then boot side by side.
exec 9>"$ARCH_CACHE/lock"
flock 9

# --- host packages (installed only when missing) -------------------------------------
APT_UPDATED=0
apt_update_once() {
  if [ "$APT_UPDATED" = 0 ]; then
    say "apt-get update"
    apt-get update -qq >&2 || die "apt-get update failed"
    APT_UPDATED=1
  fi
}
missing=()
for p in "$QEMU_PKG" kmod busybox-static; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2; then
    apt_update_once
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 \
      || die "apt-get install ${missing[*]} failed"
  fi
fi
command -v "$QEMU" >/dev/null || die "$QEMU not found after installing $QEMU_PKG"
BUSYBOX=/bin/busybox
[ -x "$BUSYBOX" ] || die "$BUSYBOX not found (Debian's busybox-static)"

# --- the guest kernel: Debian's package, unpacked into the cache ------------------------
# $ARCH_CACHE/current names the unpacked kernel version; it is reused offline until
# TSC_VM_REFRESH=1 asks apt for the newest one.
# TSC_VM_SUITE=trixie (or bookworm-backports, ...) takes the kernel from another Debian suite
# through a private apt state under the cache, with the mirror the host's apt already uses;
# the host's apt configuration is not changed.
SUITE=${TSC_VM_SUITE:-}
APT_OPTS=()
if [ -n "$SUITE" ]; then
  SUITE_DIR=$ARCH_CACHE/apt-$SUITE
  mirror=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | sed -n 's/^URIs: *//p' | tr ' ' '\n' | grep -v security | head -1)
  [ -n "$mirror" ] || mirror=$(cat /etc/apt/sources.list 2>/dev/null | awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /:\/\//) { print $i; exit } }')
  [ -n "$mirror" ] || die "TSC_VM_SUITE: no Debian mirror found in the host's apt sources"
  mkdir -p "$SUITE_DIR/lists/partial" "$SUITE_DIR/cache/archives/partial"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $SUITE main" >"$SUITE_DIR/sources.list"
  APT_OPTS=(-o "Dir::Etc::SourceList=$SUITE_DIR/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$SUITE_DIR/lists" -o "Dir::Cache=$SUITE_DIR/cache" -o "APT::Architecture=$DEBARCH")
  ARCH_CACHE=$ARCH_CACHE/$SUITE
  mkdir -p "$ARCH_CACHE"
fi
suite_update() {
  if [ -n "$SUITE" ]; then
    say "apt-get update ($SUITE, private lists in $SUITE_DIR)"
    apt-get "${APT_OPTS[@]}" update -qq >&2 || die "apt-get update for suite $SUITE failed"
  else
    apt_update_once
  fi
}
kernel_version_from_apt() {
  # linux-image-amd64 is a metapackage: its Depends names the versioned image package.
  local dep
  dep=$(apt-cache "${APT_OPTS[@]}" show --no-all-versions "$KERNEL_PKG" 2>/dev/null | sed -n 's/^Depends: *//p' | head -1)
  if [ -z "$dep" ]; then
    suite_update >&2
    dep=$(apt-cache "${APT_OPTS[@]}" show --no-all-versions "$KERNEL_PKG" 2>/dev/null | sed -n 's/^Depends: *//p' | head -1)
  fi
  dep=$(echo "$dep" | tr ',' '\n' | grep -o 'linux-image-[^ ]*' | head -1)
  if [ -z "$dep" ]; then
    # Already a versioned image package (TSC_VM_KERNEL_PKG=linux-image-6.1.0-NN-amd64).
    dep=$KERNEL_PKG
  fi
  echo "$dep"
}

KPKG=
if [ "${TSC_VM_REFRESH:-0}" != 1 ] && [ -f "$ARCH_CACHE/current" ]; then
  KPKG=$(cat "$ARCH_CACHE/current")
  [ -f "$ARCH_CACHE/$KPKG/.complete" ] || KPKG=
fi
if [ -z "$KPKG" ]; then
  KPKG=$(kernel_version_from_apt)
  [ -n "$KPKG" ] || die "cannot resolve $KERNEL_PKG with apt-cache"
fi
KDIR=$ARCH_CACHE/$KPKG
if [ ! -f "$KDIR/.complete" ]; then
  say "downloading $KPKG (Debian's kernel, unpacked into $KDIR, not installed)"
  dl=$(mktemp -d "$ARCH_CACHE/dl.XXXXXX")
  chown _apt "$dl" 2>/dev/null || true
  # Newer packaging splits the image package into linux-binary-VER (vmlinuz) and
  # linux-modules-VER: take those of its dependencies too.
  kver_suffix=${KPKG#linux-image-}
  pkgs=("$KPKG")
  pkgs+=($(apt-cache "${APT_OPTS[@]}" show --no-all-versions "$KPKG" 2>/dev/null | sed -n 's/^Depends: *//p' | head -1 \
    | tr ',|' '\n\n' | awk '{ print $1 }' | grep -xE "linux-(binary|modules)-$(printf '%s' "$kver_suffix" | sed 's/[.+]/\\&/g')" || true))
  if ! (cd "$dl" && apt-get "${APT_OPTS[@]}" download -qq "${pkgs[@]}" >&2); then
    suite_update
    (cd "$dl" && apt-get "${APT_OPTS[@]}" download -qq "${pkgs[@]}" >&2) || { rm -rf "$dl"; die "apt-get download ${pkgs[*]} failed"; }
  fi
  rm -rf "$KDIR.tmp"
  for deb in "$dl"/*.deb; do dpkg-deb -x "$deb" "$KDIR.tmp"; done
  rm -rf "$dl"
  # Merged-/usr packages (trixie on) ship usr/lib/modules.
  [ -e "$KDIR.tmp/lib" ] || ln -s usr/lib "$KDIR.tmp/lib"
  kv=$(ls "$KDIR.tmp/lib/modules" 2>/dev/null | head -1 || true)
  # The image is /boot/vmlinuz-VER, or /usr/lib/modules/VER/vmlinuz in newer packaging.
  if [ -n "$kv" ] && [ ! -f "$KDIR.tmp/boot/vmlinuz-$kv" ] && [ -f "$KDIR.tmp/lib/modules/$kv/vmlinuz" ]; then
    mkdir -p "$KDIR.tmp/boot"
    ln -s "../lib/modules/$kv/vmlinuz" "$KDIR.tmp/boot/vmlinuz-$kv"
  fi
  [ -n "$kv" ] && [ -f "$KDIR.tmp/boot/vmlinuz-$kv" ] || die "$KPKG has no /boot/vmlinuz and /lib/modules"
  depmod -b "$KDIR.tmp" "$kv"
  echo "$kv" >"$KDIR.tmp/.kver"
  touch "$KDIR.tmp/.complete"
  rm -rf "$KDIR"
  mv "$KDIR.tmp" "$KDIR"
fi
echo "$KPKG" >"$ARCH_CACHE/current"
KVER=$(cat "$KDIR/.kver")
VMLINUZ=$KDIR/boot/vmlinuz-$KVER

# --- the initramfs: busybox, the 9p/virtio/overlay modules, guest-init.sh as /init -------
# virtio_blk: the scratch disk (below) that the tests of block device limits and rules need.
MODULES=(9p 9pnet_virtio virtio_pci overlay virtio_blk)
mod_paths() {
  local m
  for m in "${MODULES[@]}"; do
    # Nothing printed: built into the kernel (modprobe says "builtin"), or absent, which the
    # guest then reports when it cannot mount.
    modprobe -d "$KDIR" -S "$KVER" --show-depends "$m" 2>/dev/null | awk '$1 == "insmod" { print $2 }' || true
  done | awk '!seen[$0]++'
}
MOD_PATHS=$(mod_paths)
[ -n "$MOD_PATHS" ] || die "no modules found for ${MODULES[*]} in $KDIR"
stamp=$( (cat "$HERE/guest-init.sh"; sha256sum "$BUSYBOX"; echo "$MOD_PATHS") | sha256sum | cut -c1-16)
INITRD=$ARCH_CACHE/initramfs-$KVER-$stamp.cpio.gz
if [ ! -f "$INITRD" ]; then
  say "building $INITRD"
  st=$(mktemp -d "$ARCH_CACHE/initramfs.XXXXXX")
  mkdir -p "$st"/{bin,dev,proc,sys,modules,host,rw,newroot}
  cp "$BUSYBOX" "$st/bin/busybox"
  cp "$HERE/guest-init.sh" "$st/init"
  chmod 0755 "$st/init" "$st/bin/busybox"
  mknod "$st/dev/console" c 5 1
  while read -r ko; do
    # Newer Debian kernels compress their modules; busybox's insmod wants them plain.
    name=$(basename "$ko")
    case "$ko" in
      *.ko.xz) name=${name%.xz}; xz -dc "$ko" >"$st/modules/$name" ;;
      *.ko.zst) name=${name%.zst}; zstd -qdc "$ko" >"$st/modules/$name" ;;
      *.ko.gz) name=${name%.gz}; gzip -dc "$ko" >"$st/modules/$name" ;;
      *) cp "$ko" "$st/modules/$name" ;;
    esac
    echo "$name" >>"$st/modules/order"
  done <<<"$MOD_PATHS"
  (cd "$st" && find . | "$BUSYBOX" cpio -o -H newc 2>/dev/null | gzip -1) >"$INITRD.tmp"
  mv "$INITRD.tmp" "$INITRD"
  rm -rf "$st"
  # Drop initramfs images of older guest-init.sh versions.
  find "$ARCH_CACHE" -maxdepth 1 -name 'initramfs-*.cpio.gz' ! -path "$INITRD" -delete
fi

# --- project prerequisites on the host (the guest sees the host's files read-only) -------
if [ -f "$REPO/test/support/busybox-rootfs.ts" ] && [ ! -f "$REPO/.test-rootfs/busybox/.complete" ]; then
  say "building .test-rootfs/busybox"
  (cd "$REPO" && npx tsx -e "require('./test/support/busybox-rootfs').ensureBusyboxRootfs()") >&2 \
    || die "cannot build .test-rootfs/busybox"
fi
[ -f "$REPO/build/Release/ts_container.node" ] || say "warning: build/Release/ts_container.node is missing (run npm install or npx node-gyp rebuild)"
flock -u 9

# --- the run: a script the guest runs with the host's bash, in the checkout --------------
mkdir -p "$CACHE/runs"
RUN=$(mktemp -d "$CACHE/runs/run.XXXXXX")
chmod 0755 "$RUN"
CONSOLE_LOG=$RUN/console.log
cleanup() {
  # timeout(1) puts qemu in a process group of its own, so a ^C here does not reach it.
  if [ -s "$RUN/qemu.pid" ]; then kill "$(cat "$RUN/qemu.pid")" 2>/dev/null || true; fi
  if [ "${KEEP_LOG:-0}" = 1 ]; then
    mkdir -p "$CACHE/logs"
    cp "$CONSOLE_LOG" "$CACHE/logs/last-console.log" 2>/dev/null || true
  fi
  rm -rf "$RUN"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "$REPO" >"$RUN/repo"
{
  echo '# generated by test/vm/run-in-vm.sh'
  echo 'export HOME=/root'
  echo 'export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
  echo 'export LANG=C.UTF-8 TERM=dumb'
  echo 'export npm_config_cache=/tmp/npm-cache npm_config_update_notifier=false'
  echo 'export TSC_VM=1'
  for v in CI FORCE_COLOR NO_COLOR DEBUG ${TSC_VM_ENV:-}; do
    if [ -n "${!v+x}" ]; then printf 'export %s=%q\n' "$v" "${!v}"; fi
  done
  if [ -n "${TSC_VM_CGROUP:-}" ]; then
    printf 'mkdir -p /sys/fs/cgroup/%q && echo $$ >/sys/fs/cgroup/%q/cgroup.procs || exit 125\n' \
      "$TSC_VM_CGROUP" "$TSC_VM_CGROUP"
  fi
  printf 'cd %q || exit 125\n' "$REPO"
  printf 'exec'
  printf ' %q' "$@"
  printf '\n'
} >"$RUN/run.sh"

# --- boot ---------------------------------------------------------------------------------
# KVM when it works; a nested /dev/kvm without hardware virtualization shown to this
# machine (no vmx/svm in /proc/cpuinfo, as in some cloud sandboxes) runs the guest far
# slower than emulation does, so it counts as absent. TSC_VM_ACCEL=kvm|tcg overrides.
ACCEL_KIND=${TSC_VM_ACCEL:-auto}
if [ "$ACCEL_KIND" = auto ]; then
  ACCEL_KIND=tcg
  if [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
    if [ "$DEBARCH" != amd64 ] || grep -qwE 'vmx|svm' /proc/cpuinfo; then ACCEL_KIND=kvm; fi
  fi
fi
if [ "$ACCEL_KIND" = kvm ]; then
  ACCEL=(-accel kvm -cpu host)
else
  ACCEL=(-accel tcg,thread=multi -cpu max)
  say "emulating the guest CPU (TCG): no usable KVM here"
fi
# The guest stops the command itself a little before qemu is killed, listing what still runs.
GUEST_TIMEOUT=$((TIMEOUT > 60 ? TIMEOUT - 30 : 0))
APPEND="console=$CONSOLE cgroup_no_v1=all systemd.unified_cgroup_hierarchy=1 panic=-1 tsc.run=$RUN tsc.kdir=$KDIR tsc.verbose=$VERBOSE tsc.timeout=$GUEST_TIMEOUT"
[ "$VERBOSE" = 1 ] || APPEND="$APPEND quiet loglevel=3"

say "booting $KPKG ($KVER) in $QEMU:$(printf ' %q' "$@")"
start=$(date +%s%N)
# The guest's one disk (/dev/vda): 64 MiB that read as zeros, no file behind it (qemu's
# null-co), so that the tests of io limits and device rules have a block device.
exec 3< <(
  timeout --kill-after=10 "$TIMEOUT" "$QEMU" "${MACHINE[@]}" "${ACCEL[@]}" \
    -m "$MEM" -smp "$CPUS" -nodefaults -no-user-config -display none -no-reboot \
    -serial stdio -monitor none -pidfile "$RUN/qemu.pid" \
    -kernel "$VMLINUZ" -initrd "$INITRD" -append "$APPEND" \
    -virtfs local,path=/,mount_tag=hostroot,security_model=passthrough,readonly=on,multidevs=remap \
    -blockdev driver=null-co,node-name=scratch,size=67108864,read-zeroes=on -device virtio-blk-pci,drive=scratch \
    </dev/null 2>&1 && st=0 || st=$?
  echo "TSC_VM_QEMU_STATUS=$st"
)

rc=
qemu_status=
begun=$VERBOSE
blanks=0
while IFS= read -r line <&3 || [ -n "$line" ]; do
  line=${line%$'\r'}
  printf '%s\n' "$line" >>"$CONSOLE_LOG"
  case "$line" in
    TSC_VM_QEMU_STATUS=*) qemu_status=${line#TSC_VM_QEMU_STATUS=}; continue ;;
  esac
  # After the marker only the kernel's power-off lines come.
  [ -n "$rc" ] && [ "$VERBOSE" != 1 ] && continue
  case "$line" in
    *TSC_VM_EXIT=*)
      pre=${line%%TSC_VM_EXIT=*}
      [ -n "$pre" ] && printf '%s\n' "$pre"
      rc=${line##*TSC_VM_EXIT=}
      rc=${rc%%[!0-9]*}
      blanks=0
      continue ;;
    TSC_VM_BEGIN) begun=1; continue ;;
  esac
  if [ "$begun" != 1 ]; then
    [[ "$line" == tsc-vm:* ]] && printf '%s\n' "$line" >&2
    continue
  fi
  if true; then
    # Blank lines are held back: the guest writes one before the marker line.
    if [ -z "$line" ]; then blanks=$((blanks + 1)); continue; fi
    while [ "$blanks" -gt 0 ]; do echo; blanks=$((blanks - 1)); done
    printf '%s\n' "$line"
  fi
done
ms=$(( ($(date +%s%N) - start) / 1000000 ))
secs=$(printf '%d.%01d' $((ms / 1000)) $((ms % 1000 / 100)))

if [ -z "$rc" ]; then
  KEEP_LOG=1
  if [ "$qemu_status" = 124 ] || [ "$qemu_status" = 137 ]; then
    say "timed out after ${TIMEOUT}s (TSC_VM_TIMEOUT); the console log is kept in $CACHE/logs/last-console.log"
    rc=124
  else
    say "the guest stopped without reporting an exit status (qemu status ${qemu_status:-?}); last lines of the console:"
    tail -n 40 "$CONSOLE_LOG" >&2
    say "the whole console log is kept in $CACHE/logs/last-console.log"
    rc=125
  fi
fi
say "exit status $rc, boot to poweroff in ${secs}s"
exit "$rc"
