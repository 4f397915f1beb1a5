"""crsandbox - the language fence of coderally-botd.

Imported once by the zygote (trusted code, full Python), it compiles bot
source with RestrictedPython plus this project's policy, builds the globals a
bot runs with (an allow-listed __builtins__, guards written in C in the
_crguard module, wrapped math and random) and instantiates the bot. Nothing
here is reachable from bot code: every name is private to this module and bot
code cannot touch attributes that start with "_".

The process fence (rlimits, seccomp, no fds) is applied by the worker in C
before any of this runs on bot source; this module is the second wall, not
the first.
"""

import ast
import gc
import json
import math as _math
import random as _random
import signal
import sys
import types

import encodings.ascii  # noqa: F401  (pre-imported: no file access later)
import encodings.latin_1  # noqa: F401
import encodings.utf_8  # noqa: F401

from RestrictedPython import compile_restricted_exec
from RestrictedPython.transformer import RestrictingNodeTransformer
from RestrictedPython.transformer import copy_locations

import _crguard
import coderally as _helper

ALLOWED_IMPORTS = ("math", "random", "coderally")
BOT_FILENAME = "<bot>"

# Names a bot may use that are not in its builtins: flagged by `bot check`
# when the source never binds them itself.
_UNAVAILABLE = frozenset(
    "open eval exec compile globals locals vars dir input help breakpoint exit quit "
    "memoryview type id bytearray delattr".split()
)


class BotTimeout(BaseException):
    """Raised into bot code when its CPU budget is spent. Not an Exception
    subclass and not reachable by name, so `except Exception` cannot catch it
    (a bare `except:` is rewritten to `except Exception:`)."""


def _on_budget(signum, frame):
    raise BotTimeout("CPU budget exceeded")


class _Policy(RestrictingNodeTransformer):
    """RestrictedPython's transformer plus this project's rules."""

    def visit_ExceptHandler(self, node):
        # A bare `except:` would swallow BotTimeout; make it `except Exception:`.
        if node.type is None:
            node.type = ast.Name("Exception", ast.Load())
            copy_locations(node.type, node)
        return super().visit_ExceptHandler(node)

    def _check_module(self, node, name):
        if name is None or name.split(".")[0] not in ALLOWED_IMPORTS or "." in name:
            self.error(
                node,
                'import of "%s" is not allowed (bots may import only %s)'
                % (name, ", ".join(ALLOWED_IMPORTS)),
            )

    def visit_Import(self, node):
        for alias in node.names:
            self._check_module(node, alias.name)
        return super().visit_Import(node)

    def visit_ImportFrom(self, node):
        if node.level:
            self.error(node, "relative imports are not allowed")
        else:
            self._check_module(node, node.module)
        return super().visit_ImportFrom(node)


def _line_of(msg):
    """RestrictedPython reports 'Line N: ...'; returns (N, rest), the rest
    cut short (a syntax error quotes the whole statement)."""
    if len(msg) > 240:
        msg = msg[:240] + "..."
    if msg.startswith("Line "):
        head, _, rest = msg.partition(":")
        try:
            return int(head[5:]), rest.strip()
        except ValueError:
            pass
    return 1, msg


def _semantic_problems(source):
    """Checks a bot coder wants before running: a Bot class with on_tick, and
    names that do not exist in the sandbox."""
    problems = []
    try:
        tree = ast.parse(source, BOT_FILENAME)
    except Exception:  # the restricted compile already reported it
        return problems
    bound = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            bound.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.alias):
            bound.add(node.asname or node.name)
    for node in ast.walk(tree):
        if (isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
                and node.id in _UNAVAILABLE and node.id not in bound):
            problems.append((node.lineno, '"%s" is not available to bots' % node.id))
    bot = None
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "Bot":
            bot = node
    if bot is None:
        problems.append((1, "no `class Bot` defined at module level"))
    else:
        methods = {n.name for n in bot.body if isinstance(n, ast.FunctionDef)}
        if "on_tick" not in methods and not bot.bases:
            problems.append((bot.lineno, "class Bot has no on_tick(self, state) method"))
    return problems


