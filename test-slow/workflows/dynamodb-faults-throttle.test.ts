import { describeDynamoFaultMatrix } from '../../test/workflows/dynamodb-fault-matrix';

// Every DynamoDB call site of every workflow, once throttled past the SDK's retries (ProvisionedThroughputExceededException).
describeDynamoFaultMatrix('throttle');
