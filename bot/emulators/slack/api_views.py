"""views.* Web API methods: modals (a stack of at most three per user) and the Home tab."""

from __future__ import annotations

import copy
from typing import Any

from .blockkit import normalize_blocks, validate_view
from .records import JSON, View
from .shapes import view_json
from .state import Workspace
from .webapi import ApiContext, ApiError, Params, api

MAX_STACK = 3


def _invalid(messages: list[str]) -> ApiError:
    return ApiError(
        "invalid_arguments", response_metadata={"messages": [f"[ERROR] {m}" for m in messages]}
    )


def checked_view(ws: Workspace, view: Any, *, kind: str = "modal") -> JSON:
    """The view as Slack stores it, or ``invalid_arguments`` with Slack-style messages."""
    if view is None:
        raise _invalid(["missing required field: view"])
    if isinstance(view, str):
        raise _invalid(["failed to parse view [json-pointer:/view]"])
    errors = validate_view(view)
    if errors:
        raise _invalid(errors)
    if view.get("type") != kind:
        raise _invalid([f"must be a {kind} view [json-pointer:/view/type]"])
    body: JSON = copy.deepcopy(view)
    body["blocks"] = normalize_blocks(view.get("blocks") or [], ws.ids.short)
    return body


def _take_trigger(ctx: ApiContext, p: Params) -> str:
    """Validates the trigger_id (not yet consumed) and returns the user it belongs to."""
    trigger_id = p.get_str("trigger_id") or p.get_str("interactivity_pointer")
    if not trigger_id:
        raise _invalid(["missing required field: trigger_id"])
    error = ctx.ws.trigger_error(trigger_id)
    if error:
        raise ApiError(error)
    return trigger_id


def _check_external_id(ws: Workspace, body: JSON, own_id: str | None = None) -> None:
    external_id = body.get("external_id")
    if not external_id:
        return
    for view in ws.views.values():
        if view.is_open and view.id != own_id and view.body.get("external_id") == external_id:
            raise ApiError("duplicate_external_id")


def _new_view(ws: Workspace, user_id: str, body: JSON, previous: str | None) -> View:
    view_id = ws.ids.new("V")
    root = ws.views[previous].root_view_id if previous else view_id
    view = View(
        id=view_id,
        user_id=user_id,
        body=body,
        hash=ws.new_view_hash(),
        root_view_id=root,
        previous_view_id=previous,
    )
    ws.views[view_id] = view
    return view


@api("views.open")
def views_open(ctx: ApiContext, p: Params) -> JSON:
    ws = ctx.ws
    body = checked_view(ws, p.data.get("view"))
    trigger_id = _take_trigger(ctx, p)
    _check_external_id(ws, body)
    trigger = ws.triggers[trigger_id]
    trigger.used = True
    ws.clear_views(trigger.user_id)
    view = _new_view(ws, trigger.user_id, body, None)
    ws.stack(trigger.user_id).append(view.id)
    return {"view": view_json(ws, view)}


@api("views.push")
def views_push(ctx: ApiContext, p: Params) -> JSON:
    ws = ctx.ws
    body = checked_view(ws, p.data.get("view"))
    trigger_id = _take_trigger(ctx, p)
    _check_external_id(ws, body)
    trigger = ws.triggers[trigger_id]
    stack = ws.stack(trigger.user_id)
    if len(stack) >= MAX_STACK:
        raise ApiError("push_limit_reached")
    trigger.used = True
    view = _new_view(ws, trigger.user_id, body, stack[-1] if stack else None)
    stack.append(view.id)
    return {"view": view_json(ws, view)}


def find_view(ws: Workspace, view_id: str | None, external_id: str | None) -> View | None:
    if view_id:
        return ws.views.get(view_id)
    for view in ws.views.values():
        if view.is_open and external_id and view.body.get("external_id") == external_id:
            return view
    return None


@api("views.update")
def views_update(ctx: ApiContext, p: Params) -> JSON:
    ws = ctx.ws
    view_id, external_id = p.get_str("view_id"), p.get_str("external_id")
    if bool(view_id) == bool(external_id):
        raise _invalid(["exactly one of view_id or external_id is required"])
    view = find_view(ws, view_id, external_id)
    if view is None or not view.is_open:
        raise ApiError("not_found")
    body = checked_view(ws, p.data.get("view"), kind=str(view.body.get("type", "modal")))
    expected = p.get_str("hash")
    if expected and expected != view.hash:
        raise ApiError("hash_conflict")
    _check_external_id(ws, body, view.id)
    view.body, view.hash, view.errors = body, ws.new_view_hash(), None
    return {"view": view_json(ws, view)}


@api("views.publish")
def views_publish(ctx: ApiContext, p: Params) -> JSON:
    ws = ctx.ws
    user_id = p.get_str("user_id") or ""
    if user_id not in ws.users:
        raise ApiError("user_not_found")
    body = checked_view(ws, p.data.get("view"), kind="home")
    existing = ws.views.get(ws.home_views.get(user_id, ""))
    expected = p.get_str("hash")
    if existing is not None:
        if expected and expected != existing.hash:
            raise ApiError("hash_conflict")
        existing.body, existing.hash = body, ws.new_view_hash()
        return {"view": view_json(ws, existing)}
    view = _new_view(ws, user_id, body, None)
    ws.home_views[user_id] = view.id
    return {"view": view_json(ws, view)}
