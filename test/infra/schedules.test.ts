/**
 * Issue 8: finding 11 (the tenant census rule target had no dead-letter queue, unlike every other rule)
 * and "one tenant must not starve the others" (NAT gateways per AZ by default). Template intent tests.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { parseConfig } from '../../infra/config';
import { synthPlatform } from './synth';

const { template, synthError } = synthPlatform();

describe('schedules and shared capacity', () => {
  it('synthesizes with cdk-nag clean', () => {
    expect(synthError?.message).toBeUndefined();
  });

  describe('tenant census (finding 11)', () => {
    it('gives the census target a dead-letter queue and a retry policy, like every other rule', () => {
      template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'rate(5 minutes)',
        Targets: [
          Match.objectLike({
            Input: '{"action":"census"}',
            DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^TenantCensusDeadLetterQueue'), 'Arn'] } },
            RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 300 },
          }),
        ],
      });
      template.hasResourceProperties('AWS::SQS::Queue', { QueueName: 'octw-cell-1-tenant-census-dlq', SqsManagedSseEnabled: true });
    });

    it('alarms when a census lands in its dead-letter queue', () => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: Match.stringLikeRegexp('TenantCensus-dlq-not-empty'),
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^TenantCensusDeadLetterQueue'), 'QueueName'] } }],
      });
    });
  });

  describe('NAT gateways', () => {
    it('puts one NAT gateway in each AZ by default, so no AZ shares another\'s NAT bandwidth', () => {
      expect(parseConfig({}).natGateways).toBe(3);
      expect(parseConfig({ azCount: 2 }).natGateways).toBe(2);
      template.resourceCountIs('AWS::EC2::NatGateway', parseConfig({}).azCount);
    });

    it('keeps the count configurable', () => {
      expect(parseConfig({ natGateways: 1 }).natGateways).toBe(1);
      expect(parseConfig({ natGateways: 0 }).natGateways).toBe(0);
    });
  });
});
