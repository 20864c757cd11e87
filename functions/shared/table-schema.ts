/**
 * The tenants table's key schema: the one definition used by the CDK table (infra/) and by the
 * local DynamoDB the tests and the demo start. Single-table design; see functions/shared/README.md.
 */
export const TENANTS_TABLE_KEYS = {
  partitionKey: 'pk',
  sortKey: 'sk',
  timeToLiveAttribute: 'expiresAt',
  indexes: {
    /** Tenants by lifecycle status: gsi1pk = STATUS#<status>, gsi1sk = <updatedAt>#<tenantId>. */
    byStatus: { indexName: 'byStatus', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
    /** Tenants by cell: gsi2pk = CELL#<cell>, gsi2sk = TENANT#<tenantId>. */
    byCell: { indexName: 'byCell', partitionKey: 'gsi2pk', sortKey: 'gsi2sk' },
  },
} as const;

/** All key attributes are strings. */
export const TENANTS_TABLE_ATTRIBUTE_TYPE = 'S' as const;
