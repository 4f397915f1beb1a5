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

import _string

import encodings.ascii  # noqa: F401  (pre-imported: no file access later)
import encodings.latin_1  # noqa: F401
import encodings.utf_8  # noqa: F401

from RestrictedPython import compile_restricted_exec
from RestrictedPython.transformer import IOPERATOR_TO_STR
from RestrictedPython.transformer import INSPECT_ATTRIBUTES
from RestrictedPython.transformer import RestrictingNodeTransformer
from RestrictedPython.transformer import copy_locations

import _crguard
import coderally as _helper

ALLOWED_IMPORTS = ("math", "random", "coderally")
BOT_FILENAME = "<bot>"

# Special methods a bot may define on its own classes. The rest (__del__,
# __getattr__, __init_subclass__, __set_name__, __reduce__, __format__, __new__,
# descriptors, ...) either run at times the budget does not cover or hand
# out objects the guards never see.
SPECIAL_METHODS = frozenset(
    "__init__ __repr__ __str__ __eq__ __ne__ __lt__ __le__ __gt__ __ge__ __hash__ "
    "__bool__ __len__ __iter__ __next__ __reversed__ __getitem__ __setitem__ "
    "__delitem__ __contains__ __enter__ __exit__ __call__ "
    "__add__ __sub__ __mul__ __truediv__ __floordiv__ __mod__ __pow__ __matmul__ "
    "__radd__ __rsub__ __rmul__ __rtruediv__ __rfloordiv__ __rmod__ __rpow__ "
    "__iadd__ __isub__ __imul__ __itruediv__ __ifloordiv__ __imod__ "
    "__neg__ __pos__ __abs__".split()
)

# Special attributes reachable through super() (calls to a base class's
# version of a special method), and nothing else.
SUPER_ATTRIBUTES = SPECIAL_METHODS

# The names RestrictedPython's rewrite introduces besides the builtins.
_RP_NAMES = frozenset(("print", "printed"))


class BotTimeout(BaseException):
    """Raised into bot code when its CPU budget is spent. Not an Exception
    subclass and not reachable by name, so `except Exception` cannot catch it
    (a bare `except:` is rewritten to `except Exception:`)."""


def _on_budget(signum, frame):
    raise BotTimeout("CPU budget exceeded")


