"""The AWS inventory collector: Bedrock across every account and region, read live or from a
snapshot through the same code.

One run resolves the accounts: the starting credentials' account, the configured accounts and
every ACTIVE account of the Organization. It assumes `role_name` in each and resolves each
account's enabled regions. The work fans out over a bounded pool of threads, with one task per
account, per region and per resource detail (a profile's tags, an agent's aliases). A task that
fails records a scope not seen with the provider's error code and never stops the others.

Known limits, each written once here. IAM enforcement is judged per policy statement, without
evaluating which principals a statement reaches or permission boundaries. Invocation logs are
read for the last `days` days only, at most `max_objects` objects or streams per region. System
inference profiles are kept as IDs on the region asset, not as assets of their own, because they
are identical in every account.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from collectors.contract import CollectContext, SourceKind
from scanner.model import Asset, CollectorOutcome, CollectorResult, ScopeGap, SourceRef

from collectors.aws import kinds
from collectors.aws.agents import DRAFT, agent_asset, alias_versions
from collectors.aws.api import ApiError, AwsReader, Target
from collectors.aws.bedrock import (
    application_profile_asset,
    custom_model_asset,
    imported_model_asset,
    iso_utc,
    logging_settings,
    provisioned_throughput_asset,
    region_asset,
    tags_from_response,
)
from collectors.aws.invocation_logs import UsageTally, is_record_object, s3_log_prefix
from collectors.aws.policies import accounts_under, authorization_details_evidence, enforcement_level, policy_document, profile_statements
from collectors.aws.settings import AwsSettings

# Error codes that mean the region cannot be used with these credentials at all, so its other
# calls are skipped. An opt-in region that is not enabled returns UnrecognizedClientException.
REGION_UNUSABLE = frozenset(
    {"UnrecognizedClientException", "InvalidClientTokenId", "AuthFailure", "OptInRequired", "EndpointConnectionError", "ConnectTimeoutError"}
)
ACCESS_DENIED = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError", "UnauthorizedException"})
THROTTLED = frozenset({"Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded", "SlowDown", "ServiceQuotaExceededException"})

# DescribeRegions opt-in statuses of a region the account can use.
ENABLED_OPT_IN_STATUSES = frozenset({"opt-in-not-required", "opted-in"})

# The IAM service prefix of each botocore service name, for the permission a gap names.
IAM_PREFIX = {"bedrock-agent": "bedrock"}


def gap_reason(error: ApiError, settings: AwsSettings) -> str:
    """Return one line that names the call, the provider's error code and what to do about it."""
    action = f"{IAM_PREFIX.get(error.service, error.service)}:{error.operation}"
    if error.code in ACCESS_DENIED:
        hint = f"grant {action} to the audit role (collectors/aws/iam-policy.json lists every permission)"
    elif error.code in REGION_UNUSABLE:
        hint = "the region is not enabled for this account or not reachable; enable it, check sources.aws.endpoints, or leave it out of sources.aws.regions"
    elif error.code in THROTTLED:
        hint = f"still throttled after {settings.max_attempts} attempts; lower sources.aws.concurrency or raise max_attempts"
    elif error.code == "NotInSnapshot":
        hint = "not in the snapshot; record it again with shadowmap snapshot"
    else:
        hint = error.message or "see the AWS documentation of this error code"
    return f"{error.service} {error.operation}: {error.code}: {hint}"


class TaskPool:
    """A bounded thread pool whose tasks may add more tasks; `wait` returns when all are done."""

    def __init__(self, workers: int, on_error: Callable[[BaseException], None]):
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="aws")
        self._pending = 0
        self._done = threading.Condition()
        self._on_error = on_error

    def submit(self, function: Callable[..., None], *args: Any) -> None:
        with self._done:
            self._pending += 1
        self._executor.submit(self._run, function, args)

    def _run(self, function: Callable[..., None], args: tuple[Any, ...]) -> None:
        try:
            function(*args)
        except Exception as error:  # noqa: BLE001 - one broken task must not stop the scan
            self._on_error(error)
        finally:
            with self._done:
                self._pending -= 1
                if self._pending == 0:
                    self._done.notify_all()

    def wait(self) -> None:
        with self._done:
            while self._pending:
                self._done.wait()
        self._executor.shutdown(wait=True)


