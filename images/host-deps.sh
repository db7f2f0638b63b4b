#!/bin/sh
# Host packages the build, the lab and the tests need (Debian 12 or newer; run as root): chromium and chromium-driver
# are for the web page's browser test. Idempotent and quick when everything is already installed.
set -eu
PACKAGES="qemu-system-x86 qemu-utils qemu-block-extra debootstrap libiscsi-bin grub-pc-bin grub-efi-amd64-bin xorriso
mtools ovmf squashfs-tools e2fsprogs dosfstools zstd iproute2 iputils-ping util-linux libdbus-1-dev libglib2.0-dev pkg-config
chromium chromium-driver"
missing=""
for p in $PACKAGES; do
    dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "host packages missing:$missing (run as root to install them)" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -q --no-install-recommends $missing
fi
