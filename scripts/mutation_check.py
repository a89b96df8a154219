"""Mutation check: would the tests notice if a rule broke?

A passing suite says the code does what the tests ask; it does not say the
tests ask enough. This script measures that for the rules that matter most
(who sees what, who may use a cameo, who is an admin, what gets escaped, what
moderation refuses, ...): it plants one small bug at a time in the code (a
``<`` that becomes ``<=``, an ``and`` that becomes ``or``, a ``raise`` that
becomes ``pass``, an ``escape(x)`` that becomes ``x``) and runs the tests that
cover that code. A bug the tests fail on is *killed*; one they pass with
*survived*, and each survivor is either an equivalent change (explain why) or
a missing test (write it).

Run by hand, like a benchmark, never in CI::

    .venv/bin/python scripts/mutation_check.py                  # every area, about 20 minutes on 2 cores
    .venv/bin/python scripts/mutation_check.py --only escaping  # one rule area
    .venv/bin/python scripts/mutation_check.py --list           # what it would plant, without running
    .venv/bin/python scripts/mutation_check.py --baseline       # only time each covering test set

How:

* Nothing happens in the working tree. The files ``git ls-files --cached
  --others --exclude-standard`` lists are copied to a temporary directory,
  removed at the end (also on Ctrl-C). The tests import the packages from the
  repository root they live in (``tests/conftest.py``), so pytest run in the
  copy tests the copy.
* ``TARGETS`` below names, per rule area, the module, the fast test files that
  cover it and, for a large module, the functions whose rules are mutated.
  Tests that start the whole app are left out: they take minutes.
* Mutants come from the ``ast``; each replaces the exact source span of one
  node (or one operator token), so the rest of the file keeps its text. Only
  code is mutated, never docstrings, type annotations, logging calls, strings
  (except that an ``escape()`` or text substitution is dropped: that is how an
  escaping bug looks) or lines marked ``# pragma: no mutate``.
* Each covering test set runs once unmutated first (it must pass; a target
  whose baseline fails is reported and skipped) to time it. A mutant run may
  take 3x that (at least 60 s) before it counts as a timeout, which counts as
  killed but is reported apart.
* A seeded random sample of ``--per-area`` mutants per area is run. Areas share
  the ``--minutes`` budget by time (the one that has had least goes next), so a
  budget cut leaves every area measured. The result is printed and written to
  ``benchmarks/out/mutation.json``. The exit status is always 0: this is a
  measurement, not a gate.
"""

from __future__ import annotations

import argparse
import ast
import bisect
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "out" / "mutation.json"

PER_AREA = 6
"""Mutants per area. On an idle 2-core machine the covering sets take about 3 minutes to time unmutated, then
2 to 54 s a mutant (docs/TESTING.md): 6 per area is about 20 minutes in all. ``--minutes`` trims the slowest areas
when the machine is busier."""
MINUTES = 20.0
TIMEOUT_FACTOR, MIN_TIMEOUT_S = 3.0, 60.0
PRAGMA = "pragma: no mutate"
LOGGERS = {"log", "logger", "logging"}


# -- what is mutated, and which tests must notice ------------------------------------------------------------

@dataclass(frozen=True)
class Target:
    """One module (or some of its functions) and the fast tests that cover its rules."""

    area: str
    module: str
    tests: tuple[str, ...]
    """Test files, or pytest node ids (``file::test``) where the rest of a file is slow and about something else."""
    functions: tuple[str, ...] = ()
    """Function, method or class names (``create`` or ``Studio.create``); empty means the whole module."""


def some(file: str, *tests: str) -> tuple[str, ...]:
    return tuple(f"{file}::{test}" for test in tests)


RULES, TINY, PG = "feed_store/rules.py", "feed_store/tinydb/", "feed_store/postgres/"
STUDIO, SAFETY, PIPELINE = "tests/test_studio.py", "tests/test_trust_and_safety.py", "tests/test_pipeline.py"
FEED_TESTS = ("tests/test_feed_store.py", "tests/test_cameo_permissions.py")
RANKING_TESTS = ("tests/test_feed_ranking.py", "tests/test_feed_pagination.py", "tests/test_feed_store.py")
ACCOUNT_TESTS = some(STUDIO, "test_the_first_start_makes_an_admin_and_invites_once",
                     "test_sign_up_needs_an_unused_invite_and_a_real_password",
                     "test_long_passwords_work_in_full_and_old_bcrypt_hashes_still_verify",
                     "test_signing_out_ends_the_token_and_everywhere_ends_them_all",
                     "test_sessions_cannot_be_forged_or_outlive_their_expiry",
                     "test_hugging_face_accounts_get_a_free_handle_once",
                     "test_sign_ups_from_one_address_are_throttled") + some(
    SAFETY, "test_a_suspended_account_cannot_sign_in_or_act_and_its_videos_go")
