import { describeDynamoFaultMatrix } from '../../test/workflows/dynamodb-fault-matrix';

// Every DynamoDB call site of every workflow, once applied, its first response lost and retried by the SDK.
describeDynamoFaultMatrix('lostResponse');
