"""Writes a small, valid Linux x86-64 minidump: system info, one crashed thread with its
context and stack memory, a SIGSEGV exception, and one module with a Breakpad ELF build id.
A seed the minidump fuzz target can mutate from, and a fixture of the symbolicator's tests.

    python3 fuzz/synth_minidump.py OUT
"""

import struct
import sys

STACK_BASE = 0x7FFC_0000_0000
MODULE_BASE = 0x5555_5555_4000
MODULE_SIZE = 0x10000
CRASH_IP = MODULE_BASE + 0x1234


def context_amd64(rip, rsp, rbp):
    ctx = bytearray(1232)
    struct.pack_into("<I", ctx, 48, 0x0010_0000 | 0x1 | 0x2 | 0x4)  # AMD64: control, integer, segments
    struct.pack_into("<QQQ", ctx, 152, rsp, rbp, 0)  # rsp, rbp, rsi
    struct.pack_into("<Q", ctx, 248, rip)
    return bytes(ctx)


def string(text):
    data = text.encode("utf-16-le")
    return struct.pack("<I", len(data)) + data + b"\0\0"


def build():
    streams = []  # (type, index of blob)
    # The stack: a frame-pointer chain, return addresses into the module.
    stack = bytearray(0x400)
    rbp = STACK_BASE + 0x40
    struct.pack_into("<QQ", stack, 0x40, STACK_BASE + 0x80, MODULE_BASE + 0x2000)
    struct.pack_into("<QQ", stack, 0x80, 0, MODULE_BASE + 0x3000)
    context = context_amd64(CRASH_IP, STACK_BASE + 0x20, rbp)
    name = string("/usr/bin/crashy")
    build_id = bytes(range(1, 21))
    cv = struct.pack("<I", 0x4270454C) + build_id  # 'LEpB': Breakpad's ELF build id record

    # Lay out: header (32) + directory (5 × 12) then data.
    layout = [b"", b"", b"", b"", b"", b""]
    offset = 32 + 5 * 12

    def place(data):
        nonlocal offset
        rva = offset
        layout.append(data)
        offset += len(data)
        return rva

    stack_rva = place(bytes(stack))
    context_rva = place(context)
    name_rva = place(name)
    cv_rva = place(cv)
    csd_rva = place(string(""))
    thread = struct.pack("<IIIIQ", 7, 0, 0, 0, 0) + struct.pack("<QII", STACK_BASE, len(stack), stack_rva) + \
        struct.pack("<II", len(context), context_rva)
    thread_list = struct.pack("<I", 1) + thread
    fixed_file_info = bytes(52)
    module = struct.pack("<QIIII", MODULE_BASE, MODULE_SIZE, 0, 0, name_rva) + fixed_file_info + \
        struct.pack("<II", len(cv), cv_rva) + struct.pack("<II", 0, 0) + struct.pack("<QQ", 0, 0)
    module_list = struct.pack("<I", 1) + module
    memory_list = struct.pack("<I", 1) + struct.pack("<QII", STACK_BASE, len(stack), stack_rva)
    exception = struct.pack("<II", 7, 0) + struct.pack("<IIQQII", 11, 0, 0, 0xDEAD, 0, 0) + bytes(15 * 8) + \
        struct.pack("<II", len(context), context_rva)
    system_info = struct.pack("<HHHBBIIIII", 9, 6, 0, 2, 1, 5, 15, 0, 0x8201, csd_rva) + struct.pack("<HH", 0, 0) + \
        bytes(24)
    for stream_type, data in [(7, system_info), (3, thread_list), (4, module_list), (5, memory_list), (6, exception)]:
        streams.append((stream_type, len(data), place(data)))
    header = struct.pack("<IIIIIIQ", 0x504D444D, 0xA793, len(streams), 32, 0, 0, 0)
    directory = b"".join(struct.pack("<III", t, size, rva) for t, size, rva in streams)
    return header + directory + b"".join(layout[6:])


if __name__ == "__main__":
    data = build()
    open(sys.argv[1], "wb").write(data)
