"""The zip container of a save file: written by ``zipfile``, read back by a strict reader of our own.

The writer is the standard library's (``ZIP_STORED``, one ``.npy`` entry per array, then
``manifest.json``). The reader accepts exactly what that writer produces and refuses the rest,
because a general zip reader forgives what an attacker needs: entries that overlap (one set of
bytes read as many entries: memory amplification without compression), two entries of one name
(silently resolved to the last), compressed entries (zip bombs), bytes before or after the
archive, comments, and names such as ``../x``. What must hold, all checked before any array is
read:

    the end record is the file's last 22 bytes (no comment; the zip64 end records just before
    it when present), and the central directory ends exactly where the end records begin;
    every entry is stored (no compression, no encryption), named ``manifest.json`` or
    ``arrays/<n>.npy``, once, with no comment and no extra field but zip64's;
    the entries tile the file: the first starts at byte 0, each starts where the one before
    ends (after its data descriptor, when it has one), and the last ends where the central
    directory starts; so no byte is read as part of two entries, and the entries' data add
    up to less than the file.

The data of every entry is checked against its CRC-32 when it is read. Fields that change
nothing we read (times, version numbers, file attributes, the local header's copy of the CRC
and sizes) are not compared; flipping one of them gives the same load.
"""

from __future__ import annotations

import math
import re
import struct
import zipfile
import zlib

from ..backend import np
from ..errors import SerializationError

MANIFEST_ENTRY = "manifest.json"
_ARRAY_ENTRY = re.compile(r"arrays/(?:0|[1-9][0-9]{0,9})\.npy")
# The fewest bytes an entry the reader accepts can take: local header (30) + central record (46)
# + its name twice (2 x 12, the shortest allowed). A file claiming more entries than its size
# allows for is refused before any entry is parsed, which bounds the memory the directory takes.
MIN_ENTRY_BYTES = 100
_READ_CHUNK = 2**20

# signature, version, flags, method, time, date, crc, sizes, name and extra lengths
_LOCAL = struct.Struct("<4s5H3L2H")
# signature, versions, flags, ... as above, + comment length, disk, attributes, local header offset
_CENTRAL = struct.Struct("<4s6H3L5H2L")
_END = struct.Struct("<4s4H2LH")
_END64_LOCATOR = struct.Struct("<4sLQL")
_END64 = struct.Struct("<4sQ2H2L4Q")
_DESCRIPTOR_SIGNATURE = b"PK\x07\x08"
_ALLOWED_FLAGS = 0x0808          # bit 3: sizes in a data descriptor (unseekable output); bit 11: UTF-8
_ZIP64_EXTRA = 0x0001


def write_archive(handle, manifest_bytes: bytes, arrays: list) -> None:
    """The archive cr.save writes: ``arrays/<n>.npy`` in order, then ``manifest.json``."""
    with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_STORED) as archive:
        for number, array in enumerate(arrays):
            with archive.open(array_entry_name(number), "w", force_zip64=True) as entry:
                np.lib.format.write_array(entry, array, allow_pickle=False)
        archive.writestr(MANIFEST_ENTRY, manifest_bytes)


def array_entry_name(number: int) -> str:
    return f"arrays/{number}.npy"


def is_array_entry_name(entry: str) -> bool:
    return _ARRAY_ENTRY.fullmatch(entry) is not None


class _Entry:
    __slots__ = ("offset", "size", "crc", "flags", "data_start")

    def __init__(self, offset: int, size: int, crc: int, flags: int):
        self.offset, self.size, self.crc, self.flags, self.data_start = offset, size, crc, flags, -1


