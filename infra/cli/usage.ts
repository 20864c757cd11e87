/** The `octw --help` text: commands, options, configuration and exit codes. */
export const USAGE = `octw: operator CLI for OCTW tenants (one isolated OpenClaw gateway per tenant)

Usage:
  octw tenants list [--status S[,S...]] [--json]
  octw tenants show ID [--limit N] [--json]
  octw tenants denials ID [--limit N] [--since MINUTES] [--log-group G] [--json]
  octw tenants provision --file signup.json [--wait] [--json]
  octw tenants reprovision ID [--wait] [--json]
  octw tenants deprovision ID [--wait] [--json]
  octw tenants suspend ID [--wait] [--json]
  octw tenants resume ID [--wait] [--json]
  octw tenants update ID [--plan P] [--allowlist-file F] [--preset NAME]... [--host-allow HOST:PORT[,PORT]]...
                         [--clear-hosts] [--image I] [--wait] [--json]
  octw tenants purge ID [--immediate] [--wait] [--json]
  octw tenants restore ID --recovery-point ARN [--wait] [--json]
  octw tenants export ID --to s3://BUCKET/PREFIX --kms-key ARN [--wait] [--json]
  octw tenants channels list ID [--json]
  octw tenants channels add ID --type T --credential FIELD=FILE|- ... [--allow-from A,B] [--groups G,H] [--roles R,S]
                         [--wait] [--json]
  octw tenants channels rotate ID --type T --credential FIELD=FILE|- ... [--wait] [--json]
  octw tenants channels remove ID --type T [--wait] [--json]
  octw tenants models ID [--provider P (--key-file F [--rotate] | --remove)] [--wait] [--json]
  octw tenants pairing list ID [--channel C] [--endpoint URL] [--json]
  octw tenants pairing approve ID REQUEST [--channel C] [--endpoint URL] [--json]
  octw tenants devices list ID [--endpoint URL] [--json]
  octw tenants devices approve ID REQUEST [--endpoint URL] [--json]
  octw tenants ingress ID [--oidc-issuer URL --oidc-authorization-endpoint URL --oidc-token-endpoint URL
                       --oidc-userinfo-endpoint URL --client-id ID --client-secret-file F|- | --no-oidc] [--wait]
  octw signup --file event.json [--json]
  octw fleet reconcile [--tenant ID] [--repair] [--json]
  octw audit [--tenant ID] [--json]
  octw fleet rollout (--image REPO@sha256:D | --plan P)... --canary N --wave N [--max-failure-percent P]
                     [--max-concurrency N] [--tenants A,B,...] [--wait] [--json]
  octw fleet rollout show|pause|resume|abort ID [--json]
  octw fleet rollouts [--limit N] [--json]
  octw --help

Commands:
  tenants list         Table of tenants: id, status, plan, cell, since (entry into the current
                       status), last error. All statuses unless --status is given.
  tenants show         The tenant record, its resources and its last transitions (audit trail;
                       --limit, default 10).
  tenants denials      The tenant's latest egress-proxy denials (time, host:port, reason, SNI):
                       FilterLogEvents on the proxy log group (--log-group, OCTW_EGRESS_LOG_GROUP,
                       or /octw/<cell>/egress-proxy); --since minutes (default 60), --limit
                       (default 20, newest kept).
  tenants provision    Starts ProvisionTenant with the signup in --file (the TenantSignedUp
                       detail: tenantId, displayName, ownerEmail, plan, egressAllowlist).
                       Execution name provision-<id>-g<generation>. A tenant that exists is
                       provisioned again only as the retry of its FAILED first provisioning
                       (never ACTIVE, no deprovision) by the same owner; otherwise refused.
                       The signup (owner email, display name) is in this run's input: prefer
                       "octw signup", whose runs carry no personal data.
  tenants reprovision  Operator only: provisions a FAILED tenant again (e.g. one whose
                       deprovision failed, or that was ACTIVE before), keeping its owner, uid
                       and data, with a new generation and a fresh gateway token. Starts
                       ProvisionTenant with {"tenantId", "reprovision": true} as
                       provision-<id>-g<generation+1>. Never reachable from a signup.
  tenants deprovision  Starts DeprovisionTenant (ACTIVE | SUSPENDED | FAILED; data retained).
  tenants suspend      Starts SuspendTenant (ACTIVE; desired count 0).
  tenants resume       Starts ResumeTenant (SUSPENDED).
  tenants update       Starts UpdateTenant (ACTIVE) with at least one of --plan, --allowlist-file
                       (a JSON array of egress rules, or {"egressAllowlist": [...]}), --image
                       (repo@sha256:<digest>), or a new host allowlist for the egress proxy:
                       --preset NAME and --host-allow HOST:PORT[,PORT] (repeatable; together they
                       replace the tenant's list, checked against its plan) or --clear-hosts.
  tenants purge        Starts PurgeTenant (DEPROVISIONED; after the retention period, or at once
                       with --immediate).
  tenants restore      Starts RestoreTenant: suspends an ACTIVE tenant, restores its directory from
                       the AWS Backup recovery point (item-level, into a staging path), verifies it
                       (owner = the tenant's uid/gid, not empty), swaps it in, resumes the tenant.
                       A failure leaves the current data and the tenant's previous state.
  tenants export       Starts ExportTenant: copies the tenant's directory to s3://BUCKET/PREFIX,
                       every object SSE-KMS with --kms-key (required; the bucket must be one of the
                       cell's backup.exportBuckets), plus manifest.json. The state directory holds
                       OAuth tokens in plain text: backups and exports are credentials.
  fleet rollout        Starts RolloutFleet: the image (pinned by digest, from a repository the cell's
                       plans run) and/or plan over every ACTIVE and SUSPENDED tenant (or --tenants):
                       a canary of N ACTIVE tenants, one at a time, none may fail; then waves of
                       --wave N (at most --max-concurrency at once, default the wave up to 40),
                       each tenant through UpdateTenant (health-gated, rolls itself back); a
                       SUSPENDED tenant gets the new revision without being started. A wave whose
                       failures exceed --max-failure-percent (default 10) is rolled back and the
                       rollout stops. --wait prints progress and the outcome of every tenant.
                       show: the record; pause/resume/abort: read between waves (an abort lets
                       the tenants in flight finish). Check quota headroom before a large rollout.
  fleet rollouts       The cell's rollouts, newest first (--cell or OCTW_CELL when the table is
                       not named octw-<cell>-tenants).
  tenants channels     A tenant's channels (telegram, slack in socket mode, discord, or a channel
                       plugin its plan declares), changed only by UpdateTenant (audited; a failed
                       update restores them). add stores each credential as the secret
                       octw/tenants/<cell>/<id>/credentials/<type>-<field> (tags octw:cell,
                       octw:tenant), reading the value from FILE or stdin ("-"), never from the
                       command line, then starts the update with the secret's name only:
                       telegram takes botToken, slack botToken and appToken, discord token.
                       --allow-from: sender ids admitted without pairing; --groups: the groups
                       (telegram chat ids), channels (slack) or servers (discord) the bot may
                       answer in when mentioned (telegram ids start with "-": --groups=-100...);
                       discord servers need --allow-from (user ids) or --roles (role ids): only
                       those members may talk there.
                       rotate puts a new value (FILE or stdin) into the secret a credential of
                       the channel already uses and starts an update carrying only the
                       credential's next generation: a new task revision, ECS injects the new
                       value (audited; a failed update restores the previous revision).
                       remove starts the update without the channel
                       and, with --wait, schedules its credential secrets for deletion.
  tenants models       The tenant's own model provider keys (bring your own key) and its Bedrock
                       inference profiles. With --provider P --key-file F (a path, or - for
                       stdin; never on the command line): stores the key as the tenant's
                       credential octw/tenants/<cell>/<id>/credentials/<P>-api-key (tagged for
                       it) and starts UpdateTenant naming it by reference; the plan must let the
                       tenant bring a key for P. A key already there is replaced only with
                       --rotate: the new value goes into its secret and an update carrying only
                       the key's next generation rolls it out. --remove: UpdateTenant without
                       P's key.
  tenants pairing      DM pairing requests of the tenant's channels (dmPolicy "pairing"), through
                       its endpoint wss://<tenant>.<domain> (ACTIVE, ingress on; --endpoint
                       overrides the origin). list: pending requests (REQUEST id, channel,
                       account, sender, expiry; --channel filters). approve: admits the sender
                       of REQUEST (the gateway's API approves by request id; it never exposes
                       the code the sender got). The gateway token is read from the tenant's
                       secret (secretsmanager:GetSecretValue) and never printed.
  tenants devices      Device pairing requests of the tenant's gateway, through its endpoint as
                       for pairing: the owner's browser opening the Control UI with the token
                       waits ("pairing required") until its request is approved. list: pending
                       requests (REQUEST id, device, client, role, scopes, address, origin).
                       approve: approves REQUEST, an operator-role request only (never a node).
  signup               Puts a TenantSignedUp event on the bus. --file holds either the detail
                       itself or a PutEvents entry {"Source", "DetailType", "Detail"}.

  Operations other than provision are named <operation>-<id>-v<record version>: repeating a
  request against an unchanged tenant starts nothing new ("already started" and its ARN).
  Inputs are validated locally with the platform's own schemas before anything is started; a
  tenant that does not exist or whose status does not allow the operation is refused (exit 3).

Options:
  --wait               Follow the execution until it ends (progress on stderr: elapsed, status,
                       current step). Exit 0 on SUCCEEDED, 1 otherwise with the error and cause.
  --json               One JSON document on stdout; errors as {"error": {"name", "message"}} on stderr.
  --poll-interval MS   --wait polling interval (default 2000).
  --cell C             Cell id (OCTW_CELL): derives table octw-<C>-tenants, bus octw-<C> and, with
                       --account, state machines octw-<C>-<operation>-tenant.
  --table T            Tenants table (OCTW_TABLE).
  --event-bus B        Event bus for signup (OCTW_EVENT_BUS).
  --source S           Event source for signup (OCTW_SIGNUP_SOURCE; default octw.signup, the
                       platform's signupSource) unless the event file sets Source.
  --state-machine-arn-prefix P
                       OCTW_STATE_MACHINE_ARN_PREFIX, e.g.
                       arn:aws:states:eu-west-1:111122223333:stateMachine:octw-cell-1-
                       (the kebab-case name, e.g. provision-tenant, is appended). A prefix that
                       contains {key} or {name} is a template instead: {key} = ProvisionTenant,
                       {name} = provision-tenant.
  --account A          Account id (OCTW_ACCOUNT) for ARNs derived from --cell (partition aws).
  --region R           AWS region (else AWS_REGION / the SDK's region chain).

AWS access: the SDK's normal credential chain (AWS_PROFILE, environment, SSO, instance role).
Endpoint overrides use the SDK's standard variables (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_DYNAMODB,
AWS_ENDPOINT_URL_SFN, AWS_ENDPOINT_URL_EVENTBRIDGE), so the same CLI runs against a local cloud.

Exit codes:
  0  ok
  1  workflow ended FAILED, TIMED_OUT or ABORTED (--wait)
  2  usage or validation error (nothing was started)
  3  tenant not found, or refused by its status (nothing was started)
  4  AWS error (credentials, permissions, throttling, missing table/state machine/bus, network)
  5-8  octw audit / octw fleet reconcile: the worst failing check is low (5), medium (6), high (7) or critical (8)

Fleet (issue 13; OCTW_RECONCILE_FUNCTION, default octw-<cell>-reconcile):
  fleet reconcile      Each tenant's live resources against what its record renders (all tenants and the
                       orphan sweep, or --tenant ID); --repair puts back what the workflows' adapters can
                       (refused when the cell reconciles in report-only mode).
  audit                The isolation checks (stable ids, severities) of every tenant or --tenant ID.
`;
