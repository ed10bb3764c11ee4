"""Chunked columnar reading and writing with pyarrow, and atomic output files.

A register is read batch by batch (pyarrow's streaming CSV reader or Parquet row batches), so
the parent process never holds the whole file. Every output goes to a temporary file beside
its target and is renamed over it only when the run has finished: an interrupted run leaves
the target as it was.
"""
from __future__ import annotations

import bisect
import csv
import io
import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

CSV_SUFFIXES = (".csv",)
PARQUET_SUFFIXES = (".parquet", ".pq")
BATCH_BYTES = 1 << 20  # CSV block size: about 10,000 register rows
# Excel on Chinese Windows reads a CSV without a byte-order mark as GBK: --bom writes one.
UTF8_BOM = b"\xef\xbb\xbf"


class TabularError(Exception):
    """A file that cannot be read or written as asked (bad extension, no header, ...)."""


def file_format(path: str | os.PathLike, *, allow_json: bool = False) -> str:
    suffix = Path(path).suffix.lower()
    if suffix in CSV_SUFFIXES:
        return "csv"
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    if allow_json and suffix == ".json":
        return "json"
    known = ", ".join(CSV_SUFFIXES + PARQUET_SUFFIXES + ((".json",) if allow_json else ()))
    raise TabularError(f"不支持的文件类型 unsupported file type {suffix or '(none)'!r} for {path}; use {known}")


# ---------------------------------------------------------------------------------------------
# Reading


class Register:
    """A register file opened for batch reading.

    `location(row)` turns a 0-based data-row index into what a person looks for in the file:
    the 1-based line number for CSV (the header is line 1), the 1-based row for Parquet.
    """

    unit = "line"

    def __init__(self, path: Path):
        self.path = path
        self.columns: list[str] = []
        self.total_rows: int | None = None
        self.malformed: list[tuple[int | None, str]] = []  # CSV lines that could not be split

    def batches(self, wanted: list[str]):  # pragma: no cover - interface
        raise NotImplementedError

    def fraction_read(self) -> float | None:
        return None

    def location(self, row: int) -> int:
        raise NotImplementedError

    def close(self) -> None:
        pass


class CsvRegister(Register):
    unit = "line"

    def __init__(self, path: Path, encoding: str = "utf-8", batch_bytes: int = BATCH_BYTES):
        super().__init__(path)
        self.encoding = encoding
        self.batch_bytes = batch_bytes
        self.size = path.stat().st_size
        self._raw = None
        # Lines the CSV parser skipped (wrong number of fields); sorted, 1-based. Data row k
        # sits on line k + 2 plus the skipped lines before it.
        self._skipped: list[int] = []
        py_encoding = "utf-8-sig" if encoding.replace("_", "-").lower() in ("utf-8", "utf8") else encoding
        try:
            with open(path, encoding=py_encoding, newline="") as fh:
                header = next(csv.reader(fh), None)
        except (UnicodeDecodeError, LookupError) as exc:
            raise TabularError(f"无法按 {encoding} 解码表头 cannot decode the header of {path} as {encoding}: {exc}") from None
        if not header:
            raise TabularError(f"文件为空或没有表头 {path} is empty or has no header line")
        self.columns = [name.strip() for name in header]
        dupes = sorted({c for c in self.columns if self.columns.count(c) > 1})
        if dupes:
            raise TabularError(f"表头列名重复 duplicate column names in {path}: {', '.join(dupes)}")

    def _on_invalid(self, row) -> str:
        # Called by pyarrow while it parses; with use_threads=False `row.number` is the line.
        if row.number is not None:
            bisect.insort(self._skipped, row.number)
        self.malformed.append(
            (row.number, f"应有 {row.expected_columns} 列，实际 {row.actual_columns} 列 "
                         f"expected {row.expected_columns} fields, found {row.actual_columns}")
        )
        return "skip"

    def batches(self, wanted: list[str]):
        self._raw = open(self.path, "rb")
        reader = pacsv.open_csv(
            self._raw,
            read_options=pacsv.ReadOptions(
                use_threads=False, block_size=self.batch_bytes, encoding=self.encoding,
                column_names=self.columns, skip_rows=1,
            ),
            parse_options=pacsv.ParseOptions(
                invalid_row_handler=self._on_invalid,
                # Blank lines become all-empty rows, so line numbers stay exact; they are dropped.
                ignore_empty_lines=False,
            ),
            convert_options=pacsv.ConvertOptions(
                # Everything is read as text: types are judged cell by cell, so one bad cell
                # is a reported row, not a failed file.
                column_types={name: pa.string() for name in self.columns},
                include_columns=wanted,
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
                null_values=[""],
            ),
        )
        try:
            for batch in reader:
                if batch.num_rows:
                    yield batch
        finally:
            self.close()

    def fraction_read(self) -> float | None:
        if self._raw is None or self._raw.closed or not self.size:
            return None
        return min(1.0, self._raw.tell() / self.size)

    def location(self, row: int) -> int:
        line = row + 2
        for skipped in self._skipped:
            if skipped <= line:
                line += 1
            else:
                break
        return line

    def close(self) -> None:
        if self._raw is not None:
            self._raw.close()