ADMIN_TESTS = ("tests/test_feed_store.py", *some(
    STUDIO, "test_admins_take_down_reported_videos_with_their_files_and_every_action_is_logged",
    "test_every_moderation_action_refuses_everyone_but_an_admin"))
PROVENANCE_TESTS = some(PIPELINE, "test_generate_writes_a_playable_mp4_thumbnail_preview_and_provenance",
                        "test_remix_through_generate_reads_the_source_file_and_records_the_parent") + some(
    SAFETY, "test_every_video_carries_its_post_id_and_signed_credentials_and_remixes_name_their_parent",
    "test_verify_finds_the_post_after_a_reencode_and_a_downscale_and_not_in_foreign_videos") + some(
    "tests/test_content_credentials.py", "test_verify_links_a_post_only_through_proof_from_this_instance") + some(
    SAFETY, "test_verify_says_what_is_wrong_with_a_file_that_is_not_a_video")
CREATE_TESTS = some(STUDIO, "test_signed_out_visitors_can_only_watch",
                    "test_drafts_stay_private_until_published_and_remixes_link_back",
                    "test_a_failed_generation_leaves_no_post_and_no_file",
                    "test_a_daily_generation_limit_refuses_before_any_compute") + some(
    SAFETY, "test_a_harmful_prompt_is_refused_with_its_category_before_anything_is_made",
    "test_a_cameo_owners_restrictions_refuse_other_peoples_prompts_quoting_them",
    "test_a_remix_keeps_its_sources_cameos_and_needs_their_owners_permission")

TARGETS: tuple[Target, ...] = (
    Target("visibility", RULES, FEED_TESTS, ("can_view", "may_delete", "presented_post", "record")),
    Target("visibility", TINY + "base.py", FEED_TESTS,
           ("_standing", "_can_view", "_owns_cameo_in", "_blocked_between", "_friends", "_visible_post",
            "_published_post", "_present")),
    Target("visibility", TINY + "engagement.py", FEED_TESTS, ("_visible_comment", "comments", "likers")),
    Target("visibility", TINY + "feeds.py", FEED_TESTS, ("lineage", "remixes")),
    Target("visibility", PG + "base.py", FEED_TESTS, ("Viewer", "_viewer", "_can_view", "_visible_post", "_present")),
    Target("cameo permission", RULES, FEED_TESTS, ("cameo_use_refusal", "own_cameo", "new_cameo")),
    Target("cameo permission", TINY + "cameos.py", FEED_TESTS),
    Target("cameo permission", PG + "cameos.py", FEED_TESTS),
    Target("ranking and pagination", "feed_store/ranking.py", RANKING_TESTS),
    Target("ranking and pagination", RULES, RANKING_TESTS, ("reasons", "check_page_size")),
    Target("ranking and pagination", TINY + "feeds.py", RANKING_TESTS,
           ("_Relations", "_moment", "_page", "_ranked", "_newest", "_reasons")),
    Target("ranking and pagination", PG + "feeds.py", RANKING_TESTS),
    Target("the journal", TINY + "journal.py",
           ("tests/test_journal.py", "tests/test_crash_safety.py", "tests/test_schema.py")),
    Target("sessions and accounts", "studio/accounts.py", ACCOUNT_TESTS),
    Target("sessions and accounts", TINY + "users.py", ACCOUNT_TESTS,
           ("_index_session", "_forget_sessions", "start_session", "session_user", "end_session", "end_sessions",
            "create_user", "password_hash", "set_password_hash", "is_suspended")),
    Target("sessions and accounts", PG + "users.py", ACCOUNT_TESTS),
    Target("admin checks", RULES, ADMIN_TESTS, ("require_admin", "may_erase", "may_delete_comment")),
    Target("admin checks", TINY + "moderation.py", ADMIN_TESTS),
    Target("admin checks", PG + "moderation.py", ADMIN_TESTS),
    Target("escaping", "web/views.py", ("tests/test_views.py",),
           ("html_text", "markdown_text", "error", "notice", "card_html", "comments_html", "lineage_html",
            "people_html", "report_html", "refusals_html", "moderation_log_html", "verify_html")),
    Target("cameo checks", "cameo/capture.py", ("tests/test_cameo.py",)),
    Target("cameo checks", "cameo/service.py", ("tests/test_cameo.py",)),
    Target("moderation", "safety/moderation.py", ("tests/test_moderation.py",)),
    Target("provenance", "pipeline/provenance.py", PROVENANCE_TESTS),
    Target("provenance", "studio/service.py", PROVENANCE_TESTS, ("Studio.verify",)),
    Target("generation limits", "pipeline/generation.py", (PIPELINE,), ("validate",)),
    Target("generation limits", "studio/service.py", CREATE_TESTS,
           ("_check_daily_limit", "Studio.create", "_refuse_if_harmful", "_check_restrictions")),
    Target("request inputs", "web/inputs.py", ("tests/test_inputs.py",)),
    Target("request inputs", "feed_store/text.py", ("tests/test_inputs.py", *FEED_TESTS)),
)
AREAS = tuple(dict.fromkeys(t.area for t in TARGETS))


