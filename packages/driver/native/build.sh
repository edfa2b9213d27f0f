#!/bin/sh
# Builds the native run client (run-client.c) as one static binary: no libc to match in the image it is copied to.
# Usage: native/build.sh [OUTPUT]   (default: dist/native/gitlab-fargate-run beside this package's dist/)
# CC may name another compiler (musl-gcc, a cross compiler); CFLAGS adds flags.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/../dist/native/gitlab-fargate-run}
mkdir -p "$(dirname "$out")"
${CC:-cc} -O2 -static -Wall -Wextra -Werror -std=c11 ${CFLAGS:-} -o "$out" "$here/run-client.c"
echo "$out"
