from aujobs_common.db import COMMON_METADATA
from aujobs_common.migrations import run_env
from aujobs_jobs.models import JobsBase

run_env([JobsBase.metadata, COMMON_METADATA])