# -- mutants --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Mutant:
    """One planted bug: ``source[start:end]`` (UTF-8 byte offsets) replaced by ``replacement``."""

    target: Target
    function: str
    line: int
    operator: str
    start: int
    end: int
    replacement: str
    before: str
    """The source line around the change, as it is ..."""
    after: str
    """... and as the mutant has it."""

    def where(self) -> str:
        return f"{self.target.module}:{self.line}"

    def apply(self, source: bytes) -> bytes:
        return source[:self.start] + self.replacement.encode() + source[self.end:]


class Source:
    """A module's text with ``ast`` positions turned into byte offsets (``col_offset`` counts UTF-8 bytes)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.line_starts = [0] + [m.end() for m in re.finditer(rb"\n", data)]

    def offset(self, line: int, col: int) -> int:
        return self.line_starts[line - 1] + col

    def span(self, node: ast.AST) -> tuple[int, int]:
        return self.offset(node.lineno, node.col_offset), self.offset(node.end_lineno, node.end_col_offset)

    def text(self, node: ast.AST) -> str:
        start, end = self.span(node)
        return self.data[start:end].decode()

    def line_of(self, offset: int) -> int:
        return bisect.bisect_right(self.line_starts, offset)

    def faithful(self, node: ast.AST) -> bool:
        """Whether the node's span parses back to the node: positions inside f-strings are not always right.

        An expression is parsed in parentheses: one that runs over several lines
        may owe its line breaks to the parentheses around it.
        """
        try:
            text = self.text(node)
            parsed = ast.parse(f"({text})", mode="eval").body if isinstance(node, ast.expr) else ast.parse(text).body[0]
        except (SyntaxError, UnicodeDecodeError, IndexError):
            return False
        return ast.dump(parsed) == ast.dump(node)


# Operators whose token sits between two operands, and what each one becomes.
COMPARE_SWAPS = {ast.Lt: (rb"<", "<="), ast.LtE: (rb"<=", "<"), ast.Gt: (rb">", ">="), ast.GtE: (rb">=", ">"),
                 ast.Eq: (rb"==", "!="), ast.NotEq: (rb"!=", "=="), ast.In: (rb"\bin\b", "not in"),
                 ast.NotIn: (rb"\bnot\s+in\b", "in"), ast.Is: (rb"\bis\b", "is not"),
                 ast.IsNot: (rb"\bis\s+not\b", "is")}
BOOL_SWAPS = {ast.And: (rb"\band\b", "or"), ast.Or: (rb"\bor\b", "and")}
ARITHMETIC_SWAPS = {ast.Add: (rb"\+", "-"), ast.Sub: (rb"-", "+"), ast.Mult: (rb"\*", "/"), ast.Div: (rb"/", "*")}
BOOLEAN_EXPRESSIONS = (ast.Compare, ast.BoolOp)
MUTABLE = (ast.Compare, ast.BoolOp, ast.UnaryOp, ast.BinOp, ast.AugAssign, ast.Constant, ast.Return, ast.Raise,
           ast.Call)
"""The nodes :func:`_edits` knows how to change."""

Edit = tuple[int, int, str, str]
"""``(start, end, replacement, operator name)``."""


def _token(src: Source, left: ast.AST, right: ast.AST, pattern: bytes) -> tuple[int, int] | None:
    """The byte span of an operator token between two operands."""
    gap_start, gap_end = src.span(left)[1], src.span(right)[0]
    found = re.search(pattern, src.data[gap_start:gap_end])
    return None if found is None else (gap_start + found.start(), gap_start + found.end())


def _compare_edits(node: ast.Compare, src: Source) -> Iterator[Edit]:
    operands = [node.left, *node.comparators]
    for i, op in enumerate(node.ops):
        pattern, new = COMPARE_SWAPS[type(op)]
        span = _token(src, operands[i], operands[i + 1], pattern)
        if span:
            yield (*span, new, "comparison")


def _bool_edits(node: ast.BoolOp, src: Source) -> Iterator[Edit]:
    pattern, new = BOOL_SWAPS[type(node.op)]
    for left, right in zip(node.values, node.values[1:]):
        span = _token(src, left, right, pattern)
        if span:
            yield (*span, new, "and/or")


def _is_path(node: ast.AST, src: Source) -> bool:
    """``directory / NAME``: a path join, where ``*`` would only be a TypeError."""
    return re.search(r"(?i)path|dir|folder|root|tmp", src.text(node)) is not None


def _is_text(node: ast.AST) -> bool:
    """An operand that is plainly a string or a list: ``+`` on it is concatenation, not arithmetic."""
    if isinstance(node, ast.BinOp):
        return _is_text(node.left) or _is_text(node.right)
    return isinstance(node, (ast.JoinedStr, ast.List, ast.ListComp, ast.Tuple)) or (
        isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)))


def _arithmetic_edits(node: ast.BinOp | ast.AugAssign, src: Source) -> Iterator[Edit]:
    if type(node.op) not in ARITHMETIC_SWAPS:
        return
    pattern, new = ARITHMETIC_SWAPS[type(node.op)]
    if isinstance(node, ast.AugAssign):
        if _is_text(node.value):
            return
        span = _token(src, node.target, node.value, pattern + rb"=")
        new += "="
    else:
        if _is_text(node.left) or _is_text(node.right) or (isinstance(node.op, ast.Div) and _is_path(node.left, src)):
            return
        span = _token(src, node.left, node.right, pattern)
    if span:
        yield (*span, new, "arithmetic")


def _constant_edits(node: ast.Constant, src: Source) -> Iterator[Edit]:
    start, end = src.span(node)
    if isinstance(node.value, bool):
        yield start, end, str(not node.value), "True/False"
    elif isinstance(node.value, int):
        yield start, end, str(node.value + 1), "integer +1"
        yield start, end, str(node.value - 1), "integer -1"


def _return_edits(node: ast.Return, src: Source, returns_bool: bool) -> Iterator[Edit]:
    value = node.value
    if value is None or (isinstance(value, ast.Constant) and (value.value is None or isinstance(value.value, bool))):
        return  # nothing to neutralise, or the True/False swap already does it
    start, end = src.span(value)
    if returns_bool or isinstance(value, BOOLEAN_EXPRESSIONS) or (
            isinstance(value, ast.UnaryOp) and isinstance(value.op, ast.Not)):
        yield start, end, f"not ({src.text(value)})", "negated return"
    else:
        yield start, end, "None", "return None"


def _call_edits(node: ast.Call, src: Source) -> Iterator[Edit]:
    """An escape or a text substitution skipped: ``escape(x)``, ``x.replace(a, b)``, ``p.sub(r, x)`` become ``x``."""
    func, start, end = node.func, *src.span(node)
    is_escape = (isinstance(func, ast.Name) and func.id == "escape") or (
        isinstance(func, ast.Attribute) and func.attr == "escape" and isinstance(func.value, ast.Name)
        and func.value.id == "html")
    if is_escape and node.args:
        yield start, end, f"({src.text(node.args[0])})", "escape dropped"
    elif isinstance(func, ast.Attribute) and func.attr == "replace" and len(node.args) == 2 and isinstance(
            node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
        yield start, end, f"({src.text(func.value)})", "substitution dropped"
    elif isinstance(func, ast.Attribute) and func.attr == "sub" and not node.keywords:
        text_arg = 2 if isinstance(func.value, ast.Name) and func.value.id == "re" else 1
        if len(node.args) == text_arg + 1:
            yield start, end, f"({src.text(node.args[text_arg])})", "substitution dropped"


def _edits(node: ast.AST, src: Source, returns_bool: bool, in_fstring: bool) -> Iterator[Edit]:
    """Every mutation of one node (inside an f-string only dropped escapes: the rest is message wording)."""
    if in_fstring:
        if isinstance(node, ast.Call):
            yield from _call_edits(node, src)
    elif isinstance(node, ast.Compare):
        yield from _compare_edits(node, src)
    elif isinstance(node, ast.BoolOp):
        yield from _bool_edits(node, src)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        yield *src.span(node), f"({src.text(node.operand)})", "not removed"
    elif isinstance(node, (ast.BinOp, ast.AugAssign)):
        yield from _arithmetic_edits(node, src)
    elif isinstance(node, ast.Constant):
        yield from _constant_edits(node, src)
    elif isinstance(node, ast.Return):
        yield from _return_edits(node, src, returns_bool)
    elif isinstance(node, ast.Raise):
        yield *src.span(node), "pass", "raise removed"
    elif isinstance(node, ast.Call):
        yield from _call_edits(node, src)


@dataclass
class _Scope:
    name: str
    wanted: bool
    returns_bool: bool = False
    in_fstring: bool = False


SKIPPED_FIELDS = {"annotation", "returns", "decorator_list", "type_comment", "bases", "keywords"}


def _is_skipped(node: ast.AST) -> bool:
    """Docstrings and other bare strings, and logging or print calls, are never mutated."""
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
        return True
    call = node.value if isinstance(node, ast.Expr) else node
    if not isinstance(call, ast.Call):
        return False
    func = call.func
    return (isinstance(func, ast.Name) and func.id == "print") or (
        isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in LOGGERS)


def _named(qualname: str, names: tuple[str, ...]) -> bool:
    return any(qualname == n or qualname.endswith("." + n) for n in names)


def _scoped_nodes(tree: ast.Module, names: tuple[str, ...]) -> Iterator[tuple[ast.AST, _Scope]]:
    """Every node to mutate with its enclosing function: all of them, or those inside ``names``."""
    def visit(node: ast.AST, scope: _Scope) -> Iterator[tuple[ast.AST, _Scope]]:
        for name, value in ast.iter_fields(node):
            if name in SKIPPED_FIELDS and not isinstance(node, ast.Call):  # a call's keywords are code, a class's not
                continue
            for child in value if isinstance(value, list) else [value]:
                if not isinstance(child, ast.AST) or _is_skipped(child):
                    continue
                inner = scope
                if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    qualname = f"{scope.name}.{child.name}" if scope.name else child.name
                    returns = getattr(child, "returns", None)
                    inner = _Scope(qualname, scope.wanted or _named(qualname, names),
                                   isinstance(returns, ast.Name) and returns.id == "bool")
                elif isinstance(child, ast.JoinedStr):
                    inner = _Scope(scope.name, scope.wanted, scope.returns_bool, True)
                if inner.wanted:
                    yield child, inner
                yield from visit(child, inner)

    yield from visit(tree, _Scope("", not names))


def _context(src: Source, start: int, end: int, replacement: str, width: int = 48) -> tuple[str, str]:
    """The source line(s) around a change, before and after, on one line each and cut to size around the change."""
    line_start = src.line_starts[src.line_of(start) - 1]
    line_end = src.data.find(b"\n", end)
    line_end = len(src.data) if line_end < 0 else line_end
    left = src.data[max(line_start, start - width):start].decode(errors="replace")
    right = src.data[end:min(line_end, end + width)].decode(errors="replace")
    lead = "…" if start - width > line_start else ""
    trail = "…" if end + width < line_end else ""

    def one_line(middle: str) -> str:
        if len(middle) > 2 * width:  # a long return value or raise: its ends are enough
            middle = middle[:width] + " … " + middle[-width // 2:]
        return " ".join((lead + left + middle + right + trail).split())

    return one_line(src.data[start:end].decode()), one_line(replacement)


def find_mutants(target: Target, root: Path = REPO) -> list[Mutant]:
    """Every mutant of a target, in source order (duplicates and unparseable positions dropped)."""
    data = (root / target.module).read_bytes()
    src, tree = Source(data), ast.parse(data)
    pragma_lines = {i for i, line in enumerate(data.decode().splitlines(), start=1) if PRAGMA in line}
    mutants, seen = [], set()
    for node, scope in _scoped_nodes(tree, target.functions):
        if not isinstance(node, MUTABLE) or node.lineno in pragma_lines or not src.faithful(node):
            continue
        for start, end, replacement, operator in _edits(node, src, scope.returns_bool, scope.in_fstring):
            if (start, end, replacement) in seen or data[start:end].decode() == replacement:
                continue
            seen.add((start, end, replacement))
            before, after = _context(src, start, end, replacement)
            mutants.append(Mutant(target, scope.name or "<module>", src.line_of(start), operator, start, end,
                                  replacement, before, after))
    return sorted(mutants, key=lambda m: (m.start, m.end, m.replacement))


def find_all(targets: list[Target], root: Path, skipped: list[str]) -> list[Mutant]:
    """Every target's mutants; a module that is missing or does not parse (mid-edit?) is skipped, and said so."""
    mutants = []
    for target in targets:
        try:
            mutants += find_mutants(target, root)
        except (OSError, SyntaxError, UnicodeDecodeError) as e:
            skipped.append(f"{target.module} ({target.area}): cannot be read: {e}")
    return mutants


