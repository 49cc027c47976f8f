#!/usr/bin/env node
// Finds the libtorch the addon compiles and links against, for binding.gyp.
// D2R_LIBTORCH names another libtorch: a directory with include/ and lib/ (an
// unpacked libtorch archive, or a pip torch package directory such as
// .../site-packages/torch). Default: Debian's libtorch-dev.
'use strict';
const fs = require('fs');
const path = require('path');

function candidates() {
  const named = process.env.D2R_LIBTORCH;
  if (named) return [{ root: named, include: path.join(named, 'include'), lib: path.join(named, 'lib') }];
  return [
    { root: '/usr', include: '/usr/include', lib: '/usr/lib/x86_64-linux-gnu' },
    { root: '/usr', include: '/usr/include', lib: '/usr/lib/aarch64-linux-gnu' },
    { root: '/usr/local', include: '/usr/local/include', lib: '/usr/local/lib' },
  ];
}

function find() {
  const tried = [];
  for (const c of candidates()) {
    const header = path.join(c.include, 'ATen', 'ATen.h');
    const lib = path.join(c.lib, 'libtorch_cpu.so');
    tried.push(`${header} + ${lib}`);
    if (fs.existsSync(header) && fs.existsSync(lib)) return c;
  }
  process.stderr.write(
    'd2r: no libtorch found. Tried:\n  ' + tried.join('\n  ') +
      '\nInstall it with scripts/setup-system.sh (Debian: apt-get install libtorch-dev libopenblas0-pthread),\n' +
      'or set D2R_LIBTORCH to a libtorch directory holding include/ and lib/ (for example a pip torch package directory).\n',
  );
  process.exit(1);
}

// Pre-2.x pip wheels were built with the old C++ ABI; match whatever libc10 uses.
function usesCxx11Abi(libDir) {
  if (process.env.D2R_CXX11_ABI) return process.env.D2R_CXX11_ABI !== '0';
  const bytes = fs.readFileSync(path.join(libDir, 'libc10.so'));
  return bytes.includes('St7__cxx11');
}

const found = find();
const what = process.argv[2];
if (what === 'include') {
  console.log([found.include, path.join(found.include, 'torch', 'csrc', 'api', 'include')].join(' '));
} else if (what === 'lib') {
  console.log(found.lib);
} else if (what === 'libs') {
  const libs = ['-lc10', '-ltorch_cpu', '-ltorch'];
  // A CUDA build registers its kernels from libtorch_cuda: link it even though no symbol is used.
  if (fs.existsSync(path.join(found.lib, 'libtorch_cuda.so'))) libs.push('-Wl,--no-as-needed', '-ltorch_cuda', '-lc10_cuda', '-Wl,--as-needed');
  console.log(libs.join(' '));
} else if (what === 'abi') {
  console.log(usesCxx11Abi(found.lib) ? 1 : 0);
} else {
  console.error('usage: libtorch.cjs include|lib|libs|abi');
  process.exit(2);
}
