"""Puts an unmodified checkout of the official Tinker Python SDK on sys.path, for the scripts
beside this file. TINKER_SDK_DIR names the checkout (github.com/thinking-machines-lab/tinker, not
installed): its src/ goes first, a package-metadata stub gives importlib the version its
pyproject.toml names, and Debian's dist-packages (httpx, anyio, protobuf, …) go last so the
machine's pydantic 2 wins over Debian's 1.x.
"""
from __future__ import annotations

import os
import re
import sys
import tempfile


def put_sdk_on_path() -> str:
    """Returns the SDK's version; exits with a message when TINKER_SDK_DIR is not set."""
    sdk_dir = os.environ.get("TINKER_SDK_DIR")
    if not sdk_dir:
        sys.exit("set TINKER_SDK_DIR to a checkout of the Tinker SDK")
    with open(os.path.join(sdk_dir, "pyproject.toml")) as f:
        version = re.search(r'^version = "([^"]+)"', f.read(), re.M).group(1)
    meta = tempfile.mkdtemp(prefix="tinker-meta-")
    os.makedirs(os.path.join(meta, f"tinker-{version}.dist-info"))
    with open(os.path.join(meta, f"tinker-{version}.dist-info", "METADATA"), "w") as f:
        f.write(f"Metadata-Version: 2.1\nName: tinker\nVersion: {version}\n")
    sys.path[:0] = [os.path.join(sdk_dir, "src"), meta]
    sys.path.append("/usr/lib/python3/dist-packages")
    return version