def sample(mutants: list[Mutant], per_area: int, seed: int) -> dict[str, list[Mutant]]:
    """A seeded random sample of up to ``per_area`` mutants of each area.

    Each area draws from its own generator, so ``--only`` picks the same mutants as a full run.
    """
    picked = {}
    for area in AREAS:
        pool = [m for m in mutants if m.target.area == area]
        if pool:
            picked[area] = random.Random(f"{seed}:{area}").sample(pool, min(per_area, len(pool)))
    return picked


# -- running tests in a private copy --------------------------------------------------------------------------

def copy_repository(dest: Path) -> int:
    """Copy what git would see (tracked files plus untracked, unignored ones) into ``dest``; returns the file count."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            capture_output=True, check=True).stdout.split(b"\0")
    count = 0
    for name in filter(None, listed):
        source = REPO / os.fsdecode(name)
        if not source.exists() and not source.is_symlink():
            continue  # deleted in the working tree, still in the index
        copy = dest / os.fsdecode(name)
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, copy, follow_symlinks=False)
        count += 1
    return count


@dataclass
class Run:
    outcome: str
    """``passed`` (a mutant survived), ``failed`` (killed), ``timeout`` or ``broken``."""
    seconds: float
    tail: str = ""


def run_tests(copy: Path, tests: tuple[str, ...], timeout: float) -> Run:
    """pytest on ``tests`` in the copy, in its own process group so a timeout or Ctrl-C ends all of it."""
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests]
    # No .pyc files: a mutant of the same size written within the same second would load the stale bytecode.
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=copy, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(process)
        return Run("timeout", time.monotonic() - started)
    except BaseException:
        _kill(process)
        raise
    seconds = time.monotonic() - started
    tail = "\n".join(output.decode(errors="replace").strip().splitlines()[-15:])
    # pytest: 0 all passed, 1 some test failed, 2 collection errors (the module did not import), 3-5 no run at all.
    outcome = {0: "passed", 1: "failed"}.get(process.returncode, "broken")
    return Run(outcome, seconds, tail)


def _kill(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def remove(copy: Path) -> None:
    """Delete the private copy; a second Ctrl-C meanwhile must not leave half of it behind."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        shutil.rmtree(copy, ignore_errors=True)
    finally:
        signal.signal(signal.SIGINT, previous)


