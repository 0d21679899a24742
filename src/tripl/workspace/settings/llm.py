"""A minimal client for OpenAI-compatible `POST {base_url}/chat/completions`."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx

from tripl.workspace.settings.service import AiConfig


class LlmError(Exception):
    """The provider could not be reached or did not answer with a completion."""


def chat_completion(config: AiConfig, system_prompt: str, prompt: str) -> str:
    parts = urlsplit(config.base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise LlmError("AI base URL must be an http(s) URL with a host")
    headers = {"Authorization": f"Bearer {config.api_key}"} if config.api_key else {}
    body = {
        "model": config.model,
        "messages": [
            {"role": "system", "content": system_prompt},
            {"role": "user", "content": prompt},
        ],
        "max_tokens": config.max_output_tokens,
    }
    url = config.base_url.rstrip("/") + "/chat/completions"
    try:
        with httpx.Client(timeout=config.timeout_seconds, follow_redirects=False) as client:
            response = client.post(url, json=body, headers=headers)
    except httpx.TimeoutException as exc:
        raise LlmError(f"AI provider timed out after {config.timeout_seconds} s") from exc
    except httpx.HTTPError as exc:
        raise LlmError(f"AI provider unreachable: {exc}") from exc
    if response.status_code >= 400:
        raise LlmError(f"AI provider answered HTTP {response.status_code}: {_error_text(response)}")
    try:
        content = response.json()["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise LlmError("AI provider answered without a chat completion") from exc
    if not isinstance(content, str):
        raise LlmError("AI provider answered without a chat completion")
    return content


def _error_text(response: httpx.Response) -> str:
    try:
        data: Any = response.json()
    except ValueError:
        return response.text[:300] or response.reason_phrase
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return str(error["message"])[:300]
        if isinstance(error, str):
            return error[:300]
    return response.text[:300]
