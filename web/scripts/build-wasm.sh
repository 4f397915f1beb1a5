#!/usr/bin/env bash
# Compiles the engine's simulation and stage code (the same C as the server)
# plus the browser API in cengine/wasm/crwasm.c to WebAssembly with Debian's
# emscripten. Output: web/src/wasm/crengine.js (generated, git-ignored), an ES
# module with the .wasm inlined so Vite, the browser and Node load it alike.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
root="$(cd "$here/.." && pwd)"
out="$here/src/wasm"
mkdir -p "$out"
srcs=("$root"/cengine/sim/*.c "$root"/cengine/stage/*.c "$root"/cengine/util/*.c
      "$root"/cengine/wasm/crwasm.c)
exports=_malloc,_free
for f in $(grep -o '^[a-zA-Z].* \**crw_[a-z_]*(' "$root/cengine/wasm/crwasm.h" | grep -o 'crw_[a-z_]*'); do
  exports="$exports,_$f"
done
# Same floating-point rules as CMakeLists.txt: no contraction, no fast-math.
# Debian's emscripten uses its own prebuilt, frozen cache (/usr/share/emscripten/cache).
# Its JS optimizer needs Debian's node-acorn, which a non-Debian node does not search.
export NODE_PATH="${NODE_PATH:+$NODE_PATH:}/usr/share/nodejs"
emcc -std=c17 -O2 -Wall -Wextra -Werror -ffp-contract=off -fno-fast-math -D_GNU_SOURCE \
  -I"$root/cengine/include" -I"$root/cengine" "${srcs[@]}" \
  -sMODULARIZE=1 -sEXPORT_ES6=1 -sEXPORT_NAME=createEngine -sSINGLE_FILE=1 \
  -sENVIRONMENT=web,worker -sALLOW_MEMORY_GROWTH=1 -sFILESYSTEM=0 \
  -sEXPORTED_FUNCTIONS="$exports" \
  -sEXPORTED_RUNTIME_METHODS=cwrap,UTF8ToString \
  -o "$out/crengine.js"
echo "build-wasm: wrote $out/crengine.js ($(wc -c <"$out/crengine.js") bytes)"