def _stop_on_sigterm() -> None:
    """``kill`` cleans up like Ctrl-C does: the copy is removed and the report printed."""
    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


@dataclass
class Result:
    mutant: Mutant
    status: str
    """``killed``, ``survived``, ``timeout`` or ``broken``."""
    seconds: float


STATUS = {"failed": "killed", "passed": "survived", "timeout": "timeout", "broken": "broken"}


def run_mutant(copy: Path, mutant: Mutant, timeout: float) -> Result:
    """Write the mutant into the copy, run its tests, and put the original text back whatever happens."""
    path = copy / mutant.target.module
    original = path.read_bytes()
    mutated = mutant.apply(original)
    try:
        compile(mutated, str(path), "exec")
    except SyntaxError:
        return Result(mutant, "broken", 0.0)
    path.write_bytes(mutated)
    try:
        run = run_tests(copy, mutant.target.tests, timeout)
    finally:
        path.write_bytes(original)
    return Result(mutant, STATUS[run.outcome], run.seconds)


@dataclass
class Baseline:
    tests: tuple[str, ...]
    seconds: float
    passed: bool
    tail: str = ""


def describe(tests: tuple[str, ...]) -> str:
    """``tests/a.py, tests/b.py (3 tests)``: node ids counted per file, so a line stays readable."""
    files = Counter(test.split("::")[0] for test in tests)
    return ", ".join(f if f in tests else f"{f} ({n} test{'s' if n > 1 else ''})" for f, n in files.items())


