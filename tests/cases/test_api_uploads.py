"""Attachments over the API: the bytes decide the type, a refused file leaves no row and no file."""

from __future__ import annotations

import hashlib
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onewindow.cases.models import CaseUpload
from onewindow.cases.uploads import upload_path
from tests.cases.test_api import HUKOU_PROOF, PURPOSE, Headers, apply, errors

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _rows(session: Session, case_id: int) -> int:
    return int(session.scalar(select(func.count()).select_from(CaseUpload).where(CaseUpload.case_id == case_id))
               or 0)


def test_a_wrong_file_type_is_refused_and_nothing_is_kept(app: FastAPI, client: TestClient, token_for: Headers,
                                                          session: Session) -> None:
    zhang = token_for("zhangwei")
    case = apply(client, zhang, item=HUKOU_PROOF)
    root: Path = app.state.settings.upload_dir
    refused = [("证明.pdf", b"<!DOCTYPE html><html><script>alert(1)</script></html>", "application/pdf",
                "upload_type_not_allowed"),
               ("setup.exe", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64, "application/octet-stream",
                "upload_type_not_allowed"),
               ("scan.png", PDF, "image/png", "upload_type_mismatch"),
               ("empty.pdf", b"", "application/pdf", "upload_empty")]
    for name, data, declared, code in refused:
        r = client.post(f"/api/v1/cases/{case['id']}/uploads", headers=zhang, data={"material_key": PURPOSE},
                        files={"file": (name, data, declared)})
        assert r.status_code == 422, (name, r.text)
        assert errors(r) == [("file", code)]
    app.state.settings.upload_max_bytes = len(PDF) - 1
    r = client.post(f"/api/v1/cases/{case['id']}/uploads", headers=zhang, data={"material_key": PURPOSE},
                    files={"file": ("big.pdf", PDF, "application/pdf")})
    assert r.status_code == 422 and errors(r) == [("file", "upload_too_large")]
    assert _rows(session, case["id"]) == 0
    assert _files(root) == []
    after = client.get(f"/api/v1/cases/{case['id']}", headers=zhang).json()
    assert after["version"] == case["version"] and after["uploads"] == []


def test_a_pdf_is_stored_by_its_hash_and_served_to_those_who_may_see_the_case(
        app: FastAPI, client: TestClient, token_for: Headers, session: Session) -> None:
    zhang = token_for("zhangwei")
    case = apply(client, zhang, item=HUKOU_PROOF)
    r = client.post(f"/api/v1/cases/{case['id']}/uploads", headers=zhang, data={"material_key": PURPOSE},
                    files={"file": ("../../证明用途说明.pdf", PDF, "text/html")})
    assert r.status_code == 201, r.text
    body = r.json()
    digest = hashlib.sha256(PDF).hexdigest()
    (up,) = body["uploads"]
    assert up["sha256"] == digest and up["size"] == len(PDF)
    assert up["filename"] == "证明用途说明.pdf" and up["content_type"] == "application/pdf"
    assert {m["key"]: m["status"] for m in body["materials"]}[PURPOSE] == "uploaded"
    assert body["timeline"][-1]["kind"] == "uploaded" and body["timeline"][-1]["data"]["sha256"] == digest
    stored = upload_path(app.state.settings.upload_dir, digest)
    assert stored.read_bytes() == PDF
    assert _rows(session, case["id"]) == 1

    r = client.get(up["download_url"], headers=zhang)
    assert r.status_code == 200 and r.content == PDF
    assert r.headers["content-type"] == "application/pdf" and r.headers["x-content-type-options"] == "nosniff"
    assert client.get(up["download_url"], headers=token_for("clerk")).status_code == 200
    assert client.get(up["download_url"], headers=token_for("wangfang")).status_code == 403
    assert client.get(up["download_url"], headers=token_for("approver_scjg")).status_code == 403
    assert client.get(f"/api/v1/cases/{case['id']}/uploads/99999999", headers=zhang).status_code == 404


def test_uploads_are_refused_for_strangers_unknown_materials_and_accepted_cases(
        app: FastAPI, client: TestClient, token_for: Headers, session: Session) -> None:
    zhang = token_for("zhangwei")
    case = apply(client, zhang, item=HUKOU_PROOF)
    url = f"/api/v1/cases/{case['id']}/uploads"
    r = client.post(url, headers=token_for("wangfang"), data={"material_key": PURPOSE},
                    files={"file": ("a.pdf", PDF, "application/pdf")})
    assert r.status_code == 403
    r = client.post(url, headers=zhang, data={"material_key": "name:不存在"}, files={"file": ("a.pdf", PDF)})
    assert r.status_code == 422 and errors(r) == [("material_key", "unknown_material")]
    r = client.post(url, headers=zhang, data={"material_key": PURPOSE})
    assert r.status_code == 422 and errors(r) == [("file", "missing")]
    r = client.post(f"/api/v1/cases/{case['id']}/precheck", headers=token_for("clerk"),
                    json={"version": case["version"], "materials": {PURPOSE: "paper"}})
    assert r.json()["state"] == "accepted"
    r = client.post(url, headers=zhang, data={"material_key": PURPOSE}, files={"file": ("a.pdf", PDF)})
    assert r.status_code == 409 and errors(r) == [("", "case_closed_for_uploads")]
    assert _rows(session, case["id"]) == 0
    assert _files(app.state.settings.upload_dir) == []
