# Shared by the scripts: set up, build, and mount a device for their body.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/setup.sh
export PATH="/opt/swift/usr/bin:$PATH"

mnt=""
unmount() { [[ -n $mnt ]] || return 0; fusermount3 -u "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || true; rmdir "$mnt" 2>/dev/null || true; mnt=""; }
trap unmount EXIT

# mount_device [fakedrm mount options...]: a fresh release daemon on $mnt.
mount_device() {
    unmount
    mnt=$(mktemp -d /tmp/fakedrm.XXXXXX)
    .build/release/fakedrm mount "$@" "$mnt"
}
