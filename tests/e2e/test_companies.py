"""Companies through the gateway on the distributed topology: create with a checked
ABN, invite a recruiter who then edits, and the permissions that keep others out."""

from __future__ import annotations


async def test_company_lifecycle_and_permissions_through_the_gateway(frontend, employer, helpers):
    http = frontend.http
    body = {
        "name": "Eucalypt Software",
        "industry": "Information & Communication Technology",
        "size": "11-50",
        "abn": "51 824 753 556",
        "locations": [{"suburb": "Parramatta", "state": "NSW", "postcode": "2150"}],
    }
    bad_abn = await http.post(
        "/api/v1/companies", json={**body, "abn": "51 824 753 557"}, headers=employer.headers
    )
    problem = helpers.assert_problem(bad_abn, 422)
    assert any(e["field"] == "abn" for e in problem["errors"])

    r = await http.post("/api/v1/companies", json=body, headers=employer.headers)
    assert r.status_code == 201, r.text
    company = r.json()
    assert company["abn"] == "51824753556" and company["verified"] is False
    assert (await http.get(f"/api/v1/companies/{company['id']}")).status_code == 200  # public

    outsider = await frontend.signup("employer")
    seeker = await frontend.signup("job_seeker")
    for account in (outsider, seeker):
        r = await http.patch(
            f"/api/v1/companies/{company['id']}", json={"name": "Taken Over"}, headers=account.headers
        )
        helpers.assert_problem(r, 403)
    assert (await http.post("/api/v1/companies", json=body)).status_code == 401

    invite = await http.post(
        f"/api/v1/companies/{company['id']}/invitations",
        json={"email": outsider.email},
        headers=employer.headers,
    )
    assert invite.status_code == 201, invite.text
    accepted = await http.post(
        f"/api/v1/companies/invitations/{invite.json()['token']}/accept", headers=outsider.headers
    )
    assert accepted.status_code in (200, 201), accepted.text
    edit = await http.patch(
        f"/api/v1/companies/{company['id']}", json={"culture": "Flexible hours"}, headers=outsider.headers
    )
    assert edit.status_code == 200 and edit.json()["culture"] == "Flexible hours"
    again = await http.post(
        f"/api/v1/companies/invitations/{invite.json()['token']}/accept", headers=seeker.headers
    )
    assert again.status_code >= 400
    after = (await http.get(f"/api/v1/companies/{company['id']}")).json()
    assert after["name"] == "Eucalypt Software"
