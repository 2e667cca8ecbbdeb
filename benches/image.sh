#!/usr/bin/env bash
# An OCI image of loadline built with no registry at all: what this machine
# can do, since base images cannot be pulled here. deploy/Dockerfile is the
# image to build wherever they can; this builds its equivalent from scratch
# with buildah (Debian's package): the release binary, the shared libraries
# `ldd` names, the host's CA bundle, a numeric non-root user (10001, as in
# the Dockerfile) and a writable /results, `loadline` as the entrypoint.
#
#   benches/image.sh            # build, smoke-test, print the size
#
# Needs root (buildah's vfs storage and chroot) and buildah; builds the
# release binary first (a no-op when it is up to date).
# Storage lives under target/image/, so nothing outside the repository is
# touched; `rm -rf target/image` removes it all.
set -euo pipefail
cd "$(dirname "$0")/.."

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
tag="localhost/loadline:${version}-offline"
bin=target/release/loadline
store=target/image
buildah=(buildah --root "$PWD/$store/storage" --runroot "$PWD/$store/run" --storage-driver vfs)

command -v buildah >/dev/null || { echo "buildah is not installed (apt-get install buildah)" >&2; exit 2; }
nice -n 10 cargo build --release --locked --bin loadline

work=$(mktemp -d)
ctr=""
cleanup() {
    [ -n "$ctr" ] && "${buildah[@]}" rm "$ctr" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

# The binary, stripped of the line tables the release profile keeps (as the
# Dockerfile's CARGO_PROFILE_RELEASE_STRIP=debuginfo does).
mkdir -p "$work/root/usr/local/bin" "$work/root/etc/ssl/certs" "$work/root/results" "$work/root/tmp"
strip --strip-debug -o "$work/root/usr/local/bin/loadline" "$bin"
# Every library the dynamic loader needs, at the path it asks for.
ldd "$bin" | awk '/=> \// { print $3 } /^\t\/[^ ]+ \(/ { print $1 }' | while read -r lib; do
    mkdir -p "$work/root$(dirname "$lib")"
    cp -L "$lib" "$work/root$lib"
done
cp -L /etc/ssl/certs/ca-certificates.crt "$work/root/etc/ssl/certs/"
printf 'root:x:0:0:root:/root:/sbin/nologin\nloadline:x:10001:10001:loadline:/results:/sbin/nologin\n' \
    >"$work/root/etc/passwd"
printf 'root:x:0:\nloadline:x:10001:\n' >"$work/root/etc/group"
chmod 1777 "$work/root/tmp"
chown 10001:10001 "$work/root/results"

ctr=$("${buildah[@]}" from scratch)
# A tar keeps the owners (buildah copy would make /results root's).
tar -C "$work/root" --numeric-owner -cf "$work/root.tar" .
"${buildah[@]}" add --quiet "$ctr" "$work/root.tar" /
"${buildah[@]}" config \
    --user 10001:10001 \
    --workingdir /results \
    --entrypoint '["/usr/local/bin/loadline"]' \
    --cmd '--help' \
    --label "org.opencontainers.image.version=$version" \
    --label "org.opencontainers.image.source=deploy/Dockerfile (offline equivalent: benches/image.sh)" \
    "$ctr"
"${buildah[@]}" rmi --force "$tag" >/dev/null 2>&1 || true
"${buildah[@]}" commit --quiet --rm "$ctr" "$tag" >/dev/null
ctr=""

# Smoke test: a container of the committed image (chroot isolation: this
# machine's cgroup setup refuses crun) runs loadline as the image's user,
# with only the image's own libraries, and renders manifests in /results.
ctr=$("${buildah[@]}" from "$tag")
"${buildah[@]}" copy --quiet --chown 10001:10001 "$ctr" profiles/shop.yaml /results/shop.yaml
"${buildah[@]}" run --isolation chroot "$ctr" -- /usr/local/bin/loadline --version
"${buildah[@]}" run --isolation chroot "$ctr" -- /usr/local/bin/loadline deploy k8s --shards 2 \
    --secret staging-token --out /results/manifests.yaml /results/shop.yaml
"${buildah[@]}" rm "$ctr" >/dev/null
ctr=""

"${buildah[@]}" push --quiet "$tag" "oci-archive:$store/loadline-oci.tar" >/dev/null
unpacked=$(du -sb "$work/root" | cut -f1)
mib() { echo "$(( ($1 + 524288) / 1048576 ))"; }
echo "image $tag: $(mib "$unpacked") MiB unpacked ($unpacked bytes), $(mib "$(stat -c %s "$store/loadline-oci.tar")") MiB compressed (OCI archive $store/loadline-oci.tar)"
"${buildah[@]}" inspect --type image --format \
    'user {{.OCIv1.Config.User}}, entrypoint {{.OCIv1.Config.Entrypoint}}, workdir {{.OCIv1.Config.WorkingDir}}' "$tag"
