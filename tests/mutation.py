"""`python -m tests --mutate [MODULE ...]`: mutation testing of the rules that protect people.

mutmut (3.x) changes one thing at a time in a module (`<` to `<=`, `and` to `or`, a value to
None, a string to "XX…XX", …) and runs the tests that reach the changed function; a mutant the
tests do not notice *survives*. Each module is mutated on its own, against the fast in-process
tests that exercise it (SQLite; the browser tests are never run), so a module takes minutes.
`--postgres` runs them on PostgreSQL instead (TEST_DATABASE_URL, else the local `test`
database), one mutant at a time as they share the database: for the branches only PostgreSQL
takes (the rate limits' advisory lock). The score is killed / (total less the recorded
equivalents); `--report` prints it again from the last run's results, without mutating.
docs/TESTING.md ("## Mutation testing") holds the latest figures and the surviving mutants
recorded as equivalent, each with the mutated line and a reason: a survivor recorded there is
reported as explained, any other is listed with its diff and makes the command fail.

Each module is mutated in a scratch copy of the project, `.mutation/<module>/` (mutmut writes
its `mutants/` folder there), so the working tree is never touched. In that copy, and only
there, decorators are applied by assignment (`f = public(f)` after `def f`, not `@public`):
the same program, but mutmut 3 skips decorated functions, and the route handlers and the
guards inside `signed_in` hold rules too. After a run, inspect a mutant with
`cd .mutation/<module> && ../../.venv/bin/mutmut show NAME` (or `mutmut browse`).
"""

from __future__ import annotations

import ast
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRATCH = ROOT / ".mutation"
TESTING_DOC = ROOT / "docs" / "TESTING.md"
TARGET = 0.90

#: The modules holding the rules that protect people, each with the fast tests that exercise
#: it (kept to those, so a run takes minutes, not hours).
MODULES: dict[str, list[str]] = {
    "web/core/access.py": [
        "tests/web/test_rules_access.py",
        "tests/web/test_team_page.py",
        "tests/web/test_who_sees_what.py",
        "tests/web/test_no_register.py",
        "tests/web/test_phonebook.py",
        "tests/web/test_clients.py",
        "tests/web/test_circles.py",
        "tests/web/test_find_and_join.py",
        "tests/web/test_checkins.py",
        "tests/web/test_rules_checkins.py",
        "tests/web/test_vouching.py",
        "tests/web/test_two_worlds.py",
    ],
    "web/core/scopes.py": [
        "tests/web/test_rules_access.py",
        "tests/web/test_clients.py",
        "tests/web/test_search.py",
        "tests/web/test_profile.py",
        "tests/web/test_join_limits.py",
    ],
    "web/core/references.py": [
        "tests/web/test_rules_access.py",
        "tests/web/test_no_register.py",
        "tests/web/test_join_limits.py",
    ],
    "web/core/security.py": [
        "tests/web/test_rules_security.py",
        "tests/web/test_security.py",
        "tests/web/test_csrf_walk.py",
        "tests/web/test_route_inventory.py",
        "tests/web/test_signin.py",
    ],
    "web/core/cookies.py": [
        "tests/web/test_rules_security.py",
        "tests/web/test_security.py",
        "tests/web/test_csrf_walk.py",
        "tests/web/test_signin.py",
    ],
    "web/core/auth.py": [
        "tests/web/test_rules_auth.py",
        "tests/web/test_route_inventory.py",
        "tests/web/test_signin.py",
        "tests/web/test_redirects.py",
        "tests/web/test_devices.py",
        "tests/web/test_security.py",
    ],
    "web/core/signins.py": [
        "tests/web/test_rules_signin.py",
        "tests/web/test_signin.py",
        "tests/web/test_passkeys.py",
        "tests/web/test_sso.py",
    ],
    "web/signin/links.py": [
        "tests/web/test_rules_signin.py",
        "tests/web/test_signin.py",
        "tests/web/test_redirects.py",
    ],
    "web/core/ratelimit.py": [
        "tests/web/test_rules_ratelimit.py",
        "tests/web/test_rate_limit_races.py",
        "tests/web/test_join_limits.py",
        "tests/web/test_signin.py",
        "tests/web/test_find_and_join.py",
        "tests/web/test_passkeys.py",
    ],
    "web/core/alerts.py": [
        "tests/web/test_rules_alerts.py",
        "tests/web/test_alerts.py",
        "tests/web/test_digests.py",
        "tests/web/test_checkins.py",
        "tests/web/test_worker.py",
    ],
    "web/alerts/push.py": [
        "tests/web/test_rules_push.py",
        "tests/web/test_alerts.py",
        "tests/web/test_worker.py",
    ],
    "web/alerts/worker.py": [
        "tests/web/test_rules_worker.py",
        "tests/web/test_worker.py",
        "tests/web/test_digests.py",
        "tests/web/test_audit_chain.py",
        "tests/web/test_retention.py",
        "tests/web/test_alerts.py",
        "tests/web/test_checkins.py",
    ],
    "web/core/jobs.py": [
        "tests/web/test_digests.py",
        "tests/web/test_retention.py",
        "tests/web/test_rules_worker.py",
    ],
    "web/core/retention.py": [
        "tests/web/test_retention.py",
    ],
    "web/core/audit_chain.py": [
        "tests/web/test_audit_chain.py",
    ],
    "web/core/checkins.py": [
        "tests/web/test_rules_checkins.py",
        "tests/web/test_checkins.py",
        "tests/web/test_two_worlds.py",
    ],
    "web/teams/checkins.py": [
        "tests/web/test_rules_checkins.py",
        "tests/web/test_checkins.py",
    ],
}

