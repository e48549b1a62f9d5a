from aujobs_common.db import COMMON_METADATA
from aujobs_common.migrations import run_env
from aujobs_search.models import SearchBase

run_env([SearchBase.metadata, COMMON_METADATA])
