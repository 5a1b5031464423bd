"""The model flags shared by ``swarm mission`` and ``swarm serve``: where the model is, what it
may take per call, and (for missions) the loop's budget.

Read once here, at the edge, into the openai brain's settings (``swarm.brain.make_brain``)
and policy specs (``max-rounds:N``, ``max-tokens:N``, ``max-wall:S``); the API key is
read from the variable ``--api-key-env`` names and never recorded.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from swarm.missions import MissionError

#: dest -> flag of every model setting (a daemon's API carries none of them).
MODEL_FLAGS = {
    "model_url": "--model-url",
    "model": "--model",
    "model_timeout": "--model-timeout",
    "max_tokens": "--max-tokens",
    "context_tokens": "--context-tokens",
    "planner_model": "--planner-model",
    "planner_model_url": "--planner-model-url",
    "api_key_env": "--api-key-env",
}


def add_model_options(p: argparse.ArgumentParser) -> None:
    """Where the model is and what one call may take (openai brain)."""
    p.add_argument(
        "--model-url", help="the OpenAI-compatible endpoint's base URL (vLLM, Ollama, llama.cpp)"
    )
    p.add_argument("--model", help="the model's name as the endpoint knows it")
    p.add_argument(
        "--model-timeout",
        type=float,
        metavar="S",
        help="seconds the model may take to start (and keep) answering one call (default 60; "
        "a CPU-served model reading a long prompt needs more)",
    )
    p.add_argument(
        "--max-tokens",
        type=int,
        metavar="N",
        help="the longest answer one call may produce, in tokens (default 1024)",
    )
    p.add_argument(
        "--context-tokens",
        type=int,
        metavar="N",
        help="the server's context window in tokens; prompts are built to fit it (default 8192)",
    )
    p.add_argument("--planner-model", help="the planner's model, when it differs from --model")
    p.add_argument(
        "--planner-model-url", help="the planner's endpoint, when it differs from --model-url"
    )
    p.add_argument("--api-key-env", metavar="NAME", help="the env var holding the model's key")


def add_budget_options(p: argparse.ArgumentParser) -> None:
    """The loop's budget per model-backed ticket (policies that deny the next round)."""
    p.add_argument(
        "--rounds",
        type=int,
        metavar="N",
        help="model rounds a ticket may take: ask, apply, test, feed back (default 4)",
    )
    p.add_argument(
        "--token-budget", type=int, metavar="N", help="model tokens a ticket may spend, all rounds"
    )
    p.add_argument(
        "--wall-budget", type=float, metavar="S", help="seconds a ticket's loop may take"
    )


def budget_policies(args: argparse.Namespace) -> list[str]:
    """The budget flags as policy specs."""
    out = []
    for dest, name in (("rounds", "max-rounds"), ("token_budget", "max-tokens")):
        value = getattr(args, dest, None)
        if value is not None:
            out.append(f"{name}:{value}")
    if getattr(args, "wall_budget", None) is not None:
        out.append(f"max-wall:{args.wall_budget:g}")
    return out


def api_key(args: argparse.Namespace) -> str | None:
    """The key in the variable ``--api-key-env`` names (MissionError when it is unset)."""
    name = getattr(args, "api_key_env", None)
    if not name:
        return None
    key = os.environ.get(name)
    if key is None:
        raise MissionError(f"--api-key-env: environment variable {name} is not set")
    return key


def model_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The openai brain's settings the flags give (the key included, never recorded)."""
    settings: dict[str, Any] = {"base_url": args.model_url or "", "model": args.model or ""}
    for dest, key in (
        ("model_timeout", "timeout_s"),
        ("max_tokens", "max_tokens"),
        ("context_tokens", "context_tokens"),
        ("planner_model", "planner_model"),
        ("planner_model_url", "planner_base_url"),
    ):
        value = getattr(args, dest, None)
        if value is not None:
            settings[key] = value
    secret = api_key(args)
    if secret:
        settings["api_key"] = secret
    return settings


def model_flags_given(args: argparse.Namespace) -> list[str]:
    """The model flags set on this command line."""
    return [flag for dest, flag in MODEL_FLAGS.items() if getattr(args, dest, None) is not None]
