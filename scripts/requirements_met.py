"""Whether every requirement in the given files is installed at a version they allow (exit 0), or not (exit 1).

    python scripts/requirements_met.py requirements-test.txt requirements-ray.txt || pip install -r ...

scripts/test.sh asks this first: pip's own check that nothing is missing takes seconds, this a fraction of one.
Lines it does not understand (an option, a URL) count as not met, so pip decides those.
"""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path


def requirement_lines(path: Path) -> list[str]:
    """The requirement lines of ``path`` and of the files it includes (``-r other.txt``)."""
    lines = []
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line.startswith("-r "):
            lines += requirement_lines(path.parent / line[3:].strip())
        elif line:
            lines.append(line)
    return lines


def met(line: str) -> bool:
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        requirement = Requirement(line)
    except InvalidRequirement:
        return False
    if requirement.marker is not None and not requirement.marker.evaluate():
        return True
    try:
        installed = metadata.version(requirement.name)
    except metadata.PackageNotFoundError:
        return False
    return requirement.specifier.contains(installed, prereleases=True)


def main(paths: list[str]) -> int:
    try:
        missing = [line for path in paths for line in requirement_lines(Path(path)) if not met(line)]
    except (OSError, ImportError):
        return 1
    for line in missing:
        print(f"not installed: {line}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
