"""The rule builder form: read a posted tree, apply add/remove actions, show stored values."""

from datetime import date

from werkzeug.datastructures import MultiDict

from core.i18n import jdate
from modules.marketing.segment_fields import OPS, Field, all_fields

DEFAULT_LEAF = {"field": "city", "op": "is", "value": ""}
DATE_TYPES = ("date", "last")


def tree_from_form(form: MultiDict, action: str = "") -> dict:
    """The (unvalidated) tree posted by the builder, with ``action`` applied.

    Each node posts ``n=<path>`` (paths like ``r-0-1``, parents first) and ``kind-<path>``;
    a group posts ``match-<path>``; a rule ``field-``, ``op-``, ``value-``, ``value2-`` and
    ``days-<path>``. Actions: ``add_rule:<path>``, ``add_group:<path>``, ``remove:<path>``.
    """
    fields = all_fields()
    root = {"match": form.get("match-r", "all"), "rules": []}
    nodes: dict[str, dict] = {"r": root}
    parents: dict[str, dict] = {}
    for path in form.getlist("n"):
        parent = nodes.get(path.rpartition("-")[0])
        if path == "r" or parent is None:
            continue
        if form.get(f"kind-{path}") == "group":
            node = {"match": form.get(f"match-{path}", "all"), "rules": []}
        else:
            node = _leaf(form, path, fields)
        nodes[path], parents[path] = node, parent
        parent["rules"].append(node)
    verb, _sep, target = action.partition(":")
    if verb == "add_rule" and target in nodes and "rules" in nodes[target]:
        nodes[target]["rules"].append(dict(DEFAULT_LEAF))
    elif verb == "add_group" and target in nodes and "rules" in nodes[target]:
        nodes[target]["rules"].append({"match": "any", "rules": [dict(DEFAULT_LEAF)]})
    elif verb == "remove" and target in parents:
        siblings = parents[target]["rules"]
        siblings[:] = [n for n in siblings if n is not nodes[target]]
    return root


def _leaf(form: MultiDict, path: str, fields: dict[str, Field]) -> dict:
    key = form.get(f"field-{path}", "")
    field = fields.get(key)
    op = form.get(f"op-{path}", "")
    chosen = form.getlist(f"value-{path}")
    value = chosen if len(chosen) > 1 else (chosen[0] if chosen else "")  # "is one of"
    if field is not None and op not in field.ops:  # the field changed: start it afresh
        op, value = field.ops[0], ""
    leaf = {"field": key, "op": op, "value": value}
    if op == "between":
        leaf["value"] = [value, form.get(f"value2-{path}", "")]
    days = form.get(f"days-{path}", "").strip()
    if days:
        leaf["days"] = days
    return leaf


def _shown(value, field: Field | None):
    """A stored value as typed in the form (ISO dates as Jalali)."""
    if isinstance(value, list):
        return [_shown(v, field) for v in value]
    if field is not None and field.type in DATE_TYPES and isinstance(value, str):
        try:
            return jdate(date.fromisoformat(value))
        except ValueError:
            return value
    if isinstance(value, bool):
        return "1" if value else "0"
    return "" if value is None else str(value)


def display_tree(tree: dict) -> dict:
    """A stored tree with its values ready for the form inputs."""
    fields = all_fields()
    out = {"match": tree.get("match", "all"), "rules": []}
    for node in tree.get("rules", []):
        if "rules" in node:
            out["rules"].append(display_tree(node))
        else:
            field = fields.get(node.get("field"))
            shown = {**node, "value": _shown(node.get("value"), field)}
            if "days" in node:
                shown["days"] = str(node["days"])
            out["rules"].append(shown)
    return out


def builder_context() -> dict:
    """What the builder template needs: the fields grouped, operator labels."""
    fields = all_fields()
    groups: dict[str, list[Field]] = {}
    for f in fields.values():
        groups.setdefault(str(f.group), []).append(f)
    return {"fields": fields, "field_groups": groups, "op_labels": OPS}
