from aujobs_applications.models import ApplicationsBase
from aujobs_common.db import COMMON_METADATA
from aujobs_common.migrations import run_env

run_env([ApplicationsBase.metadata, COMMON_METADATA])