#: What the scratch copy holds besides the Python packages (mutmut copies it on to mutants/).
DATA = ["templates", "static", "service_worker"]
IGNORED = shutil.ignore_patterns("__pycache__", "node_modules", ".hypothesis", "*.sqlite3*")

#: A recorded equivalent mutant in docs/TESTING.md:
#: - `web.auth.x_safe_next__mutmut_7` — `the mutated line` — why it cannot be told apart.
EQUIVALENT = re.compile(r"^- `(?P<name>[^`]+__mutmut_\d+)` — `(?P<line>[^`]*)` — (?P<why>.+)$")


#: The functions with branches only PostgreSQL takes: `--postgres` mutates just these (one at
#: a time on one database is slow), and a mutant of theirs that survives on SQLite but is
#: killed on PostgreSQL counts as killed.
POSTGRES_BRANCHES: dict[str, list[str]] = {
    "web/core/ratelimit.py": ["count_attempt"],
    "web/alerts/worker.py": ["claim_due", "send_digests_once"],
    "web/core/retention.py": ["daily"],
    "web/core/jobs.py": ["once"],
    "web/core/audit_chain.py": ["seal"],
}

#: Where `--postgres` runs (the one database every mutant's tests share, so one at a time).
POSTGRES = os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")


def scratch_for(module: str, postgres: bool = False) -> Path:
    """`.mutation/core-checkins/` for web/core/checkins.py (`-postgres` after it for those runs)."""
    name = "-".join(Path(module).with_suffix("").parts[1:])
    return SCRATCH / (name + ("-postgres" if postgres else ""))


# -- the scratch copy -------------------------------------------------------------------------


def undecorate(source: str) -> str:
    """The same module with every function decorator applied by assignment after the `def`.

    `@a @b(x) def f` becomes `def f` then `f = a(b(x)(f))`: what Python does, in the same
    order, except that the decorator expressions are evaluated after the body is defined
    (they are names and calls with constants here). mutmut 3 skips decorated functions."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    functions = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.decorator_list
    ]
    # Bottom up, so the line numbers of those still to do stay right.
    for node in sorted(functions, key=lambda n: n.lineno, reverse=True):
        names = {d.id for d in node.decorator_list if isinstance(d, ast.Name)}
        if names & {"staticmethod", "classmethod", "property"}:
            continue
        indent = " " * node.col_offset
        applied = node.name
        for decorator in reversed(node.decorator_list):
            applied = f"{ast.get_source_segment(source, decorator)}({applied})"
        assert node.end_lineno is not None
        lines.insert(node.end_lineno, f"{indent}{node.name} = {applied}\n")
        first = node.decorator_list[0].lineno - 1
        del lines[first : node.lineno - 1]
    return "".join(lines)


def mutmut_config(module: str, tests: list[str]) -> str:
    """The [tool.mutmut] table for one module's run."""
    settings = {
        "source_paths": ["web", "models"],
        "only_mutate": [module],
        "also_copy": DATA,
        "pytest_add_cli_args_test_selection": tests,
        # Quiet, and every warning still an error (pyproject's filterwarnings).
        "pytest_add_cli_args": ["-p", "no:logging", "-p", "no:cacheprovider"],
        # Every run starts from a fresh copy: nothing cached to invalidate.
        "use_git_change_detection": False,
    }
    return "\n[tool.mutmut]\n" + "".join(
        f"{key} = {json.dumps(value)}\n" for key, value in settings.items()
    )


