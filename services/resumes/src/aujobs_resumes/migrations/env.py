from aujobs_common.db import COMMON_METADATA
from aujobs_common.migrations import run_env
from aujobs_resumes.models import ResumesBase

run_env([ResumesBase.metadata, COMMON_METADATA])
