"""Run mini-swe-agent (the bench's peer) on one task; prints one JSON line of what it did.

Runs under the python of the venv ``bench/model_setup.py peer`` makes (mini-swe-agent
and litellm stay out of the project's environment). The agent is mini-swe-agent's own
DefaultAgent with its text-based model and config (``mini_textbased.yaml``: one bash
block per answer, which small local models write more reliably than tool calls), in
a local environment whose working folder is the task's repository copy. It talks to
the same OpenAI-compatible endpoint and model as the swarm's runs.

    python _peer_mini.py --repo DIR --task TEXT --model NAME --url URL/v1 --steps 8
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repo", required=True)
    parser.add_argument("--task", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--max-tokens", type=int, default=768)
    args = parser.parse_args(argv)
    os.environ.setdefault("MSWEA_COST_TRACKING", "ignore_errors")  # a local model costs nothing
    import yaml
    from minisweagent.agents.default import DefaultAgent
    from minisweagent.config import get_config_path
    from minisweagent.environments.local import LocalEnvironment
    from minisweagent.models.litellm_textbased_model import LitellmTextbasedModel

    config = yaml.safe_load(get_config_path("mini_textbased").read_text())
    agent_config = {k: v for k, v in config["agent"].items() if k != "mode"}
    agent_config.update(step_limit=args.steps, cost_limit=0.0)
    model_config = {k: v for k, v in config.get("model", {}).items() if k != "model_name"}
    model_config["model_kwargs"] = {
        **model_config.get("model_kwargs", {}),
        "api_base": args.url,
        "api_key": "none",
        "temperature": 0.0,
        "max_tokens": args.max_tokens,
    }
    model_config["cost_tracking"] = "ignore_errors"
    model = LitellmTextbasedModel(model_name=f"openai/{args.model}", **model_config)
    env = LocalEnvironment(cwd=args.repo, **config.get("environment", {}))
    agent = DefaultAgent(model, env, **agent_config)
    try:
        result: dict[str, Any] = agent.run(args.task)
        status = str(result.get("exit_status", ""))
    except Exception as exc:  # the peer's own failure is a result, not a crash of the bench
        status = f"{type(exc).__name__}: {exc}"[:200]
    prompt = completion = 0
    for message in agent.messages:
        usage = (message.get("extra") or {}).get("response", {}) or {}
        usage = usage.get("usage") if isinstance(usage, dict) else None
        if isinstance(usage, dict):
            prompt += int(usage.get("prompt_tokens") or 0)
            completion += int(usage.get("completion_tokens") or 0)
    out = {
        "exit_status": status,
        "calls": agent.n_calls,
        "prompt_tokens": prompt,
        "completion_tokens": completion,
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
