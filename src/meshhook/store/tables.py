"""The SQLAlchemy tables. The Alembic chain must produce exactly these
(``tests/integration/test_migrations.py`` compares them)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    false,
    text,
)

from meshhook.store.types import BigIntId, UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ROLE_CHECK = "role IN ('viewer', 'editor', 'admin', 'owner')"

users = Table(
    "users",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False),
    Column("password_hash", String(200), nullable=True),
    Column("is_admin", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # Disabled: every token and session of the user is refused (401).
    Column("disabled_at", UTCDateTime, nullable=True),
    # Reserved by a project invitation; ``meshhook users create`` claims it.
    Column("pending", Boolean, nullable=False, server_default=false()),
)

projects = Table(
    "projects",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("key", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

memberships = Table(
    "memberships",
    metadata,
    Column("project_id", Uuid, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    CheckConstraint(ROLE_CHECK, name="role"),
    Index("ix_memberships_user_id", "user_id"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("user_id", Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("prefix", String(32), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=True),
    Column("last_used_at", UTCDateTime, nullable=True),
    Column("revoked_at", UTCDateTime, nullable=True),
    CheckConstraint("kind IN ('api', 'session')", name="kind"),
    Index("ix_api_tokens_user_id", "user_id"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigIntId, primary_key=True, autoincrement=True),
    Column("project_id", Uuid, ForeignKey("projects.id", ondelete="CASCADE"), nullable=True),
    Column("actor_id", Uuid, nullable=True),
    Column("actor", String(320), nullable=False),
    Column("action", String(64), nullable=False),
    Column("object_type", String(32), nullable=False),
    Column("object_id", String(200), nullable=False),
    Column("summary", JSON, nullable=False),
    Column("request_id", String(64), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_audit_log_project_id_id", "project_id", "id"),
    # RETURNING needs the new row to be readable, and entries about no project
    # are write-only for the app role.
    implicit_returning=False,
)

workflows = Table(
    "workflows",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("project_id", Uuid, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("key", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=False),
    Column("tags", JSON, nullable=False),
    Column("is_template", Boolean, nullable=False),
    Column("head_version", Integer, nullable=False),
    Column("published_version", Integer, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(320), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("updated_by", String(320), nullable=False),
    Column("deleted_at", UTCDateTime, nullable=True),
    # A key is unique among live workflows only: a deleted one frees its key.
    Index(
        "ux_workflows_project_id_key_live",
        "project_id",
        "key",
        unique=True,
        sqlite_where=text("deleted_at IS NULL"),
        postgresql_where=text("deleted_at IS NULL"),
    ),
    Index("ix_workflows_project_id_updated_at", "project_id", "updated_at", "id"),
    Index("ix_workflows_project_id_created_at", "project_id", "created_at", "id"),
    # The name sort's index is an expression index (migration 0010,
    # NAME_SORT_INDEX), kept out of the models like the search objects.
)

workflow_versions = Table(
    "workflow_versions",
    metadata,
    Column("workflow_id", Uuid, ForeignKey("workflows.id", ondelete="CASCADE"), primary_key=True),
    Column("number", Integer, primary_key=True, autoincrement=False),
    Column("project_id", Uuid, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    # Packed content (store/deltas.py): a keyframe, or a delta on ``base_number``.
    Column("content", LargeBinary, nullable=False),
    Column("base_number", Integer, nullable=True),
    # The keyframe this version's delta chain starts from (itself for a keyframe).
    Column("keyframe", Integer, nullable=False),
    Column("content_hash", String(80), nullable=False),
    Column("parent_number", Integer, nullable=True),
    Column("message", Text, nullable=False),
    Column("state", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(320), nullable=False),
    Column("published_at", UTCDateTime, nullable=True),
    Column("published_by", String(320), nullable=True),
    Column("tag", String(64), nullable=True),
    Column("note", Text, nullable=True),
    CheckConstraint("state IN ('draft', 'published')", name="state"),
    UniqueConstraint("workflow_id", "tag", name="uq_workflow_versions_workflow_id_tag"),
)

# The head of each workflow: where its delta chain stands, and the full canonical
# text of a version at most MAX_HEAD_LAG behind it (``text_number``; NULL: the
# head's own), so a save need not rewrite the whole text (store/version_content.py).
workflow_heads = Table(
    "workflow_heads",
    metadata,
    Column("workflow_id", Uuid, ForeignKey("workflows.id", ondelete="CASCADE"), primary_key=True),
    Column("project_id", Uuid, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("keyframe", Integer, nullable=False),
    Column("chain_length", Integer, nullable=False),
    Column("chain_bytes", Integer, nullable=False),
    Column("definition", Text, nullable=False),
    Column("text_number", Integer, nullable=True),
)

aliases = Table(
    "aliases",
    metadata,
    Column("workflow_id", Uuid, ForeignKey("workflows.id", ondelete="CASCADE"), primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("project_id", Uuid, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("updated_by", String(320), nullable=False),
    # A weighted canary: runs resolving the alias take ``canary_version`` with
    # probability ``canary_weight``/100 (both NULL when there is none).
    Column("canary_version", Integer, nullable=True),
    Column("canary_weight", Integer, nullable=True),
)

project_keys = Table(
    "project_keys",
    metadata,
    Column("project_id", Uuid, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("key_id", String(64), nullable=False),
    Column("wrapped_key", LargeBinary, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("rotated_at", UTCDateTime, nullable=True),
)

secrets = Table(
    "secrets",
    metadata,
    Column("project_id", Uuid, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("name", String(128), primary_key=True),
    Column("description", Text, nullable=False),
    Column("ciphertext", LargeBinary, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(320), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("updated_by", String(320), nullable=False),
    Column("last_used_at", UTCDateTime, nullable=True),
    # Host patterns the value may be sent to (domain/secrets.py); NULL = any host.
    Column("allowed_hosts", JSON(none_as_null=True), nullable=True),
)

RUN_STATUS_CHECK = "status IN ('queued', 'running', 'waiting', 'succeeded', 'failed', 'cancelled')"

# One row per run: what it runs (pinned version) and a projection of its state,
# kept in step with its events in the same transaction (a cache: replay folds
# the events).
runs = Table(
    "runs",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("project_id", Uuid, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("workflow_id", Uuid, ForeignKey("workflows.id", ondelete="CASCADE"), nullable=False),
    Column("workflow_key", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("alias", String(64), nullable=True),
    Column("test", Boolean, nullable=False),
    Column("trigger", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("dead_letter", Boolean, nullable=False),
    Column("input", JSON, nullable=True),
    Column("output", JSON, nullable=True),
    Column("error", JSON, nullable=True),
    Column("steps", JSON, nullable=False),
    Column("last_seq", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(320), nullable=False),
    Column("started_at", UTCDateTime, nullable=True),
    Column("finished_at", UTCDateTime, nullable=True),
    Column("resumed_from_run", Uuid, nullable=True),
    Column("resumed_from_node", String(64), nullable=True),
    Column("canary", Boolean, nullable=False, server_default=false()),
    # When retention scrubbed its payloads (domain/retention.py), if it did.
    Column("scrubbed_at", UTCDateTime, nullable=True),
    CheckConstraint(RUN_STATUS_CHECK, name="status"),
    # What an event's (run_id, run_created_at) refers to: the events of a run
    # live in the partition of the run's creation time (PostgreSQL).
    UniqueConstraint("id", "created_at", name="uq_runs_id_created_at"),
    Index("ix_runs_project_id_created_at", "project_id", "created_at", "id"),
    Index("ix_runs_workflow_id_created_at", "workflow_id", "created_at", "id"),
    Index("ix_runs_workflow_id_version", "workflow_id", "version", "created_at", "id"),
)

# The append-only log. The app role may only read and insert, and update
# ``data`` for retention's scrub (PostgreSQL grants). On PostgreSQL it is
# range-partitioned by month on ``run_created_at`` (the run's creation time,
# so all of a run's events share a partition; migration 0017,
# store/partitions.py); the key is part of the primary key, as partitioning
# requires.
run_events = Table(
    "run_events",
    metadata,
    Column("run_id", Uuid, primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("run_created_at", UTCDateTime, primary_key=True),
    Column("project_id", Uuid, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("type", String(32), nullable=False),
    Column("node_id", String(64), nullable=True),
    Column("at", UTCDateTime, nullable=False),
    Column("data", JSON, nullable=False),
    ForeignKeyConstraint(
        ["run_id", "run_created_at"],
        ["runs.id", "runs.created_at"],
        name="fk_run_events_run_id_runs",
        ondelete="CASCADE",
    ),
)

# Work for the workers: a row while a run is not finished, due at ``due_at``,
# leased by one worker until ``lease_until``.
run_queue = Table(
    "run_queue",
    metadata,
    Column("run_id", Uuid, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("project_id", Uuid, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("lease_owner", String(64), nullable=True),
    Column("lease_until", UTCDateTime, nullable=True),
    Index("ix_run_queue_due_at", "due_at"),
)

# Idempotency-Key of run starts: the first run for (workflow, key), for 24 h.
run_idempotency = Table(
    "run_idempotency",
    metadata,
    Column("workflow_id", Uuid, ForeignKey("workflows.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("project_id", Uuid, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("run_id", Uuid, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # Deleting a run (retention) finds its keys through this, not a table scan.
    Index("ix_run_idempotency_run_id", "run_id"),
)

# A workflow's webhook ids: looked up by ``id_hash`` (SHA-256 of the id, so the
# lookup's timing says nothing about valid ids); ``hook_id`` is kept to show the
# URL to the project. The current id has no ``expires_at``; a rotated one keeps
# working until its ``expires_at`` (the grace period).
webhooks = Table(
    "webhooks",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("hook_id", String(64), nullable=False),
    Column("project_id", Uuid, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("workflow_id", Uuid, ForeignKey("workflows.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=True),
    Index("ix_webhooks_workflow_id", "workflow_id"),
)

# The delivery log: one row per request that reached a known hook (no bodies,
# no secrets), kept DELIVERY_RETENTION_DAYS.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("project_id", Uuid, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("workflow_id", Uuid, ForeignKey("workflows.id", ondelete="CASCADE"), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("method", String(8), nullable=False),
    Column("status", Integer, nullable=False),
    Column("run_id", Uuid, nullable=True),
    Column("latency_ms", Float, nullable=False),
    Column("client", String(64), nullable=True),
    Column("failure", String(64), nullable=True),
    Index("ix_webhook_deliveries_workflow_id_at", "workflow_id", "at"),
)

# The rate limit's token bucket per workflow, shared by every API process on
# PostgreSQL (SQLite deployments have one process and keep it in memory).
webhook_buckets = Table(
    "webhook_buckets",
    metadata,
    Column("workflow_id", Uuid, ForeignKey("workflows.id", ondelete="CASCADE"), primary_key=True),
    Column("project_id", Uuid, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("tokens", Float, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# One row per ``schedule`` node of a workflow's live version (alias
# ``production``, else the published version): its spec and next due time.
# Workers claim a due time by moving ``next_due_at`` on (services/schedules.py).
schedules = Table(
    "schedules",
    metadata,
    Column("workflow_id", Uuid, ForeignKey("workflows.id", ondelete="CASCADE"), primary_key=True),
    Column("node_id", String(64), primary_key=True),
    Column("project_id", Uuid, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("spec", JSON, nullable=False),
    Column("next_due_at", UTCDateTime, nullable=False),
    Column("last_fired_at", UTCDateTime, nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_schedules_next_due_at", "next_due_at"),
)

# Failed sign-ins per account (``key_hash`` = SHA-256 of the normalised email)
# and per client address: the login back-off, shared by every API process.
login_attempts = Table(
    "login_attempts",
    metadata,
    Column("kind", String(16), primary_key=True),
    Column("key_hash", String(64), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("locked_until", UTCDateTime, nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
    CheckConstraint("kind IN ('account', 'address')", name="kind"),
    Index("ix_login_attempts_updated_at", "updated_at"),
)

# Run statistics (domain/stats.py): one row per workflow and hour, quarter of
# a day, day and week (``period`` 3600, 21600, 86400 or 604800 seconds), added
# to as runs finish, so a window's figures never scan runs or events. ``d<i>``
# and ``l<i>`` are the duration and queue-lag histogram slots.
HISTOGRAM_SLOTS = 32
DURATION_SLOTS = tuple(f"d{slot}" for slot in range(HISTOGRAM_SLOTS))
LAG_SLOTS = tuple(f"l{slot}" for slot in range(HISTOGRAM_SLOTS))
RUN_COUNTERS = ("succeeded", "failed", "cancelled", "dead_lettered")

run_stats = Table(
    "run_stats",
    metadata,
    Column("project_id", Uuid, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("period", Integer, primary_key=True),
    Column("workflow_id", Uuid, ForeignKey("workflows.id", ondelete="CASCADE"), primary_key=True),
    Column("bucket", UTCDateTime, primary_key=True),
    *(Column(name, BigInteger, nullable=False, default=0) for name in RUN_COUNTERS),
    *(Column(name, BigInteger, nullable=False, default=0) for name in DURATION_SLOTS),
    *(Column(name, BigInteger, nullable=False, default=0) for name in LAG_SLOTS),
    Index("ix_run_stats_project_period_bucket", "project_id", "period", "bucket"),
)

# The same figures for the whole project (every workflow's runs together), so
# a project's window and chart read one row per bucket, not one per workflow.
project_run_stats = Table(
    "project_run_stats",
    metadata,
    Column("project_id", Uuid, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("period", Integer, primary_key=True),
    Column("bucket", UTCDateTime, primary_key=True),
    *(Column(name, BigInteger, nullable=False, default=0) for name in RUN_COUNTERS),
    *(Column(name, BigInteger, nullable=False, default=0) for name in DURATION_SLOTS),
    *(Column(name, BigInteger, nullable=False, default=0) for name in LAG_SLOTS),
)

node_stats = Table(
    "node_stats",
    metadata,
    Column("project_id", Uuid, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("period", Integer, primary_key=True),
    Column("workflow_id", Uuid, ForeignKey("workflows.id", ondelete="CASCADE"), primary_key=True),
    # node_id before bucket: a window's figures group by node in index order.
    Column("node_id", String(64), primary_key=True),
    Column("bucket", UTCDateTime, primary_key=True),
    Column("steps", BigInteger, nullable=False),
    Column("failures", BigInteger, nullable=False),
    Column("total_ms", Float, nullable=False),
    Column("max_ms", Float, nullable=False),
    # A project-wide window reads its hours by bucket, not every hour of every
    # workflow (the primary key's order); covering, so no table lookups.
    Index(
        "ix_node_stats_window",
        "project_id",
        "period",
        "bucket",
        "workflow_id",
        "node_id",
        "steps",
        "failures",
        "total_ms",
        "max_ms",
    ),
)

error_stats = Table(
    "error_stats",
    metadata,
    Column("project_id", Uuid, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("period", Integer, primary_key=True),
    Column("workflow_id", Uuid, ForeignKey("workflows.id", ondelete="CASCADE"), primary_key=True),
    Column("code", String(64), primary_key=True),
    Column("bucket", UTCDateTime, primary_key=True),
    Column("count", BigInteger, nullable=False),
    Index("ix_error_stats_window", "project_id", "period", "bucket", "code", "count"),
)

# A project's own redaction patterns (``domain/redaction_rules.py``), applied
# after the built-in detectors wherever those are.
redaction_patterns = Table(
    "redaction_patterns",
    metadata,
    Column("project_id", Uuid, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("pattern", String(500), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(320), nullable=False),
)

# JSON Pointers always hidden in one workflow's payloads, every version's runs
# included (the definition's ``settings.redact`` applies to its version only).
redaction_pointers = Table(
    "redaction_pointers",
    metadata,
    Column("project_id", Uuid, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("workflow_id", Uuid, ForeignKey("workflows.id", ondelete="CASCADE"), primary_key=True),
    Column("pointer", String(500), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(320), nullable=False),
)

# Alerts (domain/alerts.py): where alerts go, the rules that send them (with
# their de-duplication state), and the outbox of deliveries the workers send
# and retry. URLs and signing keys may be ``{{ secrets.NAME }}`` references:
# secret values are never stored here.
alert_destinations = Table(
    "alert_destinations",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("project_id", Uuid, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("url", Text, nullable=False),
    Column("signing_secret", String(200), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(320), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("updated_by", String(320), nullable=False),
    UniqueConstraint("project_id", "name"),
)

alert_rules = Table(
    "alert_rules",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("project_id", Uuid, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("workflow_id", Uuid, ForeignKey("workflows.id", ondelete="CASCADE"), nullable=True),
    Column("threshold", Float, nullable=True),
    Column("window", String(8), nullable=False),
    Column("min_runs", Integer, nullable=False),
    Column("cooldown_seconds", Integer, nullable=False),
    Column("destinations", JSON, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("firing", Boolean, nullable=False),
    Column("last_fired_at", UTCDateTime, nullable=True),
    Column("suppressed", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(320), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("updated_by", String(320), nullable=False),
    UniqueConstraint("project_id", "name"),
    Index("ix_alert_rules_project_id_kind", "project_id", "kind"),
)

# The outbox: one row per alert and destination, ``pending`` until delivered
# or given up (``failed``); ``attempts`` logs each try.
alert_deliveries = Table(
    "alert_deliveries",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("project_id", Uuid, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column(
        "destination_id",
        Uuid,
        ForeignKey("alert_destinations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("rule_id", Uuid, nullable=True),
    Column("event", String(32), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", JSON, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime, nullable=True),
    CheckConstraint("status IN ('pending', 'delivered', 'failed')", name="status"),
    Index("ix_alert_deliveries_next_attempt_at", "next_attempt_at"),
    Index("ix_alert_deliveries_project_id_created_at", "project_id", "created_at"),
)

# A project's retention policy (domain/retention.py); no row keeps everything.
# ``scrubbed_before``: every finished run created before it is scrubbed already,
# so the job starts its next pass there.
retention_policies = Table(
    "retention_policies",
    metadata,
    Column("project_id", Uuid, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("delete_after_days", Integer, nullable=True),
    Column("scrub_after_days", Integer, nullable=True),
    Column("scrubbed_before", UTCDateTime, nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("updated_by", String(320), nullable=False),
)