class _Policy(RestrictingNodeTransformer):
    """RestrictedPython's transformer plus this project's rules."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._class_bodies = []  # ids of the statements directly in a class body

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

    # -- special methods on the bot's own classes --------------------------

    def visit_ClassDef(self, node):
        self._class_bodies.append({id(n) for n in node.body})
        try:
            return super().visit_ClassDef(node)
        finally:
            self._class_bodies.pop()

    def visit_FunctionDef(self, node):
        name = node.name
        if name.startswith("_") and name != "_":
            in_class = bool(self._class_bodies) and id(node) in self._class_bodies[-1]
            if not (in_class and name in SPECIAL_METHODS):
                self.error(
                    node,
                    '"%s" cannot be defined in bots (special methods a bot class may '
                    "define: see docs/BOT_API.md)" % name
                    if in_class else
                    '"%s" is an invalid name because it starts with "_"' % name,
                )
                return node
            # Defined like any method; the rest of RestrictedPython's checks
            # (argument names, print scope) still apply.
            node.name = "cr_special"
            try:
                node = super().visit_FunctionDef(node)
            finally:
                node.name = name
            return node
        return super().visit_FunctionDef(node)

    # -- super().__init__() ------------------------------------------------

    def visit_Attribute(self, node):
        value = node.value
        if (isinstance(node.ctx, ast.Load) and node.attr in SUPER_ATTRIBUTES
                and isinstance(value, ast.Call) and isinstance(value.func, ast.Name)
                and value.func.id == "super"):
            value = self.visit(value)
            new = ast.Call(ast.Name("_super_attr_", ast.Load()),
                           [value, ast.Constant(node.attr)], [])
            copy_locations(new, node)
            return new
        return super().visit_Attribute(node)

    # -- annotated assignment ----------------------------------------------

    def visit_AnnAssign(self, node):
        if isinstance(node.target, ast.Name):
            self.check_name(node, node.target.id)
        return self.node_contents_visit(node)

    # -- augmented assignment on attributes and items ----------------------

    def _temp(self, expr, name, stmts):
        """expr if reading it twice is harmless, else a temporary holding it."""
        if isinstance(expr, (ast.Name, ast.Constant)):
            return expr
        stmts.append(ast.Assign([ast.Name(name, ast.Store())], expr))
        return ast.Name(name, ast.Load())

    def visit_AugAssign(self, node):
        target = node.target
        if isinstance(target, ast.Name):
            return super().visit_AugAssign(node)
        op = ast.Constant(IOPERATOR_TO_STR[type(node.op)])
        stmts = []
        if isinstance(target, ast.Attribute):
            attr = target.attr
            if attr.startswith("_") or attr.endswith("__roles__") or attr in INSPECT_ATTRIBUTES:
                self.error(node, '"%s" is an invalid attribute name because it starts with "_"'
                           % attr if attr.startswith("_") else
                           '"%s" is a restricted name' % attr)
                return node
            obj = self._temp(self.visit(target.value), "_cr_aug_obj", stmts)
            current = ast.Call(ast.Name("_getattr_", ast.Load()), [obj, ast.Constant(attr)], [])
            store = ast.Attribute(ast.Call(ast.Name("_write_", ast.Load()), [obj], []),
                                  attr, ast.Store())
        elif isinstance(target, ast.Subscript):
            obj = self._temp(self.visit(target.value), "_cr_aug_obj", stmts)
            key = target.slice
            if isinstance(key, ast.Slice):
                key = ast.Call(ast.Name("slice", ast.Load()),
                               [self.visit(k) if k is not None else ast.Constant(None)
                                for k in (key.lower, key.upper, key.step)], [])
            else:
                key = self.visit(key)
            key = self._temp(key, "_cr_aug_key", stmts)
            current = ast.Call(ast.Name("_getitem_", ast.Load()), [obj, key], [])
            store = ast.Subscript(ast.Call(ast.Name("_write_", ast.Load()), [obj], []),
                                  key, ast.Store())
        else:  # pragma: no cover - the grammar allows nothing else
            self.error(node, "unsupported augmented assignment")
            return node
        value = self.visit(node.value)
        stmts.append(ast.Assign(
            [store], ast.Call(ast.Name("_inplacevar_", ast.Load()), [op, current, value], [])))
        for s in stmts:
            for child in ast.walk(s):
                if "lineno" in child._attributes and not hasattr(child, "lineno"):
                    copy_locations(child, node)
        return stmts


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


_COMPS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
_SCOPES = _FUNCS + (ast.ClassDef,) + _COMPS


def _scope_body(node):
    """The nodes evaluated inside node's own scope."""
    if isinstance(node, ast.Lambda):
        return [node.body]
    if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
        return list(node.body)
    parts = [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
    for i, gen in enumerate(node.generators):
        parts.append(gen.target)
        parts.extend(gen.ifs)
        if i:
            parts.append(gen.iter)
    return parts


def _outer_parts(node):
    """The parts of a nested scope evaluated in the enclosing one."""
    if isinstance(node, _FUNCS):
        a = node.args
        parts = list(a.defaults) + [d for d in a.kw_defaults if d is not None]
        if not isinstance(node, ast.Lambda):
            parts += list(node.decorator_list)
            if node.returns is not None:
                parts.append(node.returns)
            for arg in a.posonlyargs + a.args + a.kwonlyargs + [a.vararg, a.kwarg]:
                if arg is not None and arg.annotation is not None:
                    parts.append(arg.annotation)
        return parts
    if isinstance(node, ast.ClassDef):
        return list(node.decorator_list) + list(node.bases) + [k.value for k in node.keywords]
    return [node.generators[0].iter]


def _own_nodes(node):
    """Every node of node's scope, nested scopes as single nodes."""
    stack = _scope_body(node)
    while stack:
        n = stack.pop()
        yield n
        if isinstance(n, _SCOPES):
            stack.extend(_outer_parts(n))
        else:
            stack.extend(ast.iter_child_nodes(n))


def _bindings(node):
    """(names bound in node's scope, names it declares global)."""
    bound, declared = set(), set()
    if isinstance(node, _FUNCS):
        a = node.args
        for arg in a.posonlyargs + a.args + a.kwonlyargs + [a.vararg, a.kwarg]:
            if arg is not None:
                bound.add(arg.arg)
    nodes = list(_own_nodes(node))
    # `x: int` alone declares x without binding it.
    declared_only = {id(n.target) for n in nodes
                     if isinstance(n, ast.AnnAssign) and n.value is None}
    for n in nodes:
        if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load):
            if id(n) not in declared_only:
                bound.add(n.id)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(n.name)
        elif isinstance(n, ast.alias):
            bound.add(n.asname or n.name.split(".")[0])
        elif isinstance(n, ast.ExceptHandler) and n.name:
            bound.add(n.name)
        elif isinstance(n, ast.Global):
            declared.update(n.names)
    return bound - declared, declared


def _undefined_names(tree, known):
    """(line, name) of every name read where Python would look it up as a
    global, that no module-level statement (or `global` declaration) binds
    and the bot's builtins do not provide: a NameError when it runs."""
    module_bound, _ = _bindings(tree)
    for n in ast.walk(tree):
        if isinstance(n, ast.Global):
            module_bound.update(n.names)
        elif isinstance(n, ast.NamedExpr) and isinstance(n.target, ast.Name):
            module_bound.add(n.target.id)  # bound in some enclosing scope; not tracked
    found = []

    def visit(node, chain):
        for n in _own_nodes(node):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load):
                if not resolves(n.id, chain):
                    found.append((n.lineno, n.id))
            if isinstance(n, _SCOPES):
                bound, declared = _bindings(n)
                visit(n, chain + [(isinstance(n, ast.ClassDef), bound, declared)])

    def resolves(name, chain):
        last = len(chain) - 1
        for i in range(last, -1, -1):
            is_class, bound, declared = chain[i]
            if name in declared:
                break
            if is_class and i != last:
                continue
            if name in bound:
                return True
        return name in module_bound or name in known

    visit(tree, [])
    return sorted(set(found))


