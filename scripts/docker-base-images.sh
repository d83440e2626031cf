#!/usr/bin/env bash
# Makes the Debian base images the Dockerfile names (its FROM lines) when the Docker engine does
# not have them yet. No image registry is reachable from these machines, so each base is a
# `debootstrap --variant=minbase` of bookworm from Debian's archive, imported with
# `docker import` under the tag the Dockerfile pins. The same root filesystem serves the full and
# the -slim tag: minbase is already smaller than Docker's slim image.
#
# The tarball is kept in a cache outside the repository (ZOOKUBE_CACHE, default
# /var/cache/zookube), so a second run on the same machine takes seconds, not minutes.
# Needs root (debootstrap) and a running engine.
set -euo pipefail
cd "$(dirname "$0")/.."

DOCKER="${DOCKER:-/usr/bin/docker}"
CACHE="${ZOOKUBE_CACHE:-/var/cache/zookube}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
TARBALL="$CACHE/bookworm-minbase.tar"

mapfile -t bases < <(sed -n 's/^FROM[[:space:]]\+\([^[:space:]]\+\).*/\1/p' Dockerfile | sort -u)
missing=()
for tag in "${bases[@]}"; do
  case "$tag" in
    debian:bookworm-*) ;;
    *) echo "docker-base-images: cannot make $tag (only debian:bookworm-* bases)" >&2; exit 1 ;;
  esac
  "$DOCKER" image inspect "$tag" >/dev/null 2>&1 || missing+=("$tag")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "docker-base-images: ${bases[*]} present"
  exit 0
fi

if [ ! -s "$TARBALL" ]; then
  command -v debootstrap >/dev/null || { echo "docker-base-images: debootstrap is missing" >&2; exit 1; }
  mkdir -p "$CACHE"
  root=$(mktemp -d "$CACHE/rootfs.XXXXXX")
  trap 'rm -rf "$root"' EXIT
  echo "docker-base-images: debootstrap bookworm (minbase) from $MIRROR"
  debootstrap --variant=minbase bookworm "$root" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 || {
    tail -20 "$CACHE/debootstrap.log" >&2
    exit 1
  }
  # apt in the image reaches the same archive the machine does.
  echo "deb $MIRROR bookworm main" >"$root/etc/apt/sources.list"
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -cf "$TARBALL.tmp" . && mv "$TARBALL.tmp" "$TARBALL"
fi
for tag in "${missing[@]}"; do
  "$DOCKER" import "$TARBALL" "$tag" >/dev/null
  echo "docker-base-images: imported $tag"
done
