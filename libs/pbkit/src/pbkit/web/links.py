"""OpenAPI 3 links from the answer of a creating operation to the operations that take what it created.

A client (and schemathesis's stateful phase) reads them to chain calls: `POST /deals` answers the deal, whose
`id` is the `deal_id` of `GET /deals/{deal_id}`, `POST /deals/{deal_id}/record`, ... A route declares them in
its `responses`, most simply through `creating`:
`@router.post("/deals", summary=..., **creating(GET_DEAL, RECORD_DEAL, parameter="deal_id", model=DealOut))`.
"""

from __future__ import annotations

from typing import Any


def links_to(*operation_ids: str, parameter: str, field: str = "id") -> dict[str, Any]:
    """One link per operation, each passing the answer body's `field` as that operation's `parameter`.

    The operation ids are those FastAPI generates (`get_deal_api_v1_deals__deal_id__get`), pinned by the
    golden OpenAPI documents (tests/golden/openapi), so a renamed route that breaks a link fails there."""
    return {
        operation_id: {
            "operationId": operation_id,
            "parameters": {parameter: f"$response.body#/{field}"},
            "description": f"the answer's `{field}` is the `{parameter}` of this operation",
        }
        for operation_id in operation_ids
    }


def creating(
    *operation_ids: str, parameter: str, field: str = "id", model: type | None = None, status: int = 201
) -> dict[str, Any]:
    """The route arguments of an operation that creates something: its status, and its answer's links (with the
    answer's `model` when the route returns a ready response rather than declaring a `response_model`)."""
    response: dict[str, Any] = {"links": links_to(*operation_ids, parameter=parameter, field=field)}
    if model is not None:
        response["model"] = model
    return {"status_code": status, "responses": {status: response}}