def check(source):
    """Every problem of source under the policy, as sorted (line, message)."""
    problems = []
    try:
        result = compile_restricted_exec(source, BOT_FILENAME, policy=_Policy)
        problems.extend(_line_of(e) for e in result.errors)
    except (MemoryError, RecursionError):
        problems.append((1, "source too complex to compile"))
        return problems
    except BaseException as e:  # anything else the compiler throws
        problems.append((1, "cannot compile: %s" % type(e).__name__))
        return problems
    if not problems:
        problems.extend(_semantic_problems(source))
    problems.sort()
    return problems


# ---- the modules a bot may import ----------------------------------------

_MATH_LIMIT = 1000


def _factorial(n):
    if type(n) is not int or n < 0 or n > _MATH_LIMIT:
        raise ValueError("factorial() is limited to 0 <= n <= %d in bots" % _MATH_LIMIT)
    return _math.factorial(n)


def _comb(n, k):
    if type(n) is not int or type(k) is not int or n > 10 * _MATH_LIMIT:
        raise ValueError("comb() is limited to n <= %d in bots" % (10 * _MATH_LIMIT))
    return _math.comb(n, k)


def _perm(n, k=None):
    if type(n) is not int or n > 10 * _MATH_LIMIT:
        raise ValueError("perm() is limited to n <= %d in bots" % (10 * _MATH_LIMIT))
    return _math.perm(n, k)


def _make_math():
    m = types.ModuleType("math", "math for bots: the standard module minus CPU bombs")
    for name in dir(_math):
        if not name.startswith("_") and name not in ("factorial", "comb", "perm"):
            setattr(m, name, getattr(_math, name))
    m.factorial = _factorial
    m.comb = _comb
    m.perm = _perm
    return m


def _make_random(seed):
    rng = _random.Random(seed)
    m = types.ModuleType("random", "random for bots: seeded per race and bot")

    def getrandbits(k):
        if type(k) is not int or k < 0 or k > 4096:
            raise ValueError("getrandbits() is limited to 0 <= k <= 4096 in bots")
        return rng.getrandbits(k)

    for name in ("random", "uniform", "randint", "randrange", "choice", "choices",
                 "shuffle", "sample", "gauss", "normalvariate", "triangular",
                 "expovariate", "seed"):
        setattr(m, name, getattr(rng, name))
    m.getrandbits = getrandbits
    return m


class _Printer:
    """RestrictedPython's print target, writing into the worker's bounded
    log (in C) instead of collecting without limit."""

    __slots__ = ()

    def __init__(self, _getattr_=None):
        pass

    def __call__(self):
        return ""

    def _call_print(self, *objects, sep=" ", end="\n", file=None, flush=False):
        if file is not None:
            raise TypeError("print(file=...) is not available to bots")
        if type(sep) is not str:
            sep = " "
        if type(end) is not str:
            end = "\n"
        _crguard.log_write(sep.join([str(o) for o in objects]) + end)


_BUILTIN_NAMES = (
    "abs all any bool callable chr complex dict divmod enumerate filter float "
    "frozenset hash int isinstance issubclass len list map max min next object ord "
    "pow property range repr reversed round set slice sorted staticmethod classmethod "
    "str sum super tuple zip "
    "ArithmeticError AssertionError AttributeError Exception IndexError KeyError "
    "LookupError NameError NotImplementedError OverflowError RuntimeError "
    "StopIteration TypeError ValueError ZeroDivisionError"
).split()


def _guarded_import(name, globals=None, locals=None, fromlist=(), level=0):
    if type(name) is not str or level != 0 or name not in _modules:
        raise ImportError('import of "%s" is not allowed' % (name,))
    return _modules[name]


_modules = {}


