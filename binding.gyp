{
  # One native build: the N-API addon that Node loads, and the single-threaded
  # helper executable that does container setup outside of Node (started once per
  # Node process as the setup server, which clones a worker per container; for a
  # detached container, the worker's fork stays as its monitor), and the native unit tests. native/ has one folder per
  # program plus common/, which both builds compile in; includes name files
  # from native/ ("common/plan.h").
  "target_defaults": {
    "cflags_cc!": ["-fno-exceptions"],
    "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-unused-parameter", "-fexceptions", "-Werror=switch"],
    "defines": ["_GNU_SOURCE"],
    "include_dirs": ["native"]
  },
  "targets": [
    {
      "target_name": "ts_container",
      "sources": [
        "native/addon/addon.cc",
        "native/addon/exit_watcher.cc",
        "native/addon/creator_ids.cc",
        "native/addon/helper_process.cc",
        "native/addon/helper_server.cc",
        "native/addon/retained_request.cc",
        "native/addon/worker_reaper.cc",
        "native/addon/late_gate.cc",
        "native/addon/remove_tree.cc",
        "native/addon/background_close.cc",
        "native/addon/remove_directories.cc",
        "native/addon/cgroup_maker.cc",
        "native/addon/files_at.cc",
        "native/addon/state_directory.cc",
        "native/addon/directory_spread.cc",
        "native/addon/namespace_type.cc",
        "native/addon/early_writeback.cc",
        "native/addon/layer_applier.cc",
        "native/addon/layer_diff.cc",
        "native/addon/layer_inflate.cc",
        "native/addon/path_in_container.cc",
        "native/addon/layer_unpack.cc",
        "native/addon/seccomp_notify.cc",
        "native/addon/stream_hash.cc",
        "native/addon/terminal_reader.cc",
        "native/common/cni_exec.cc",
        "native/common/control_channel.cc",
        "native/common/fd_passing.cc",
        "native/common/setup_request.cc",
        "native/monitor/run_record.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED"]
    },
    {
      "target_name": "ts-container-helper",
      "type": "executable",
      "sources": [
        "native/common/cni_exec.cc",
        "native/common/control_channel.cc",
        "native/common/fd_passing.cc",
        "native/common/plan.cc",
        "native/common/setup_request.cc",
        "native/helper/main.cc",
        "native/helper/bind_sources.cc",
        "native/helper/idmapped_rootfs.cc",
        "native/helper/capabilities.cc",
        "native/helper/cgroup_gate.cc",
        "native/helper/cgroup_join.cc",
        "native/helper/cgroup_mounts.cc",
        "native/helper/credentials.cc",
        "native/helper/device_cgroup.cc",
        "native/helper/devices.cc",
        "native/helper/id_maps.cc",
        "native/helper/kernel_mounts.cc",
        "native/helper/late_gate.cc",
        "native/helper/mount_api.cc",
        "native/helper/namespace_hold.cc",
        "native/helper/namespaces.cc",
        "native/helper/network.cc",
        "native/helper/network_namespace_maker.cc",
        "native/helper/pause_mode.cc",
        "native/helper/phase_marks.cc",
        "native/helper/shared_namespaces.cc",
        "native/helper/signal_defaults.cc",
        "native/helper/overlay_root.cc",
        "native/helper/path_in_root.cc",
        "native/helper/program_exec.cc",
        "native/helper/rlimits.cc",
        "native/helper/rootfs.cc",
        "native/helper/seccomp_load.cc",
        "native/helper/setup_server.cc",
        "native/helper/spin_wait.cc",
        "native/helper/start_gate.cc",
        "native/helper/terminal.cc",
        "native/helper/tiny_init.cc",
        "native/helper/user_lookup.cc",
        "native/monitor/auto_remove.cc",
        "native/monitor/health_check.cc",
        "native/monitor/log_writer.cc",
        "native/monitor/monitor.cc",
        "native/monitor/networks.cc",
        "native/monitor/run_record.cc"
      ],
      # A static PIE: the setup server is cloned (fork-like) once per container and each clone
      # execs, so every mapping it carries is copied and torn down per container; without the
      # dynamic loader's and libc's own mappings that costs less (about 1 ms per container on a
      # host where page-table work is slow, as under a paravirtualized MMU). It keeps ASLR, and
      # runs on any glibc, older than the one it was built on too.
      "ldflags": ["-static-pie", "-Wl,-z,now"]
    },
    {
      # The native unit tests (native/tests/harness.h, no root needed): plan parsing,
      # reports and run records. test/native-unit runs build/Release/ts-container-native-tests.
      "target_name": "ts-container-native-tests",
      "type": "executable",
      "sources": [
        "native/common/control_channel.cc",
        "native/common/fd_passing.cc",
        "native/common/plan.cc",
        "native/monitor/log_writer.cc",
        "native/monitor/run_record.cc",
        "native/tests/harness.cc",
        "native/tests/plan_test.cc",
        "native/tests/report_test.cc",
        "native/tests/run_record_test.cc"
      ]
    }
  ]
}
