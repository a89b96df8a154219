"""Cameo records and who may use them, on PostgreSQL (the cameo package makes and checks the likeness itself)."""

from __future__ import annotations

from collections.abc import Iterable

from .. import rules
from .base import Doc, StoreBase, as_doc
from .database import operation

CAMEO_COLUMNS = "id, owner_id, permission, approved_ids, restrictions, created_at, likeness"


class Cameos(StoreBase):

    @operation
    def create_cameo(self, owner: int, fields: Doc) -> Doc:
        """Record a verified cameo; one per user, usable by its owner alone until they say otherwise."""
        self._require_user(owner)
        cameo = rules.new_cameo(owner, fields, self._now())
        likeness = {k: v for k, v in cameo.items()
                    if k not in ("owner_id", "permission", "approved_ids", "restrictions", "created_at")}
        row = self._one(
            f"INSERT INTO cameos (owner_id, permission, approved_ids, restrictions, created_at, likeness)"
            f" VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (owner_id) DO NOTHING RETURNING {CAMEO_COLUMNS}",
            (owner, cameo["permission"], cameo["approved_ids"], cameo["restrictions"], cameo["created_at"],
             self._json(likeness)))
        if row is None:
            raise rules.refusal("second_cameo")
        return as_doc(row, "cameos")

    def _cameo(self, cameo_id: object, hold: bool = False) -> Doc | None:
        """The cameo; with ``hold``, its settings cannot change until this transaction ends (a narrower permission
        set meanwhile waits, then refuses the next use)."""
        if not isinstance(cameo_id, int) or isinstance(cameo_id, bool) or not 0 < cameo_id < 2 ** 63:
            return None
        row = self._one(f"SELECT {CAMEO_COLUMNS} FROM cameos WHERE id = %s" + (" FOR SHARE" if hold else ""),
                        (cameo_id,))
        return None if row is None else as_doc(row, "cameos")

    def _require_cameo(self, cameo_id: object, hold: bool = False) -> Doc:
        cameo = self._cameo(cameo_id, hold)
        if cameo is None:
            raise rules.missing("cameo", cameo_id)
        return cameo

    @operation
    def get_cameo(self, cameo_id: int) -> Doc:
        return self._require_cameo(cameo_id)

    @operation
    def cameo_of(self, user_id: int) -> Doc | None:
        """A user's cameo, or ``None``."""
        row = self._one(f"SELECT {CAMEO_COLUMNS} FROM cameos WHERE owner_id = %s", (user_id,))
        return None if row is None else as_doc(row, "cameos")

    @operation
    def all_cameos(self) -> list[Doc]:
        """Every cameo (to refuse a new one whose face is already someone's)."""
        return [as_doc(r, "cameos") for r in self._all(f"SELECT {CAMEO_COLUMNS} FROM cameos ORDER BY id")]

    @operation
    def set_cameo_permission(self, actor: int, cameo_id: int, permission: str,
                             approved_ids: Iterable[int] | None = None, restrictions: str | None = None) -> Doc:
        """Who may use the cameo from now on: a narrower setting refuses the next use at once."""
        cameo = rules.own_cameo(actor, self._require_cameo(cameo_id))
        changes = rules.cameo_permission_changes(actor, permission, approved_ids, restrictions, self._require_user)
        self._run(f"UPDATE cameos SET {', '.join(f'{k} = %s' for k in changes)} WHERE id = %s",
                  (*changes.values(), cameo_id))
        return {**cameo, **changes}

    def _use_refusal(self, user_id: int, cameo_id: object) -> str | None:
        cameo = self._cameo(cameo_id)
        owner = None if cameo is None else cameo["owner_id"]
        return rules.cameo_use_refusal(
            user_id, cameo, "" if owner is None else self._handles([owner])[owner],
            blocked_either_way=owner is not None and self._blocked_between(user_id, owner),
            friends_with_owner=owner is not None and user_id in self._friends(owner))

    @operation
    def cameo_use_refusal(self, user_id: int, cameo_id: int) -> str | None:
        """The one answer to "may this user put this cameo in a video now?": ``None`` if so, else why not."""
        return self._use_refusal(user_id, cameo_id)

    @operation
    def usable_cameos(self, user_id: int) -> list[Doc]:
        """Cameos ``user_id`` may use now (their own first), for the cameo picker."""
        rows = self._all("SELECT c.id, c.owner_id, u.handle FROM cameos c JOIN users u ON u.id = c.owner_id"
                         " ORDER BY c.owner_id <> %s, c.id", (user_id,))
        return [{"id": r["id"], "owner_id": r["owner_id"], "handle": r["handle"]} for r in rows
                if self._use_refusal(user_id, r["id"]) is None]

    @operation
    def posts_with_cameo(self, actor: int, cameo_id: int) -> list[Doc]:
        """Every video that uses the actor's cameo, anyone's drafts included, newest first."""
        rules.own_cameo(actor, self._require_cameo(cameo_id))
        ids = [r["id"] for r in self._all(
            "SELECT id FROM posts WHERE cameo_ids @> ARRAY[%s]::bigint[] AND deleted_at IS NULL ORDER BY id DESC",
            (cameo_id,))]
        rows = self._post_rows(ids)
        return self._present([rows[p] for p in ids], self._viewer(actor))

    @operation
    def delete_cameo(self, actor: int, cameo_id: int) -> Doc:
        """Delete the cameo record; returns it so the caller erases its files."""
        cameo = rules.own_cameo(actor, self._require_cameo(cameo_id))
        self._run("DELETE FROM cameos WHERE id = %s", (cameo_id,))
        return cameo
