"""The service itself: liveness, and the policy profiles a screening may run under."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, UploadFile, status

from api.deps import AuditDep, ServiceDep, roles
from api.problems import Problem, problem_responses
from api.profiles import MAX_PROFILE_BYTES, ProfileExists
from api.routing import MaskedRoute
from api.schemas import HealthOut, IndexOut, PolicyOut
from integrity import __version__
from integrity.errors import PolicyError

router = APIRouter(tags=["service"], route_class=MaskedRoute)


@router.get("/health", response_model=HealthOut)
def health(service: ServiceDep) -> HealthOut:
    """Liveness, and whether the check index is ready (no token needed)."""
    index = service.index
    return HealthOut(
        status="ok",
        version=__version__,
        check_index=None
        if index is None
        else IndexOut(
            screening_id=index.screening_id,
            policy=index.profile.name,
            source=service.index_source,
        ),
    )


@router.get(
    "/policies",
    response_model=list[PolicyOut],
    dependencies=[roles("admin", "auditor", "commission", "reviewer")],
    responses=problem_responses(401, 403, 422),
)
def policies(service: ServiceDep) -> list[PolicyOut]:
    """The policy profiles a screening can run under (shipped and added by an admin)."""
    out = []
    for name in service.profiles.names():
        try:
            profile = service.profiles.get(name)
        except PolicyError:  # an added file broken by hand: not offered
            continue
        out.append(PolicyOut(name=profile.name, label=profile.label))
    return out


@router.post(
    "/policies",
    response_model=PolicyOut,
    status_code=status.HTTP_201_CREATED,
    dependencies=[roles("admin")],
    responses=problem_responses(400, 401, 403, 409, 413, 422),
)
def add_policy(
    service: ServiceDep,
    audit: AuditDep,
    file: Annotated[UploadFile, File(description="政策配置 TOML 文件 / a profile TOML file")],
) -> PolicyOut:
    """Add a policy profile (admin): a TOML file like those in `integrity/policies`, kept
    under its own `name`; a shipped profile cannot be replaced. Screenings then name it."""
    filename = file.filename or "policy.toml"
    data = file.file.read(MAX_PROFILE_BYTES + 1)
    if len(data) > MAX_PROFILE_BYTES:
        raise Problem(413, f"政策配置超过 {MAX_PROFILE_BYTES} 字节 / profile file too large")
    try:
        profile = service.profiles.add(data.decode("utf-8"), filename)
    except UnicodeDecodeError as exc:
        audit({"policy_file": filename}, 422)
        raise Problem(422, f"{filename}：须为 UTF-8 编码 / must be UTF-8") from exc
    except PolicyError as exc:
        audit({"policy_file": filename}, 422)
        raise Problem(422, str(exc)) from exc
    except ProfileExists as exc:
        audit({"policy_file": filename, "policy": str(exc)}, 409)
        raise Problem(
            409,
            f"已有名为「{exc}」的政策配置，请以新名称添加 / a profile named {exc} exists; add the "
            "new one under another name",
        ) from exc
    audit({"policy_file": filename, "policy": profile.name}, 201)
    return PolicyOut(name=profile.name, label=profile.label)
