"""A safe reader of MATLAB Level 5 MAT-files (``save -v6`` / ``-v7``), in Python and NumPy.

Why not ``scipy.io.loadmat``: its C reader trusts the sizes a file declares, so a corrupted
file can crash the process or keep it busy for minutes. Here every size is checked against
its parent element and the file before anything is allocated, compressed variables are
inflated with a bounded output size, and every failure is a one-line
:class:`~zsl_toolkit.errors.DataError` naming the file and the variable.

Layout (MathWorks, "MAT-File Format", Level 5): a 128-byte header (116 bytes of text, an
8-byte subsystem offset, the version 0x0100 and the endian indicator ``IM`` or ``MI``), then
one data element per variable. An element is an 8-byte tag (uint32 type, uint32 byte count)
and its data padded to 8 bytes, or, when the tag's upper 16 bits are nonzero, a "small"
element holding up to 4 bytes inside the tag. A variable is a ``miMATRIX`` element (array
flags, dimensions, name, then the data, stored column-major in any numeric type), or a
``miCOMPRESSED`` element holding one zlib stream of such an element (not padded).

Supported: real numeric and logical arrays, char arrays and cell arrays of those, returned as
``scipy.io.loadmat(..., squeeze_me=False)`` returns them (numeric arrays in their stored type
with the file's dimensions in Fortran order, char arrays as an array of row strings, cells as object
arrays). Complex, sparse, struct, object, function-handle and opaque variables are listed
(:attr:`Mat5File.variables`) but refused when read. MATLAB v4 and v7.3 files are recognised
by :func:`file_kind` and not read here.
"""

from __future__ import annotations

import math
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import DTypeLike

from zsl_toolkit.data.hdf5 import MAX_COMPRESSION_RATIO
from zsl_toolkit.errors import DataError, one_line

# Data types (miINT8 ...) and array classes (mxCELL_CLASS ...) of the format.
MI_INT8, MI_UINT8, MI_INT16, MI_UINT16, MI_INT32, MI_UINT32 = 1, 2, 3, 4, 5, 6
MI_MATRIX, MI_COMPRESSED, MI_UTF8, MI_UTF16, MI_UTF32 = 14, 15, 16, 17, 18
MI_DTYPES = {
    1: "i1",
    2: "u1",
    3: "i2",
    4: "u2",
    5: "i4",
    6: "u4",
    7: "f4",
    9: "f8",
    12: "i8",
    13: "u8",
}
CLASSES = {
    1: "cell",
    2: "struct",
    3: "object",
    4: "char",
    5: "sparse",
    6: "double",
    7: "single",
    8: "int8",
    9: "uint8",
    10: "int16",
    11: "uint16",
    12: "int32",
    13: "uint32",
    14: "int64",
    15: "uint64",
    16: "function",
    17: "opaque",
}
CLASS_DTYPES = {
    "double": "f8",
    "single": "f4",
    "int8": "i1",
    "uint8": "u1",
    "int16": "i2",
    "uint16": "u2",
    "int32": "i4",
    "uint32": "u4",
    "int64": "i8",
    "uint64": "u8",
}
_MX_CELL, _MX_CHAR, _MX_OPAQUE = 1, 4, 17
_COMPLEX, _LOGICAL = 0x0800, 0x0200

HEADER_BYTES = 128
MAX_DIMS = 32  # MATLAB allows more, no dataset needs them
MAX_DEPTH = 8  # cells inside cells
_PREFIX = 4096  # bytes read (or inflated) to list one variable: flags, dims, name, data tag
_CHUNK_IN = 1 << 20  # compressed bytes fed to zlib at a time
_CHUNK_OUT = 16 << 20  # most bytes zlib may return from one call
_BLOCK_BYTES = 4 << 20  # inflated bytes converted to the caller's dtype at a time


class _Corrupt(Exception):
    """A malformed element; the caller adds the file and variable to the message."""


# What struct, numpy and codecs raise on bytes the checks did not foresee.
_PARSE_ERRORS = (struct.error, ValueError, IndexError, OverflowError, TypeError)


