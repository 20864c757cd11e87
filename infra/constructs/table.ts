/**
 * The tenants table, built from the shared key schema (functions/shared/table-schema.ts): on-demand,
 * point-in-time recovery, deletion protection, KMS encryption, TTL, GSIs by status and by cell.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { TENANTS_TABLE_KEYS } from '../../functions/shared/table-schema';

export interface TenantsTableProps {
  readonly tableName: string;
}

export class TenantsTable extends Construct {
  readonly table: dynamodb.Table;
  /** ARNs of the GSIs, for Query grants. */
  readonly indexArns: string[];

  constructor(scope: Construct, id: string, props: TenantsTableProps) {
    super(scope, id);
    const k = TENANTS_TABLE_KEYS;
    const str = (name: string) => ({ name, type: dynamodb.AttributeType.STRING });
    this.table = new dynamodb.Table(this, 'Table', {
      tableName: props.tableName,
      partitionKey: str(k.partitionKey),
      sortKey: str(k.sortKey),
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      timeToLiveAttribute: k.timeToLiveAttribute,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const index of Object.values(k.indexes)) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: str(index.partitionKey),
        sortKey: str(index.sortKey),
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }
    this.indexArns = Object.values(k.indexes).map((i) => `${this.table.tableArn}/index/${i.indexName}`);
  }
}