def measure_baselines(copy: Path, targets: list[Target], log: bool = True) -> dict[tuple[str, ...], Baseline]:
    """Run each distinct covering set once, unmutated: it must pass, and its time sets the mutants' timeout."""
    baselines = {}
    for tests in dict.fromkeys(t.tests for t in targets if t.tests):
        run = run_tests(copy, tests, timeout=30 * 60)
        baselines[tests] = Baseline(tests, run.seconds, run.outcome == "passed", run.tail)
        if log:
            areas = ", ".join(dict.fromkeys(t.area for t in targets if t.tests == tests))
            verdict = "passes" if run.outcome == "passed" else f"FAILS ({run.outcome}): its targets are skipped"
            print(f"  {run.seconds:6.1f} s  {verdict:<6}  {areas}: {describe(tests)}", flush=True)
    return baselines


# -- the report -----------------------------------------------------------------------------------------------

@dataclass
class Tally:
    available: int = 0
    planted: int = 0
    killed: int = 0
    timeout: int = 0
    survived: int = 0
    broken: int = 0

    @property
    def caught(self) -> float | None:
        """Killed and timed-out mutants over those that ran (broken ones say nothing about the tests)."""
        judged = self.planted - self.broken
        return None if judged == 0 else 100.0 * (self.killed + self.timeout) / judged

    def add(self, status: str) -> None:
        self.planted += 1
        setattr(self, status, getattr(self, status) + 1)


