{
  "targets": [
    {
      "target_name": "mini_gpt_native",
      "sources": ["src/addon.c", "src/gemm.c", "src/qgemv.c", "src/pool.c"],
      "cflags": ["-O3", "-std=gnu11", "-fno-strict-aliasing"],
      "cflags!": ["-O2"],
      "libraries": ["-lpthread"],
      "xcode_settings": { "OTHER_CFLAGS": ["-O3", "-std=gnu11"] }
    }
  ]
}
