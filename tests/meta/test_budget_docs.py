"""Keep the *Budgets* section of ``docs/llm.md`` in step with ``kitaru.Budget`` and its enforcement.

Its command lines must parse with the real CLI and use the code's retry
options; the Python names and keywords it shows must exist; the error, the
failure origin, the refusal message, the *Budget* row and the JSON example
must be exactly what the code produces. No engine is needed.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import json
import re
from pathlib import Path

from tests.meta.doc_commands import kitaru_commands, refusal

import kitaru
from kitaru.budget import LIMITS
from kitaru.client import ExecutionsAPI
from kitaru.execution.budgets import RETRY_FLAGS, Spending, describe_budget, exhausted_limit, refusal_message
from kitaru.flows import FlowDefinition

DOC = (Path(__file__).resolve().parents[2] / "docs" / "llm.md").read_text()


def section() -> str:
    assert "\n## Budgets\n" in DOC, "docs/llm.md has no '## Budgets' section"
    return DOC.split("\n## Budgets\n", 1)[1].split("\n## ", 1)[0]


def test_command_lines_parse_and_use_the_retry_options() -> None:
    commands = kitaru_commands(section())
    assert commands, "the Budgets section shows no kitaru command"
    for args in commands:
        assert refusal(args) is None, f"kitaru {' '.join(args)}: {refusal(args)}"
    shown = {word for args in commands for word in args if word.startswith("--budget")}
    assert shown == set(RETRY_FLAGS.values())


def test_python_names_and_keywords_exist() -> None:
    text = section()
    assert [field.name for field in dataclasses.fields(kitaru.Budget)] == list(LIMITS)
    assert "kitaru.Budget(usd=..., tokens=..., llm_calls=...)" in text
    assert "budget" in inspect.signature(kitaru.flow).parameters
    assert "budget" in inspect.signature(FlowDefinition.run).parameters
    assert "budget" in inspect.signature(ExecutionsAPI.retry).parameters
    assert "KitaruClient().executions.retry(exec_id, budget=kitaru.Budget(" in text
    for example in re.findall(r"kitaru\.Budget\(([^)]*)\)", text):
        if example != "usd=..., tokens=..., llm_calls=...":
            limits = dict(part.strip().split("=") for part in example.split(","))
            kitaru.Budget(**{name: ast.literal_eval(value) for name, value in limits.items()})  # a valid budget


def test_the_error_and_origin_are_the_codes() -> None:
    text = section()
    assert "`KitaruBudgetExceededError`" in text and kitaru.KitaruBudgetExceededError.__name__ in kitaru.__all__
    assert f"origin `{kitaru.FailureOrigin.BUDGET.value}`" in text
    assert issubclass(kitaru.KitaruBudgetExceededError, kitaru.KitaruExecutionError)
    assert "`KitaruUsageError`" in text


def test_the_refusal_the_row_and_the_json_are_what_the_code_produces() -> None:
    text = section()
    [console] = re.findall(r"```console\n(.*?)\n```", text, re.S)
    exec_id = "4f2444af-…"
    assert console == refusal_message(exec_id, "ask_4", "tokens", 60, Spending(llm_calls=3, tokens=75))
    # The worked example: 25 tokens per request under Budget(tokens=60) refuses the fourth.
    budget, spent = kitaru.Budget(tokens=60), Spending()
    for _ in range(3):
        assert exhausted_limit(budget, spent) is None
        spent.add({"tokens_input": 20, "tokens_output": 5, "cost_usd": 6e-06})
    assert exhausted_limit(budget, spent) == "tokens"

    [block] = re.findall(r"```json\n(.*?)```", text, re.S)
    shown = json.loads(block)["budget"]
    assert shown == {"limits": budget.limits(), "spent": spent.as_dict(), "exhausted": True}
    assert f"`{describe_budget(shown)}`" in text