def _make_globals(seed):
    import builtins

    b = {n: getattr(builtins, n) for n in _BUILTIN_NAMES}
    b["getattr"] = _crguard.guarded_getattr
    b["hasattr"] = _crguard.guarded_hasattr
    b["setattr"] = _crguard.guarded_setattr
    b["iter"] = _crguard.guarded_iter
    b["__import__"] = _guarded_import
    b["__build_class__"] = builtins.__build_class__
    _modules.clear()
    _modules["math"] = _make_math()
    _modules["random"] = _make_random(seed)
    _modules["coderally"] = _helper
    return {
        "__builtins__": b,
        "__name__": "bot",
        "__metaclass__": _crguard.make_class,
        "_getattr_": _crguard.guarded_getattr,
        "_getitem_": _crguard.guarded_getitem,
        "_getiter_": _crguard.guarded_iter,
        "_write_": _crguard.guarded_write,
        "_inplacevar_": _crguard.inplacevar,
        "_iter_unpack_sequence_": _crguard.iter_unpack_sequence,
        "_unpack_sequence_": _crguard.unpack_sequence,
        "_apply_": _crguard.apply,
        "_print_": _Printer,
    }


def format_error(exc):
    """One-line-per-frame description of exc, only frames of bot code, never
    reading a file (no linecache): safe after the seccomp filter is on."""
    try:
        text = str(exc)
    except BaseException:
        text = "<unprintable>"
    if len(text) > 400:
        text = text[:400] + "..."
    lines = []
    tb = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename == BOT_FILENAME:
            lines.append("line %d in %s" % (tb.tb_lineno, code.co_name))
        tb = tb.tb_next
    name = type(exc).__name__
    where = ("; ".join(lines[-4:]) + ": ") if lines else ""
    return "%s%s: %s" % (where, name, text)


class LoadError(Exception):
    pass


def load_bot(source, memory_json, seed, ray_angles, pace_ahead):
    """Compiles source and instantiates its Bot with memory set before
    __init__. Returns the instance; raises LoadError with (line, message)
    problems. Runs inside the locked-down worker under the start budget."""
    problems = check(source)
    if problems:
        raise LoadError(problems)
    code = compile_restricted_exec(source, BOT_FILENAME, policy=_Policy).code
    _helper._set_sensor_geometry(ray_angles, pace_ahead)
    glb = _make_globals(seed)
    exec(code, glb)
    cls = glb.get("Bot")
    if not _crguard.is_bot_class(cls):
        raise LoadError([(1, "Bot must be a class defined in the bot file")])
    memory = json.loads(memory_json) if memory_json else {}
    if type(memory) is not dict:
        memory = {}
    bot = cls.__new__(cls)
    object.__setattr__(bot, "memory", memory)
    bot.__init__()
    return bot


def export_memory(bot, cap):
    """self.memory as compact JSON, or raises ValueError saying why not."""
    memory = getattr(bot, "memory", None)
    if memory is None:
        return "{}"
    plain = _crguard.plain_copy(memory)
    text = json.dumps(plain, separators=(",", ":"), allow_nan=False)
    if len(text.encode()) > cap:
        raise ValueError("self.memory is %d bytes as JSON, over the %d byte cap"
                         % (len(text.encode()), cap))
    return text


def prepare():
    """Zygote: last steps before forking workers."""
    signal.signal(signal.SIGPROF, _on_budget)
    sys.setrecursionlimit(400)
    # Warm what later calls need so no lazy import happens in a worker.
    check("class Bot:\n    def on_tick(self, state):\n        return {}\n")
    try:
        raise ValueError("warm")
    except ValueError as e:
        format_error(e)
    json.loads(json.dumps({"a": [1, 2.5, "x", None, True]}))
    gc.collect()
    # Keep the collector away from the zygote's objects: fewer pages written
    # after fork, so less copy-on-write memory per worker.
    gc.freeze()


def bench_pair(path):
    """(restricted bot, plain bot) from one trusted file, for the
    restricted/plain ratio of `coderally bench bots`. Never used on bot
    coders' files: the plain one runs with full Python."""
    with open(path, encoding="utf-8") as f:
        source = f.read()
    angles = tuple(_math.radians(d) for d in (-90, -60, -35, -15, 0, 15, 35, 60, 90))
    pace = (10.0, 20.0, 35.0, 55.0, 80.0, 110.0)
    restricted = load_bot(source, "", 1, angles, pace)
    glb = {"__name__": "bot_plain"}
    exec(compile(source, path, "exec"), glb)
    cls = glb["Bot"]
    plain = cls.__new__(cls)
    plain.memory = {}
    plain.__init__()
    return restricted, plain
