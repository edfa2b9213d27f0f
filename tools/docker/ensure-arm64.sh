# shellcheck shell=bash
# ensure-arm64.sh: sourced by ensure-engine when ARM64 is asked for (--arm64 or ENSURE_ENGINE_ARM64=1), with the
# lock held and the engine up. Makes linux/arm64 containers run on this amd64 machine under qemu and builds the
# ARM64 base image. Uses ensure-engine's log, fail, arm64_install and ARM64_BASE_IMAGE.
#
# Tag scheme: dockerd 20.10 without buildx keeps one image per tag (no manifest lists in the local store), so an
# arm64 build tagged local/debian:bookworm would replace the amd64 one. The ARM64 base has its own tag instead,
# and images built on it take it through their BASE_IMAGE build argument.

# The binfmt_misc entry of qemu-aarch64, registered with the F flag by Debian's qemu-user-static, so containers
# run ARM64 binaries without qemu inside them.
BINFMT_DIR=/proc/sys/fs/binfmt_misc

# shellcheck disable=SC2154 # arm64_install is ensure-engine's list of missing packages
if ((${#arm64_install[@]})); then
  [[ $(id -u) == 0 ]] || fail "running ARM64 containers needs ${arm64_install[*]}, and installing them needs root (uid is $(id -u))" \
    "run as root, or apt-get install qemu-user-static binfmt-support debootstrap yourself"
  [[ -f /etc/debian_version ]] || fail "running ARM64 containers needs ${arm64_install[*]} and this is not Debian" \
    "install qemu-user-static (with binfmt_misc entries that have the F flag) with your distribution's packages"
  log "installing ${arm64_install[*]} with apt-get for ARM64"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || fail "apt-get update failed" "check that the Debian mirror is reachable"
  apt-get install -y -qq --no-install-recommends "${arm64_install[@]}" >/dev/null \
    || fail "apt-get install ${arm64_install[*]} failed" "see the apt output above"
fi

if [[ ! -e $BINFMT_DIR/register ]]; then
  [[ $(id -u) == 0 ]] || fail "binfmt_misc is not mounted at $BINFMT_DIR and mounting it needs root" \
    "run as root, or: mount -t binfmt_misc binfmt_misc $BINFMT_DIR"
  log "mounting binfmt_misc at $BINFMT_DIR"
  mount -t binfmt_misc binfmt_misc "$BINFMT_DIR" \
    || fail "mount -t binfmt_misc binfmt_misc $BINFMT_DIR failed" "load the binfmt_misc kernel module (modprobe binfmt_misc)"
fi

if ! grep -qsx enabled "$BINFMT_DIR/qemu-aarch64"; then
  log "registering qemu-aarch64 with binfmt_misc"
  update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || update-binfmts --import qemu-aarch64 >/dev/null 2>&1 || true
  grep -qsx enabled "$BINFMT_DIR/qemu-aarch64" || fail "qemu-aarch64 is not registered with binfmt_misc" \
    "run update-binfmts --enable qemu-aarch64 and read its error (is $BINFMT_DIR mounted read-write?)"
fi
grep -qs '^flags: .*F' "$BINFMT_DIR/qemu-aarch64" || fail "qemu-aarch64 is registered without the F (fix binary) flag" \
  "containers cannot see the host's qemu: re-register it with update-binfmts using Debian's qemu-user-static entries"

if [[ $(docker image inspect --format '{{.Architecture}}' "$ARM64_BASE_IMAGE" 2>/dev/null) != arm64 ]]; then
  log "building $ARM64_BASE_IMAGE (linux/arm64) with debootstrap from $DEBIAN_MIRROR under qemu (about 2 minutes)"
  arm64_dir=$(mktemp -d)
  trap 'rm -rf "$arm64_dir"' EXIT
  mkdir "$arm64_dir/rootfs"
  debootstrap --arch=arm64 --variant=minbase --include="$BASE_PACKAGES" bookworm "$arm64_dir/rootfs" "$DEBIAN_MIRROR" \
    >"$arm64_dir/debootstrap.log" 2>&1 \
    || { tail -n 20 "$arm64_dir/debootstrap.log" >&2; fail "debootstrap --arch=arm64 failed" "check that $DEBIAN_MIRROR is reachable"; }
  rm -rf "$arm64_dir"/rootfs/var/cache/apt/archives/*.deb
  tar -C "$arm64_dir/rootfs" -cf "$arm64_dir/rootfs.tar" .
  rm -rf "$arm64_dir/rootfs"
  # `docker import` would record the engine's own architecture; a build with --platform records arm64.
  printf 'FROM scratch\nADD rootfs.tar /\nCMD ["/bin/bash"]\n' >"$arm64_dir/Dockerfile"
  docker build -q --platform linux/arm64 -t "$ARM64_BASE_IMAGE" "$arm64_dir" >/dev/null \
    || fail "docker build --platform linux/arm64 of $ARM64_BASE_IMAGE failed" "see the docker output above"
  rm -rf "$arm64_dir"
  log "built $ARM64_BASE_IMAGE"
fi
log "ARM64 ready: qemu-aarch64 registered, base image $ARM64_BASE_IMAGE"
