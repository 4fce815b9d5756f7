"""OpenAI Chat Completions in, a routing decision out, and back to OpenAI form.

The pieces the `/v1/chat/completions` endpoint needs:

- `parse_chat`: the request body -> a `ChatRequest` (messages checked one by one, so a bad field is
  answered as a 400 naming it, `messages[2].content` style, the way OpenAI does).
- `ChatEscalator`: a `GeminiEscalator` that, inside a chat request, sends Gemini the whole
  conversation (system prompt, earlier turns, the app's tool calls and tool results) with the
  tool_choice as Gemini's function-calling mode, instead of the single request the router alone
  would send. The Router still drives it (budget, policy check of Gemini's calls, reasons), so the
  chat path gets exactly the router's rules. The conversation reaches it through a context
  variable: the Router's `aask(query, toolset, context)` protocol has no room for it, and a
  context variable follows the request's task without touching the Router.
- `answer_message`: a final Decision (and Gemini's text, if it answered in text) -> the assistant
  message, tool calls or text, the app receives.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Literal

from needle_router.serve.errors import BadRequest
from needle_router.tools import Toolset
from needle_router.types import Decision, EscalationAnswer, Reason, ToolCall

Role = Literal["system", "user", "assistant", "tool"]
ChoiceMode = Literal["auto", "none", "required", "named"]

# Gemini 3 wants the thought signature of each function call it made sent back with it. An OpenAI
# conversation cannot carry them, and calls made by the local model never had one, so every call
# in the history carries the value Google documents for calls from elsewhere: it skips the check.
# The SDK writes bytes as url-safe base64, so these bytes go on the wire as exactly that string.
SKIP_SIGNATURE = base64.urlsafe_b64decode("skip_thought_signature_validator")

CHAT_RULES = """\
You answer for an application that can call the declared functions.
- When the user's latest request needs functions, call them, with arguments taken from the \
conversation; use exactly the parameter names and value types of each function's schema.
- Never invent a value for a required parameter: ask for it in one short question instead.
- When the conversation holds function results, use them to answer the user."""


# -- the request ---------------------------------------------------------------------------------


@dataclass
class ChatMessage:
    role: Role
    text: str = ""
    tool_calls: list[tuple[str, ToolCall]] = field(default_factory=list)  # (call id, call)
    tool_call_id: str | None = None  # role "tool": the call this result answers
    tool_name: str | None = None  # role "tool": that call's function name


@dataclass
class ToolChoice:
    mode: ChoiceMode = "auto"
    name: str | None = None  # mode "named"


@dataclass
class ChatRequest:
    model: str
    messages: list[ChatMessage]
    tools: Any  # the request's tools as sent (None: the server's toolset)
    choice: ToolChoice
    stream: bool
    include_usage: bool
    context: dict[str, Any] | None
    force_escalate: bool

    @property
    def query(self) -> str:
        """The last user turn: what the router decides on."""
        return next(m.text for m in reversed(self.messages) if m.role == "user")

    @property
    def grounding_context(self) -> dict[str, Any] | None:
        """The caller's context plus what the conversation said before the last user turn (user
        turns and tool results): a value given earlier ("I'm making tea" ... "set a timer for 25
        minutes") is evidence for a call, so the policy's grounding rule accepts it."""
        last_user = max(i for i, m in enumerate(self.messages) if m.role == "user")
        earlier = [m.text for i, m in enumerate(self.messages)
                   if m.text and (m.role == "tool" or (m.role == "user" and i != last_user))]
        if not earlier:
            return self.context
        return {**(self.context or {}), "conversation": " | ".join(earlier)}

    @property
    def system(self) -> str:
        return "\n\n".join(m.text for m in self.messages if m.role == "system" and m.text)

    def follow_up(self) -> str | None:
        """Why this conversation is not a fresh request the local model may answer (None if it is)."""
        last = self.messages[-1]
        if last.role == "tool":
            return "tool_results"
        if last.role == "assistant":
            return "assistant_prefill"
        turns = [m for m in self.messages if m.role != "system"]
        if len(turns) > 1:
            return "follow_up"
        return None


def _content_text(content: Any, where: str) -> str:
    """OpenAI message content (a string, null, or a list of text parts) as plain text."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        out = []
        for j, part in enumerate(content):
            if not isinstance(part, Mapping):
                raise BadRequest(f"{where}[{j}] must be an object", param=f"{where}[{j}]")
            kind = part.get("type")
            if kind in ("text", "input_text") and isinstance(part.get("text"), str):
                out.append(part["text"])
            elif kind == "refusal" and isinstance(part.get("refusal"), str):
                out.append(part["refusal"])
            else:
                raise BadRequest(
                    f"{where}[{j}]: only text content parts are supported (got type {kind!r})",
                    param=f"{where}[{j}].type",
                    code="unsupported_content",
                )
        return "\n".join(out)
    raise BadRequest(f"{where} must be a string, null or a list of content parts", param=where)


def _tool_calls(raw: Any, where: str) -> list[tuple[str, ToolCall]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise BadRequest(f"{where} must be a list", param=where)
    out = []
    for j, item in enumerate(raw):
        at = f"{where}[{j}]"
        fn = item.get("function") if isinstance(item, Mapping) else None
        if not isinstance(fn, Mapping) or not isinstance(fn.get("name"), str) or not isinstance(item.get("id"), str):
            raise BadRequest(f"{at} must be {{id, type: 'function', function: {{name, arguments}}}}", param=at)
        args = fn.get("arguments") or "{}"
        try:
            parsed = json.loads(args) if isinstance(args, str) else args
        except json.JSONDecodeError:
            raise BadRequest(f"{at}.function.arguments is not valid JSON", param=f"{at}.function.arguments") from None
        if not isinstance(parsed, dict):
            raise BadRequest(f"{at}.function.arguments must encode a JSON object", param=f"{at}.function.arguments")
        out.append((item["id"], ToolCall(name=fn["name"], arguments=parsed)))
    return out


def parse_messages(raw: Any, *, max_messages: int) -> list[ChatMessage]:
    if not isinstance(raw, list) or not raw:
        raise BadRequest("'messages' must be a non-empty list", param="messages")
    if len(raw) > max_messages:
        raise BadRequest(f"at most {max_messages} messages per request", param="messages", code="too_many_messages")
    out: list[ChatMessage] = []
    calls_by_id: dict[str, str] = {}
    for i, msg in enumerate(raw):
        where = f"messages[{i}]"
        if not isinstance(msg, Mapping):
            raise BadRequest(f"{where} must be an object", param=where)
        role = msg.get("role")
        if role == "developer":  # OpenAI's newer name for the system role
            role = "system"
        if role not in ("system", "user", "assistant", "tool"):
            raise BadRequest(
                f"{where}.role must be system, developer, user, assistant or tool (got {role!r})",
                param=f"{where}.role",
            )
        text = _content_text(msg.get("content"), f"{where}.content")
        if role == "assistant":
            calls = _tool_calls(msg.get("tool_calls"), f"{where}.tool_calls")
            calls_by_id.update((cid, call.name) for cid, call in calls)
            out.append(ChatMessage(role="assistant", text=text, tool_calls=calls))
        elif role == "tool":
            cid = msg.get("tool_call_id")
            if not isinstance(cid, str) or cid not in calls_by_id:
                raise BadRequest(
                    f"{where}.tool_call_id must name a tool call of an earlier assistant message",
                    param=f"{where}.tool_call_id",
                )
            out.append(ChatMessage(role="tool", text=text, tool_call_id=cid, tool_name=calls_by_id[cid]))
        else:
            out.append(ChatMessage(role=role, text=text))
    if not any(m.role == "user" for m in out):
        raise BadRequest("'messages' must contain at least one user message", param="messages")
    return out


def parse_tool_choice(raw: Any, has_tools: bool, toolset: Toolset | None) -> ToolChoice:
    if raw is None:
        return ToolChoice("auto" if has_tools else "none")
    if raw in ("auto", "none", "required"):
        choice = ToolChoice(raw)
    elif isinstance(raw, Mapping) and raw.get("type") == "function":
        fn = raw.get("function") if isinstance(raw.get("function"), Mapping) else raw  # chat or Responses form
        name = fn.get("name")
        if not isinstance(name, str):
            raise BadRequest("tool_choice.function.name must be a string", param="tool_choice")
        choice = ToolChoice("named", name)
    else:
        raise BadRequest(
            "tool_choice must be 'auto', 'none', 'required' or {type: 'function', function: {name}}",
            param="tool_choice",
        )
    if choice.mode in ("required", "named") and not has_tools:
        raise BadRequest(f"tool_choice {choice.mode!r} needs tools", param="tool_choice")
    if choice.mode == "named" and toolset is not None and choice.name not in toolset:
        raise BadRequest(f"tool_choice names {choice.name!r}, which is not among the tools", param="tool_choice")
    return choice


def parse_chat(body: Mapping[str, Any], *, max_messages: int) -> ChatRequest:
    """Shape checks that need no toolset (the tool_choice is checked once the toolset is known)."""
    n = body.get("n")
    if n not in (None, 1):
        raise BadRequest("only n=1 is supported", param="n", code="unsupported_parameter")
    stream = body.get("stream", False)
    if not isinstance(stream, bool | None):
        raise BadRequest("'stream' must be a boolean", param="stream")
    opts = body.get("stream_options") or {}
    model = body.get("model")
    if model is not None and not isinstance(model, str):
        raise BadRequest("'model' must be a string", param="model")
    tools = body.get("tools")
    if tools is not None and not isinstance(tools, list):
        raise BadRequest("'tools' must be a list", param="tools")
    ext = body.get("needle_router") or {}
    if not isinstance(ext, Mapping):
        raise BadRequest("'needle_router' must be an object", param="needle_router")
    context = ext.get("context")
    if context is not None and not isinstance(context, Mapping):
        raise BadRequest("'needle_router.context' must be an object", param="needle_router.context")
    return ChatRequest(
        model=model or "needle-router",
        messages=parse_messages(body.get("messages"), max_messages=max_messages),
        tools=tools,
        choice=ToolChoice(),
        stream=bool(stream),
        include_usage=bool(isinstance(opts, Mapping) and opts.get("include_usage")),
        context=dict(context) if context else None,
        force_escalate=bool(ext.get("force_escalate", False)),
    )


# -- the conversation, for Gemini -------------------------------------------------------------------


@dataclass
class ChatTurn:
    """One chat request as the escalator sees it; `answer` is filled in when Gemini answered."""

    messages: list[ChatMessage]
    system: str
    choice: ToolChoice
    answer: EscalationAnswer | None = None


CURRENT_TURN: ContextVar[ChatTurn | None] = ContextVar("needle_router_chat_turn", default=None)


def chat_system_instruction(app_system: str, context: Mapping[str, Any] | None) -> str:
    """The app's own system prompt first (it is the app's assistant), then our function rules."""
    parts = [app_system.strip()] if app_system.strip() else []
    parts.append(CHAT_RULES)
    if context:
        facts = "\n".join(f"- {k}: {json.dumps(v, default=str, ensure_ascii=False)}" for k, v in context.items())
        parts.append(f"Facts about this conversation (use them, e.g. to resolve dates):\n{facts}")
    return "\n\n".join(parts)


def conversation_contents(messages: list[ChatMessage], to_gemini: Mapping[str, str]) -> list[Any]:
    """The non-system messages as Gemini contents; consecutive same-role turns merged (Gemini
    expects all function responses to one model turn in one user turn)."""
    from google.genai import types as gt

    from needle_router.escalation.declarations import gemini_name

    def name(tool: str) -> str:
        return to_gemini.get(tool) or gemini_name(tool)

    contents: list[gt.Content] = []
    for msg in messages:
        if msg.role == "system":
            continue
        parts: list[gt.Part] = []
        if msg.role == "tool":
            try:
                result = json.loads(msg.text)
            except json.JSONDecodeError:
                result = msg.text
            response = result if isinstance(result, dict) else {"result": result}
            parts.append(
                gt.Part(
                    function_response=gt.FunctionResponse(
                        name=name(msg.tool_name or ""), id=msg.tool_call_id, response=response
                    )
                )
            )
        else:
            if msg.text:
                parts.append(gt.Part(text=msg.text))
            for cid, call in msg.tool_calls:
                fc = gt.FunctionCall(name=name(call.name), args=call.arguments, id=cid)
                parts.append(gt.Part(function_call=fc, thought_signature=SKIP_SIGNATURE))
        if not parts:
            continue
        role = "model" if msg.role == "assistant" else "user"
        if contents and contents[-1].role == role:
            contents[-1].parts = [*(contents[-1].parts or []), *parts]
        else:
            contents.append(gt.Content(role=role, parts=parts))
    return contents


def function_calling_config(choice: ToolChoice, to_gemini: Mapping[str, str]) -> Any:
    from google.genai import types as gt

    mode = {"auto": "AUTO", "none": "NONE", "required": "ANY", "named": "ANY"}[choice.mode]
    allowed = [to_gemini.get(choice.name, choice.name)] if choice.mode == "named" and choice.name else None
    return gt.ToolConfig(function_calling_config=gt.FunctionCallingConfig(mode=mode, allowed_function_names=allowed))


def make_chat_escalator(**kwargs: Any) -> Any:
    """A ChatEscalator (the class is built on first use: google-genai loads only when a key is set)."""
    return _chat_escalator_class()(**kwargs)


_CLASS: type | None = None


def _chat_escalator_class() -> type:
    global _CLASS
    if _CLASS is not None:
        return _CLASS
    from needle_router.escalation.gemini import GeminiEscalator

    class ChatEscalator(GeminiEscalator):
        """GeminiEscalator that, inside a chat request, asks about the whole conversation."""

        def _prepare(self, query: str, toolset: Any, context: Mapping[str, Any] | None) -> Any:
            ex = super()._prepare(query, toolset, context)
            turn = CURRENT_TURN.get()
            if turn is None:  # the native /v1/route API: the router's own single-request prompt
                return ex
            to_gemini = {tool: alias for alias, tool in ex.names.items()}
            ex.contents = conversation_contents(turn.messages, to_gemini)
            update: dict[str, Any] = {"system_instruction": chat_system_instruction(turn.system, context)}
            if ex.names:
                update["tool_config"] = function_calling_config(turn.choice, to_gemini)
            ex.config = ex.config.model_copy(update=update)
            return ex

        def ask(self, query: str, toolset: Any, context: Mapping[str, Any] | None = None) -> EscalationAnswer:
            answer = super().ask(query, toolset, context)
            _remember(answer)
            return answer

        async def aask(self, query: str, toolset: Any, context: Mapping[str, Any] | None = None) -> EscalationAnswer:
            answer = await super().aask(query, toolset, context)
            _remember(answer)
            return answer

    _CLASS = ChatEscalator
    return _CLASS


def _remember(answer: EscalationAnswer) -> None:
    turn = CURRENT_TURN.get()
    if turn is not None:
        turn.answer = answer


# -- the answer, for the app ---------------------------------------------------------------------


def new_call_id() -> str:
    return "call_" + secrets.token_hex(12)


def _humanize(param: str) -> str:
    return param.replace("_", " ").replace(".", " ").strip()


def clarify_text(missing: list[str]) -> str:
    names = [_humanize(m) for m in missing] or ["a few details"]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return f"Could you tell me the {listed}?"


def refuse_text(decision: Decision) -> str:
    codes = decision.reason_codes()
    denied = [r.tool for r in decision.reasons if r.code in ("denied", "not_allowed") and r.tool]
    if denied:
        return f"I can't do that here: {', '.join(dict.fromkeys(denied))} is not permitted by this application."
    if "teacher_invalid" in codes or "teacher_malformed_call" in codes:
        return "I couldn't produce a valid request for the available tools. Could you rephrase it?"
    if "empty_query" in codes:
        return "Your message is empty. What would you like to do?"
    return "None of the available tools can do that."


@dataclass
class AssistantAnswer:
    content: str | None
    tool_calls: list[dict[str, Any]]
    finish_reason: str


def answer_message(decision: Decision, teacher_text: str | None) -> AssistantAnswer:
    """The assistant message for a final decision ("escalate" is never final here: see the app)."""
    if decision.decision == "call" and decision.calls:
        calls = [
            {
                "id": new_call_id(),
                "type": "function",
                "function": {"name": c.name, "arguments": json.dumps(c.arguments, ensure_ascii=False)},
            }
            for c in decision.calls
        ]
        return AssistantAnswer(None, calls, "tool_calls")
    if teacher_text is not None and decision.source == "gemini" and "teacher_text" in decision.reason_codes():
        return AssistantAnswer(teacher_text, [], "stop")
    if decision.decision == "clarify":
        return AssistantAnswer(clarify_text(decision.missing), [], "stop")
    return AssistantAnswer(refuse_text(decision), [], "stop")


def note(code: str, message: str) -> Reason:
    """A reason the server adds (documented in the README's table of serve reason codes)."""
    return Reason(code=code, message=message)
