"""The production settings (clinic/settings.py, read from the environment) with the collected static
files in a folder of the benchmark's own (BENCH_STATIC_ROOT), so that `make bench-load` never
writes the project's staticfiles/ folder, which WhiteNoise would then serve to other runs."""

import os
from pathlib import Path

from clinic.settings import *  # noqa: F403

STATIC_ROOT = Path(os.environ["BENCH_STATIC_ROOT"])
