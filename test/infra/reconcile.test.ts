/**
 * Issue 13: the Reconcile function and its schedule. Report-only (cdk.json's default) gives the
 * function read rights only; repair mode adds exactly the writes its repair and the orphan removal
 * make, each limited to this cell's tagged resources. cdk-nag clean in both.
 */
import { Match } from 'aws-cdk-lib/assertions';
import type { Template } from 'aws-cdk-lib/assertions';
import { synthPlatform } from './synth';

const report = synthPlatform();
const repair = synthPlatform({ context: { reconcile: { schedule: 'rate(1 hour)', mode: 'repair', orphanGraceHours: 48, pageSize: 20 } } });

interface Statement {
  Sid?: string;
  Action: string | string[];
}

/** Every action the Reconcile function's role is allowed. */
function reconcileActions(template: Template): string[] {
  const roles = template.findResources('AWS::IAM::Role', { Properties: { Description: Match.stringLikeRegexp('octw-cell-1-reconcile') } });
  const roleIds = Object.keys(roles);
  const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
    ((p as { Properties: { Roles: { Ref: string }[] } }).Properties.Roles ?? []).some((r) => roleIds.includes(r.Ref)),
  );
  return policies.flatMap((p) => ((p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument.Statement ?? []).flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])));
}

describe('reconcile infrastructure', () => {
  it('synthesizes with cdk-nag clean in report and in repair mode', () => {
    expect(report.synthError?.message).toBeUndefined();
    expect(repair.synthError?.message).toBeUndefined();
  });

  it('schedules ReconcileCell with a retry policy and a dead-letter queue', () => {
    repair.template.hasResourceProperties('AWS::Events::Rule', {
      Name: 'octw-cell-1-reconcile',
      ScheduleExpression: 'rate(1 hour)',
      Targets: [Match.objectLike({ Arn: { Ref: Match.stringLikeRegexp('ReconcileCell') }, RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 }, DeadLetterConfig: Match.anyValue() })],
    });
    report.template.hasResourceProperties('AWS::Events::Rule', { Name: 'octw-cell-1-reconcile', ScheduleExpression: 'rate(6 hours)' });
  });

  it('passes the cell setting to the function', () => {
    repair.template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'octw-cell-1-reconcile',
      Environment: { Variables: Match.objectLike({ RECONCILE_SETTINGS_JSON: '{"mode":"repair","orphanGraceHours":48,"pageSize":20}' }) },
    });
  });

  it('grants only reads in report mode, and the repair writes only in repair mode', () => {
    const writes = [
      'ec2:AuthorizeSecurityGroupEgress',
      'ec2:RevokeSecurityGroupEgress',
      'ec2:RevokeSecurityGroupIngress',
      'ec2:DeleteSecurityGroup',
      'iam:PutRolePolicy',
      'iam:DeleteRole',
      'ecs:UpdateService',
      'ecs:DeleteService',
      'elasticfilesystem:DeleteAccessPoint',
      'secretsmanager:DeleteSecret',
      'dynamodb:PutItem',
    ];
    const readOnly = reconcileActions(report.template);
    expect(readOnly).toEqual(expect.arrayContaining(['ec2:DescribeSecurityGroupRules', 'iam:GetRolePolicy', 'iam:ListRoles', 'ecs:DescribeServices', 'elasticfilesystem:DescribeAccessPoints', 'secretsmanager:DescribeSecret']));
    for (const w of writes) expect([w, readOnly.includes(w)]).toEqual([w, false]);
    expect(readOnly.filter((a) => /^(ec2|iam|ecs|elasticfilesystem|secretsmanager):(Create|Put|Delete|Update|Authorize|Revoke|Tag|Untag)/.test(a))).toEqual([]);
    const withRepair = reconcileActions(repair.template);
    for (const w of writes) expect([w, withRepair.includes(w)]).toEqual([w, true]);
    expect(withRepair).not.toContain('secretsmanager:GetSecretValue');
  });
});
