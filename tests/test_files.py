"""The one bounded read every user-named file goes through."""

import os
import threading

import pytest

from imu_monitor.cli.main import main
from imu_monitor.files import FileTooLargeError, NotRegularFileError, read_regular_file


def test_reads_a_small_regular_file(tmp_path):
    p = tmp_path / "f"
    p.write_bytes(b"abc")
    assert read_regular_file(p, 3) == b"abc"


def test_refuses_what_is_not_a_small_regular_file(tmp_path):
    big = tmp_path / "big"
    big.write_bytes(b"x" * 11)
    with pytest.raises(FileTooLargeError) as e:
        read_regular_file(big, 10)
    assert e.value.size == 11
    with pytest.raises(IsADirectoryError):
        read_regular_file(tmp_path, 10)
    with pytest.raises(FileNotFoundError):
        read_regular_file(tmp_path / "none", 10)
    with pytest.raises(NotRegularFileError):
        read_regular_file("/dev/zero", 10)


@pytest.mark.parametrize("argv", [["analyze"], ["import", "--format", "csv", "-o", "out.imr"]])
def test_a_named_pipe_is_refused_not_waited_on(tmp_path, argv, capsys):
    # a pipe with no writer made open() wait forever; the command must answer at once
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    argv = [argv[0], str(fifo), *argv[1:]]
    if "-o" in argv:
        argv[-1] = str(tmp_path / "out.imr")
    done: list[int] = []
    worker = threading.Thread(target=lambda: done.append(main(argv)), daemon=True)
    worker.start()
    worker.join(timeout=10)  # a hang guard: the refusal takes milliseconds
    if worker.is_alive():  # unblock the stuck open() so the test run can go on
        with open(fifo, "wb"):
            pass
        worker.join(timeout=5)
    assert done == [1]
    assert "not a regular file" in capsys.readouterr().err