def prepare(module: str, tests: list[str], postgres: bool) -> Path:
    """A fresh scratch copy of the project for mutating `module`."""
    scratch = scratch_for(module, postgres)
    if scratch.exists():
        shutil.rmtree(scratch)
    scratch.mkdir(parents=True)
    for name in ["web", "models", "tests", *DATA]:
        shutil.copytree(ROOT / name, scratch / name, ignore=IGNORED)
    shutil.rmtree(scratch / "tests" / "browser")
    pyproject = (ROOT / "pyproject.toml").read_text()
    (scratch / "pyproject.toml").write_text(pyproject + mutmut_config(module, tests))
    target = scratch / module
    target.write_text(undecorate(target.read_text()))
    return scratch


# -- results ----------------------------------------------------------------------------------


#: What counts as noticed: a failing test, a hang, a crash, or a failure on PostgreSQL.
KILLED = ("killed", "timeout", "segfault", "killed on PostgreSQL")


@dataclass
class Score:
    module: str
    statuses: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    postgres: bool = False

    @property
    def label(self) -> str:
        return self.module + (" (PostgreSQL)" if self.postgres else "")

    def count(self, *statuses: str) -> int:
        return sum(1 for s in self.statuses.values() if s in statuses)

    @property
    def total(self) -> int:
        return len(self.statuses)

    @property
    def killed(self) -> int:
        # A mutant that makes the tests hang or crash was noticed too.
        return self.count(*KILLED)

    @property
    def survivors(self) -> list[str]:
        return sorted(n for n, s in self.statuses.items() if s not in KILLED)

    @property
    def score(self) -> float:
        """Killed of the mutants that can be told apart (total less recorded equivalents)."""
        distinguishable = self.total - self.count("equivalent")
        return self.killed / distinguishable if distinguishable else 1.0


def read_statuses(scratch: Path, module: str) -> dict[str, str]:
    """Each mutant's status in the run kept in `scratch` (only those that run checked)."""
    from mutmut.stats import status_by_exit_code

    meta = json.loads((scratch / "mutants" / (module + ".meta")).read_text())
    statuses = {name: status_by_exit_code[code] for name, code in meta["exit_code_by_key"].items()}
    return {name: status for name, status in statuses.items() if status != "not checked"}


def with_postgres(score: Score) -> Score:
    """A SQLite score counting as killed what its module's last PostgreSQL run killed."""
    scratch = scratch_for(score.module, postgres=True)
    if score.postgres or not (scratch / "mutants" / (score.module + ".meta")).exists():
        return score
    there = read_statuses(scratch, score.module)
    for name in score.survivors:
        if there.get(name) in KILLED:
            score.statuses[name] = "killed on PostgreSQL"
    return score


def mutmut(
    scratch: Path, *args: str, postgres: bool = False, **kwargs: object
) -> subprocess.CompletedProcess[str]:
    executable = Path(sys.executable).with_name("mutmut")
    env = {k: v for k, v in os.environ.items() if k != "TEST_DATABASE_URL"}
    if postgres:
        env["TEST_DATABASE_URL"] = POSTGRES
    return subprocess.run(
        [str(executable), *args],
        cwd=scratch,
        env=env,
        text=True,
        **kwargs,  # type: ignore[call-overload]
    )


def mutated_line(scratch: Path, name: str) -> tuple[str, str]:
    """The first line the mutant adds, and its whole diff (from `mutmut show`)."""
    diff = mutmut(scratch, "show", name, capture_output=True).stdout
    added = [
        line[1:].strip()
        for line in diff.splitlines()
        if line.startswith("+") and not line.startswith("+++")
    ]
    return (added[0] if added else "(the line is removed)"), diff