@dataclass
class Report:
    seed: int
    per_area: int
    minutes: float
    elapsed_s: float = 0.0
    stopped: str = ""
    results: list[Result] = field(default_factory=list)
    available: Counter = field(default_factory=Counter)
    baselines: dict[tuple[str, ...], Baseline] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)

    def tallies(self) -> dict[str, Tally]:
        tallies = {area: Tally(available=self.available[area]) for area in AREAS if self.available[area]}
        for result in self.results:
            tallies[result.mutant.target.area].add(result.status)
        overall = Tally(available=sum(self.available.values()))
        for result in self.results:
            overall.add(result.status)
        return {**tallies, "overall": overall}

    def print(self) -> None:
        print(f"\nMutation check: seed {self.seed}, {self.per_area} per area, budget {self.minutes:g} min; "
              f"{len(self.results)} mutants in {self.elapsed_s / 60:.1f} min{self.stopped}\n")
        print(f"{'area':<24}{'available':>10}{'planted':>9}{'killed':>8}{'timeout':>9}{'survived':>10}"
              f"{'broken':>8}{'caught':>8}")
        for area, t in self.tallies().items():
            caught = "-" if t.caught is None else f"{t.caught:.0f}%"
            print(f"{area:<24}{t.available:>10}{t.planted:>9}{t.killed:>8}{t.timeout:>9}{t.survived:>10}"
                  f"{t.broken:>8}{caught:>8}")
        for note in self.skipped:
            print(f"  skipped: {note}")
        survivors = [r.mutant for r in self.results if r.status == "survived"]
        if survivors:
            print("\nSurvivors: each is an equivalent change (say why) or a missing test (write it).")
            for m in survivors:
                print(f"  {m.where()}  {m.function}  [{m.operator}]\n      {m.before}\n   -> {m.after}")

    def to_json(self) -> dict:
        def tally(t: Tally) -> dict:
            return {**asdict(t), "caught_pct": None if t.caught is None else round(t.caught, 1)}

        return {
            "seed": self.seed, "per_area": self.per_area, "minutes": self.minutes,
            "elapsed_s": round(self.elapsed_s, 1), "stopped": self.stopped.strip(" ;()") or None,
            "areas": {area: tally(t) for area, t in self.tallies().items()},
            "baselines": [{"tests": list(b.tests), "seconds": round(b.seconds, 1), "passed": b.passed}
                          for b in self.baselines.values()],
            "skipped": self.skipped,
            "mutants": [{"area": r.mutant.target.area, "file": r.mutant.target.module, "line": r.mutant.line,
                         "function": r.mutant.function, "operator": r.mutant.operator, "original": r.mutant.before,
                         "mutated": r.mutant.after, "status": r.status, "seconds": round(r.seconds, 1)}
                        for r in self.results],
        }


# -- the command ----------------------------------------------------------------------------------------------

def selected_targets(only: list[str] | None) -> list[Target]:
    if not only:
        return list(TARGETS)
    wanted = set()
    for name in only:
        matches = [a for a in AREAS if a == name.lower()] or [a for a in AREAS if name.lower() in a]
        if len(matches) != 1:
            sys.exit(f"--only {name!r}: choose one of {', '.join(AREAS)}")
        wanted.add(matches[0])
    return [t for t in TARGETS if t.area in wanted]


def list_mutants(mutants: list[Mutant], chosen: list[Mutant]) -> None:
    """Every mutant, the sampled ones marked with ``*``; then the count per area."""
    sampled = set(chosen)
    for m in mutants:
        tested = "" if m.target.tests else "  (no fast test)"
        print(f"{'*' if m in sampled else ' '} {m.target.area:<23} {m.where():<28} {m.function:<28} "
              f"[{m.operator}]{tested}\n      {m.before}\n   -> {m.after}")
    print("\nAvailable mutants per area (* = in the sample for this seed):")
    for area, n in Counter(m.target.area for m in mutants).items():
        print(f"  {area:<24}{n:>5}  ({sum(m.target.area == area for m in chosen)} sampled)")
    print(f"  {'all':<24}{len(mutants):>5}")


