{
  "targets": [
    {
      "target_name": "crossflow_kernels",
      "sources": ["kernels.c"],
      "cflags": ["-O3", "-march=native", "-fno-math-errno", "-std=c11", "-Wall"],
      "libraries": ["-lopenblas", "-lpthread", "-lm"]
    }
  ]
}
