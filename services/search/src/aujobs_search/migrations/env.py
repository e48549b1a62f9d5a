from aujobs_common.db import COMMON_METADATA
from aujobs_common.migrations import run_env
from aujobs_search.models import SearchBase
from aujobs_search.querylog import QUERY_LOG_METADATA

run_env([SearchBase.metadata, QUERY_LOG_METADATA, COMMON_METADATA])
