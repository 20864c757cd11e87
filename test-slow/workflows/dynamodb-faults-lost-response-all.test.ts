import { describeDynamoFaultMatrix } from '../../test/workflows/dynamodb-fault-matrix';

// Every DynamoDB call site of every workflow, once applied, every response lost: the caller fails after the write.
describeDynamoFaultMatrix('lostResponseAll');
