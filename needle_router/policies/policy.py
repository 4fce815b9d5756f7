"""The `Policy`: the builder's rules for when a local proposal may be returned as a call.

A policy is a frozen pydantic model (safe to share between threads), loaded from a preset name,
a YAML/JSON file, a YAML/JSON string or a dict. Its published JSON Schema is
`policies/policy.schema.json` (regenerate with `python -m needle_router.policies`).
Any invalid policy raises `PolicyError` naming the offending field.

Tool names in allow/deny/never_local/require_confirmation/tool_min_confidence/grounding_exempt
may be shell-style globs ("delete_*"); deny wins over allow.
"""

from __future__ import annotations

import difflib
import fnmatch
import threading
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from needle_router._types import PolicyLike
from needle_router.errors import PolicyError
from needle_router.tools import Toolset, decode_utf8
from needle_router.types import Decision, EscalationAnswer, Proposal

from .budget import EscalationBudget

PRESETS_DIR = Path(__file__).resolve().parent
PRESETS = ("default", "strict", "permissive")

Probability = Annotated[float, Field(ge=0.0, le=1.0)]


class GroundingSettings(BaseModel):
    """Which argument values must be evidenced in the request (see policies/grounding.py)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    enabled: bool = Field(True, description="Check grounding at all (local proposals).")
    strings: bool = Field(True, description="String values must appear in the request.")
    numbers: bool = Field(True, description="Numeric values must appear in the request (digits or words).")
    exempt_formats: list[str] = Field(
        default_factory=lambda: ["date", "date-time", "time", "duration"],
        description="String formats exempt from grounding (resolved values such as dates).",
    )
    exempt_defaults: bool = Field(True, description="A value equal to the parameter's schema default is exempt.")


class EscalationSettings(BaseModel):
    """How and how much the teacher (Gemini) may be asked."""

    # .inf / .nan are valid YAML floats; a deadline of infinity is no deadline: reject them.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    enabled: bool = Field(True, description="Escalate to the teacher at all.")
    model: str | None = Field(None, description="Teacher model; null = the escalation module's default.")
    timeout_s: float = Field(20.0, gt=0, description="Timeout of one teacher request, seconds.")
    max_attempts: int = Field(3, ge=1, le=10, description="Attempts per request (retries on transient errors).")
    deadline_s: float = Field(60.0, gt=0, description="Total time allowed for one escalation, seconds.")
    budget_per_minute: int | None = Field(
        60, ge=0, description="Teacher requests per sliding minute; null = unlimited."
    )
    budget_per_day: int | None = Field(5000, ge=0, description="Teacher requests per sliding day; null = unlimited.")
    on_budget_exhausted: Literal["escalate", "refuse", "clarify"] = Field(
        "escalate", description="Decision returned when the budget is spent or escalation is disabled."
    )


class Policy(BaseModel):
    """The builder's routing rules. Defaults equal policies/default.yaml."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        allow_inf_nan=False,
        title="needle-router policy",
        json_schema_extra={"$schema": "https://json-schema.org/draft/2020-12/schema"},
    )

    extends: Literal["default", "strict", "permissive"] | None = Field(
        None, description="Start from this preset; the other fields given override it."
    )
    description: str = Field("", description="Free text for people.")
    min_confidence: float = Field(0.8, ge=0.0, le=1.0, description="Global confidence threshold for a local call.")
    refuse_min_confidence: float = Field(
        0.95, ge=0.0, le=1.0,
        description="Confidence that no tool fits needed to refuse locally; below it the request escalates. "
        "Kept apart from min_confidence: a wrong local refusal leaves the user with nothing and the teacher "
        "never asked, so the bar is set where refusals were measured to be right (see README).",
    )
    tool_min_confidence: dict[str, Probability] = Field(
        default_factory=dict, description="Per-tool thresholds (tool name or glob -> probability)."
    )
    ambiguity_margin: float = Field(
        0.1, ge=0.0, le=1.0, description="Escalate when the top-two alternatives' scores differ by less."
    )
    missing_required: Literal["clarify", "escalate"] = Field(
        "clarify", description="What a confident call missing required parameters becomes."
    )
    grounding: GroundingSettings = Field(default_factory=GroundingSettings)
    grounding_exempt: dict[str, list[str]] = Field(
        default_factory=dict,
        description='Parameters exempt from grounding: {tool or glob: [param, ...]}; "*" = all parameters.',
    )
    allow: list[str] = Field(default_factory=list, description="Tools that may be called; empty = all.")
    deny: list[str] = Field(default_factory=list, description="Tools never called (by anyone).")
    never_local: list[str] = Field(default_factory=list, description="Tools only the teacher may call.")
    require_confirmation: list[str] = Field(
        default_factory=list, description="Tools whose calls are returned with requires_confirmation=True."
    )
    escalation: EscalationSettings = Field(default_factory=EscalationSettings)
    teacher_grounding: bool = Field(
        True,
        description="Also check grounding of the teacher's calls: a value the request does not evidence "
        "turns the decision into clarify for that parameter.",
    )
    escalation_log: str | None = Field(
        None,
        min_length=1,
        description="Opt-in: append every escalation Gemini answered (calls that passed this policy, or a text "
        "answer) and every shadow pair whose Gemini side answered validly to this JSONL file, as training "
        "records in the shared format (for `needle-router distill --from-log`); null = keep nothing.",
    )
    unknown_tool_names: Literal["error", "warn"] = Field(
        "error",
        description="A tool name in allow/deny/never_local/require_confirmation/tool_min_confidence/"
        "grounding_exempt that is not in the router's toolset: an error, or only a warning (for a policy "
        "shared by many toolsets). A glob that matches no tool is always only a warning.",
    )

    _budget: EscalationBudget | None = PrivateAttr(default=None)
    _budget_lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def __eq__(self, other: object) -> bool:
        # Compare the rules only: the budget and its lock are runtime state, not policy.
        return isinstance(other, Policy) and self.model_dump() == other.model_dump()

    __hash__ = None  # type: ignore[assignment]  # fields hold dicts and lists

    # ----- loading ---------------------------------------------------------------------------

    @classmethod
    def preset(cls, name: str) -> Policy:
        """One of the shipped presets: "default", "strict" or "permissive"."""
        if name not in PRESETS:
            raise PolicyError(f"unknown policy preset {name!r}; choose one of {', '.join(PRESETS)}")
        return cls.load(PRESETS_DIR / f"{name}.yaml")

    @classmethod
    def load(cls, source: PolicyLike | None = None) -> Policy:
        """A policy from a Policy, a dict, a preset name, a YAML/JSON path or string (None = default)."""
        if source is None:
            return cls.preset("default")
        if isinstance(source, Policy):
            return source
        if isinstance(source, Mapping):
            return cls._from_mapping(source, where="policy")
        if isinstance(source, str) and source in PRESETS:
            return cls.preset(source)
        if isinstance(source, str) and ("\n" in source or source.lstrip().startswith("{")):
            return cls._from_mapping(_parse(source, where="policy string"), where="policy string")
        if isinstance(source, str | Path):
            path = Path(source)
            try:
                raw = path.read_bytes()
            except OSError as exc:
                raise PolicyError(
                    f"cannot read policy {str(path)!r}: {exc.strerror or exc} (presets: {', '.join(PRESETS)})"
                ) from None
            text = decode_utf8(raw, where=f"policy {str(path)!r}", error=PolicyError)
            return cls._from_mapping(_parse(text, where=str(path)), where=str(path))
        raise PolicyError(f"cannot load a policy from {type(source).__name__}")

    @classmethod
    def _from_mapping(cls, data: Any, *, where: str) -> Policy:
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            raise PolicyError(f"{where}: a policy must be a mapping, not {type(data).__name__}")
        data = dict(data)
        base = data.get("extends")
        if base is not None:
            if base not in PRESETS:
                raise PolicyError(f"{where}: field 'extends': unknown preset {base!r}")
            data = _merge(cls.preset(base).model_dump(exclude={"extends"}), data)
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise PolicyError(f"{where}: {_describe(exc)}") from None

    def with_threshold(self, min_confidence: float) -> Policy:
        """A copy with `min_confidence` overridden (the CLI's --threshold)."""
        try:
            return type(self).model_validate({**self.model_dump(), "min_confidence": min_confidence})
        except ValidationError as exc:
            raise PolicyError(f"threshold: {_describe(exc)}") from None

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(mode="json", exclude={"extends"}), sort_keys=False)

    # ----- per-tool rules --------------------------------------------------------------------

    def threshold_for(self, tool: str) -> float:
        """tool_min_confidence for `tool` (exact name, else the highest matching glob), else min_confidence."""
        if tool in self.tool_min_confidence:
            return self.tool_min_confidence[tool]
        matches = [v for pat, v in self.tool_min_confidence.items() if fnmatch.fnmatchcase(tool, pat)]
        return max(matches) if matches else self.min_confidence

    def is_denied(self, tool: str) -> bool:
        return _matches(tool, self.deny)

    def is_allowed(self, tool: str) -> bool:
        """Not denied, and on the allow list when there is one."""
        return not self.is_denied(tool) and (not self.allow or _matches(tool, self.allow))

    def is_never_local(self, tool: str) -> bool:
        return _matches(tool, self.never_local)

    def needs_confirmation(self, tool: str) -> bool:
        return _matches(tool, self.require_confirmation)

    def grounding_exempt_params(self, tool: str) -> set[str]:
        """Parameter names of `tool` exempt from grounding ("*" means all)."""
        out: set[str] = set()
        for pat, params in self.grounding_exempt.items():
            if fnmatch.fnmatchcase(tool, pat):
                out.update(params)
        return out

    # ----- tool names ------------------------------------------------------------------------

    def named_tools(self) -> list[tuple[str, str]]:
        """(field, name or glob) for every tool name this policy mentions."""
        out = [(f, n) for f in ("allow", "deny", "never_local", "require_confirmation") for n in getattr(self, f)]
        out += [("tool_min_confidence", n) for n in self.tool_min_confidence]
        out += [("grounding_exempt", n) for n in self.grounding_exempt]
        return out

    def check_tool_names(self, toolset: Toolset) -> list[str]:
        """Compare the tool names this policy mentions with `toolset`.

        An exact name that is not a tool (a typo such as `deny: [set_timr]` would leave
        `set_timer` callable) raises PolicyError, or is returned as a warning when
        `unknown_tool_names` is "warn"; a glob that matches no tool is returned as a warning.
        """
        names = set(toolset.names)
        warnings_: list[str] = []
        errors: list[str] = []
        for fld, name in self.named_tools():
            if _is_glob(name):
                if not any(fnmatch.fnmatchcase(t, name) for t in names):
                    warnings_.append(f"field {fld!r}: pattern {name!r} matches no tool")
            elif name not in names:
                close = difflib.get_close_matches(name, sorted(names), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                (errors if self.unknown_tool_names == "error" else warnings_).append(
                    f"field {fld!r}: no tool named {name!r}{hint}"
                )
        if errors:
            more = "; ".join(errors[:5]) + (f" (+{len(errors) - 5} more)" if len(errors) > 5 else "")
            raise PolicyError(f"{more}; set unknown_tool_names: warn for a policy shared by several toolsets")
        return warnings_

    # ----- escalation budget -----------------------------------------------------------------

    def budget(self) -> EscalationBudget:
        """This policy's shared escalation budget (created once, thread-safely)."""
        with self._budget_lock:
            if self._budget is None:
                self._budget = self.new_budget()
            return self._budget

    def new_budget(self, clock: Callable[[], float] | None = None) -> EscalationBudget:
        """A fresh budget with this policy's limits (inject `clock` in tests)."""
        esc = self.escalation
        if clock is None:
            return EscalationBudget(esc.budget_per_minute, esc.budget_per_day)
        return EscalationBudget(esc.budget_per_minute, esc.budget_per_day, clock=clock)

    # ----- the engine ------------------------------------------------------------------------

    def judge(
        self, query: str, proposal: Proposal, toolset: Toolset, context: Mapping[str, Any] | None = None
    ) -> Decision:
        """Decide what to do with a local proposal (see policies/engine.py); `context` facts also
        ground argument values."""
        from .engine import judge

        return judge(self, query, proposal, toolset, context)

    def judge_escalation(
        self,
        query: str,
        answer: EscalationAnswer,
        toolset: Toolset,
        proposal: Proposal | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> Decision:
        """Decide what to do with the escalator's answer (see policies/engine.py)."""
        from .engine import judge_escalation

        return judge_escalation(self, query, answer, toolset, proposal, context)

    def judge_teacher(self, *args: Any, **kwargs: Any) -> Decision:
        """The 0.1.0 name of `judge_escalation` ("teacher" now names only the data generators)."""
        warnings.warn("Policy.judge_teacher is now Policy.judge_escalation", DeprecationWarning, stacklevel=2)
        return self.judge_escalation(*args, **kwargs)

    def without_escalation(self, decision: Decision, code: str = "budget_exhausted") -> Decision:
        """Replace an "escalate" decision by `escalation.on_budget_exhausted` when the escalator can't be
        asked (code "budget_exhausted" or "escalation_disabled"); other decisions pass unchanged."""
        from .engine import without_escalation

        return without_escalation(self, decision, code)


def _is_glob(name: str) -> bool:
    return any(c in name for c in "*?[")


def _matches(tool: str, patterns: list[str]) -> bool:
    return any(tool == p or fnmatch.fnmatchcase(tool, p) for p in patterns)


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge `over` onto `base` (nested mappings merge, everything else replaces)."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict) and key in ("grounding", "escalation"):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that rejects a key given twice in one mapping (YAML would keep the last silently,
    so `deny: [a]` ... `deny: []` further down would undo a rule without a word)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
            try:
                duplicate = key in seen
            except TypeError:  # an unhashable key: SafeLoader reports it itself below
                continue
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _parse(text: str, *, where: str) -> Any:
    try:
        # YAML is a superset of JSON, so one parser reads both.
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except RecursionError:
        raise PolicyError(f"{where} is nested too deeply") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise PolicyError(f"{where} is not valid YAML/JSON: {problem}{line}") from None


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(policy)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown field"
        parts.append(f"field {loc!r}: {msg}")
    return "; ".join(parts)
