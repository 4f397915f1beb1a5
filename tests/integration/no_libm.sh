#!/usr/bin/env bash
# The simulation and stage libraries call no libm transcendental function:
# glibc picks CPU-specific variants of those at run time, so a replay made
# with them is exact only on the machine that made it. They use util/dmath.
# sqrt, fabs, floor, fmod and friends are exact in IEEE and may stay.
# usage: no_libm.sh LIBRARY.a...
set -euo pipefail
bad='^(sin|cos|tan|sincos|asin|acos|atan|atan2|sinh|cosh|tanh|asinh|acosh|atanh|hypot|exp|exp2|exp10|expm1|log|log2|log10|log1p|pow|cbrt|erf|erfc|tgamma|lgamma)f?$'
status=0
for lib in "$@"; do
    found=$(nm -u "$lib" | awk '{print $NF}' | sed 's/@.*//' | grep -E "$bad" | sort -u || true)
    if [ -n "$found" ]; then
        echo "FAIL: $lib calls libm: $(echo $found)"
        status=1
    else
        echo "ok: $lib calls no libm transcendental function"
    fi
done
exit $status