class ArchiveReader:
    """The entries of a save file, checked as the module docstring says; ``read_*`` give their data."""

    def __init__(self, handle, size: int, name):
        self.handle, self.size, self.name = handle, size, name
        count, directory_start, directory_end = self._end_record()
        self.entries: dict[str, _Entry] = {}
        self._read_central_directory(count, directory_start, directory_end)
        self._check_layout(directory_start)

    def fail(self, problem: str) -> SerializationError:
        return SerializationError(f"load({self.name!r}): {problem}")

    def _read_exact(self, offset: int, count: int) -> bytes:
        if offset + count > self.size:
            raise self.fail("the file ends early (truncated, or an offset inside it is corrupt)")
        self.handle.seek(offset)
        data = self.handle.read(count)
        if len(data) != count:
            raise self.fail("the file ends early (truncated)")
        return data

    # --- the end record and the central directory ---------------------------------------------
    def _end_record(self) -> tuple[int, int, int]:
        """(entry count, central directory start, central directory end) from the end records."""
        if self.size < _END.size:
            raise self.fail("too short to be a chainrule save file (truncated?)")
        end_start = self.size - _END.size
        signature, disk, directory_disk, _, count, directory_size, directory_start, comment_length = \
            _END.unpack(self._read_exact(end_start, _END.size))
        if signature != b"PK\x05\x06" or comment_length != 0:
            raise self.fail("the file does not end with a zip end record: it is truncated, or has a zip "
                            "comment or bytes appended after the archive (cr.save writes neither)")
        if disk != 0 or directory_disk != 0:
            raise self.fail("a multi-part zip archive; cr.save writes one file")
        locator_start = end_start - _END64_LOCATOR.size
        if locator_start >= _END64.size and self._read_exact(locator_start, 4) == b"PK\x06\x07":
            locator = self._read_exact(locator_start, _END64_LOCATOR.size)
            _, _, record_start, disks = _END64_LOCATOR.unpack(locator)
            if record_start + _END64.size != locator_start or disks != 1:
                raise self.fail("the zip64 end records are inconsistent (corrupt file)")
            signature, _, _, _, disk, directory_disk, _, count, directory_size, directory_start = \
                _END64.unpack(self._read_exact(record_start, _END64.size))
            if signature != b"PK\x06\x06" or disk != 0 or directory_disk != 0:
                raise self.fail("the zip64 end record is corrupt")
            end_start = record_start
        if directory_start + directory_size != end_start:
            raise self.fail("the central directory does not end where the end record begins (truncated, "
                            "corrupt, or bytes added to the archive)")
        if count * MIN_ENTRY_BYTES > self.size:
            raise self.fail(f"claims {count} entries, more than its {self.size} bytes can hold (corrupt)")
        return count, directory_start, end_start

    def _read_central_directory(self, count: int, position: int, directory_end: int) -> None:
        self.handle.seek(position)
        for _ in range(count):
            record = self.handle.read(_CENTRAL.size)
            if len(record) != _CENTRAL.size or record[:4] != b"PK\x01\x02":
                raise self.fail("the central directory is corrupt or truncated")
            (_, _, _, flags, method, _, _, crc, compressed_size, size, name_length, extra_length,
             comment_length, _, _, _, offset) = _CENTRAL.unpack(record)
            tail = self.handle.read(name_length + extra_length)
            if len(tail) != name_length + extra_length:
                raise self.fail("the central directory is truncated")
            position += _CENTRAL.size + len(tail) + comment_length
            entry = self._entry_name(tail[:name_length])
            sizes = self._zip64_sizes(tail[name_length:], entry, size=size, compressed_size=compressed_size,
                                      offset=offset)
            size, compressed_size, offset = sizes["size"], sizes["compressed_size"], sizes["offset"]
            if comment_length:
                raise self.fail(f"entry {entry!r} has a comment; cr.save writes none")
            if flags & ~_ALLOWED_FLAGS or method != zipfile.ZIP_STORED or compressed_size != size:
                raise self.fail(f"entry {entry!r} is compressed or encrypted (method {method}, flags "
                                f"{flags:#06x}); cr.save stores every entry as it is")
            if entry in self.entries:
                raise self.fail(f"the archive holds two entries named {entry!r}; a save file names "
                                "each entry once (tampered file?)")
            self.entries[entry] = _Entry(offset, size, crc, flags)
        if position != directory_end:
            raise self.fail("the central directory's size does not match its entries (corrupt file)")

    def _entry_name(self, raw: bytes) -> str:
        entry = raw.decode("ascii", errors="replace")
        if entry == MANIFEST_ENTRY or is_array_entry_name(entry):
            return entry
        if entry.endswith("data.pkl"):
            raise self.fail("this is a PyTorch checkpoint (torch.save), whose data is a pickle; "
                            "chainrule never unpickles, since loading a pickle can run arbitrary code. "
                            "Convert it where torch is installed: "
                            "state = torch.load(path, weights_only=True); "
                            "cr.save({k: v.numpy() for k, v in state.items()}, 'model.crz')")
        if re.fullmatch(r"[\w.-]+\.npy", entry):
            raise self.fail("this is a NumPy .npz archive (np.savez), not a chainrule save (no "
                            f"{MANIFEST_ENTRY}); read it with np.load(path) and cr.save what you need")
        raise self.fail(f"unexpected entry {entry[:80]!r}; a chainrule save holds only {MANIFEST_ENTRY} "
                        "and arrays/<n>.npy")

    def _zip64_sizes(self, extra: bytes, entry: str, **fields: int) -> dict:
        """Parse the extra field (zip64 blocks only); fields at 0xFFFFFFFF are read from it."""
        values, position = dict(fields), 0
        while position < len(extra):
            if position + 4 > len(extra):
                raise self.fail(f"entry {entry!r} has a malformed extra field")
            kind, length = struct.unpack_from("<2H", extra, position)
            block = extra[position + 4:position + 4 + length]
            if kind != _ZIP64_EXTRA or len(block) != length or length % 8:
                raise self.fail(f"entry {entry!r} has an extra field of kind {kind:#06x}; cr.save writes "
                                "only zip64 ones")
            numbers = list(struct.unpack(f"<{length // 8}Q", block))
            for key in ("size", "compressed_size", "offset"):   # the order the zip specification gives
                if fields[key] == 0xFFFFFFFF and numbers:
                    values[key] = numbers.pop(0)
            position += 4 + length
        return values

    def _check_layout(self, directory_start: int) -> None:
        """The entries must tile bytes [0, directory start): no gaps, no overlaps (see the docstring)."""
        position = 0
        for entry, info in sorted(self.entries.items(), key=lambda item: item[1].offset):
            if info.offset != position:
                raise self.fail(f"entry {entry!r} starts at byte {info.offset}, expected {position}: "
                                "entries overlap or leave gaps (tampered file)")
            header = self._read_exact(info.offset, _LOCAL.size)
            signature, _, flags, method, _, _, _, _, _, name_length, extra_length = _LOCAL.unpack(header)
            local_name = self._read_exact(info.offset + _LOCAL.size, name_length)
            if signature != b"PK\x03\x04" or local_name != entry.encode("ascii"):
                raise self.fail(f"the local header of entry {entry!r} is corrupt")
            if flags != info.flags or method != zipfile.ZIP_STORED:
                raise self.fail(f"the local header of entry {entry!r} disagrees with the central directory")
            if extra_length:
                self._zip64_sizes(self._read_exact(info.offset + _LOCAL.size + name_length, extra_length),
                                  entry, size=0, compressed_size=0, offset=0)
            info.data_start = info.offset + _LOCAL.size + name_length + extra_length
            position = info.data_start + info.size
            if info.flags & 0x08:
                position += self._check_descriptor(entry, info, position, zip64=extra_length > 0)
        if position != directory_start:
            raise self.fail(f"the entries end at byte {position} but the central directory starts at "
                            f"{directory_start} (tampered or corrupt file)")

    def _check_descriptor(self, entry: str, info: _Entry, position: int, zip64: bool) -> int:
        """The data descriptor zipfile writes after an entry on unseekable output (signature, CRC,
        both sizes: 64-bit ones when the entry has a zip64 extra field); its length."""
        layout = struct.Struct("<4sLQQ" if zip64 else "<4sLLL")
        expected = (_DESCRIPTOR_SIGNATURE, info.crc, info.size, info.size)
        if layout.unpack(self._read_exact(position, layout.size)) != expected:
            raise self.fail(f"the data descriptor of entry {entry!r} is corrupt")
        return layout.size

    # --- data -------------------------------------------------------------------------------------
    def read_entry(self, entry: str) -> bytes:
        """A small entry's bytes (the manifest), CRC-checked."""
        info = self.entries[entry]
        data = self._read_exact(info.data_start, info.size)
        self._check_crc(entry, zlib.crc32(data), info)
        return data

    def read_npy(self, entry: str, dtype, shape: tuple) -> np.ndarray:
        """The array in ``entry``, whose .npy header must say ``dtype`` and ``shape``; CRC-checked."""
        info = self.entries[entry]
        self.handle.seek(info.data_start)
        prefix = self.handle.read(min(info.size, 12))
        header_length, fortran_order, crc = self._npy_header(entry, info, prefix, dtype, shape)
        nbytes = math.prod(shape) * dtype.itemsize
        data_bytes = info.size - header_length
        if data_bytes != nbytes:
            raise self.fail(f"{entry!r} has {data_bytes} bytes of data; {shape} {dtype} needs {nbytes}")
        raw = np.empty(nbytes, dtype=np.uint8)
        view, filled = memoryview(raw), 0
        self.handle.seek(info.data_start + header_length)
        while filled < nbytes:
            chunk = view[filled:filled + _READ_CHUNK]
            count = self.handle.readinto(chunk) if hasattr(self.handle, "readinto") else None
            if count is None:
                data = self.handle.read(len(chunk))
                count = len(data)
                chunk[:count] = data
            if not count:
                raise self.fail(f"{entry!r} ends early (truncated file)")
            crc = zlib.crc32(chunk[:count], crc)
            filled += count
        self._check_crc(entry, crc, info)
        return raw.view(dtype).reshape(shape, order="F" if fortran_order else "C")

    def _npy_header(self, entry, info, prefix: bytes, dtype, shape) -> tuple[int, bool, int]:
        """(bytes before the data, fortran order, CRC so far) of an entry's .npy header."""
        if prefix[:6] != b"\x93NUMPY" or len(prefix) < 10 or prefix[6:8] not in (b"\x01\x00", b"\x02\x00"):
            raise self.fail(f"{entry!r} is not a .npy array of a version cr.save writes (corrupt file)")
        if prefix[6] == 1:
            start, length = 10, struct.unpack_from("<H", prefix, 8)[0]
        else:
            start, length = 12, (struct.unpack_from("<L", prefix, 8)[0] if len(prefix) == 12 else -1)
        if not 0 < length <= 128 + 32 * len(shape) or start + length > info.size:
            raise self.fail(f"{entry!r} has a .npy header of {length} bytes; one for {len(shape)} "
                            "dimensions is far shorter (corrupt file)")
        self.handle.seek(info.data_start)
        head = self.handle.read(start + length)
        if len(head) != start + length:
            raise self.fail(f"{entry!r} ends early (truncated file)")
        parsed = parse_npy_header(head[start:].decode("latin-1"))
        if parsed is None:
            raise self.fail(f"{entry!r} has a corrupt .npy header {head[start:start + 80]!r}")
        header_dtype, fortran_order, header_shape = parsed
        if header_dtype != dtype.str or header_shape != shape:
            raise self.fail(f"{entry!r} holds {header_dtype} {header_shape}, the manifest says "
                            f"{dtype.str} {shape}")
        return start + length, fortran_order, zlib.crc32(head)

    def _check_crc(self, entry: str, crc: int, info: _Entry) -> None:
        if crc != info.crc:
            raise self.fail(f"{entry!r} fails its CRC-32 check: the file is corrupt")


_NPY_HEADER = re.compile(r"\{'descr': '([<>|][biufc][0-9]{1,2})', 'fortran_order': (True|False), "
                         r"'shape': \(((?:[0-9]{1,19}, )*[0-9]{1,19},?|)\), \} *\n")


def parse_npy_header(text: str):
    """(dtype text, fortran order, shape) from the header NumPy's ``write_array`` writes, or None.

    NumPy writes a dict literal, ``{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }``,
    padded with spaces to a newline; it is matched, not evaluated.
    """
    match = _NPY_HEADER.fullmatch(text)
    if match is None:
        return None
    descr, fortran, dims = match.groups()
    shape = tuple(int(n) for n in dims.replace(",", " ").split())
    if (len(shape) == 1) != dims.endswith(","):   # "(3,)" for one dimension, "(3, 4)" for more
        return None
    return descr, fortran == "True", shape
