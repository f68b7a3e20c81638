# SPDX-License-Identifier: Apache-2.0
"""The SWIG module, loaded once.

``sdtls._sdtls`` is SWIG's Python proxy over the C extension ``sdtls._sdtls_ext``;
the pythonic layer calls the extension's functions directly (same names, one
Python frame less on the per-datagram path).
"""

from __future__ import annotations

import importlib
from typing import Any

from . import _sdtls as lowlevel  # noqa: F401  (the documented low-level module)

c: Any = importlib.import_module("sdtls._sdtls_ext")

TIME_NEVER = (1 << 64) - 1