class ParquetRegister(Register):
    unit = "row"

    def __init__(self, path: Path, batch_rows: int = 8192):
        super().__init__(path)
        try:
            self._file = pq.ParquetFile(path)
        except (pa.ArrowInvalid, OSError) as exc:
            raise TabularError(f"不是有效的 Parquet 文件 {path} is not a readable Parquet file: {exc}") from None
        self.columns = list(self._file.schema_arrow.names)
        self.total_rows = self._file.metadata.num_rows
        self.batch_rows = batch_rows
        self._done = 0

    def batches(self, wanted: list[str]):
        try:
            for batch in self._file.iter_batches(batch_size=self.batch_rows, columns=wanted):
                self._done += batch.num_rows
                yield batch
        finally:
            self.close()

    def fraction_read(self) -> float | None:
        return self._done / self.total_rows if self.total_rows else None

    def location(self, row: int) -> int:
        return row + 1

    def close(self) -> None:
        self._file.close()


def open_register(path: str | os.PathLike, *, encoding: str = "utf-8") -> Register:
    path = Path(path)
    kind = file_format(path)
    if not path.is_file():
        raise TabularError(f"找不到文件 no such file: {path}")
    return CsvRegister(path, encoding) if kind == "csv" else ParquetRegister(path)


# ---------------------------------------------------------------------------------------------
# Writing


class AtomicPath:
    """A temporary file beside `target`, renamed over it by `commit()`, removed by `discard()`."""

    def __init__(self, target: str | os.PathLike):
        self.target = Path(target)
        self.temp = self.target.with_name(f".{self.target.name}.partial-{os.getpid()}")

    def commit(self) -> None:
        os.replace(self.temp, self.target)

    def discard(self) -> None:
        try:
            self.temp.unlink()
        except FileNotFoundError:
            pass


class BatchWriter:
    """Writes record batches to CSV or Parquet (by the target's extension), atomically."""

    def __init__(self, target: str | os.PathLike, schema: pa.Schema, *, bom: bool = False):
        self.kind = file_format(target)
        self.atomic = AtomicPath(target)
        self.schema = schema
        self.rows = 0
        self._sink = None
        if self.kind == "csv":
            self._sink = pa.OSFile(str(self.atomic.temp), "wb")
            if bom:
                self._sink.write(UTF8_BOM)
            self._writer = pacsv.CSVWriter(self._sink, schema)
        else:
            self._writer = pq.ParquetWriter(str(self.atomic.temp), schema, compression="zstd")

    def write(self, batch: pa.RecordBatch | pa.Table) -> None:
        if batch.num_rows:
            if isinstance(batch, pa.Table):
                self._writer.write_table(batch)
            else:
                self._writer.write_batch(batch)
            self.rows += batch.num_rows

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._sink is not None:
            self._sink.close()
            self._sink = None

    def commit(self) -> None:
        self.close()
        self.atomic.commit()

    def discard(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - the file is being thrown away anyway
            pass
        self.atomic.discard()


def write_small_table(target: str | os.PathLike, table: pa.Table, *, bom: bool = False) -> AtomicPath:
    """Writes a small table (a summary) to the temp file of `target`; the caller commits."""
    kind = file_format(target, allow_json=True)
    atomic = AtomicPath(target)
    if kind == "json":
        text = json.dumps(table.to_pylist(), ensure_ascii=False, indent=1)
        atomic.temp.write_text(text + "\n", encoding="utf-8")
    elif kind == "csv":
        with pa.OSFile(str(atomic.temp), "wb") as sink:
            if bom:
                sink.write(UTF8_BOM)
            pacsv.write_csv(table, sink)
    else:
        pq.write_table(table, str(atomic.temp), compression="zstd")
    return atomic


def read_table(path: str | os.PathLike) -> pa.Table:
    """Reads a whole (small or test-sized) CSV or Parquet file, every CSV column as text."""
    path = Path(path)
    if file_format(path) == "parquet":
        return pq.read_table(path)
    with open(path, encoding="utf-8-sig", newline="") as fh:
        header = next(csv.reader(fh), [])
    return pacsv.read_csv(
        path,
        convert_options=pacsv.ConvertOptions(
            column_types={name: pa.string() for name in header}, strings_can_be_null=True
        ),
    )


def csv_text(table: pa.Table) -> str:
    sink = io.BytesIO()
    pacsv.write_csv(table, sink)
    return sink.getvalue().decode("utf-8")
