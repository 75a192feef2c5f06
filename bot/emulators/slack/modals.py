"""The user's side of modals: clicking in them, submitting and closing them.

Slack applies the bot's answer to a view_submission: ``errors`` keeps the view open,
``update`` / ``push`` / ``clear`` act on the user's stack (at most three views), and an
empty 200 closes the submitted view.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .api_views import MAX_STACK, checked_view
from .blockkit import find_element
from .client_side import Headers, SlackSideBase
from .payloads import message_state, team_ref, user_ref, view_state
from .records import JSON, View
from .shapes import view_json
from .transport import BotReply
from .webapi import ApiError


class ModalsMixin(SlackSideBase):
    def click_view_button(
        self,
        user_id: str,
        view_id: str,
        action_id: str,
        block_id: str | None = None,
        *,
        signature: str | None = None,
        timestamp: int | None = None,
        unsigned: bool = False,
        extra_headers: Headers = None,
    ) -> BotReply:
        """Clicks a button inside an open modal (block_actions with a view container)."""
        with self._lock:
            ws = self.ws
            view = self._open_view(user_id, view_id)
            blocks = view.body.get("blocks") or []
            block, element = find_element(blocks, action_id, block_id=block_id, types={"button"})
            action: JSON = {"action_id": action_id, "block_id": block["block_id"]}
            action["text"] = element["text"]
            if "value" in element:
                action["value"] = element["value"]
            action.update({"type": "button", "action_ts": ws.clock.next_ts()})
            payload: JSON = {
                "type": "block_actions",
                "user": user_ref(ws, user_id),
                "api_app_id": ws.app_id,
                "token": self.verification_token,
                "container": {"type": "view", "view_id": view_id},
                "trigger_id": ws.issue_trigger(user_id),
                "team": team_ref(ws),
                "enterprise": None,
                "is_enterprise_install": False,
                "view": view_json(ws, view, state_values=message_state(blocks)),
                "actions": [action],
            }
        return self._send_payload(
            payload,
            signature=signature,
            timestamp=timestamp,
            unsigned=unsigned,
            extra_headers=extra_headers,
        )

    # ---------------------------------------------------------------- views
    def _open_view(self, user_id: str, view_id: str) -> View:
        view = self.ws.views.get(view_id)
        if view is None or not view.is_open or view.user_id != user_id:
            raise LookupError(f"view {view_id!r} is not open for {user_id!r}")
        return view

    def submit_view(
        self,
        user_id: str,
        view_id: str,
        values: Mapping[str, Any] | None = None,
        *,
        signature: str | None = None,
        timestamp: int | None = None,
        unsigned: bool = False,
        extra_headers: Headers = None,
    ) -> BotReply:
        """Submits the user's top modal with ``values`` keyed by action_id or block_id.

        Raises (like Slack's client refusing to submit) for an unknown key, a required input
        left empty or a value that is not offered. The bot's answer is applied: ``errors``
        keeps the view open (see ``BotReply.view_errors``), ``update``/``push``/``clear`` act
        on the stack, an empty answer closes the view.
        """
        with self._lock:
            ws = self.ws
            view = self._open_view(user_id, view_id)
            if ws.stack(user_id)[-1:] != [view_id]:
                raise LookupError(f"view {view_id!r} is not the top of the user's modal stack")
            if view.body.get("submit") is None:
                raise LookupError(f"view {view_id!r} has no submit button")
            state = view_state(ws, view.body.get("blocks") or [], values or {})
            payload: JSON = {
                "type": "view_submission",
                "team": team_ref(ws),
                "user": user_ref(ws, user_id),
                "api_app_id": ws.app_id,
                "token": self.verification_token,
                "trigger_id": ws.issue_trigger(user_id),
                "view": view_json(ws, view, state_values=state),
                "response_urls": [],
                "is_enterprise_install": False,
                "enterprise": None,
            }
        reply = self._send_payload(
            payload,
            signature=signature,
            timestamp=timestamp,
            unsigned=unsigned,
            extra_headers=extra_headers,
        )
        reply.view_id = view_id
        with self._lock:
            self._apply_submission(reply, view)
        return reply

    def _apply_submission(self, reply: BotReply, view: View) -> None:
        ws = self.ws
        if reply.status != 200:
            reply.error = reply.error or f"http_{reply.status}"
            return
        if not reply.body.strip():
            ws.close_view(view.id)
            return
        if not isinstance(reply.json, dict):
            reply.error = "invalid_response: view_submission answers must be empty or JSON"
            return
        action = reply.json.get("response_action")
        try:
            if action is None:
                ws.close_view(view.id)
            elif action == "errors":
                self._apply_errors(reply, view, reply.json.get("errors"))
            elif action == "update":
                view.body = checked_view(ws, reply.json.get("view"))
                view.hash, view.errors = ws.new_view_hash(), None
            elif action == "push":
                body = checked_view(ws, reply.json.get("view"))
                stack = ws.stack(view.user_id)
                if len(stack) >= MAX_STACK:
                    raise ApiError("push_limit_reached")
                pushed = View(
                    id=ws.ids.new("V"),
                    user_id=view.user_id,
                    body=body,
                    hash=ws.new_view_hash(),
                    root_view_id=view.root_view_id,
                    previous_view_id=view.id,
                )
                ws.views[pushed.id] = pushed
                stack.append(pushed.id)
            elif action == "clear":
                ws.clear_views(view.user_id)
            else:
                reply.error = f"invalid_response_action: {action!r}"
        except ApiError as exc:
            reply.error = f"{exc.error}: {exc.extra.get('response_metadata', {})}"

    def _apply_errors(self, reply: BotReply, view: View, errors: Any) -> None:
        if not isinstance(errors, dict) or not errors:
            reply.error = "invalid_response: response_action errors needs an errors object"
            return
        inputs = {
            b.get("block_id") for b in view.body.get("blocks") or [] if b.get("type") == "input"
        }
        unknown = sorted(set(errors) - inputs)
        if unknown:
            reply.error = f"errors name blocks that are not input blocks: {unknown}"
        view.errors = {str(k): str(v) for k, v in errors.items()}
        reply.view_errors = dict(view.errors)

    def close_view(
        self,
        user_id: str,
        view_id: str,
        *,
        clear: bool = False,
        signature: str | None = None,
        timestamp: int | None = None,
        unsigned: bool = False,
        extra_headers: Headers = None,
    ) -> BotReply | None:
        """The user closes the modal (``clear``: the whole stack). Slack only tells the bot
        (view_closed) when the view has ``notify_on_close``; otherwise returns None."""
        with self._lock:
            ws = self.ws
            view = self._open_view(user_id, view_id)
            blocks = view.body.get("blocks") or []
            view_data = view_json(ws, view, state_values=message_state(blocks))
            if clear:
                ws.clear_views(user_id)
            else:
                ws.close_view(view_id)
            if not view.body.get("notify_on_close"):
                return None
            payload: JSON = {
                "type": "view_closed",
                "team": team_ref(ws),
                "user": user_ref(ws, user_id),
                "api_app_id": ws.app_id,
                "token": self.verification_token,
                "view": view_data,
                "is_cleared": clear,
                "is_enterprise_install": False,
                "enterprise": None,
            }
        reply = self._send_payload(
            payload,
            signature=signature,
            timestamp=timestamp,
            unsigned=unsigned,
            extra_headers=extra_headers,
        )
        reply.view_id = view_id
        return reply
