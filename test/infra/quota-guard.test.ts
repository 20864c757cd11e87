/**
 * Issue 13.5: the quota guard's platform side. With cdk.json `quotaGuard.enabled` the Lifecycle
 * function's `quotaHeadroom` action runs on the schedule (retries, alarmed DLQ), and every quota a
 * tenant of this cell consumes has an alarm on its QuotaHeadroomPercent metric (the dimension the
 * handler publishes), notifying the cell's alarm topic. Off (the default): none of it, and no read
 * rights. cdk-nag clean in both.
 */
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { cellQuotaIds } from '../../functions/domain/quotas';
import * as z from 'zod';
import { allStatements, asArray, cdkJsonContext, synthPlatform } from './synth';

const off = synthPlatform();
const on = synthPlatform({ context: { quotaGuard: { enabled: true, schedule: 'rate(30 minutes)', headroomAlarmPercent: 20 } } });

/** The statements of the policies attached to the role of the function named `fn`. */
const statementsOf = (t: Template, fn: string) => {
  const roles = Object.keys(t.findResources('AWS::IAM::Role', { Properties: { Description: Match.stringLikeRegexp(fn) } }));
  return Object.values(t.findResources('AWS::IAM::Policy'))
    .filter((p) => ((p as { Properties: { Roles?: { Ref: string }[] } }).Properties.Roles ?? []).some((r) => roles.includes(r.Ref)))
    .flatMap((p) => (p as { Properties: { PolicyDocument: { Statement: { Sid?: string; Action: string | string[]; Resource?: unknown }[] } } }).Properties.PolicyDocument.Statement);
};

const alarms = (t: Template) => Object.values(t.findResources('AWS::CloudWatch::Alarm')).map((a) => (a as { Properties: Record<string, unknown> }).Properties);
const headroomAlarms = (t: Template) => alarms(t).filter((p) => p.MetricName === 'QuotaHeadroomPercent');

