/**
 * Intent of the tenant image repository: scan on push, immutable tags, a lifecycle rule that never
 * expires a tagged (pinned) image, kept on stack deletion, and part of the platform stack.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { TenantImageRepository } from '../../infra/constructs/tenant-image-repository';
import { parseConfig } from '../../infra/config';
import { cdkJsonContext, synthPlatform } from './synth';

// No built-in CloudFormation validation (warnings only, seconds per synth): see ./synth.ts.
const stack = new Stack(new App({ builtinCloudFormationValidation: false }), 'T');
new TenantImageRepository(stack, 'TenantImages', { repositoryName: 'octw-cell-1/openclaw' });
const template = Template.fromStack(stack);

describe('TenantImageRepository', () => {
  it('scans every pushed image and makes tags immutable', () => {
    template.hasResourceProperties('AWS::ECR::Repository', {
      RepositoryName: 'octw-cell-1/openclaw',
      ImageScanningConfiguration: { ScanOnPush: true },
      ImageTagMutability: 'IMMUTABLE',
    });
  });

  it('expires only untagged images (a digest pinned by a plan keeps its tag)', () => {
    const repo = Object.values(template.findResources('AWS::ECR::Repository'))[0] as { Properties: { LifecyclePolicy: { LifecyclePolicyText: string } } };
    const policy = JSON.parse(repo.Properties.LifecyclePolicy.LifecyclePolicyText) as { rules: { selection: { tagStatus: string } }[] };
    expect(policy.rules.length).toBeGreaterThan(0);
    expect(policy.rules.map((r) => r.selection.tagStatus)).toEqual(['untagged']);
  });

  it('is retained when the stack is deleted', () => {
    template.hasResource('AWS::ECR::Repository', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  it('is part of the platform stack, named after the cell, with its URI as an output', () => {
    const { template: platform } = synthPlatform();
    const prefix = parseConfig(cdkJsonContext()).prefix;
    platform.hasResourceProperties('AWS::ECR::Repository', { RepositoryName: `${prefix}/openclaw`, ImageScanningConfiguration: { ScanOnPush: true }, ImageTagMutability: 'IMMUTABLE' });
    platform.hasOutput('TenantImageRepositoryUri', { Value: Match.anyValue() });
  });
});
