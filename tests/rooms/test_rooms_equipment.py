"""The equipment list, and rooms that say what they offer (PostgreSQL and SQLite)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mrs.rooms import service as rooms_service

pytestmark = pytest.mark.both_databases

Headers = dict[str, str]


async def _add(client: httpx.AsyncClient, headers: Headers, code: str, en: str, ja: str) -> Any:
    return await client.post(
        "/api/admin/equipment", json={"code": code, "name_en": en, "name_ja": ja}, headers=headers
    )


async def test_admins_manage_the_equipment_list(
    client: httpx.AsyncClient, admin_headers: Headers, user_headers: Headers
) -> None:
    made = await _add(client, admin_headers, "projector", "Projector", "プロジェクター")
    assert made.status_code == 201
    assert made.json() == {"code": "projector", "name_en": "Projector", "name_ja": "プロジェクター"}
    await _add(client, admin_headers, "video-conference", "Video conference", "ビデオ会議")
    listed = await client.get("/api/admin/equipment", headers=admin_headers)
    assert [item["code"] for item in listed.json()] == ["projector", "video-conference"]
    # Any signed-in user can read it (the search page offers it as filters) ...
    read = await client.get("/api/equipment", headers=user_headers)
    assert read.status_code == 200
    assert len(read.json()) == 2
    # ... but only admins change it.
    refused = await _add(client, user_headers, "phone", "Phone", "電話")
    assert refused.status_code == 403
    renamed = await client.patch(
        "/api/admin/equipment/projector", json={"name_en": "Beamer"}, headers=admin_headers
    )
    assert renamed.status_code == 200
    assert renamed.json()["name_en"] == "Beamer"
    assert renamed.json()["name_ja"] == "プロジェクター"


async def test_a_duplicate_code_is_a_conflict(
    client: httpx.AsyncClient, admin_headers: Headers
) -> None:
    await _add(client, admin_headers, "whiteboard", "Whiteboard", "ホワイトボード")
    again = await _add(client, admin_headers, "whiteboard", "Board", "ボード")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "equipment_code_taken"


@pytest.mark.parametrize(
    "body",
    [
        {"code": "Projector", "name_en": "P", "name_ja": "P"},  # uppercase
        {"code": "pro jector", "name_en": "P", "name_ja": "P"},
        {"code": "プロジェクター", "name_en": "P", "name_ja": "P"},
        {"code": "x" * 41, "name_en": "P", "name_ja": "P"},
        {"code": "", "name_en": "P", "name_ja": "P"},
        {"code": "ok", "name_en": "x" * 101, "name_ja": "P"},
        {"code": "ok", "name_en": "P", "name_ja": ""},
        {"code": "ok", "name_en": "P"},
    ],
)
async def test_bad_equipment_is_a_422_with_field_errors(
    client: httpx.AsyncClient, admin_headers: Headers, body: dict[str, str]
) -> None:
    response = await client.post("/api/admin/equipment", json=body, headers=admin_headers)
    assert response.status_code == 422
    assert response.json()["error"]["details"]


async def test_unknown_equipment_codes_are_404(
    client: httpx.AsyncClient, admin_headers: Headers
) -> None:
    patched = await client.patch(
        "/api/admin/equipment/nothing", json={"name_en": "X"}, headers=admin_headers
    )
    assert patched.status_code == 404
    deleted = await client.delete("/api/admin/equipment/nothing", headers=admin_headers)
    assert deleted.status_code == 404
    bad = await client.delete("/api/admin/equipment/NOT%20A%20CODE", headers=admin_headers)
    assert bad.status_code == 422


async def test_a_room_has_a_description_and_equipment(
    client: httpx.AsyncClient, admin_headers: Headers, app: Any
) -> None:
    await _add(client, admin_headers, "projector", "Projector", "プロジェクター")
    await _add(client, admin_headers, "phone", "Phone", "電話")
    made = await client.post(
        "/api/admin/rooms",
        json={
            "room_name": "Sakura",
            "capacity": 6,
            "location": "3F East",
            "description": "Next to the lifts.",
            "equipment": ["projector", "phone"],
        },
        headers=admin_headers,
    )
    assert made.status_code == 201, made.text
    room = made.json()
    assert room["description"] == "Next to the lifts."
    assert room["equipment"] == ["phone", "projector"]
    edited = await client.patch(
        f"/api/admin/rooms/{room['room_id']}",
        json={"description": "Quiet room.", "equipment": ["projector"]},
        headers=admin_headers,
    )
    assert edited.status_code == 200
    assert edited.json()["description"] == "Quiet room."
    assert edited.json()["equipment"] == ["projector"]
    assert edited.json()["capacity"] == 6  # left out: unchanged
    listed = await client.get("/api/admin/rooms", headers=admin_headers)
    assert listed.json()[0]["equipment"] == ["projector"]
    offered = await rooms_service.equipment_of_rooms(app.state.db, [room["room_id"], 999])
    assert offered == {room["room_id"]: ["projector"], 999: []}


async def test_unknown_equipment_on_a_room_is_a_422_naming_it(
    client: httpx.AsyncClient, admin_headers: Headers, make_room: Any
) -> None:
    await _add(client, admin_headers, "projector", "Projector", "プロジェクター")
    made = await client.post(
        "/api/admin/rooms",
        json={"room_name": "Fuji", "equipment": ["projector", "hologram", "jetpack"]},
        headers=admin_headers,
    )
    assert made.status_code == 422
    error = made.json()["error"]
    assert error["code"] == "unknown_equipment"
    assert "hologram, jetpack" in error["message"]
    assert error["details"]["unknown"] == ["hologram", "jetpack"]
    room_id = await make_room()
    edited = await client.patch(
        f"/api/admin/rooms/{room_id}",
        json={"equipment": ["hologram"]},
        headers={**admin_headers, "Accept-Language": "ja"},
    )
    assert edited.status_code == 422
    assert "登録されていない設備です: hologram" in edited.json()["error"]["message"]


async def test_a_long_description_is_refused(
    client: httpx.AsyncClient, admin_headers: Headers
) -> None:
    too_long = await client.post(
        "/api/admin/rooms",
        json={"room_name": "Kaede", "description": "x" * 2001},
        headers=admin_headers,
    )
    assert too_long.status_code == 422
    fits = await client.post(
        "/api/admin/rooms",
        json={"room_name": "Kaede", "description": "x" * 2000},
        headers=admin_headers,
    )
    assert fits.status_code == 201


async def test_deleting_equipment_removes_it_from_rooms(
    client: httpx.AsyncClient, admin_headers: Headers
) -> None:
    await _add(client, admin_headers, "projector", "Projector", "プロジェクター")
    await _add(client, admin_headers, "phone", "Phone", "電話")
    made = await client.post(
        "/api/admin/rooms",
        json={"room_name": "Momiji", "equipment": ["projector", "phone"]},
        headers=admin_headers,
    )
    deleted = await client.delete("/api/admin/equipment/projector", headers=admin_headers)
    assert deleted.status_code == 204
    rooms = await client.get("/api/admin/rooms", headers=admin_headers)
    assert [r["equipment"] for r in rooms.json() if r["room_id"] == made.json()["room_id"]] == [
        ["phone"]
    ]
    listed = await client.get("/api/admin/equipment", headers=admin_headers)
    assert [item["code"] for item in listed.json()] == ["phone"]