def _import_problems(tree):
    """Names taken from the allowed modules that they do not have: `from
    math import sqrtt`, and `math.sqrtt` where `math` is the module (bound
    by an import only, never assigned)."""
    _make_globals(0)
    modules = dict(_modules)
    problems = []
    aliases, rebound = {}, set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Import):
            for a in n.names:
                if a.name in modules:
                    aliases.setdefault(a.asname or a.name, set()).add(a.name)
        elif isinstance(n, ast.ImportFrom) and n.module in modules and not n.level:
            for a in n.names:
                if a.name != "*" and not hasattr(modules[n.module], a.name):
                    problems.append((n.lineno, 'module "%s" has no "%s" in bots'
                                     % (n.module, a.name)))
                rebound.add(a.asname or a.name)
        elif isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load):
            rebound.add(n.id)
        elif isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.arg)):
            rebound.add(n.name if not isinstance(n, ast.arg) else n.arg)
    for n in ast.walk(tree):
        if (isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)
                and n.value.id in aliases and n.value.id not in rebound
                and len(aliases[n.value.id]) == 1 and not n.attr.startswith("_")):
            (mod,) = aliases[n.value.id]
            if not hasattr(modules[mod], n.attr):
                problems.append((n.lineno, 'module "%s" has no "%s" in bots' % (mod, n.attr)))
    return problems


def _semantic_problems(source):
    """Checks a bot coder wants before running: a Bot class with on_tick, and
    names that would be a NameError in the sandbox."""
    import builtins

    problems = []
    try:
        tree = ast.parse(source, BOT_FILENAME)
    except Exception:  # the restricted compile already reported it
        return problems
    for line, name in _undefined_names(tree, _KNOWN_NAMES):
        if hasattr(builtins, name):
            problems.append((line, '"%s" is not available to bots (a NameError when it runs; '
                             "see docs/BOT_API.md for what to write instead)" % name))
        else:
            problems.append((line, 'name "%s" is not defined (a NameError when it runs)' % name))
    problems.extend(_import_problems(tree))
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
    # The name and shape checks too, so one run lists every problem; a line
    # the compiler already refused is not reported twice.
    refused = {line for line, _ in problems}
    problems.extend(p for p in _semantic_problems(source) if p[0] not in refused)
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
    "str sum super tuple zip format hex bin oct "
    "ArithmeticError AssertionError AttributeError Exception IndexError KeyError "
    "LookupError MemoryError NameError NotImplementedError OverflowError RecursionError "
    "RuntimeError UnboundLocalError "
    "StopIteration TypeError ValueError ZeroDivisionError"
).split()


def _check_format_fields(fmt, depth=0):
    """Refuses str.format fields that read special or inspection attributes
    ("{0.__class__}", the classic RestrictedPython escape): the same names
    the guards refuse in code. A field only ever yields text, so the name
    is all that matters."""
    if depth > 2:
        raise ValueError("Max string recursion exceeded")
    for _literal, field, spec, _conv in _string.formatter_parser(fmt):
        if field is None:
            continue
        _first, rest = _string.formatter_field_name_split(field)
        for is_attr, key in rest:
            if is_attr:
                _crguard.check_name(key)
        if spec:
            _check_format_fields(spec, depth + 1)


def _str_format(s, *args, **kwargs):
    if not isinstance(s, str):
        raise TypeError("format() needs a str")
    _check_format_fields(s)
    return str.format(s, *args, **kwargs)


def _str_format_map(s, mapping):
    if not isinstance(s, str):
        raise TypeError("format_map() needs a str")
    _check_format_fields(s)
    return str.format_map(s, mapping)


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
    b["type"] = _crguard.guarded_type
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
        "_super_attr_": _crguard.super_attr,
        "_iter_unpack_sequence_": _crguard.iter_unpack_sequence,
        "_unpack_sequence_": _crguard.unpack_sequence,
        "_apply_": _crguard.apply,
        "_print_": _Printer,
    }


# Every global name bot code can read without binding it: the bot's
# builtins, computed from the globals the runtime really builds.
_KNOWN_NAMES = frozenset(_make_globals(0)["__builtins__"]) | _RP_NAMES


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


def load_bot(source, memory_json, seed, ray_angles, pace_ahead, stage_json=""):
    """Compiles source and instantiates its Bot with memory and stage (the
    stage's identity) set before __init__. Returns the instance; raises LoadError with (line, message)
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
    stage = json.loads(stage_json) if stage_json else {}
    if type(stage) is not dict:
        stage = {}
    bot = cls.__new__(cls)
    object.__setattr__(bot, "memory", memory)
    object.__setattr__(bot, "stage", stage)
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
    _crguard.set_policy(_str_format, _str_format_map, SUPER_ATTRIBUTES)
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
