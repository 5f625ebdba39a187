{
  # One native build: the N-API addon that Node loads, and the single-threaded
  # helper executable that does container setup outside of Node.
  "target_defaults": {
    "cflags_cc!": ["-fno-exceptions"],
    "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-unused-parameter", "-fexceptions"],
    "defines": ["_GNU_SOURCE"]
  },
  "targets": [
    {
      "target_name": "ts_container",
      "sources": [
        "cpp/addon.cc",
        "cpp/addon_exit_watcher.cc",
        "cpp/addon_seccomp_notify.cc",
        "cpp/addon_terminal.cc",
        "cpp/control_channel.cc",
        "cpp/helper_launch.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED"]
    },
    {
      "target_name": "ts-container-helper",
      "type": "executable",
      "sources": [
        "cpp/helper_main.cc",
        "cpp/plan.cc",
        "cpp/cgroup_join.cc",
        "cpp/cgroup_mounts.cc",
        "cpp/device_cgroup.cc",
        "cpp/control_channel.cc",
        "cpp/namespaces.cc",
        "cpp/id_maps.cc",
        "cpp/path_in_root.cc",
        "cpp/mount_api.cc",
        "cpp/rootfs.cc",
        "cpp/kernel_mounts.cc",
        "cpp/bind_sources.cc",
        "cpp/devices.cc",
        "cpp/capabilities.cc",
        "cpp/credentials.cc",
        "cpp/rlimits.cc",
        "cpp/network.cc",
        "cpp/program_exec.cc",
        "cpp/tiny_init.cc",
        "cpp/seccomp_load.cc",
        "cpp/terminal.cc",
        "cpp/start_gate.cc",
        "cpp/monitor.cc",
        "cpp/log_writer.cc",
        "cpp/run_record.cc"
      ],
      "ldflags": ["-static-libstdc++", "-static-libgcc"]
    }
  ]
}
