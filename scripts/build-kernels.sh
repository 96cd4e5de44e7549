#!/usr/bin/env bash
# Rebuilds lib/engine/kernels/wasm/kernels.wasm from sgemm.c. The .wasm is committed and read at run
# time, so this runs only when the C changes (needs clang and lld: apt-get install -y clang lld).
# The module imports one shared memory so a worker thread can run a second instance on it; the
# check at the end refuses a build that uses a shadow stack, which instances could not share.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=lib/engine/kernels/wasm
clang --target=wasm32 -O3 -msimd128 -matomics -mbulk-memory -nostdlib -ffreestanding \
  -Wall -Wextra -Werror \
  -Wl,--no-entry -Wl,--import-memory -Wl,--shared-memory -Wl,--max-memory=4294967296 \
  -Wl,--export=__heap_base -Wl,-z,stack-size=0 -Wl,--strip-debug \
  -o "$dir/kernels.wasm" "$dir/sgemm.c"
if llvm-objdump -d "$dir/kernels.wasm" | grep -q "global.get\s*0\b\|__stack_pointer"; then
  echo "build-kernels: the module uses a shadow stack in linear memory" >&2
  exit 1
fi
echo "wrote $dir/kernels.wasm ($(stat -c %s "$dir/kernels.wasm") bytes)"
