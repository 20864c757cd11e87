/**
 * Every page of a DynamoDB Query, through lib-dynamodb's own paginator (`paginateQuery`, which
 * follows LastEvaluatedKey), for the stores that need a whole partition or index key: each item
 * parsed, errors classified as every AWS call of the functions is (awsCall).
 */
import { paginateQuery, type DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { awsCall } from '../shared/aws-errors';

export interface QueryAllOptions<T> {
  /** Names the call in errors, e.g. "DynamoDB query rollout tenants". */
  readonly context: string;
  /** Parses one item (a zod schema's parse). */
  readonly parse: (item: Record<string, unknown>) => T;
  /** Stops after this many items (the last page may be read further than needed). Default: all. */
  readonly limit?: number;
}

/** The items of every page of `input`, parsed, up to `limit`. */
export async function queryAll<T>(doc: DynamoDBDocumentClient, input: QueryCommandInput, options: QueryAllOptions<T>): Promise<T[]> {
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  return awsCall(options.context, async () => {
    const items: T[] = [];
    const pages = paginateQuery({ client: doc, ...(Number.isFinite(limit) ? { pageSize: Math.min(limit, 1000) } : {}) }, input);
    for await (const page of pages) {
      for (const item of page.Items ?? []) {
        if (items.length >= limit) return items;
        items.push(options.parse(item));
      }
      if (items.length >= limit) return items;
    }
    return items;
  });
}

/** How many items `input` matches (a COUNT query over every page). */
export async function countAll(doc: DynamoDBDocumentClient, input: QueryCommandInput, context: string): Promise<number> {
  return awsCall(context, async () => {
    let count = 0;
    for await (const page of paginateQuery({ client: doc }, { ...input, Select: 'COUNT' })) count += page.Count ?? 0;
    return count;
  });
}
