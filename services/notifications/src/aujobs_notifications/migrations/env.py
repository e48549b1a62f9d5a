from aujobs_common.db import COMMON_METADATA
from aujobs_common.migrations import run_env
from aujobs_notifications.models import NotificationsBase

run_env([NotificationsBase.metadata, COMMON_METADATA])
