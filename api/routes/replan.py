"""Re-planning of a running window of a stored plan, as a background job."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status

from api.deps import Planner, ServicesDep, SessionDep, submit_job
from api.errors import error_responses, not_found
from api.jsonbody import StrictJSONRoute
from api.models import Plan
from api.schemas import JobOut, ReplanRequest
from optimizer.timewindow import TimeWindow

router = APIRouter(tags=["replan"], route_class=StrictJSONRoute)


@router.post(
    "/plans/{plan_id}/replan",
    response_model=JobOut,
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(401, 403, 404, 413, 422, 429),
)
def replan(
    plan_id: Annotated[str, Path(min_length=1, max_length=100)],
    body: ReplanRequest,
    request: Request,
    response: Response,
    services: ServicesDep,
    session: SessionDep,
    _: Planner,
) -> JobOut:
    """Re-solve the rest of one window x grid from the groups' positions at ``now``.

    The result is a new plan (``parent_id`` = this plan) with that window replaced; completed
    stops are kept and the number of changed stops is reported in the job result.
    """
    if session.get(Plan, plan_id) is None:
        raise not_found("plan_id", plan_id)
    TimeWindow.parse(body.window, field="window")
    inputs = {"plan_id": plan_id, **body.model_dump(mode="json")}
    job = submit_job(request, services, "replan", inputs, action="plan.replan.submit")
    response.headers["Location"] = f"/jobs/{job.id}"
    return job
