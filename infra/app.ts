/**
 * CDK app: one platform stack per cell, configured by cdk.json context (see infra/config.ts).
 * Environment-agnostic, so `cdk synth` needs no credentials; deploy with the target account's profile.
 * cdk-nag runs on every synth: an unacknowledged finding fails it.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { ConfigError, configFromNode } from './config';
import { PlatformStack } from './platform-stack';

const app = new App();
try {
  const config = configFromNode(app.node);
  new PlatformStack(app, config.stackName, { config });
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}
Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
app.synth();
