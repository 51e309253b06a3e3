"""`python -m tests`: install what the tests need, then lint, type-check and run every test.

It installs Debian's chromium when it is missing (as root, with apt-get) and the pinned
npm tools for the browser tests, so a fresh machine needs nothing else. Arguments go to
pytest; `--no-lint` skips ruff and mypy (the PostgreSQL pass in .ci/run uses it).

`--mutate [--jobs=N] [--postgres] [--report] [MODULE ...]` runs mutation testing instead
(tests/mutation.py: slow, never part of the normal run) and reports the mutation score of each
module that holds the rules protecting people.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BROWSER_TOOLS = ROOT / "tests" / "browser"
CHROMIUM = Path("/usr/bin/chromium")


def run(*command: str, **kwargs: object) -> int:
    print("+", " ".join(command), flush=True)
    return subprocess.call(command, cwd=ROOT, **kwargs)  # type: ignore[arg-type]


def ensure_chromium() -> None:
    if CHROMIUM.exists():
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        sys.exit("The browser tests need Debian's chromium: sudo apt-get install -y chromium")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if run("apt-get", "update", "-qq", env=env) or run(
        "apt-get", "install", "-y", "-qq", "chromium", env=env
    ):
        sys.exit("Could not install chromium with apt-get")


#: What tests/browser/package.json installs: axe-core for the browser tests, Lighthouse for
#: tests/bench/bench_lighthouse.py.
NPM_TOOLS = ("axe-core/axe.min.js", "lighthouse/cli/index.js")


def ensure_browser_tools() -> None:
    if all((BROWSER_TOOLS / "node_modules" / tool).exists() for tool in NPM_TOOLS):
        return
    npm = shutil.which("npm")
    if npm is None:
        sys.exit("The browser tests need npm (Node.js) to install axe-core and Lighthouse")
    if run(npm, "ci", "--no-audit", "--no-fund", "--prefix", str(BROWSER_TOOLS)):
        sys.exit("npm could not install the browser test tools")


def main(argv: list[str]) -> int:
    if argv[:1] == ["--mutate"]:
        from tests import mutation

        return mutation.main(argv[1:])
    lint = "--no-lint" not in argv
    pytest_args = [arg for arg in argv if arg != "--no-lint"]
    ensure_chromium()
    ensure_browser_tools()
    python = sys.executable
    if lint:
        if run(python, "-m", "ruff", "check", "."):
            return 1
        if run(python, "-m", "mypy", "web", "models"):
            return 1
    code = run(python, "-m", "pytest", *pytest_args)
    if code == 5:
        print("pytest collected no tests: that is a failure, not a pass", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
