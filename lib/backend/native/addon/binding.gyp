{
  "targets": [
    {
      "target_name": "crossflow_kernels",
      "sources": ["kernels.c"],
      "cflags": ["-O3", "-march=native", "-ffast-math", "-std=c11", "-Wall"],
      "libraries": ["-lopenblas", "-lpthread", "-lm"]
    }
  ]
}
