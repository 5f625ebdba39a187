#!/bin/busybox sh
# /init of the initramfs that test/vm/run-in-vm.sh boots. Runs as PID 1 in the guest.
#
# 1. loads the modules for 9p over virtio (listed in /modules/order, in dependency order);
# 2. mounts the host's / (exported read-only by qemu as the 9p tag "hostroot") at /host;
# 3. puts an overlay on it with a tmpfs upper layer at /newroot, so the guest may write
#    anywhere and nothing reaches the host;
# 4. mounts proc, sys, dev, a fresh tmpfs on /tmp /run /var/tmp /dev/shm, and cgroup2 alone
#    at /sys/fs/cgroup (the kernel runs with cgroup_no_v1=all), checks that cpu, memory,
#    pids and io are there and enables every controller in the root's subtree_control;
# 5. chroots into /newroot and runs the host's run script (bash) named by tsc.run= on the
#    kernel command line, its output on the console;
# 6. prints TSC_VM_EXIT=<status> and powers off; past tsc.timeout= seconds it lists the
#    processes and kills the command first (status 137), so the log shows what hung.
# The guest never writes to the host: qemu's export is read-only too.

/bin/busybox --install -s /bin
export PATH=/bin
umask 022

mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys

say() { echo "tsc-vm: $*"; }

off() {
  sync
  poweroff -f
  echo o >/proc/sysrq-trigger
  sleep 10
}

# Any failure of the harness itself ends with status 125, as `env` and `git bisect` use it.
fail() {
  say "error: $*"
  echo "TSC_VM_EXIT=125"
  off
}

RUN=
VERBOSE=0
TIMEOUT=0
KVER=$(uname -r)
KDIR=
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    tsc.run=*) RUN=${arg#tsc.run=} ;;
    tsc.kdir=*) KDIR=${arg#tsc.kdir=} ;;
    tsc.verbose=*) VERBOSE=${arg#tsc.verbose=} ;;
    tsc.timeout=*) TIMEOUT=${arg#tsc.timeout=} ;;
  esac
done
[ -n "$RUN" ] || fail "no tsc.run= on the kernel command line"
[ "$VERBOSE" = 1 ] || dmesg -n 1

while read -r mod; do
  [ -n "$mod" ] || continue
  insmod "/modules/$mod" || fail "insmod $mod"
done </modules/order

mkdir -p /host /rw /newroot
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose hostroot /host \
  || fail "cannot mount the host's root over 9p (tag hostroot)"
mount -t tmpfs -o mode=0755 rw /rw
mkdir -p /rw/upper /rw/work
mount -t overlay overlay -o lowerdir=/host,upperdir=/rw/upper,workdir=/rw/work /newroot \
  || fail "cannot mount an overlay on the host's root"

[ -f "/newroot$RUN/run.sh" ] || fail "run script $RUN/run.sh not found through 9p"
REPO=$(cat "/newroot$RUN/repo")

R=/newroot
mount -t proc proc $R/proc
mount -t sysfs sysfs $R/sys
mount -t devtmpfs devtmpfs $R/dev
mkdir -p $R/dev/pts $R/dev/shm $R/dev/mqueue
mount -t devpts -o gid=5,mode=0620,ptmxmode=0666 devpts $R/dev/pts
mount -t tmpfs -o mode=1777,nosuid,nodev shm $R/dev/shm
mount -t mqueue mqueue $R/dev/mqueue 2>/dev/null

# A booted machine starts with empty /tmp and /run; the host's are hidden, except one that
# holds the checkout (it then stays the overlay, writable all the same).
FRESH_TMP=0
for d in /tmp /run /var/tmp; do
  case "$REPO/" in "$d"/*) continue ;; esac
  mkdir -p $R$d
  mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs $R$d
  [ $d = /tmp ] && FRESH_TMP=1
done
chmod 0755 $R/run
mkdir -p $R/run/tsc-vm
# The default data root holds containers' writable overlay layers, and overlayfs refuses an
# upper layer on overlayfs (the guest's /): a tmpfs of its own, as a real host has a disk.
mkdir -p $R/var/lib/ts-container
mount -t tmpfs -o mode=0755 tmpfs $R/var/lib/ts-container
# Jest's cache (ts-jest's compiled files) is read through from the host's /tmp/jest_*, with
# writes kept in the guest: without it, emulated guests spend a minute compiling TypeScript.
if [ $FRESH_TMP = 1 ]; then
  for d in /host/tmp/jest_*; do
    [ -d "$d" ] || continue
    n=${d##*/}
    mkdir -p /rw/$n/upper /rw/$n/work $R/tmp/$n
    mount -t overlay overlay -o lowerdir=$d,upperdir=/rw/$n/upper,workdir=/rw/$n/work $R/tmp/$n
  done
fi
cp "/newroot$RUN/run.sh" $R/run/tsc-vm/run.sh

# The guest kernel's modules (extracted next to its image in the host's cache), so that
# modprobe works inside the guest.
if [ -n "$KDIR" ] && [ -d "$R$KDIR/lib/modules/$KVER" ]; then
  chroot $R /bin/sh -c "mkdir -p /lib/modules && ln -sfn '$KDIR/lib/modules/$KVER' /lib/modules/$KVER"
fi

CG=$R/sys/fs/cgroup
mount -t cgroup2 -o nsdelegate cgroup2 $CG || fail "cannot mount cgroup2"
read -r controllers <$CG/cgroup.controllers
for c in cpu memory pids io; do
  case " $controllers " in *" $c "*) ;; *) fail "cgroup2 lacks the $c controller (has: $controllers)" ;; esac
done
for c in $controllers; do
  echo "+$c" >$CG/cgroup.subtree_control || fail "cannot enable $c in the root cgroup"
done

hostname tsc-vm
ip link set lo up 2>/dev/null

stty -onlcr 2>/dev/null
say "$(uname -sr), cgroup2 controllers: $(cat $CG/cgroup.subtree_control)"
echo "TSC_VM_BEGIN"
# Output goes through a fifo, so the command sees no terminal (as under CI). The status is
# the command's own: a process it left behind holding the output open is listed, not waited for.
mkfifo /rw/out
cat /rw/out &
CAT=$!
chroot $R /bin/bash /run/tsc-vm/run.sh </dev/null >/rw/out 2>&1 &
CMD=$!
WD=
if [ "$TIMEOUT" -gt 0 ] 2>/dev/null; then
  ( sleep "$TIMEOUT"
    echo
    say "the command still runs after ${TIMEOUT}s; processes:"
    ps -o pid,ppid,stat,args | grep -v '\[.*\]$'
    kill -KILL $CMD ) &
  WD=$!
fi
wait $CMD
rc=$?
[ -n "$WD" ] && kill $WD 2>/dev/null
i=0
while kill -0 $CAT 2>/dev/null && [ $i -lt 30 ]; do sleep 0.1; i=$((i + 1)); done
if kill -0 $CAT 2>/dev/null; then
  echo
  say "warning: the command exited ($rc) but left processes holding its output open:"
  ps -o pid,ppid,stat,args | grep -v '\[.*\]$'
  kill $CAT
fi
sync
echo
echo "TSC_VM_EXIT=$rc"
off
