#!/usr/bin/env bash
# deploy/Dockerfile itself, built on a machine that cannot pull base images:
# the two bases it names are constructed locally (debootstrap from Debian's
# mirror; the Rust toolchain this machine has), tagged with the names the
# Dockerfile uses, and `buildah bud` builds the Dockerfile unchanged with
# --pull=never. The build still needs Debian's mirror (the runtime stage's
# apt-get) and crates.io (cargo), as `docker build` would.
#
#   benches/image-dockerfile.sh     # 25 minutes on 2 busy cores, most of it cargo's release build
#
# Needs root, buildah and debootstrap (Debian packages). Storage lives under
# target/image/ (shared with benches/image.sh); `rm -rf target/image` removes it.
set -euo pipefail
cd "$(dirname "$0")/.."

rust=$(sed -n 's/^ARG RUST_VERSION=//p' deploy/Dockerfile)
debian=$(sed -n 's/^ARG DEBIAN=//p' deploy/Dockerfile)
store=target/image
buildah=(buildah --root "$PWD/$store/storage" --runroot "$PWD/$store/run" --storage-driver vfs)
toolchain=$(rustc --print sysroot)
[ "$(rustc --version | cut -d' ' -f2)" = "$rust" ] || { echo "this machine's rustc is not $rust" >&2; exit 2; }

rootfs="$store/rootfs-$debian"
[ -x "$rootfs/bin/bash" ] || nice debootstrap --variant=minbase "$debian" "$rootfs" http://deb.debian.org/debian

ctr=""
trap '[ -n "$ctr" ] && "${buildah[@]}" rm "$ctr" >/dev/null 2>&1 || true' EXIT

# debian:DEBIAN-slim: the minimal Debian root, apt lists removed.
ctr=$("${buildah[@]}" from scratch)
"${buildah[@]}" copy --quiet "$ctr" "$rootfs/" /
"${buildah[@]}" run --isolation chroot "$ctr" -- rm -rf /var/lib/apt/lists /var/cache/apt/archives/*.deb
"${buildah[@]}" config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --cmd bash "$ctr"
"${buildah[@]}" commit --quiet --rm "$ctr" "docker.io/library/debian:$debian-slim" >/dev/null
ctr=""

# rust:RUST-DEBIAN: that root with a C toolchain for linking, and this
# machine's Rust toolchain (its bin and lib; no docs).
ctr=$("${buildah[@]}" from --pull=never "docker.io/library/debian:$debian-slim")
"${buildah[@]}" run --isolation chroot "$ctr" -- sh -c \
    'apt-get update -qq && apt-get install -y -qq --no-install-recommends gcc libc6-dev ca-certificates >/dev/null && rm -rf /var/lib/apt/lists'
# The base trusts what this machine trusts (where crates.io is reached
# through a TLS-inspecting proxy, Debian's bundle alone does not verify it).
"${buildah[@]}" copy --quiet "$ctr" /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
"${buildah[@]}" copy --quiet "$ctr" "$toolchain/bin" /usr/local/rust/bin
"${buildah[@]}" copy --quiet "$ctr" "$toolchain/lib" /usr/local/rust/lib
"${buildah[@]}" config --env PATH=/usr/local/rust/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$ctr"
"${buildah[@]}" commit --quiet --rm "$ctr" "docker.io/library/rust:$rust-$debian" >/dev/null
ctr=""

start=$(date +%s)
nice -n 10 "${buildah[@]}" bud --quiet --isolation chroot --pull=never --layers \
    -f deploy/Dockerfile -t localhost/loadline:dockerfile .
echo "deploy/Dockerfile built in $(( $(date +%s) - start )) s"

# The image runs: as its own user, with its entrypoint.
ctr=$("${buildah[@]}" from --pull=never localhost/loadline:dockerfile)
"${buildah[@]}" run --isolation chroot "$ctr" -- /usr/local/bin/loadline --version
echo "image $("${buildah[@]}" images --format '{{.Name}}:{{.Tag}}: {{.Size}}' localhost/loadline:dockerfile)" \
    "(on the local debootstrap base: $("${buildah[@]}" images --format '{{.Size}}' "docker.io/library/debian:$debian-slim"))"
"${buildah[@]}" inspect --type image --format \
    'user {{.OCIv1.Config.User}}, entrypoint {{.OCIv1.Config.Entrypoint}}, workdir {{.OCIv1.Config.WorkingDir}}' \
    localhost/loadline:dockerfile