def file_kind(head: bytes) -> str | None:
    """``"v5"``, ``"v7.3"``, ``"v4"`` or None (not a MAT-file), from a file's first 128 bytes."""
    if len(head) >= HEADER_BYTES and head[126:128] in (b"IM", b"MI"):
        endian = "<" if head[126:128] == b"IM" else ">"
        (version,) = struct.unpack(endian + "H", head[124:126])
        kind = {0x0100: "v5", 0x0200: "v7.3"}.get(version)
        if kind is not None:
            return kind
    return "v4" if _looks_like_v4(head) else None


def _looks_like_v4(head: bytes) -> bool:
    """A v4 matrix header: type code MOPT, rows, columns, imaginary flag, name length."""
    if len(head) < 21:
        return False
    for endian in "<>":
        mopt, rows, cols, imag, namelen = struct.unpack(endian + "5i", head[:20])
        m, o, p, t = mopt // 1000, mopt // 100 % 10, mopt // 10 % 10, mopt % 10
        if (
            0 <= mopt <= 4052
            and m <= 4
            and o == 0
            and p <= 5
            and t <= 2
            and rows >= 0
            and cols >= 0
            and imag in (0, 1)
            and 1 <= namelen <= 64
            and 20 + namelen <= len(head)
            and head[20 + namelen - 1] == 0
        ):
            return True
    return False


@dataclass(frozen=True)
class Variable:
    """One top-level variable as its header describes it (nothing of its data read)."""

    name: str
    cls: str  # as MATLAB's ``whos`` names it: "double", "logical", "char", "cell", ...
    shape: tuple[int, ...]  # the file's dimensions; () for opaque objects
    offset: int  # where its element's tag starts in the file
    nbytes: int  # bytes stored after that tag
    compressed: bool
    is_complex: bool
    # uncompressed numeric variables: (file offset of the real part's tag, its mi type)
    data_tag: int | None = None