describe('quota guard infrastructure', () => {
  it('synthesizes cdk-nag clean with the guard off and on', () => {
    expect(off.synthError?.message).toBeUndefined();
    expect(on.synthError?.message).toBeUndefined();
  });

  it('schedules the headroom metric (Lifecycle quotaHeadroom) with retries and a dead-letter queue', () => {
    on.template.hasResourceProperties('AWS::Events::Rule', {
      Name: 'octw-cell-1-quota-headroom',
      ScheduleExpression: 'rate(30 minutes)',
      Targets: [
        Match.objectLike({
          Input: JSON.stringify({ action: 'quotaHeadroom' }),
          RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 900 },
          DeadLetterConfig: Match.anyValue(),
        }),
      ],
    });
    expect(Object.keys(off.template.findResources('AWS::Events::Rule', { Properties: { Name: 'octw-cell-1-quota-headroom' } }))).toEqual([]);
  });

  it('alarms on every quota a tenant consumes, below the configured headroom, on the metric the handler publishes', () => {
    const found = headroomAlarms(on.template);
    const plans = z.array(z.object({ spot: z.boolean().default(false), bedrockModels: z.array(z.string()).default([]) }).loose()).parse(cdkJsonContext().plans);
    const expected = cellQuotaIds(plans, false);
    // The default cdk.json has plans with Bedrock models: their tenants' application inference profiles are alarmed.
    expect(plans.some((p) => p.bedrockModels.length > 0)).toBe(true);
    expect(expected).toContain('applicationInferenceProfiles');
    // The default cdk.json: on-demand plans only, no ingress → no Spot and no target-group alarm.
    expect(expected).not.toContain('fargateSpotVcpu');
    expect(expected).not.toContain('targetGroups');
    expect(found.map((a) => (a.Dimensions as { Name: string; Value: string }[]).find((d) => d.Name === 'Quota')?.Value).sort()).toEqual([...expected].sort());
    expect(expected).toEqual(expect.arrayContaining(['fargateOnDemandVcpu', 'iamRoles', 'securityGroups', 'networkInterfaces', 'subnetAddresses', 'efsAccessPoints']));
    for (const a of found) {
      expect(a).toMatchObject({
        Namespace: 'OCTW',
        Threshold: 20,
        ComparisonOperator: 'LessThanThreshold',
        Statistic: 'Minimum',
        TreatMissingData: 'notBreaching',
      });
      // Dimensions as the handler's single metric carries them: service (the cell's) and Quota.
      expect((a.Dimensions as { Name: string }[]).map((d) => d.Name).sort()).toEqual(['Quota', 'service']);
      expect(asArray(a.AlarmActions as unknown[])).toHaveLength(1);
    }
    expect(headroomAlarms(off.template)).toEqual([]);
  });

  it('gives the Lifecycle function the quota reads only when the guard is on', () => {
    const reads = (t: Template) => allStatements(t).filter(({ statement }) => statement.Sid === 'QuotaGuardServiceQuotas' || statement.Sid === 'QuotaGuardUsageCounts');
    expect(reads(on.template).length).toBeGreaterThan(0);
    expect(reads(off.template)).toEqual([]);
    // The Lifecycle function counts the Region's application inference profiles (ListInferenceProfiles: no resource-level permissions).
    const counts = statementsOf(on.template, 'octw-cell-1-lifecycle').find((st) => st.Sid === 'QuotaGuardUsageCounts');
    expect(asArray(counts?.Action)).toContain('bedrock:ListInferenceProfiles');
    expect(counts?.Resource).toBe('*');
    expect(statementsOf(off.template, 'octw-cell-1-lifecycle').flatMap((st) => asArray(st.Action))).not.toContain('bedrock:ListInferenceProfiles');
    on.template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'octw-cell-1-lifecycle',
      Environment: { Variables: Match.objectLike({ QUOTA_GUARD_JSON: Match.stringLikeRegexp('"enabled":true') }) },
    });
    // The profile limit reaches the handler (AWS's default unless cdk.json says otherwise).
    on.template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'octw-cell-1-lifecycle',
      Environment: { Variables: Match.objectLike({ QUOTA_GUARD_JSON: Match.stringLikeRegexp('"applicationInferenceProfiles":1000') }) },
    });
    const raised = synthPlatform({ context: { quotaGuard: { enabled: true, applicationInferenceProfiles: 3000 } } });
    raised.template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'octw-cell-1-lifecycle',
      Environment: { Variables: Match.objectLike({ QUOTA_GUARD_JSON: Match.stringLikeRegexp('"applicationInferenceProfiles":3000') }) },
    });
  });

  it('gives the Rollout function the quota reads and DescribeServices of the cell services only when the guard is on, and its events always', () => {
    const rolloutStatements = (t: Template) => statementsOf(t, 'octw-cell-1-rollout');
    const sids = (t: Template) => rolloutStatements(t).map((s) => s.Sid);
    expect(sids(on.template)).toEqual(expect.arrayContaining(['QuotaGuardServiceQuotas', 'QuotaGuardUsageCounts', 'QuotaGuardAccessPoints', 'RolloutServiceDeployments', 'LifecycleEvents']));
    expect(sids(off.template)).toEqual(expect.arrayContaining(['LifecycleEvents']));
    expect(sids(off.template)).not.toEqual(expect.arrayContaining(['RolloutServiceDeployments']));
    expect(sids(off.template).filter((s) => s?.startsWith('QuotaGuard'))).toEqual([]);
    const describe = rolloutStatements(on.template).find((s) => s.Sid === 'RolloutServiceDeployments') as unknown as { Action: string; Resource: unknown; Condition: unknown };
    expect(describe.Action).toBe('ecs:DescribeServices');
    expect(JSON.stringify(describe.Resource)).toContain(':service/octw-cell-1/octw-cell-1--*');
    expect(JSON.stringify(describe.Condition)).toMatch(/"ArnEquals":\{"ecs:cluster":.*:cluster\/octw-cell-1"/);
  });
});