class AwsInventoryCollector:
    """Bedrock inventory of an AWS estate, live or from a snapshot."""

    name = "aws.bedrock"

    def __init__(self, settings: AwsSettings, reader: AwsReader, source: SourceKind, now: datetime | None = None):
        self.settings = settings
        self.reader = reader
        self.source = source
        self.now = now

    def describe(self) -> str:
        if self.source is SourceKind.SNAPSHOT:
            return f"Bedrock inventory from the snapshot {self.settings.snapshot}"
        scope = "the Organization's accounts" if self.settings.organization else "the configured accounts"
        return f"Bedrock inventory of {scope}, live through boto3"

    def collect(self, context: CollectContext) -> CollectorResult:
        return InventoryRun(self, context).execute()


class InventoryRun:
    """The state of one inventory collection: assets, gaps and counts, shared by its tasks."""

    def __init__(self, collector: AwsInventoryCollector, context: CollectContext):
        self.settings = collector.settings
        self.reader = collector.reader
        self.log: logging.Logger = context.logger
        self.progress = context.progress
        self.name = collector.name
        self.now = collector.now or datetime.now(timezone.utc)
        self.outcome = CollectorOutcome(collector=collector.name, source=collector.source.value)
        self.assets: list[Asset] = []
        self.lock = threading.Lock()
        self.account_names: dict[str, str] = {}
        self.account_evidence: dict[str, list[dict[str, Any]]] = {}
        self.account_iam_read: dict[str, bool] = {}
        self.scp_evidence: dict[str, list[dict[str, Any]]] = {}
        self.scp_read = False
        self.cost_allocation: dict[str, dict[str, Any]] | None = None
        self.system_profile_ids: set[str] = set()
        self.usage = UsageTally()
        self.regions_done = 0
        self.pool = TaskPool(self.settings.concurrency, self._task_failed)

    # The run

    def execute(self) -> CollectorResult:
        try:
            identity = self.reader.caller_identity()
        except ApiError as error:
            self.outcome.errors.append(f"cannot identify the starting credentials: {gap_reason(error, self.settings)}")
            self.log.warning("%s: %s", self.name, self.outcome.errors[-1])
            return CollectorResult(self.outcome)
        caller = identity["Account"]

        accounts = self._accounts(caller)
        if self.settings.cost_allocation_tags:
            self.pool.submit(self._cost_allocation_tags, caller)
        if self.settings.organization and self.settings.service_control_policies:
            self.pool.submit(self._service_control_policies, caller, sorted(accounts))
        if self._worker_processes(accounts) > 1:
            self._collect_in_processes(caller, sorted(accounts))
        else:
            for account in sorted(accounts):
                self.pool.submit(self._account, account)
        self.pool.wait()

        self._finish(sorted(accounts))
        self.log.info(
            "%s: %d accounts, %d scopes seen, %d not seen, %d assets, %d API calls",
            self.name,
            len(accounts),
            len(self.outcome.scopes_seen),
            len(self.outcome.scopes_not_seen),
            len(self.assets),
            sum(self.reader.calls.values()),
        )
        self.outcome.notes.append(f"{sum(self.reader.calls.values())} API calls")
        return CollectorResult(self.outcome, assets=sorted(self.assets, key=lambda asset: (asset.kind, asset.id)))

    def _accounts(self, caller: str) -> set[str]:
        accounts = {caller, *self.settings.accounts}
        if self.settings.organization:
            organization_target = Target(caller, self.settings.home_region)
            try:
                listing = self.reader.paginate(organization_target, "organizations", "ListAccounts")
            except ApiError as error:
                self._gap("organization", error)
            else:
                self._seen("organization")
                for account in listing.get("Accounts") or []:
                    status = account.get("State") or account.get("Status")
                    if status not in (None, "ACTIVE"):
                        continue
                    accounts.add(account["Id"])
                    self.account_names[account["Id"]] = account.get("Name") or ""
        return accounts - set(self.settings.exclude_accounts)

    # Worker processes, for Organizations too large for one interpreter's CPU

    def _worker_processes(self, accounts: set[str]) -> int:
        from collectors.aws.api import LiveReader, RecordingReader

        live = isinstance(self.reader, (LiveReader, RecordingReader))
        return min(self.settings.processes, len(accounts)) if live else 1

    def _collect_in_processes(self, caller: str, accounts: list[str]) -> None:
        """Spread the accounts over worker processes and merge what they find. Each worker runs
        the same account tasks with its share of the concurrency."""
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        from collectors.aws.api import RecordingReader

        processes = self._worker_processes(set(accounts))
        batches = [accounts[index::processes] for index in range(processes)]
        record_root = self.reader.root if isinstance(self.reader, RecordingReader) else None
        worker_settings = replace(self.settings, concurrency=max(1, self.settings.concurrency // processes), processes=1)
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=processes, mp_context=context) as executor:
            futures = [executor.submit(collect_accounts, worker_settings, caller, batch, record_root, self.now) for batch in batches]
            for future in futures:
                try:
                    self._merge(future.result())
                except Exception as error:  # noqa: BLE001 - a failed worker must not stop the scan
                    self._task_failed(error)

    def _merge(self, batch: dict[str, Any]) -> None:
        for line in batch["log_lines"]:
            self.log.info("%s", line)
        for scope in batch["scopes_seen"]:
            self._seen(scope)
        for gap in batch["scopes_not_seen"]:
            self._gap_text(gap.scope, gap.reason)
        with self.lock:
            self.assets.extend(batch["assets"])
            self.outcome.notes.extend(batch["notes"])
            self.outcome.errors.extend(batch["errors"])
            self.account_evidence.update(batch["account_evidence"])
            self.account_iam_read.update(batch["account_iam_read"])
            self.system_profile_ids.update(batch["system_profile_ids"])
            self.usage.merge(batch["usage"])
            self.reader.calls.update(batch["calls"])
            self.regions_done += batch["regions_done"]

    # Organization-wide tasks

    def _cost_allocation_tags(self, payer: str) -> None:
        try:
            listing = self.reader.paginate(Target(payer, self.settings.home_region), "ce", "ListCostAllocationTags")
        except ApiError as error:
            self._gap(f"{payer}/cost-allocation-tags", error)
            return
        self._seen(f"{payer}/cost-allocation-tags")
        statuses: dict[str, dict[str, Any]] = {}
        for tag in listing.get("CostAllocationTags") or []:
            key = tag.get("TagKey")
            if not key:
                continue
            statuses[key] = tag
            self._add(
                Asset(
                    kind=kinds.COST_ALLOCATION_TAG,
                    id=f"cost-allocation-tag:{payer}:{key}",
                    provider="aws",
                    scope=payer,
                    name=key,
                    attributes={
                        "payer_account": payer,
                        "tag_key": key,
                        "status": tag.get("Status"),
                        "type": tag.get("Type"),
                        "last_updated": iso_utc(tag.get("LastUpdatedDate")),
                        "last_used": iso_utc(tag.get("LastUsedDate")),
                    },
                    source=SourceRef(f"aws:{payer}:ce:ListCostAllocationTags"),
                )
            )
        with self.lock:
            self.cost_allocation = statuses
        self.log.info("%s: %s/cost-allocation-tags: %d tag keys, %d active", self.name, payer, len(statuses),
                      sum(1 for tag in statuses.values() if tag.get("Status") == "Active"))

    def _service_control_policies(self, management: str, accounts: list[str]) -> None:
        target = Target(management, self.settings.home_region)
        scope = f"{management}/service-control-policies"
        try:
            listing = self.reader.paginate(target, "organizations", "ListPolicies", {"Filter": "SERVICE_CONTROL_POLICY"})
            evidence_by_account: dict[str, list[dict[str, Any]]] = {}
            for summary in listing.get("Policies") or []:
                if summary.get("AwsManaged"):
                    continue
                described = self.reader.call(target, "organizations", "DescribePolicy", {"PolicyId": summary["Id"]})
                content = (described.get("Policy") or {}).get("Content")
                statements = profile_statements(policy_document(content))
                if not statements:
                    continue
                targets = self.reader.paginate(target, "organizations", "ListTargetsForPolicy", {"PolicyId": summary["Id"]})
                covered = accounts_under(targets.get("Targets") or [], *self._organization_tree(target, targets.get("Targets") or []), accounts)
                for account in covered:
                    for statement in statements:
                        evidence_by_account.setdefault(account, []).append(
                            {"policy": summary.get("Arn") or summary.get("Name"), "policy_type": "service_control_policy", **statement}
                        )
        except ApiError as error:
            self._gap(scope, error)
            return
        self._seen(scope)
        with self.lock:
            self.scp_read = True
            self.scp_evidence = evidence_by_account

    def _organization_tree(self, target: Target, policy_targets: list[dict[str, Any]]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
        """Child OUs and accounts of every OU an SCP is attached to, read on demand."""
        children: dict[str, list[str]] = {}
        accounts_of: dict[str, list[str]] = {}
        queue = [item["TargetId"] for item in policy_targets if item.get("Type") == "ORGANIZATIONAL_UNIT"]
        while queue:
            parent = queue.pop()
            if parent in children:
                continue
            units = self.reader.paginate(target, "organizations", "ListOrganizationalUnitsForParent", {"ParentId": parent})
            members = self.reader.paginate(target, "organizations", "ListAccountsForParent", {"ParentId": parent})
            children[parent] = [unit["Id"] for unit in units.get("OrganizationalUnits") or []]
            accounts_of[parent] = [account["Id"] for account in members.get("Accounts") or []]
            queue.extend(children[parent])
        return children, accounts_of

    # Per account

    def _account(self, account: str) -> None:
        try:
            self.reader.enter_account(account)
        except ApiError as error:
            self._gap(account, error, hint=f"; the role {self.settings.role_name} must exist in {account} and trust the starting credentials")
            return

        if self.settings.iam:
            self.pool.submit(self._iam, account)

        for region in self._regions(account):
            self.pool.submit(self._region, account, region)

    def _regions(self, account: str) -> list[str]:
        """Return the regions to scan in an account. By default these are the regions
        DescribeRegions lists as enabled where botocore knows a Bedrock endpoint; a region that is
        not enabled is out of scope, not a gap. Regions named in sources.aws.regions are scanned
        as named, and those that are not enabled become gaps."""
        configured = list(self.settings.regions)
        try:
            described = self.reader.call(Target(account, self.settings.home_region), "ec2", "DescribeRegions", {"AllRegions": True})
        except ApiError as error:
            requested = configured or self._bedrock_regions()
            self._gap(f"{account}/regions", error, hint="; scanning every requested region without knowing which are enabled")
            return requested

        status = {item["RegionName"]: item.get("OptInStatus", "opt-in-not-required") for item in described.get("Regions") or []}
        if not configured:
            return self._enabled_bedrock_regions(account, status) if status else self._bedrock_regions()

        usable = []
        for region in configured:
            if status.get(region) == "not-opted-in":
                self._gap_text(
                    f"{account}/{region}",
                    "region not enabled (opt-in status not-opted-in); enable it in the account or leave it out of sources.aws.regions",
                )
            elif region not in status and status:
                self._gap_text(f"{account}/{region}", "region unknown to ec2 DescribeRegions in this account; check the region name")
            else:
                usable.append(region)
        return usable

    def _enabled_bedrock_regions(self, account: str, status: dict[str, str]) -> list[str]:
        enabled = [region for region, opt_in in status.items() if opt_in in ENABLED_OPT_IN_STATUSES]
        not_enabled = sorted(region for region, opt_in in status.items() if opt_in not in ENABLED_OPT_IN_STATUSES)
        bedrock = set(self._bedrock_regions())
        scanned = sorted(region for region in enabled if region in bedrock)
        if not_enabled:
            self.log.info("%s: %s: %d regions not enabled in the account, so not scanned: %s", self.name, account, len(not_enabled), ", ".join(not_enabled))
        return scanned

    def _bedrock_regions(self) -> list[str]:
        import botocore.session

        return botocore.session.get_session().get_available_regions("bedrock", partition_name=self.settings.partition)

    def _iam(self, account: str) -> None:
        target = Target(account, self.settings.home_region)
        try:
            details = self.reader.paginate(
                target, "iam", "GetAccountAuthorizationDetails", {"Filter": ["User", "Role", "Group", "LocalManagedPolicy"]}
            )
        except ApiError as error:
            self._gap(f"{account}/iam", error)
            with self.lock:
                self.account_iam_read[account] = False
            return
        evidence = authorization_details_evidence(details)
        with self.lock:
            self.account_evidence[account] = evidence
            self.account_iam_read[account] = True
        self._seen(f"{account}/iam")
        self.log.info("%s: %s/iam: %d statements steer Bedrock calls through inference profiles", self.name, account, len(evidence))

    # Per region

    def _region(self, account: str, region: str) -> None:
        scope = f"{account}/{region}"
        target = Target(account, region)
        record: dict[str, Any] = {}

        try:
            application = self.reader.paginate(target, "bedrock", "ListInferenceProfiles", {"typeEquals": "APPLICATION"})
        except ApiError as error:
            self._gap(scope, error)
            if error.code in REGION_UNUSABLE or error.code == "NotInSnapshot":
                self._region_done()
                return
            application = None

        profiles = (application or {}).get("inferenceProfileSummaries") or []
        for summary in profiles:
            self.pool.submit(self._application_profile, target, summary)

        system_ids = self._listing(target, "ListInferenceProfiles", {"typeEquals": "SYSTEM_DEFINED"}, "inferenceProfileSummaries")
        if system_ids is not None:
            ids = sorted(item.get("inferenceProfileId") for item in system_ids if item.get("inferenceProfileId"))
            record["system_profile_ids"] = ids
            with self.lock:
                self.system_profile_ids.update(ids)

        try:
            record["logging"] = logging_settings(self.reader.call(target, "bedrock", "GetModelInvocationLoggingConfiguration"))
        except ApiError as error:
            self._gap(scope, error)
            record["logging"] = None

        throughputs = self._listing(target, "ListProvisionedModelThroughputs", {}, "provisionedModelSummaries") or []
        for summary in throughputs:
            self.pool.submit(self._tagged_resource, target, summary, "provisionedModelArn", provisioned_throughput_asset)
        custom = self._listing(target, "ListCustomModels", {}, "modelSummaries") or []
        for summary in custom:
            self.pool.submit(self._tagged_resource, target, summary, "modelArn", custom_model_asset)
        imported = self._listing(target, "ListImportedModels", {}, "modelSummaries") or []
        for summary in imported:
            self.pool.submit(self._tagged_resource, target, summary, "modelArn", imported_model_asset)

        agent_count = None
        if self.settings.agents:
            try:
                agents = self.reader.paginate(target, "bedrock-agent", "ListAgents").get("agentSummaries") or []
            except ApiError as error:
                self._gap(scope, error)
            else:
                agent_count = len(agents)
                for summary in agents:
                    self.pool.submit(self._agent, target, summary)

        record.update(
            {
                "application_profiles": None if application is None else len(profiles),
                "provisioned_throughputs": len(throughputs),
                "custom_models": len(custom),
                "imported_models": len(imported),
                "agents": agent_count,
            }
        )
        self._add(region_asset(account, region, record))
        if application is not None or record.get("system_profile_ids") is not None or record.get("logging") is not None:
            self._seen(scope)

        logging_config = record.get("logging") or {}
        if logging_config.get("s3_bucket") and self.settings.invocation_logs.read_s3:
            self.pool.submit(self._s3_logs, target, logging_config["s3_bucket"], logging_config.get("s3_prefix"))
        if logging_config.get("log_group") and self.settings.invocation_logs.read_cloudwatch:
            self.pool.submit(self._cloudwatch_logs, target, logging_config["log_group"])

        if record.get("logging") is None:
            logging_state = "unknown"
        else:
            logging_state = "on" if logging_config.get("enabled") else "off"
        self.log.info(
            "%s: %s: %s application profiles, %d system profiles, %s agents, %d provisioned throughputs, logging %s",
            self.name,
            scope,
            record["application_profiles"],
            len(record.get("system_profile_ids") or []),
            agent_count,
            len(throughputs),
            logging_state,
        )
        self._region_done()

    def _listing(self, target: Target, operation: str, params: dict[str, Any], result_key: str) -> list[dict[str, Any]] | None:
        try:
            return self.reader.paginate(target, "bedrock", operation, params).get(result_key) or []
        except ApiError as error:
            self._gap(f"{target.account}/{target.region}", error)
            return None

    def _application_profile(self, target: Target, summary: dict[str, Any]) -> None:
        scope = f"{target.account}/{target.region}"
        arn = summary["inferenceProfileArn"]
        try:
            profile = self.reader.call(target, "bedrock", "GetInferenceProfile", {"inferenceProfileIdentifier": arn})
        except ApiError as error:
            self._gap(scope, error)
            profile = summary
        tags = self._tags(target, "bedrock", {"resourceARN": arn})
        self._add(application_profile_asset(profile, tags, target.account, target.region))

    def _tagged_resource(self, target: Target, summary: dict[str, Any], arn_key: str, build: Callable[..., Asset]) -> None:
        tags = self._tags(target, "bedrock", {"resourceARN": summary[arn_key]})
        self._add(build(summary, tags, target.account, target.region))

    def _tags(self, target: Target, service: str, params: dict[str, Any]) -> dict[str, str] | None:
        try:
            return tags_from_response(self.reader.call(target, service, "ListTagsForResource", params))
        except ApiError as error:
            self._gap(f"{target.account}/{target.region}", error)
            return None

    def _agent(self, target: Target, summary: dict[str, Any]) -> None:
        scope = f"{target.account}/{target.region}"
        agent_id = summary["agentId"]
        try:
            agent = self.reader.call(target, "bedrock-agent", "GetAgent", {"agentId": agent_id}).get("agent") or {}
        except ApiError as error:
            self._gap(scope, error)
            agent = {"agentId": agent_id, "agentName": summary.get("agentName"), "agentStatus": summary.get("agentStatus")}

        try:
            aliases = self.reader.paginate(target, "bedrock-agent", "ListAgentAliases", {"agentId": agent_id}).get("agentAliasSummaries") or []
        except ApiError as error:
            self._gap(scope, error)
            aliases = []

        version_models: dict[str, str] = {}
        for version in sorted({version for alias in aliases for version in alias_versions(alias)} - {DRAFT}):
            try:
                detail = self.reader.call(target, "bedrock-agent", "GetAgentVersion", {"agentId": agent_id, "agentVersion": version})
            except ApiError as error:
                self._gap(scope, error)
                continue
            model = (detail.get("agentVersion") or {}).get("foundationModel")
            if model:
                version_models[version] = model

        tags = None
        if agent.get("agentArn"):
            tags = self._tags(target, "bedrock-agent", {"resourceArn": agent["agentArn"]})
        with self.lock:
            system_ids = frozenset(self.system_profile_ids)
        self._add(agent_asset(agent, aliases, version_models, tags, target.account, target.region, system_ids))

    # Invocation logs from where the logging configuration sends them

    def _s3_logs(self, target: Target, bucket: str, key_prefix: str | None) -> None:
        settings = self.settings.invocation_logs
        prefix = s3_log_prefix(key_prefix, target.account, target.region)
        start = (self.now - timedelta(days=settings.days)).strftime("%Y/%m/%d/")
        try:
            listing = self.reader.paginate(target, "s3", "ListObjectsV2", {"Bucket": bucket, "Prefix": prefix, "StartAfter": prefix + start})
        except ApiError as error:
            self._gap(f"{target.account}/{target.region}/invocation-logs", error)
            return
        keys = sorted((item["Key"] for item in listing.get("Contents") or [] if is_record_object(item["Key"])), reverse=True)
        tally = UsageTally()
        for key in keys[: settings.max_objects]:
            try:
                body = self.reader.read_object(target, bucket, key)
            except ApiError as error:
                self._gap(f"{target.account}/{target.region}/invocation-logs", error)
                continue
            from collectors.aws.api import decompress

            tally.add_text(decompress(body).decode("utf-8", errors="replace"), f"s3://{bucket}/{key}")
        if len(keys) > settings.max_objects:
            self._note(f"{target.account}/{target.region}: read the newest {settings.max_objects} of {len(keys)} invocation log objects")
        self._add_usage(tally)

    def _cloudwatch_logs(self, target: Target, log_group: str) -> None:
        settings = self.settings.invocation_logs
        start_ms = int((self.now - timedelta(days=settings.days)).timestamp() * 1000)
        scope = f"{target.account}/{target.region}/invocation-logs"
        try:
            streams = self.reader.paginate(
                target,
                "logs",
                "DescribeLogStreams",
                {"logGroupName": log_group, "orderBy": "LastEventTime", "descending": True, "PaginationConfig": {"MaxItems": settings.max_objects}},
            ).get("logStreams") or []
        except ApiError as error:
            self._gap(scope, error)
            return
        tally = UsageTally()
        for stream in streams:
            if (stream.get("lastEventTimestamp") or 0) < start_ms:
                continue
            try:
                events = self.reader.paginate(
                    target, "logs", "GetLogEvents", {"logGroupName": log_group, "logStreamName": stream["logStreamName"], "startTime": start_ms}
                )
            except ApiError as error:
                self._gap(scope, error)
                continue
            tally.add_text(_events_text(events), f"cloudwatch:{log_group}/{stream['logStreamName']}")
        self._add_usage(tally)

    # Bookkeeping shared by the tasks

    def _add(self, asset: Asset) -> None:
        with self.lock:
            self.assets.append(asset)

    def _add_usage(self, tally: UsageTally) -> None:
        with self.lock:
            self.usage.merge(tally)

    def _seen(self, scope: str) -> None:
        with self.lock:
            if scope not in self.outcome.scopes_seen:
                self.outcome.scopes_seen.append(scope)

    def _gap(self, scope: str, error: ApiError, hint: str = "") -> None:
        self._gap_text(scope, gap_reason(error, self.settings) + hint)

    def _gap_text(self, scope: str, reason: str) -> None:
        gap = ScopeGap(scope, reason)
        with self.lock:
            if gap in self.outcome.scopes_not_seen:
                return
            self.outcome.scopes_not_seen.append(gap)
        self.log.warning("%s: %s: skipped, %s", self.name, scope, reason)

    def _note(self, text: str) -> None:
        with self.lock:
            self.outcome.notes.append(text)

    def _region_done(self) -> None:
        with self.lock:
            self.regions_done += 1
            done = self.regions_done
        self.progress("regions", done, None)

    def _task_failed(self, error: BaseException) -> None:
        with self.lock:
            self.outcome.errors.append(f"internal error in a collection task: {type(error).__name__}: {error}")
        self.log.error("%s: internal error in a collection task: %s: %s", self.name, type(error).__name__, error)
        self.log.debug("traceback", exc_info=error)

    # After every task

    def _finish(self, accounts: list[str]) -> None:
        """Join what the tasks found: cost-allocation status onto tagged assets, IAM and SCP
        evidence onto accounts, invocation-log usage into assets."""
        read = self.cost_allocation is not None
        statuses = self.cost_allocation or {}
        for asset in self.assets:
            if asset.kind in kinds.TAGGED_BILLING_UNITS:
                asset.attributes["cost_allocation_read"] = read
                asset.attributes["cost_allocation_status"] = {
                    original: (statuses[original].get("Status") if original in statuses else "NotListed")
                    for original in sorted(asset.tags.original_keys.values())
                } if read else {}

        for account in accounts:
            iam_read = self.account_iam_read.get(account)
            evidence = self.account_evidence.get(account, []) + self.scp_evidence.get(account, [])
            self.assets.append(
                Asset(
                    kind=kinds.ACCOUNT,
                    id=account,
                    provider="aws",
                    scope=account,
                    name=self.account_names.get(account) or None,
                    attributes={
                        "account": account,
                        # Bedrock spend with no resource ID (marketplace models) joins this asset.
                        "billing_account": account,
                        "iam_read": bool(iam_read),
                        "scp_read": self.scp_read,
                        "profile_enforcement": enforcement_level(evidence) if (iam_read or self.scp_read) else None,
                        "profile_enforcement_evidence": sorted(evidence, key=lambda item: (item["policy"], item.get("sid") or "")),
                    },
                    source=SourceRef(f"aws:{account}:iam:GetAccountAuthorizationDetails"),
                )
            )

        self.assets.extend(self.usage.assets(self.system_profile_ids))
        if self.usage.skipped:
            self.outcome.notes.append(f"{self.usage.skipped} invocation log records were not readable and were left out")


class _LineCollector(logging.Handler):
    """Keeps a worker process's INFO lines, which its parent logs in its own name."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno < logging.WARNING:
            self.lines.append(record.getMessage())


def collect_accounts(settings: AwsSettings, caller: str, accounts: list[str], record_root: Any, now: datetime) -> dict[str, Any]:
    """Run the account tasks of `accounts` in a worker process and return what they found."""
    from collectors.aws.api import LiveReader, RecordingReader

    live = LiveReader(settings)
    live.use_starting_credentials_for(caller)
    reader: AwsReader = RecordingReader(live, record_root) if record_root is not None else live
    logger = logging.getLogger("shadowmap.collector.aws.bedrock.worker")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    lines = _LineCollector()
    logger.handlers[:] = [lines]

    collector = AwsInventoryCollector(settings, reader, SourceKind.LIVE, now=now)
    run = InventoryRun(collector, CollectContext(logger=logger))
    for account in accounts:
        run.pool.submit(run._account, account)
    run.pool.wait()
    return {
        "assets": run.assets,
        "scopes_seen": run.outcome.scopes_seen,
        "scopes_not_seen": run.outcome.scopes_not_seen,
        "notes": run.outcome.notes,
        "errors": run.outcome.errors,
        "account_evidence": run.account_evidence,
        "account_iam_read": run.account_iam_read,
        "system_profile_ids": run.system_profile_ids,
        "usage": run.usage,
        "calls": live.calls,
        "regions_done": run.regions_done,
        "log_lines": lines.lines,
    }


def _events_text(events: dict[str, Any]) -> str:
    """Join GetLogEvents messages into JSON Lines for the record parser."""
    return "\n".join(event.get("message", "") for event in events.get("events") or [])
