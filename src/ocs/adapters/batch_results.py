"""The result file of a subscriber batch: one line per subscriber with its card number, wallet
reference and, for batches with PINs, the plain PIN. It is the only place a plain PIN is ever
written, so the file is created readable by its owner only (0600) and never overwritten."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from ocs.core.errors import DomainError, ProblemKind
from ocs.service.batch_ports import ResultLine

HEADER = "# subscriber_id card_number wallet_reference"


def format_line(line: ResultLine) -> str:
    fields = [line.subscriber_id, line.card_number, line.wallet_reference]
    if line.pin is not None:
        fields.append(line.pin)
    return " ".join(fields)


class FileResultSink:
    """Writes the result file as the chunks commit; close() when the batch ends."""

    def __init__(self, path: Path, pins: bool) -> None:
        self.path = path
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise DomainError(
                ProblemKind.DUPLICATE,
                f"the result file {path} exists already; choose another name",
                "result_filename",
            ) from None
        except OSError as exc:
            raise DomainError(
                ProblemKind.INVALID_VALUE,
                f"the result file {path} cannot be created: {exc.strerror}",
                "result_filename",
            ) from None
        self._file: TextIO = os.fdopen(fd, "w", encoding="ascii")
        self._file.write(HEADER + (" pin\n" if pins else "\n"))

    def write(self, lines: Sequence[ResultLine]) -> None:
        self._file.write("".join(format_line(x) + "\n" for x in lines))
        self._file.flush()

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()
