"""Re-planning of a running window of a stored plan, as a background job."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response, status

from api.deps import Planner, SessionDep, set_audit
from api.errors import error_responses
from api.keys import principal_tag
from api.models import Plan
from api.schemas import JobOut, ReplanRequest
from optimizer.timewindow import TimeWindow

router = APIRouter(tags=["replan"])


@router.post(
    "/plans/{plan_id}/replan",
    response_model=JobOut,
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(401, 403, 404, 422),
)
def replan(
    plan_id: str,
    body: ReplanRequest,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Planner,
) -> JobOut:
    """Re-solve the rest of one window x grid from the groups' positions at ``now``.

    The result is a new plan (``parent_id`` = this plan) with that window replaced; completed
    stops are kept and the number of changed stops is reported in the job result.
    """
    if session.get(Plan, plan_id) is None:
        raise HTTPException(
            404,
            {
                "type": "not_found",
                "field": "plan_id",
                "value": plan_id,
                "message": f"no plan {plan_id!r}",
            },
        )
    TimeWindow.parse(body.window, field="window")
    inputs = {"plan_id": plan_id, **body.model_dump(mode="json")}
    job = request.app.state.jobs.submit("replan", inputs, principal_tag(principal))
    response.headers["Location"] = f"/jobs/{job.id}"
    set_audit(request, "plan.replan.submit", inputs, {"job_id": job.id})
    return JobOut.model_validate(job)
