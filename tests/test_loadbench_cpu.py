"""The load benchmark's CPU figure: the CPU seconds of a process group, read from /proc."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from onewindow import loadbench


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="/proc is Linux")
def test_group_cpu_seconds_counts_this_process_group() -> None:
    before = loadbench._group_cpu_seconds(os.getpgrp())
    end = time.process_time() + 0.2
    while time.process_time() < end:  # burn a little CPU
        pass
    after = loadbench._group_cpu_seconds(os.getpgrp())
    assert before is not None and after is not None
    assert after - before >= 0.1
    assert loadbench._group_cpu_seconds(2**22 + 12345) == 0  # a group with no process
