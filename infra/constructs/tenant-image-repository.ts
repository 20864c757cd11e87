/**
 * The ECR repository the tenant image (image/Dockerfile) is pushed to: plans pin its digest.
 * Scan on push, immutable tags (a tag never moves to other content), encrypted at rest, kept when
 * the stack is deleted (running tenants pin digests in it), and a lifecycle rule that expires only
 * untagged images: a pinned, tagged image is never expired under a tenant.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import { Construct } from 'constructs';

export interface TenantImageRepositoryProps {
  /** e.g. `octw-cell-1/openclaw`. */
  readonly repositoryName: string;
  /** Days after which untagged images (left by interrupted or superseded pushes) expire. */
  readonly untaggedExpiryDays?: number;
}

export class TenantImageRepository extends Construct {
  readonly repository: ecr.Repository;

  constructor(scope: Construct, id: string, props: TenantImageRepositoryProps) {
    super(scope, id);
    this.repository = new ecr.Repository(this, 'Repository', {
      repositoryName: props.repositoryName,
      imageScanOnPush: true,
      imageTagMutability: ecr.TagMutability.IMMUTABLE,
      encryption: ecr.RepositoryEncryption.AES_256,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        {
          rulePriority: 1,
          description: 'Expire untagged images; tagged images (pinned by plans) are kept',
          tagStatus: ecr.TagStatus.UNTAGGED,
          maxImageAge: Duration.days(props.untaggedExpiryDays ?? 14),
        },
      ],
    });
  }
}
