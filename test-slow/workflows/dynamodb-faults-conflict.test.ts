import { describeDynamoFaultMatrix } from '../../test/workflows/dynamodb-fault-matrix';

// Every DynamoDB call site of every workflow, once cancelled by a transaction conflict.
describeDynamoFaultMatrix('conflict');
