{
  "targets": [
    {
      "target_name": "d2r_native",
      "sources": [
        "native/common.cc",
        "native/tensors.cc",
        "native/runtime.cc",
        "native/optim.cc",
        "native/distributed.cc",
        "native/ops.generated.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!@(node scripts/libtorch.cjs include)"
      ],
      "defines": [
        "NAPI_EXPERIMENTAL",
        "NAPI_CPP_EXCEPTIONS",
        "_GLIBCXX_USE_CXX11_ABI=<!(node scripts/libtorch.cjs abi)"
      ],
      "cflags!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=gnu++14"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-frtti", "-O2", "-Wno-unused-parameter", "-Wno-deprecated-declarations"],
      "libraries": [
        "-L<!(node scripts/libtorch.cjs lib)",
        "-Wl,-rpath,<!(node scripts/libtorch.cjs lib)",
        "<!@(node scripts/libtorch.cjs libs)"
      ]
    }
  ]
}