def recorded_equivalents() -> dict[str, tuple[str, str]]:
    """Mutant name -> (mutated line, reason), from docs/TESTING.md."""
    if not TESTING_DOC.exists():
        return {}
    found = {}
    for line in TESTING_DOC.read_text().splitlines():
        match = EQUIVALENT.match(line.strip())
        if match:
            found[match["name"]] = (match["line"], match["why"])
    return found


# -- the command ------------------------------------------------------------------------------


def run_module(module: str, jobs: int, postgres: bool) -> Score:
    tests = [t for t in MODULES[module] if (ROOT / t).exists()]
    scratch = prepare(module, tests, postgres)
    print(f"\n=== mutating {module} against {len(tests)} test files ({scratch})", flush=True)
    started = datetime.datetime.now()
    # On PostgreSQL every mutant's tests use the same database: one mutant at a time.
    children = "1" if postgres else str(jobs)
    dotted = module.removesuffix(".py").replace("/", ".")
    only = [f"{dotted}.x_{name}__mutmut_*" for name in POSTGRES_BRANCHES.get(module, [])]
    run = mutmut(
        scratch, "run", "--max-children", children, *(only if postgres else []), postgres=postgres
    )
    if not (scratch / "mutants" / (module + ".meta")).exists():
        raise SystemExit(f"mutmut could not run {module} (exit {run.returncode}): see above")
    score = with_postgres(Score(module, read_statuses(scratch, module), postgres=postgres))
    score.seconds = (datetime.datetime.now() - started).total_seconds()
    return score


def last_run(module: str, postgres: bool) -> Score:
    """The results of the last run of `module`, still in its scratch copy."""
    scratch = scratch_for(module, postgres)
    if not (scratch / "mutants" / (module + ".meta")).exists():
        raise SystemExit(f"{module} has not been mutated yet{' on PostgreSQL' if postgres else ''}")
    return with_postgres(Score(module, read_statuses(scratch, module), postgres=postgres))


def report(scores: list[Score]) -> int:
    """Print each module's score and its unexplained survivors; 1 if there are any."""
    equivalents = recorded_equivalents()
    unexplained = 0
    print(f"\nMutation scores ({datetime.date.today().isoformat()}, mutmut):")
    for score in scores:
        scratch = scratch_for(score.module, score.postgres)
        explained = []
        for name in score.survivors:
            line, diff = mutated_line(scratch, name)
            recorded = equivalents.get(name)
            if recorded and recorded[0] == line:
                explained.append(name)
                continue
            unexplained += 1
            print(f"\n--- {score.statuses[name]}: {name}\n{diff.strip()}")
        score.statuses = {**score.statuses, **{n: "equivalent" for n in explained}}
        if score.score < TARGET:
            print(f"\n{score.label}: {score.score:.1%} killed, below the {TARGET:.0%} target")
    print("\n(score: killed / (total - equivalent))")
    print(
        f"{'module':<33} {'total':>6} {'killed':>6} {'(on PG)':>7} {'equivalent':>10}"
        f" {'survived':>8} {'score':>7}  minutes"
    )
    for score in scores:
        survived = score.total - score.killed - score.count("equivalent")
        print(
            f"{score.label:<33} {score.total:>6} {score.killed:>6}"
            f" {score.count('killed on PostgreSQL'):>7} {score.count('equivalent'):>10}"
            f" {survived:>8} {score.score:>7.1%}  {score.seconds / 60:7.1f}"
        )
    below = [score.label for score in scores if score.score < TARGET]
    if unexplained:
        print(f"\n{unexplained} surviving mutants are neither killed nor recorded as equivalent")
        print("in docs/TESTING.md: kill each with a test, or record why it cannot be told apart.")
    return 1 if unexplained or below else 0


def main(argv: list[str]) -> int:
    jobs = 2
    postgres = again = False
    modules: list[str] = []
    for arg in argv:
        if arg == "--postgres":
            postgres = True
        elif arg == "--report":
            again = True
        elif arg.startswith("--jobs="):
            jobs = int(arg.removeprefix("--jobs="))
        elif arg in MODULES:
            modules.append(arg)
        else:
            print(f"usage: python -m tests --mutate [--jobs=N] [--postgres] [{' '.join(MODULES)}]")
            return 2
    if again:
        scores = [last_run(module, postgres) for module in modules or list(MODULES)]
    else:
        scores = [run_module(module, jobs, postgres) for module in modules or list(MODULES)]
    return report(scores)
