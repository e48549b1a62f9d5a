-- Runs once, on the first start of an empty PostgreSQL data volume
-- (/docker-entrypoint-initdb.d in docker-compose.yml).
--
-- One database per service, each owned by its own login role, and nobody else may
-- connect to it: a service never reads another service's data (DESIGN.md §1).
-- The passwords are development-only; production databases and credentials come from
-- the platform (see deploy/README.md, secrets aujobs-<service>-db).

CREATE ROLE aujobs_auth LOGIN PASSWORD 'aujobs_auth';
CREATE DATABASE aujobs_auth OWNER aujobs_auth;
REVOKE ALL ON DATABASE aujobs_auth FROM PUBLIC;

CREATE ROLE aujobs_jobs LOGIN PASSWORD 'aujobs_jobs';
CREATE DATABASE aujobs_jobs OWNER aujobs_jobs;
REVOKE ALL ON DATABASE aujobs_jobs FROM PUBLIC;

CREATE ROLE aujobs_search LOGIN PASSWORD 'aujobs_search';
CREATE DATABASE aujobs_search OWNER aujobs_search;
REVOKE ALL ON DATABASE aujobs_search FROM PUBLIC;

CREATE ROLE aujobs_notifications LOGIN PASSWORD 'aujobs_notifications';
CREATE DATABASE aujobs_notifications OWNER aujobs_notifications;
REVOKE ALL ON DATABASE aujobs_notifications FROM PUBLIC;

CREATE ROLE aujobs_resumes LOGIN PASSWORD 'aujobs_resumes';
CREATE DATABASE aujobs_resumes OWNER aujobs_resumes;
REVOKE ALL ON DATABASE aujobs_resumes FROM PUBLIC;

CREATE ROLE aujobs_applications LOGIN PASSWORD 'aujobs_applications';
CREATE DATABASE aujobs_applications OWNER aujobs_applications;
REVOKE ALL ON DATABASE aujobs_applications FROM PUBLIC;
