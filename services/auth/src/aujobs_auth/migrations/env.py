from aujobs_auth.models import AuthBase
from aujobs_common.db import COMMON_METADATA
from aujobs_common.migrations import run_env

run_env([AuthBase.metadata, COMMON_METADATA])
