"""Cameo records and who may use them, on TinyDB (the cameo package makes and checks the likeness itself)."""

from __future__ import annotations

from collections.abc import Iterable

from .. import rules
from .base import Doc, StoreBase, _serialised
from .index import NEVER


class Cameos(StoreBase):

    def _load_cameos(self, tables: Doc) -> None:
        self._cameo_owner: dict[int, int] = {}  # cameo -> owner
        self._cameo_by_owner: dict[int, int] = {}  # owner -> their one cameo
        for key, c in tables.get("cameos", {}).items():
            self._index_cameo(int(key), c["owner_id"])

    @_serialised
    def create_cameo(self, owner: int, fields: Doc) -> Doc:
        """Record a verified cameo; one per user, usable by its owner alone until they say otherwise."""
        self._require_user(owner)
        if self._cameo_id_of(owner) is not None:
            raise rules.refusal("second_cameo")
        cameo = rules.new_cameo(owner, fields, self._now())
        cameo_id = self._t.cameos.insert(cameo)
        self._index_cameo(cameo_id, owner)
        return rules.record("cameos", cameo, cameo_id)

    def _index_cameo(self, cameo_id: int, owner: int) -> None:
        self._cameo_owner[cameo_id] = owner
        self._cameo_by_owner[owner] = cameo_id

    def _cameo_id_of(self, user_id: int) -> int | None:
        return self._cameo_by_owner.get(user_id)

    @_serialised
    def get_cameo(self, cameo_id: int) -> Doc:
        return rules.record("cameos", self._get("cameos", cameo_id, "cameo"), cameo_id)

    @_serialised
    def cameo_of(self, user_id: int) -> Doc | None:
        """A user's cameo, or ``None``."""
        cameo_id = self._cameo_id_of(user_id)
        return None if cameo_id is None else self.get_cameo(cameo_id)

    @_serialised
    def all_cameos(self) -> list[Doc]:
        """Every cameo (to refuse a new one whose face is already someone's)."""
        return [rules.record("cameos", self._get("cameos", c, "cameo"), c) for c in sorted(self._cameo_owner)]

    def _own_cameo(self, actor: int, cameo_id: int) -> Doc:
        return rules.own_cameo(actor, self._get("cameos", cameo_id, "cameo"))

    @_serialised
    def set_cameo_permission(self, actor: int, cameo_id: int, permission: str,
                             approved_ids: Iterable[int] | None = None, restrictions: str | None = None) -> Doc:
        """Who may use the cameo from now on: a narrower setting refuses the next use at once."""
        cameo = self._own_cameo(actor, cameo_id)
        changes = rules.cameo_permission_changes(actor, permission, approved_ids, restrictions, self._require_user)
        self._t.cameos.update(changes, doc_ids=[cameo_id])
        return rules.record("cameos", {**cameo, **changes}, cameo_id)

    @_serialised
    def cameo_use_refusal(self, user_id: int, cameo_id: int) -> str | None:
        """The one answer to "may this user put this cameo in a video now?": ``None`` if so, else why not."""
        cameo = self._storage.read().get("cameos", {}).get(str(cameo_id)) if isinstance(cameo_id, int) else None
        owner = None if cameo is None else cameo["owner_id"]
        return rules.cameo_use_refusal(
            user_id, cameo, "" if owner is None else self._handle(owner)[1:],
            blocked_either_way=owner is not None and self._blocked_between(user_id, owner),
            friends_with_owner=owner is not None and user_id in self._friends(owner))

    @_serialised
    def usable_cameos(self, user_id: int) -> list[Doc]:
        """Cameos ``user_id`` may use now (their own first), for the cameo picker."""
        usable = [c for c in sorted(self._cameo_owner, key=lambda c: (self._cameo_owner[c] != user_id, c))
                  if self.cameo_use_refusal(user_id, c) is None]
        return [{"id": c, "owner_id": self._cameo_owner[c], "handle": self._handle(self._cameo_owner[c])[1:]}
                for c in usable]

    @_serialised
    def posts_with_cameo(self, actor: int, cameo_id: int) -> list[Doc]:
        """Every video that uses the actor's cameo, anyone's drafts included, newest first."""
        self._own_cameo(actor, cameo_id)
        ids = sorted(self._posts_by_cameo.get(cameo_id, []), reverse=True)
        return [self._present(p, self._get("posts", p, "video"), actor) for p in ids
                if self.columns.deleted_at[p] == NEVER]

    @_serialised
    def delete_cameo(self, actor: int, cameo_id: int) -> Doc:
        """Delete the cameo record; returns it so the caller erases its files.

        The journal is compacted at once: the face embedding must not linger
        on disk in an old journal line.
        """
        cameo = self._own_cameo(actor, cameo_id)
        self._t.cameos.remove(doc_ids=[cameo_id])
        del self._cameo_owner[cameo_id], self._cameo_by_owner[actor]
        self._storage.compact()
        return rules.record("cameos", cameo, cameo_id)
