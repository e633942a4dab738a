#!/usr/bin/env python3
"""gem_mmap.py DEVICE - GEM from Python with nothing but the standard library.

os.open the device, fcntl.ioctl the real i915 uapi, mmap.mmap the offset
MMAP_OFFSET returns: create a 1 MiB object, map it through the GTT, store a
pattern through the mapping, read it back with PREAD, PWRITE into it and see
that through the mapping. Exit 0 pass, 1 fail, like the C examples.

Ioctl numbers and struct layouts come from drm_uapi.py, which `make -C
examples` generates from libdrm's headers (python/uapi_gen.c): none is
copied by hand here.
"""
import ctypes
import fcntl
import mmap
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build", "python"))
import drm_uapi as uapi  # noqa: E402  (generated; run make -C conformance)


def ioctl(fd, request, layout, **values):
    """Packs `values` into the struct `layout` describes, issues the ioctl,
    and returns every field of the struct as the driver left it."""
    size, fields = layout
    buf = bytearray(size)
    for name, value in values.items():
        offset, fmt = fields[name]
        struct.pack_into("=" + fmt, buf, offset, value)
    fcntl.ioctl(fd, request, buf)  # a mutable buffer: it comes back written
    return {name: struct.unpack_from("=" + fmt, buf, offset)[0] for name, (offset, fmt) in fields.items()}


def driver_name(fd):
    """DRM_IOCTL_VERSION writes the name through a pointer we pass in."""
    name = ctypes.create_string_buffer(64)
    v = ioctl(fd, uapi.DRM_IOCTL_VERSION, uapi.drm_version, name_len=len(name), name=ctypes.addressof(name))
    return name.raw[:v["name_len"]].decode()


def pread(fd, handle, offset, size):
    data = ctypes.create_string_buffer(size)
    ioctl(fd, uapi.DRM_IOCTL_I915_GEM_PREAD, uapi.drm_i915_gem_pread,
          handle=handle, offset=offset, size=size, data_ptr=ctypes.addressof(data))
    return data.raw


def pwrite(fd, handle, offset, payload):
    data = ctypes.create_string_buffer(payload, len(payload))
    ioctl(fd, uapi.DRM_IOCTL_I915_GEM_PWRITE, uapi.drm_i915_gem_pwrite,
          handle=handle, offset=offset, size=len(payload), data_ptr=ctypes.addressof(data))


def check(ok, what):
    if not ok:
        print(f"FAIL gem_mmap.py: {what}")
        sys.exit(1)


def main(path):
    fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    name = driver_name(fd)
    check(name == "i915", f"driver is {name!r}, not i915")

    size = 1 << 20
    handle = ioctl(fd, uapi.DRM_IOCTL_I915_GEM_CREATE, uapi.drm_i915_gem_create, size=size)["handle"]
    offset = ioctl(fd, uapi.DRM_IOCTL_I915_GEM_MMAP_OFFSET, uapi.drm_i915_gem_mmap_offset,
                   handle=handle, flags=uapi.I915_MMAP_OFFSET_GTT)["offset"]
    # The older MMAP_GTT names the very same node.
    gtt = ioctl(fd, uapi.DRM_IOCTL_I915_GEM_MMAP_GTT, uapi.drm_i915_gem_mmap_gtt, handle=handle)["offset"]
    check(gtt == offset, f"MMAP_GTT offset {gtt:#x} != MMAP_OFFSET(GTT) {offset:#x}")

    pattern = bytes(range(256)) * (size // 256)
    with mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE, offset=offset) as m:
        check(m[:size] == bytes(size), "a new object does not read as zeros")
        m[:] = pattern
        # PREAD is a coherency point: it sees what went through the GTT.
        check(pread(fd, handle, 0, size) == pattern, "PREAD does not return what was stored through the mapping")
        hello = b"hello from PWRITE"
        pwrite(fd, handle, 4096, hello)
        ioctl(fd, uapi.DRM_IOCTL_I915_GEM_SET_DOMAIN, uapi.drm_i915_gem_set_domain,
              handle=handle, read_domains=uapi.I915_GEM_DOMAIN_GTT, write_domain=0)
        check(m[4096:4096 + len(hello)] == hello, "the mapping does not show what PWRITE wrote")
        check(m[:4096] == pattern[:4096], "PWRITE disturbed the bytes before it")

    ioctl(fd, uapi.DRM_IOCTL_GEM_CLOSE, uapi.drm_gem_close, handle=handle)
    os.close(fd)
    print(f"PASS gem_mmap.py: {name}, 1 MiB object at offset {offset:#x} mapped, written, read back with PREAD, PWRITE seen in the mapping")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(f"usage: {sys.argv[0]} DEVICE", file=sys.stderr)
        sys.exit(2)
    main(sys.argv[1])