def next_area(picked: dict[str, list[Mutant]], spent: Counter, seconds_left: float,
              expected: dict[Target, float]) -> str | None:
    """The area to run next: of those whose next mutant fits in the time left, the one that has had least time.

    Areas share the budget by time, not by count: a slow area (the cameo tests take minutes) gets fewer
    mutants, a fast one more, and a budget cut leaves every area measured.
    """
    fitting = [area for area, left in picked.items() if left and expected[left[0].target] <= seconds_left]
    return min(fitting, key=lambda area: spent[area], default=None)


def run_check(args: argparse.Namespace, targets: list[Target]) -> Report:
    started = time.monotonic()
    deadline = started + args.minutes * 60
    report = Report(args.seed, args.per_area, args.minutes)
    copy = Path(tempfile.mkdtemp(prefix="dreamreel-mutants-"))
    try:
        print(f"Copied {copy_repository(copy)} files to {copy}; timing the covering tests unmutated:", flush=True)
        # Mutants come from the copy: the working tree may change under a long run (others edit it).
        mutants = find_all(targets, copy, report.skipped)
        report.available = Counter(m.target.area for m in mutants)
        for t in targets:
            if not t.tests:
                n = sum(m.target == t for m in mutants)
                report.skipped.append(f"{t.module} ({t.area}): no fast test covers it; its {n} mutants are not run")
        report.baselines = measure_baselines(copy, targets)
        runnable = {t for t in targets if t.tests and report.baselines[t.tests].passed}
        for t in targets:
            if t.tests and t not in runnable:
                report.skipped.append(f"{t.module} ({t.area}): its tests fail unmutated:\n"
                                      f"{report.baselines[t.tests].tail}")
        picked = sample([m for m in mutants if m.target in runnable], args.per_area, args.seed)
        expected = {t: report.baselines[t.tests].seconds for t in runnable}
        total, spent = sum(map(len, picked.values())), Counter()
        print(f"Running up to {total} mutants:", flush=True)
        while (area := next_area(picked, spent, deadline - time.monotonic(), expected)) is not None:
            mutant = picked[area].pop(0)
            result = run_mutant(copy, mutant, max(MIN_TIMEOUT_S, TIMEOUT_FACTOR * expected[mutant.target]))
            spent[area] += result.seconds
            report.results.append(result)
            print(f"  {len(report.results):>3}/{total} {result.status:<8} {result.seconds:6.1f} s  {area:<22} "
                  f"{mutant.where()}  [{mutant.operator}] {mutant.after}", flush=True)
        if left := sum(map(len, picked.values())):
            report.stopped = f" (the {args.minutes:g}-minute budget left {left} sampled mutants unrun)"
    except KeyboardInterrupt:
        report.stopped = " (interrupted)"
    finally:
        remove(copy)
    report.elapsed_s = time.monotonic() - started
    return report


def baseline_only(targets: list[Target]) -> None:
    copy = Path(tempfile.mkdtemp(prefix="dreamreel-mutants-"))
    try:
        print(f"Copied {copy_repository(copy)} files to {copy}; timing the covering tests unmutated:", flush=True)
        measure_baselines(copy, targets)
    except KeyboardInterrupt:
        print("interrupted")
    finally:
        remove(copy)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=1, help="which random sample (default 1)")
    parser.add_argument("--per-area", type=int, default=PER_AREA, help=f"mutants per area (default {PER_AREA})")
    parser.add_argument("--minutes", type=float, default=MINUTES,
                        help=f"stop starting mutants after this long and report (default {MINUTES:g})")
    parser.add_argument("--only", action="append", metavar="AREA", help=f"one area (repeatable): {', '.join(AREAS)}")
    parser.add_argument("--list", action="store_true", help="list the mutants (sampled ones marked) and exit")
    parser.add_argument("--baseline", action="store_true", help="only time each covering test set, unmutated")
    args = parser.parse_args()

    targets = selected_targets(args.only)
    if args.baseline:
        baseline_only(targets)
        return
    if args.list:
        skipped: list[str] = []
        mutants = find_all(targets, REPO, skipped)
        picked = sample([m for m in mutants if m.target.tests], args.per_area, args.seed)
        list_mutants(mutants, [m for chosen in picked.values() for m in chosen])
        print("".join(f"  skipped: {note}\n" for note in skipped), end="")
        return
    _stop_on_sigterm()
    report = run_check(args, targets)
    report.print()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n")
    print(f"\nWritten to {OUT.relative_to(REPO)}")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
    sys.exit(0)
