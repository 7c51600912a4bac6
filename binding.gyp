{
  "targets": [
    {
      "target_name": "vigil_spawn",
      "conditions": [["OS=='linux'", { "sources": ["native/spawn.c"] }]],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-O2"]
    }
  ]
}