# ---------------------------------------------------------------------------- elements
def _tag(buf, pos: int, end: int, endian: str, what: str) -> tuple[int, int, int, int]:
    """(type, byte count, data start, next element) of the element at ``pos`` in ``buf``,
    which must lie inside ``[pos, end)``; the last element's padding may be cut off."""
    if pos + 8 > end:
        raise _Corrupt(f"{what}: element tag runs past its parent")
    if pos + 8 > len(buf):
        raise _Corrupt(f"{what}: header is longer than {len(buf)} bytes; corrupt")
    first, second = struct.unpack_from(endian + "II", buf, pos)
    small = first >> 16
    if small:  # small data element: type in the low half, byte count in the high half
        if small > 4:
            raise _Corrupt(f"{what}: small element declares {small} bytes (at most 4)")
        return first & 0xFFFF, small, pos + 4, pos + 8
    if second > end - pos - 8:
        raise _Corrupt(
            f"{what}: element declares {second} bytes but its parent has only "
            f"{end - pos - 8} left; truncated or corrupt"
        )
    return first, second, pos + 8, min(pos + 8 + (second + 7) // 8 * 8, end)


def _need(buf, start: int, nbytes: int, what: str) -> None:
    if start + nbytes > len(buf):
        raise _Corrupt(f"{what}: header is longer than {len(buf)} bytes; corrupt")


@dataclass
class _Header:
    flags: int
    cls: str
    dims: tuple[int, ...]
    name: str
    next: int  # position of the first element after the name


def _header(buf, pos: int, end: int, endian: str) -> _Header:
    """Array flags, dimensions and name at the start of a miMATRIX element's data."""
    mdtype, nbytes, data, pos = _tag(buf, pos, end, endian, "array flags")
    if mdtype != MI_UINT32 or nbytes != 8:
        raise _Corrupt(f"array flags have type {mdtype} and {nbytes} bytes; expected 8 uint32")
    _need(buf, data, 8, "array flags")
    flags = struct.unpack_from(endian + "I", buf, data)[0]
    code = flags & 0xFF
    if code not in CLASSES:
        raise _Corrupt(f"unknown array class {code}")
    cls = CLASSES[code]
    if flags & _LOGICAL:
        cls = "logical"
    dims: tuple[int, ...] = ()
    if code != _MX_OPAQUE:  # opaque objects have a name but no dimensions
        mdtype, nbytes, data, pos = _tag(buf, pos, end, endian, "dimensions")
        count = nbytes // 4
        if mdtype != MI_INT32 or nbytes % 4 or not 1 <= count <= MAX_DIMS:
            raise _Corrupt(
                f"dimensions have type {mdtype} and {nbytes} bytes; expected 1 to {MAX_DIMS} int32"
            )
        _need(buf, data, nbytes, "dimensions")
        dims = struct.unpack_from(f"{endian}{count}i", buf, data)
        if min(dims) < 0:
            raise _Corrupt(f"negative dimension in {_dims_str(dims)}")
        if math.prod(max(d, 1) for d in dims) >= 1 << 48:
            raise _Corrupt(f"absurd dimensions {_dims_str(dims)}")
    mdtype, nbytes, data, pos = _tag(buf, pos, end, endian, "name")
    if mdtype not in (MI_INT8, MI_UINT8, MI_UTF8):
        raise _Corrupt(f"name has type {mdtype}; expected int8 characters")
    _need(buf, data, nbytes, "name")
    name = bytes(buf[data : data + nbytes]).decode("latin1")
    return _Header(flags, cls, dims, name, pos)


def _dims_str(dims: tuple[int, ...]) -> str:
    return " x ".join(map(str, dims))


def _matrix(buf, pos: int, end: int, endian: str, depth: int, mat_dtype: bool) -> object:
    """The value of the miMATRIX element whose data is ``buf[pos:end]``."""
    if depth > MAX_DEPTH:
        raise _Corrupt(f"cells nested deeper than {MAX_DEPTH} levels")
    if pos == end:  # an empty element: MATLAB's placeholder for an empty cell
        return np.empty((0, 0))
    head = _header(buf, pos, end, endian)
    cls, dims, pos = head.cls, head.dims, head.next
    if head.flags & _COMPLEX:
        raise _Corrupt("is a complex array; expected real numbers")
    count = math.prod(dims)
    if cls == "cell":
        if count * 8 > end - pos:
            raise _Corrupt(
                f"is a {_dims_str(dims)} cell but holds only {end - pos} bytes; truncated "
                f"or corrupt"
            )
        out = np.empty(count, dtype=object)
        for i in range(count):
            mdtype, nbytes, data, pos = _tag(buf, pos, end, endian, f"cell {i + 1}")
            if mdtype != MI_MATRIX:
                raise _Corrupt(f"cell {i + 1} has type {mdtype}; expected a matrix")
            try:
                out[i] = _matrix(buf, data, data + nbytes, endian, depth + 1, mat_dtype)
            except _Corrupt as exc:
                raise _Corrupt(f"cell {i + 1}: {exc}") from None
        return out.reshape(dims, order="F")
    if cls == "char":
        return _chars(buf, pos, end, endian, dims)
    if cls not in CLASS_DTYPES and cls != "logical":
        raise _Corrupt(f"is a MATLAB {cls}; only numeric, logical, char and cell are supported")
    mdtype, nbytes, data, _ = _tag(buf, pos, end, endian, "data")
    stored = MI_DTYPES.get(mdtype)
    if stored is None:
        raise _Corrupt(f"data has unknown numeric type {mdtype}")
    dtype = np.dtype(stored).newbyteorder(endian)
    if nbytes != count * dtype.itemsize:
        raise _Corrupt(
            f"data holds {nbytes} bytes but a {_dims_str(dims)} array of {dtype.name} needs "
            f"{count * dtype.itemsize}; truncated or corrupt"
        )
    _need(buf, data, nbytes, "data")
    arr = np.frombuffer(buf, dtype=dtype, count=count, offset=data).reshape(dims, order="F")
    if mat_dtype:
        target = np.dtype(bool) if cls == "logical" else np.dtype(CLASS_DTYPES[cls])
    else:  # loadmat's default: the stored type (MATLAB stores integral doubles as uint8 ...)
        target = dtype.newbyteorder("=")
    if arr.dtype != target:
        with np.errstate(all="ignore"):
            arr = arr.astype(target, order="F")
    return arr


_CHAR_CODECS = {MI_UTF8: "utf-8", MI_UTF16: "utf-16", MI_UTF32: "utf-32"}


def _chars(buf, pos: int, end: int, endian: str, dims: tuple[int, ...]) -> np.ndarray:
    """A char array as loadmat returns it: an array of dims[:-1] strings, one per row."""
    count = math.prod(dims)
    mdtype, nbytes, data, _ = _tag(buf, pos, end, endian, "characters")
    _need(buf, data, nbytes, "characters")
    if mdtype in (MI_UINT16, MI_INT16, MI_UINT8, MI_INT8):
        width = 2 if mdtype in (MI_UINT16, MI_INT16) else 1
        if nbytes != count * width:
            raise _Corrupt(
                f"char data holds {nbytes} bytes but {_dims_str(dims)} characters need "
                f"{count * width}; truncated or corrupt"
            )
        codes = np.frombuffer(buf, dtype=f"{endian}u{width}", count=count, offset=data)
    elif mdtype in _CHAR_CODECS:
        codec = _CHAR_CODECS[mdtype]
        if codec != "utf-8":
            codec += "-le" if endian == "<" else "-be"
        try:
            text = bytes(buf[data : data + nbytes]).decode(codec)
        except UnicodeDecodeError:
            raise _Corrupt(f"char data is not valid {codec}") from None
        if len(text) != count:
            raise _Corrupt(f"char data holds {len(text)} characters; {_dims_str(dims)} expected")
        codes = np.frombuffer(text.encode("utf-32-le"), dtype="<u4")
    else:
        raise _Corrupt(f"char data has type {mdtype}; expected 8/16-bit or UTF characters")
    chars = np.ascontiguousarray(codes.astype("<u4").reshape(dims, order="F"))
    width = dims[-1]
    if width == 0:
        return np.zeros(dims[:-1], dtype="<U1")
    return chars.view(f"<U{width}").reshape(dims[:-1])


# ---------------------------------------------------------------------------- zlib
class _Inflater:
    """The decompressed bytes of one miCOMPRESSED element, produced on demand and never
    more than asked for, so a zip bomb costs no more memory than the caller allows."""

    def __init__(self, fh, start: int, nbytes: int) -> None:
        fh.seek(start)
        self.fh, self.left = fh, nbytes
        self.z = zlib.decompressobj()
        self.tail = b""

    def fill(self, out: memoryview) -> int:
        """Write up to ``len(out)`` bytes into ``out``; returns how many the stream had."""
        filled = 0
        while filled < len(out) and not self.z.eof:
            if self.tail:
                src = self.tail
            elif self.left > 0:
                src = self.fh.read(min(_CHUNK_IN, self.left))
                if not src:
                    break
                self.left -= len(src)
            else:
                break
            try:
                chunk = self.z.decompress(src, min(len(out) - filled, _CHUNK_OUT))
            except zlib.error as exc:
                raise _Corrupt(f"compressed data is corrupt (zlib: {one_line(exc)})") from None
            self.tail = self.z.unconsumed_tail
            out[filled : filled + len(chunk)] = chunk
            filled += len(chunk)
        return filled


# ---------------------------------------------------------------------------- file
class Mat5File:
    """A Level 5 MAT-file: :attr:`variables` listed from headers on construction, each
    variable's value decoded by :meth:`read`. Raises DataError for anything malformed."""

    def __init__(self, path: Path, size: int | None = None) -> None:
        self.path = Path(path)
        self.size = self.path.stat().st_size if size is None else size
        self.variables: dict[str, Variable] = {}
        with open(self.path, "rb") as fh:
            head = fh.read(HEADER_BYTES)
            kind = file_kind(head)
            if kind == "v4":
                raise DataError(
                    f"{self.path}: MATLAB v4 .mat files are not supported; save with -v7 or -v7.3"
                )
            if kind != "v5":
                raise DataError(f"{self.path}: not a MATLAB v5 .mat file")
            self.endian = "<" if head[126:128] == b"IM" else ">"
            self._list(fh)

    def fail(self, where: str, what: str) -> DataError:
        return DataError(f"{self.path}: {where} {what}")

    def _list(self, fh) -> None:
        pos, index, e = HEADER_BYTES, 0, self.endian
        while pos + 8 <= self.size:
            index += 1
            where = f"variable {index} (byte {pos})"
            fh.seek(pos)
            mdtype, nbytes = struct.unpack(e + "II", fh.read(8))
            if mdtype not in (MI_MATRIX, MI_COMPRESSED):
                if index > 1 and self._padding(fh, pos):
                    pos = (pos + 7) // 8 * 8  # a writer that pads compressed elements
                    index -= 1
                    continue
                raise self.fail(where, f"has type {mdtype}; expected a variable (miMATRIX)")
            if nbytes > self.size - pos - 8:
                raise self.fail(
                    f"truncated: variable {index}",
                    f"declares {nbytes} bytes at offset {pos + 8} but the file has only "
                    f"{self.size} bytes",
                )
            try:
                var = self._describe(fh, pos, nbytes, mdtype == MI_COMPRESSED)
            except _Corrupt as exc:
                raise self.fail(where, f"is unreadable: {exc}") from None
            except _PARSE_ERRORS as exc:  # a check missed above: still a clean refusal
                raise self.fail(where, f"is unreadable ({one_line(exc)})") from None
            if var is not None:
                self.variables[var.name] = var  # a repeated name: the last one wins, as in MATLAB
            pos += 8 + nbytes

    def _padding(self, fh, pos: int) -> bool:
        """Zero bytes up to the next 8-byte boundary, followed by a variable's tag."""
        aligned = (pos + 7) // 8 * 8
        if aligned == pos or aligned + 8 > self.size:
            return False
        fh.seek(pos)
        raw = fh.read(aligned - pos + 8)
        mdtype = struct.unpack(self.endian + "I", raw[-8:-4])[0]
        return not any(raw[: aligned - pos]) and mdtype in (MI_MATRIX, MI_COMPRESSED)

    def _describe(self, fh, pos: int, nbytes: int, compressed: bool) -> Variable | None:
        e = self.endian
        if compressed:
            buf = bytearray(_PREFIX)
            got = _Inflater(fh, pos + 8, nbytes).fill(memoryview(buf))
            inner = self._inner_tag(buf, got, nbytes)
            buf = buf[:got]
            start, end = 8, 8 + inner
        else:
            fh.seek(pos + 8)
            buf = fh.read(min(nbytes, _PREFIX))
            start, end = 0, nbytes
        if start == end:
            return None  # an empty element has no name: nothing a caller could ask for
        head = _header(buf, start, end, e)
        if not head.name:
            return None  # MATLAB's unnamed subsystem data
        data_tag = None
        if not compressed and (head.cls in CLASS_DTYPES or head.cls == "logical"):
            if head.next + 8 <= len(buf):
                data_tag = pos + 8 + head.next
        return Variable(
            name=head.name,
            cls=head.cls,
            shape=head.dims,
            offset=pos,
            nbytes=nbytes,
            compressed=compressed,
            is_complex=bool(head.flags & _COMPLEX),
            data_tag=data_tag,
        )

    def read(self, name: str, mat_dtype: bool = False, dtype: DTypeLike = None) -> object:
        """The value of variable ``name`` (see the module docstring for the types).

        Numeric arrays keep the type the file stores them in (MATLAB saves integral doubles
        as small integers), as ``loadmat`` does; ``mat_dtype`` converts them to their MATLAB
        class (``double`` -> float64, ``logical`` -> bool, ...), as ``loadmat(...,
        mat_dtype=True)`` does. ``dtype``
        converts numeric arrays to that type; a compressed one is converted block by block
        while it is inflated, never holding its stored-type copy.
        """
        var = self.variables[name]
        try:
            with open(self.path, "rb") as fh:
                if var.compressed and dtype is not None:
                    value = self._inflate_numeric(var, fh, np.dtype(dtype))
                    if value is not None:
                        return value
                buf = self._element(var, fh)
            head = _header(buf, 0, len(buf), self.endian)
            if head.name != name:
                raise _Corrupt(f"is named '{head.name}' now; the file changed while read")
            value = _matrix(buf, 0, len(buf), self.endian, depth=0, mat_dtype=mat_dtype)
        except _Corrupt as exc:
            raise self.fail(f"'{name}'", str(exc)) from None
        except _PARSE_ERRORS as exc:  # a check missed above: still a clean refusal
            raise self.fail(f"'{name}'", f"is unreadable ({one_line(exc)})") from None
        except MemoryError:
            raise self.fail(f"'{name}'", "is too large to load into memory") from None
        if dtype is not None and isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
            with np.errstate(all="ignore"):
                value = value.astype(dtype, order="F")
        return value

    def _element(self, var: Variable, fh) -> np.ndarray:
        """The bytes of a variable's miMATRIX element (after its tag), inflated if need be."""
        if not var.compressed:
            buf = np.empty(var.nbytes, dtype=np.uint8)
            fh.seek(var.offset + 8)
            if fh.readinto(memoryview(buf)) != var.nbytes:
                raise _Corrupt("data ends early; truncated")
            return buf
        inflater = _Inflater(fh, var.offset + 8, var.nbytes)
        tag = bytearray(8)
        inner = self._inner_tag(tag, inflater.fill(memoryview(tag)), var.nbytes)
        buf = np.empty(inner, dtype=np.uint8)
        if inflater.fill(memoryview(buf)) < inner:
            raise _Corrupt(
                f"compressed data ends before the {inner} bytes it declares; truncated or corrupt"
            )
        return buf

    def _inner_tag(self, buf, got: int, stored: int) -> int:
        """Byte count of the miMATRIX element starting a compressed stream, checked against
        what zlib could have compressed into ``stored`` bytes."""
        if got < 8:
            raise _Corrupt("compressed stream ends before the first tag")
        mdtype, inner = struct.unpack_from(self.endian + "II", buf, 0)
        if mdtype != MI_MATRIX:
            raise _Corrupt(f"compressed element holds type {mdtype}; expected miMATRIX")
        if inner > stored * MAX_COMPRESSION_RATIO + 1024:
            raise _Corrupt(
                f"compressed element declares {inner} bytes from {stored} stored bytes, "
                f"beyond what zlib can compress; corrupt"
            )
        return inner

    def _inflate_numeric(self, var: Variable, fh, dtype: np.dtype) -> np.ndarray | None:
        """A compressed real numeric variable converted to ``dtype`` block by block as it is
        inflated; None when the variable is of another kind (the caller decodes it whole)."""
        inflater = _Inflater(fh, var.offset + 8, var.nbytes)
        prefix = bytearray(_PREFIX)
        got = inflater.fill(memoryview(prefix))
        end = 8 + self._inner_tag(prefix, got, var.nbytes)
        prefix = memoryview(prefix)[:got]
        head = _header(prefix, 8, end, self.endian)
        if head.flags & _COMPLEX or head.cls not in CLASS_DTYPES:
            return None
        mdtype, nbytes, data, _ = _tag(prefix, head.next, end, self.endian, "data")
        if mdtype not in MI_DTYPES or data - head.next != 8:
            return None  # unknown types and small elements: the whole-element path decides
        stored = np.dtype(MI_DTYPES[mdtype]).newbyteorder(self.endian)
        count = math.prod(head.dims)
        if nbytes != count * stored.itemsize:
            return None
        out = np.empty(count, dtype=dtype)
        have = prefix[data : min(got, data + nbytes)]
        block = np.empty(max(min(_BLOCK_BYTES, nbytes), len(have)), dtype=np.uint8)
        block = block[: len(block) // stored.itemsize * stored.itemsize]
        block[: len(have)] = np.frombuffer(have, dtype=np.uint8)
        start, done = len(have), 0
        while done < nbytes:
            want = min(len(block), nbytes - done)
            if start < want and inflater.fill(memoryview(block)[start:want]) < want - start:
                raise _Corrupt(
                    f"compressed data ends before the {nbytes} data bytes it declares; "
                    f"truncated or corrupt"
                )
            first = done // stored.itemsize
            with np.errstate(all="ignore"):
                out[first : first + want // stored.itemsize] = block[:want].view(stored)
            done, start = done + want, 0
        return out.reshape(head.dims, order="F")

    def data_tag(self, name: str) -> tuple[int, np.dtype, int] | None:
        """(file offset, stored dtype, byte count) of an uncompressed real numeric variable's
        data, for callers that read it in blocks; None for anything else."""
        var = self.variables.get(name)
        if var is None or var.data_tag is None or var.is_complex:
            return None
        with open(self.path, "rb") as fh:
            fh.seek(var.data_tag)
            raw = fh.read(8)
        end = var.offset + 8 + var.nbytes
        try:
            mdtype, nbytes, data, _ = _tag(raw, 0, end - var.data_tag, self.endian, "data")
        except _Corrupt:
            return None
        if mdtype not in MI_DTYPES or data != 8:  # small elements are not worth a block read
            return None
        return var.data_tag + 8, np.dtype(MI_DTYPES[mdtype]).newbyteorder(self.endian), nbytes
